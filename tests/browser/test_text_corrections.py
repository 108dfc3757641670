"""Correcting the text analysis in chromium on the demo database, in both languages: a quick
correction from the text insights quotes, the comment's sentiment and its aspects on the response
page (laptop and 390 px phone), taking a correction back, and the administrators' adaptation
page."""

from tests.browser.conftest import screenshot, sign_in


def test_a_cx_manager_corrects_quotes_and_comments_in_both_languages(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/text?lang=zh-CN")
    quote = page.locator("#negative-quotes li").first
    response_id = quote.get_attribute("data-response")
    aspect = quote.locator("input[name=aspect]").get_attribute("value")
    quote.locator("select[name=label]").select_option("absent")
    quote.get_by_role("button", name="保存").click()
    page.wait_for_url("**/dashboard/text**")
    assert "#negative-quotes" in page.url

    page.goto(f"/responses/{response_id}?lang=zh-CN")
    removed = page.locator(".removed-aspects")
    assert "已由人工移除" in removed.inner_text()
    assert page.locator(f"tr[data-aspect='{aspect}']").count() == 0
    screenshot(page, "text-correction-removed-zh")

    page.goto(f"/responses/{response_id}?lang=en")
    article = page.locator("article.analysis").first
    before = article.locator(".sentiment-label").inner_text()
    wanted = "positive" if before != "Positive" else "neutral"
    article.get_by_label("The right sentiment").select_option(wanted)
    article.locator("form.correct-sentiment").get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/responses/{response_id}**")
    article = page.locator("article.analysis").first
    assert article.locator(".sentiment-label").inner_text() == wanted.capitalize()
    assert f"The analysis said: {before}" in article.inner_text()

    # an aspect the analysis missed, with words quoted from the comment
    comment = article.locator("blockquote").inner_text()
    article.locator("details.add-aspect summary").click()
    code = article.locator("select[name=aspect]").last.locator("option").first \
        .get_attribute("value")
    article.locator("select[name=aspect]").last.select_option(code)
    article.locator("details.add-aspect select[name=label]").select_option("negative")
    article.locator("details.add-aspect input[name=evidence]").fill(comment[:4])
    article.get_by_role("button", name="Add").click()
    page.wait_for_url(f"**/responses/{response_id}**")
    row = page.locator(f"tr[data-aspect='{code}']")
    assert "Corrected" in row.inner_text() and "Negative" in row.inner_text()
    screenshot(page, "text-correction-en")

    # a quote that is not in the comment is refused with the reason, nothing stored
    article = page.locator("article.analysis").first
    if article.locator("details.add-aspect").count():
        article.locator("details.add-aspect summary").click()
        article.locator("details.add-aspect input[name=evidence]").fill("words nobody wrote")
        article.get_by_role("button", name="Add").click()
        assert "quoted from the comment" in page.get_by_role("alert").inner_text()

    # taking the sentiment correction back restores the models' reading
    page.goto(f"/responses/{response_id}?lang=en")
    article = page.locator("article.analysis").first
    article.locator("form.correct-sentiment").get_by_role("button",
                                                         name="Undo the correction").click()
    page.wait_for_url(f"**/responses/{response_id}**")
    assert page.locator("article.analysis").first.locator(".sentiment-label").inner_text() \
        == before

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/responses/{response_id}?lang=zh-CN")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    # each aspect is a card: its correction form is in view, not behind a sideways scroll
    table = page.locator("table.aspects").first
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    assert not page.locator("table.aspects thead").first.is_visible()
    form = page.locator(f"tr[data-aspect='{code}'] select[name=label]")
    box = form.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    screenshot(page, "text-correction-phone-zh")


def test_administrators_see_the_adaptation_page_in_both_languages(page):
    sign_in(page, "admin@demo.tiyan.dev")
    page.goto("/dashboard/text?lang=en")
    page.get_by_role("link", name="Corrections and model adaptation").click()
    page.wait_for_url("**/text/adaptation")
    assert page.get_by_role("heading", name="Text analysis: corrections and adaptation") \
        .is_visible()
    assert page.locator("#active-adaptation").inner_text() == \
        "The shipped models alone are in use."
    screenshot(page, "text-adaptation-en")
    page.goto("/text/adaptation?lang=zh-CN")
    assert page.get_by_role("heading", name="文本分析：更正与适配").is_visible()
    screenshot(page, "text-adaptation-zh")
