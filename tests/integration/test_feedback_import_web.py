"""Importing feedback through the API and the Import feedback page (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World

GBK_FILE = ("评价ID,评价内容,评价时间,门店编码,评分\n"
            "w1,服务周到 👍 great,2026-11-20 10:00,n1,5\n"
            "w2,太慢,2026-11-20 11:00,s1,1\n"
            'w3,"引号没关,2026-11-20 12:00,n1,3\n').encode("gb18030")


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def test_the_api_imports_a_file_and_reports_rejected_rows(client: TestClient,
                                                          world: World) -> None:
    reply = client.post("/api/v1/feedback/imports", headers=bearer(world, "mgr.n1@t.test"),
                        files={"file": ("点评.csv", GBK_FILE, "text/csv")},
                        data={"source": "review", "mapping": json.dumps({"text": "评价内容"})})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["rows_total"], body["rows_stored"], body["rows_rejected"]) == (3, 1, 2)
    assert body["filename"] == "点评.csv" and body["status"] == "done"
    assert [(p["line"], p["column"]) for p in body["problems"]] == [(3, "门店编码"), (4, None)]
    assert body["problems"][0]["reason"] == "unit 's1' is outside your scope"
    again = client.get(f"/api/v1/feedback/imports/{body['id']}",
                       headers=bearer(world, "mgr.n1@t.test"))
    assert again.status_code == 200 and again.json()["rows_stored"] == 1
    other = client.get(f"/api/v1/feedback/imports/{body['id']}",
                       headers=bearer(world, "mgr.s1@t.test"))
    assert other.status_code == 404
    listed = client.get("/api/v1/feedback", headers=bearer(world, "mgr.n1@t.test")).json()
    assert [item["external_id"] for item in listed["items"]] == ["w1"]


def test_bad_api_imports_get_a_clear_error_and_no_500(client: TestClient, world: World) -> None:
    headers = bearer(world, "admin@t.test")
    missing = client.post("/api/v1/feedback/imports", headers=headers,
                          files={"file": ("x.csv", "内容,门店\n好,n1\n".encode(), "text/csv")},
                          data={"source": "review"})
    assert missing.status_code == 422
    assert missing.json()["error"]["key"] == "common.file_no_column_name"
    bad_json = client.post("/api/v1/feedback/imports", headers=headers,
                           files={"file": ("x.csv", GBK_FILE, "text/csv")},
                           data={"source": "review", "mapping": "{text"})
    assert bad_json.status_code == 422 and bad_json.json()["error"]["where"] == "mapping"
    viewer = client.post("/api/v1/feedback/imports", headers=bearer(world, "viewer@t.test"),
                         files={"file": ("x.csv", GBK_FILE, "text/csv")},
                         data={"source": "review"})
    assert viewer.status_code == 403
    assert client.get("/api/v1/feedback/imports/nope", headers=headers).status_code == 404


def test_the_page_previews_the_guessed_mapping_then_imports(client: TestClient,
                                                            world: World) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/feedback/import")
    assert page.status_code == 200 and "导入反馈" in page.text or "Import feedback" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    shown = client.post("/feedback/import", data={"source": "review", "csrf_token": token},
                        files={"file": ("点评.csv", GBK_FILE, "text/csv")})
    assert shown.status_code == 200, shown.text
    assert 'name="map_text"' in shown.text and "服务周到 👍 great" in shown.text
    assert '<option value="评价内容" selected>' in shown.text
    upload = shown.text.split('name="token" value="')[1].split('"')[0]
    done = client.post("/feedback/import/run", data={
        "csrf_token": token, "token": upload, "filename": "点评.csv", "source": "review",
        "unit": "", "encoding": "", "map_text": "评价内容", "map_time": "评价时间",
        "map_unit": "门店编码", "map_rating": "评分", "map_external_id": "评价ID"})
    assert done.status_code == 200, done.text
    assert 'data-count="stored">1<' in done.text and 'data-count="rejected">2<' in done.text
    assert "CSV 引号有误" in done.text  # the page's language (zh-CN)
    replay = client.post("/feedback/import/run", data={"csrf_token": token, "token": upload,
                                                       "source": "review"})
    assert replay.status_code == 422 and "请重新上传文件" in replay.text
    forged = client.post("/feedback/import/run", data={"csrf_token": token,
                                                       "token": "1-" + "a" * 30,
                                                       "source": "review"})
    assert forged.status_code == 422


def test_the_page_refuses_a_missing_csrf_token_and_users_without_the_permission(
        client: TestClient, world: World) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    refused = client.post("/feedback/import", data={"source": "review"},
                          files={"file": ("x.csv", GBK_FILE, "text/csv")})
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, "viewer@t.test", PASSWORD)
    assert client.get("/feedback/import").status_code == 403
