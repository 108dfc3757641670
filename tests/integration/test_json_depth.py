"""JSON nested thousands of levels deep, in an import row, a form field or an API body, gets a
clear refusal naming the row or field (never a 500), and nothing half-stored: the limit is
tiyan.domain.json_depth.MAX_DEPTH levels."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.integration.conftest import sign_in
from tests.integration.test_survey_builder import WHAT_WENT_WRONG
from tests.integration.test_webhooks import bearer
from tests.world import PASSWORD, World
from tiyan.domain.json_depth import MAX_DEPTH

DEPTHS = [MAX_DEPTH + 1, 300, 990, 5000]


def arrays(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def row(text: str, n: int) -> str:
    return ('{"id": "j' + str(n) + '", "content": ' + text
            + ', "time": "2026-11-20T10:00:00+08:00", "store": "n1"}')


def test_a_json_lines_row_nested_too_deep_is_a_row_error_and_the_rest_is_stored(
        client: TestClient, world: World) -> None:
    lines = [row('"好"', 1), row(arrays(5000), 2), row(objects(MAX_DEPTH + 1), 3),
             row(arrays(MAX_DEPTH - 1), 4), row('"满意"', 5)]
    reply = client.post("/api/v1/feedback/imports", headers=bearer(world),
                        files={"file": ("deep.jsonl", "\n".join(lines).encode(), "text/plain")},
                        data={"source": "social", "mapping": '{"text": "content"}'})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    problems = {p["line"]: p["reason"] for p in body["problems"]}
    assert f"nested deeper than {MAX_DEPTH} levels" in problems[2]
    assert f"nested deeper than {MAX_DEPTH} levels" in problems[3]
    assert 4 not in problems and body["rows_stored"] == 3  # within the limit


def test_deep_brackets_in_csv_and_excel_cells_are_only_text(client: TestClient,
                                                            world: World) -> None:
    deep = arrays(5000)
    csv_file = f"评价ID,评价内容,评价时间,门店编码\nc1,{deep},2026-11-20 10:00,n1\n".encode()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["评价ID", "评价内容", "评价时间", "门店编码"])
    sheet.append(["x1", deep[:30000], "2026-11-20 10:00", "n1"])
    out = io.BytesIO()
    book.save(out)
    for name, content in (("deep.csv", csv_file), ("deep.xlsx", out.getvalue())):
        reply = client.post("/api/v1/feedback/imports", headers=bearer(world),
                            files={"file": (name, content, "application/octet-stream")},
                            data={"source": "review", "mapping": '{"text": "评价内容"}'})
        assert reply.status_code == 201, (name, reply.text[:300])
        assert reply.json()["rows_stored"] + reply.json()["rows_rejected"] == 1


@pytest.mark.parametrize("depth", DEPTHS)
def test_api_bodies_nested_too_deep_are_refused_naming_the_body(
        client: TestClient, world: World, depth: int) -> None:
    admin = bearer(world)
    definition = client.get("/api/v1/surveys/test", headers=admin).json()["definition"]
    definition["questions"].append({**WHAT_WENT_WRONG, "show_if": [
        {"question": "nps", "op": "<=", "value": "DEEP"}]})
    bodies = {
        ("PUT", "/api/v1/surveys/test/draft"):
            json.dumps({"definition": definition}).replace('"DEEP"', arrays(depth)),
        ("POST", "/api/v1/alert-rules"):
            '{"name": "x", "unit_code": "hq", "action": {"kind": "case"}, "condition": '
            + objects(depth) + "}",
        ("POST", "/api/v1/responses"):
            '{"survey_id": ' + str(world.survey_id) + ', "unit_code": "n1", "answers": {"nps": '
            + arrays(depth) + "}}",
    }
    for (method, path), body in bodies.items():
        reply = client.request(method, path, content=body,
                               headers={**admin, "content-type": "application/json"})
        error = reply.json()["error"]
        assert (reply.status_code, error["where"]) == (422, "body"), (path, reply.text[:200])
        assert f"nested deeper than {MAX_DEPTH} levels" in error["message"]
    survey = client.get("/api/v1/surveys/test", headers=admin)
    assert survey.status_code == 200 and "what_wrong" not in survey.text


def _token(page_text: str) -> str:
    return page_text.split('name="csrf_token" value="')[1].split('"')[0]


def test_page_fields_holding_json_nested_too_deep_are_refused(client: TestClient,
                                                              world: World) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    token = _token(client.get("/alert-rules?lang=en").text)
    rule = client.post("/alert-rules", data={
        "name": "deep", "unit_code": "hq", "condition": arrays(9000), "csrf_token": token})
    assert rule.status_code == 422 and f"nested deeper than {MAX_DEPTH} levels" in rule.text
    editor = client.get("/surveys/test?lang=en")
    assert editor.status_code == 200
    saved = client.post("/surveys/test/json", data={
        "definition": objects(5000), "csrf_token": _token(editor.text)})
    assert saved.status_code == 422 and f"nested deeper than {MAX_DEPTH} levels" in saved.text
    mapping = client.post("/api/v1/feedback/imports", headers=bearer(world),
                          files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
                          data={"source": "review", "mapping": objects(600)})
    assert (mapping.status_code, mapping.json()["error"]["where"]) == (422, "mapping")
