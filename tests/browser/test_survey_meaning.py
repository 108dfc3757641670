"""A survey keeps its meaning: re-typing a published CSAT (1–5) question as a 0–10 rating under
the same item code is refused at that question, in the editor's language (Chinese on a laptop,
English on a 390 px phone), and nothing is saved."""

from __future__ import annotations

import re

from tests.browser.conftest import htmx_settled, screenshot, sign_in

CJK = re.compile(r"[\u4e00-\u9fff]")


def _a_survey_with_csat(page) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The edit page of a demo survey with a CSAT (1–5) question, and its field prefix."""
    page.goto("/surveys")
    paths = sorted({href for href in page.locator("table.data a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
        if href and re.fullmatch(r"/surveys/[\w.-]+", href)})
    for path in paths:
        page.goto(path)
        for select in page.locator("select[name$='.type']").all():
            if select.input_value() == "csat":
                name = select.get_attribute("name")
                assert name
                return path, name.removesuffix("type")
    raise AssertionError("no demo survey has a CSAT question")


def _as_rating_0_to_10(page, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """The question re-typed as a 0–10 rating (the editor swaps in the scale fields)."""
    page.locator(f"select[name='{prefix}type']").select_option("rating")
    scale = page.locator(f"input[name='{prefix}scale_max']")
    scale.wait_for()
    htmx_settled(page)
    page.locator(f"input[name='{prefix}scale_min']").fill("0")
    scale.fill("10")


def test_a_scale_change_under_the_same_code_is_refused_where_it_was_made(browser, server):  # type: ignore[no-untyped-def]
    laptop = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server,
                                 locale="zh-CN")
    page = laptop.new_page()
    sign_in(page, "cx@demo.tiyan.dev")
    path, prefix = _a_survey_with_csat(page)
    _as_rating_0_to_10(page, prefix)
    page.get_by_role("button", name="保存草稿").click()
    question = page.locator("li.question.has-error")
    question.wait_for()
    alert = question.get_by_role("alert").inner_text()
    assert CJK.search(alert), f"the refusal is not in Chinese: {alert!r}"
    assert question.locator(f"select[name='{prefix}type']").count() == 1  # at that question
    screenshot(page, "survey-meaning-refused-zh")
    page.goto(path)
    assert page.locator(f"select[name='{prefix}type']").input_value() == "csat"  # not saved
    laptop.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                locale="en", is_mobile=True, has_touch=True)
    page = phone.new_page()
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto(f"{path}?lang=en")
    _as_rating_0_to_10(page, prefix)
    page.get_by_role("button", name="Save draft").click()
    question = page.locator("li.question.has-error")
    question.wait_for()
    alert = question.get_by_role("alert").inner_text()
    words = re.sub(r'"[^"]*"', "", alert)  # quoted: the item code and the survey's own name
    assert not CJK.search(words) and "item code" in alert and "CSAT 1–5" in alert, alert
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the survey editor is {wide} px wide on a 390 px phone"
    screenshot(page, "survey-meaning-refused-en-phone")
    phone.close()
