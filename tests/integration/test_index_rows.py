"""Composite indices defined as rows (an item picked by its question text, a weight, a scale
only where no survey has one), edited again as rows, with errors at the row in both languages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.services import indices


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def test_an_index_is_built_from_rows_and_edited_as_rows(
        ctx: Context, world: World, client: TestClient) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/dashboard/indices").text
    assert "textarea" not in page.split('id="index-form"')[1].split("</form>")[0]
    assert '<option value="nps">推荐 (0–10)</option>' in page  # by its question text
    assert '<option value="csat">满意 (1–5)</option>' in page
    base = {"csrf_token": csrf(page), "code": "csi", "name_zh": "满意度指数",
            "name_en": "Satisfaction index", "rows": "3", "item0": "nps", "weight0": "1",
            "item1": "csat", "weight1": "0", "item2": "", "weight2": ""}
    bad = client.post("/dashboard/indices?lang=en", data={**base, "action": "save"})
    assert bad.status_code == 422 and 'id="index-row-error-1"' in bad.text
    assert "Give a weight above 0." in bad.text and 'value="nps" selected' in bad.text
    bad_zh = client.post("/dashboard/indices?lang=zh-CN", data={
        **base, "weight1": "3", "min1": "5", "action": "save"})
    assert "请同时填写量表两端" in bad_zh.text and indices.list_indices(ctx) == []
    more = client.post("/dashboard/indices", data={**base, "action": "more"})
    assert more.status_code == 200 and 'name="item5"' in more.text  # 3 filled + 3 blank
    saved = client.post("/dashboard/indices", data={**base, "weight1": "3",
                                                     "action": "save"},
                        follow_redirects=False)
    assert saved.status_code == 303
    (index,) = indices.list_indices(ctx)
    assert [(i.key, i.weight, i.scale_min, i.scale_max) for i in index.items] == [
        ("nps", 1.0, 0.0, 10.0), ("csat", 3.0, 1.0, 5.0)]
    edit = client.get("/dashboard/indices?edit=csi").text
    form = edit.split('id="index-form"')[1]
    assert 'value="csi"' in form and 'name="weight1" value="3"' in form
    assert '<option value="csat" selected>' in form
    # an item no survey has needs its own scale; with it, it is kept
    own = client.post("/dashboard/indices", data={
        **base, "weight1": "3", "item2": "my_rating", "weight2": "2", "action": "save"})
    assert own.status_code == 422 and 'id="index-row-error-2"' in own.text
    kept = client.post("/dashboard/indices", data={
        **base, "weight1": "3", "item2": "my_rating", "weight2": "2", "min2": "0",
        "max2": "10", "action": "save"}, follow_redirects=False)
    assert kept.status_code == 303
    assert [i.key for i in indices.list_indices(ctx)[0].items] == ["nps", "csat", "my_rating"]
