"""Find responses: filter the list, open a row, download the filtered Excel and read it with
openpyxl; in Chinese and English, on a laptop and a 390 px phone."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import screenshot, sign_in

LAPTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
WORDS = {  # the language's words the test reads
    "zh-CN": {"detractors": "贬损者（NPS 0–6）", "with": "有评论", "apply": "应用",
              "zone": "提交时间（Asia/Shanghai）", "group": "NPS 分组", "unit": "单位"},
    "en": {"detractors": "Detractors (NPS 0–6)", "with": "With a comment", "apply": "Apply",
           "zone": "Submitted (Asia/Shanghai)", "group": "NPS group", "unit": "Unit"},
}


@pytest.mark.parametrize(("locale", "size"), [("zh-CN", "laptop"), ("en", "phone"),
                                              ("en", "laptop"), ("zh-CN", "phone")])
def test_filter_open_a_row_and_download_the_filtered_excel(browser, server, tmp_path, locale,
                                                           size):
    words = WORDS[locale]
    context = browser.new_context(viewport=LAPTOP if size == "laptop" else PHONE,
                                  base_url=server, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto(f"/responses?lang={locale}")
    page.locator("#list-score").select_option(label=words["detractors"])
    page.locator("#list-comment").select_option(label=words["with"])
    page.get_by_role("button", name=words["apply"]).click()
    page.wait_for_url(re.compile(r".*score=detractor.*"))
    assert "comment=yes" in page.url  # the filters stay in the address, to share
    count = int(page.locator("#response-count strong").inner_text().replace(",", ""))
    assert count > 0
    rows = page.locator("#response-rows tr.opens")
    assert rows.count() == min(count, 50)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    first = rows.first
    unit = first.locator("td.unit").inner_text()
    assert unit and not re.fullmatch(r"[a-z0-9-]+", unit)  # a name, not a code
    assert first.locator("td.comment .pill").count() == 1  # its sentiment in words
    screenshot(page, f"responses-filtered-{locale}-{size}")

    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    path = tmp_path / "responses.xlsx"
    download.value.save_as(path)
    book = load_workbook(path, read_only=True)
    table = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    head, body = table[0], table[1:]
    assert head[1] == words["zone"] and len(body) == count
    group = head.index(words["group"])
    assert {row[group] for row in body} == {words["detractors"]}
    assert all(row[head.index(words["unit"])] for row in body)

    first.click(position={"x": 5, "y": 5})  # anywhere on the row opens the response
    page.wait_for_url(re.compile(r".*/responses/[0-9a-f]+.*"))
    answers = page.locator("#response-answers tbody tr")
    assert answers.count() > 1
    questions = answers.locator("td:first-child").all_inner_texts()
    assert not [q for q in questions if re.fullmatch(r"[a-z0-9_.]+", q)]  # texts, not keys
    assert page.locator("#response-facts").inner_text().count(unit) == 1
    screenshot(page, f"response-{locale}-{size}")
    context.close()
