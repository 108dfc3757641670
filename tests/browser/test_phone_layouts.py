"""On a 390 px phone, in both languages: the unit and staff league tables, the cases inbox and the
callbacks worklist are readable cards, no status badge or pill wraps, no page scrolls sideways,
and the agent's phone-survey form is styled like the respondent pages and compact (issue 16)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, sign_in

PHONE = {"width": 390, "height": 844}
HEADINGS = {"zh-CN": {"cases": "工单", "callbacks": "回访"},
            "en": {"cases": "Cases", "callbacks": "Callbacks"}}


def no_sideways_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"))


def wrapped_badges(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Badges (.status, .pill) taller than one line of their text: wrapped, e.g. one character
    per line."""
    return list(page.evaluate("""() => [...document.querySelectorAll('.status, .pill')]
        .filter(el => el.offsetParent !== null)
        .filter(el => el.getBoundingClientRect().height
                      > 2.2 * parseFloat(getComputedStyle(el).fontSize))
        .map(el => el.textContent.trim())"""))


def assert_cards(page, table: str) -> None:  # type: ignore[no-untyped-def]
    rows = page.locator(f"{table} tbody tr")
    assert rows.count() > 0
    first = rows.first
    assert first.evaluate("row => getComputedStyle(row).display") in ("block", "grid")
    assert page.locator(f"{table} thead").evaluate("h => getComputedStyle(h).display") == "none"
    box = first.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    assert no_sideways_scroll(page), table
    assert wrapped_badges(page) == [], table


@pytest.fixture(params=["zh-CN", "en"])
def phone(request, browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, base_url=server, locale=request.param)
    tab = context.new_page()
    tab.lang = request.param
    yield tab
    context.close()


def test_league_tables_cases_and_callbacks_are_cards_on_a_phone(phone):  # type: ignore[no-untyped-def]
    lang = phone.lang
    sign_in(phone, "cx@demo.tiyan.dev")
    phone.goto(f"/dashboard/units?lang={lang}")
    phone.locator("#league").wait_for()
    assert_cards(phone, "#league")
    figure = phone.locator("#league tbody tr").first.locator("td[data-label]").first
    assert figure.evaluate("td => getComputedStyle(td, '::before').content") not in ("none", "")
    screenshot(phone, f"demoloop-league-{lang}-390")
    phone.goto(f"/dashboard/staff?lang={lang}")
    phone.locator("#staff-cards").wait_for()
    assert_cards(phone, "#staff-cards")
    screenshot(phone, f"demoloop-staff-{lang}-390")
    phone.goto(f"/cases?status=all&lang={lang}")
    phone.get_by_role("heading", name=HEADINGS[lang]["cases"], exact=True).wait_for()
    assert_cards(phone, "#case-rows")
    screenshot(phone, f"demoloop-cases-{lang}-390")
    phone.goto(f"/callbacks?lang={lang}")
    phone.get_by_role("heading", name=HEADINGS[lang]["callbacks"]).first.wait_for()
    assert_cards(phone, "#callback-rows")
    screenshot(phone, f"demoloop-callbacks-{lang}-390")


def test_the_agents_phone_survey_form_is_styled_and_compact_on_a_phone(phone):  # type: ignore[no-untyped-def]
    lang = phone.lang
    sign_in(phone, "agent@demo.tiyan.dev")
    phone.goto(f"/calls?lang={lang}")
    phone.locator(".call-link").first.click()
    form = phone.locator("#call-survey")
    form.wait_for()
    scale = form.locator(".sc").first
    # a 0–10 or 1–5 scale is one or two rows of buttons, not a label per line
    assert scale.bounding_box()["height"] < 110
    button = scale.locator("span").first
    assert button.evaluate("s => getComputedStyle(s).borderStyle") == "solid"
    assert scale.locator("input").first.evaluate("i => getComputedStyle(i).opacity") == "0"
    assert no_sideways_scroll(phone)
    assert wrapped_badges(phone) == []
    questions = form.locator("fieldset.q:not([hidden])").count()
    height = form.bounding_box()["height"]
    assert height < 150 * questions + 300, (height, questions)  # was about 5,000 px in all
    screenshot(phone, f"demoloop-call-form-{lang}-390")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_agents_phone_survey_form_on_a_laptop_puts_each_answer_beside_its_question(
        browser, server, lang):  # type: ignore[no-untyped-def]
    """At 1280 px a question's text and its buttons share a line (the buttons were stretched
    across the page under each question: 3,106 px for the after-sales survey)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server,
                                  locale=lang)
    page = context.new_page()
    sign_in(page, "agent@demo.tiyan.dev")
    page.goto(f"/calls?lang={lang}")
    page.locator(".call-link").first.click()
    form = page.locator("#call-survey")
    form.wait_for()
    shown = form.locator("fieldset.q:not([hidden])")
    for index in range(shown.count()):
        question = shown.nth(index)
        answers = question.locator(".sc, textarea, .op, .mx, input[type=text], input[type=date]")
        if question.locator(".mx").count():
            continue  # a grid keeps the whole width, under its question
        legend, answer = question.locator("legend").bounding_box(), answers.first.bounding_box()
        assert legend is not None and answer is not None
        assert answer["x"] >= legend["x"] + legend["width"], question.get_attribute("data-key")
        assert answer["y"] < legend["y"] + legend["height"], question.get_attribute("data-key")
        scale = question.locator(".sc")
        if scale.count():
            assert scale.bounding_box()["width"] <= 560  # buttons, not bars across the page
    assert no_sideways_scroll(page)
    assert wrapped_badges(page) == []
    height = form.bounding_box()["height"]
    assert height < 70 * shown.count() + 300, (height, shown.count())
    screenshot(page, f"call-form-{lang}-1280")
    context.close()
