"""A CX manager uploads a GB18030 review file on a phone, checks the guessed columns, imports it."""

from pathlib import Path

from tests.browser.conftest import screenshot, sign_in


def test_cx_manager_previews_and_imports_a_review_file_on_a_phone(page, tmp_path: Path):
    page.set_viewport_size({"width": 390, "height": 844})
    file = tmp_path / "点评.csv"
    file.write_bytes(("评价ID,评价内容,评价时间,门店编码,评分,平台\n"
                      "br-1,师傅很专业 👍,2026-11-20 10:00,gz-tianhe,5,大众点评\n"
                      "br-2,等了两个小时,2026-11-20 11:00,gz-tianhe,2,大众点评\n"
                      "br-3,没有这个门店,2026-11-20 12:00,atlantis,3,大众点评\n").encode("gb18030"))
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/feedback/import?lang=zh-CN")
    assert page.get_by_role("heading", name="导入反馈").is_visible()
    page.get_by_label("文件").set_input_files(str(file))
    page.get_by_label("来源").select_option("review")
    page.get_by_role("button", name="预览").click()
    page.get_by_role("heading", name="核对列 · 点评.csv").wait_for()
    assert page.get_by_label("文本", exact=True).input_value() == "评价内容"
    assert page.get_by_label("单位编码").input_value() == "门店编码"
    assert page.locator("#first-rows").get_by_text("师傅很专业 👍").is_visible()
    screenshot(page, "feedback-import-preview-zh")
    page.get_by_role("button", name="导入", exact=True).click()
    report = page.locator("#report")
    assert report.locator('[data-count="stored"]').inner_text() == "2"
    assert report.locator('[data-count="rejected"]').inner_text() == "1"
    assert report.get_by_text("未知的单位代码 'atlantis'").is_visible()
    screenshot(page, "feedback-import-report-zh")

    page.locator("#menu-toggle").click()  # on a phone the language links are in the menu
    page.get_by_role("link", name="English").click()
    page.get_by_role("heading", name="Import feedback").wait_for()  # the link navigates
    page.get_by_role("link", name="点评.csv").first.click()
    assert page.locator('#report [data-count="stored"]').inner_text() == "2"
