"""GET /api/v1/responses/export.parquet: read back with pyarrow, the same filters and scope as the
responses list, written a row group at a time (SQLite and PostgreSQL)."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, RESPONSES, USERS, comment_for, visible_responses
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role
from tiyan.web.api.response_parquet import parquet_chunks

URL = "/api/v1/responses/export.parquet"


def bearer(world, email):
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def read(reply):
    assert reply.status_code == 200, reply.text[:300]
    assert reply.headers["content-type"].startswith("application/vnd.apache.parquet")
    return pq.read_table(io.BytesIO(reply.content))


@pytest.mark.parametrize("email", [u[0] for u in USERS])
def test_parquet_holds_exactly_the_users_scope(world, client, email):
    role = Role(next(u[1] for u in USERS if u[0] == email))
    reply = client.get(URL, headers=bearer(world, email))
    allowed = ROLE_PERMISSIONS[role]
    if Permission.EXPORT not in allowed or Permission.VIEW_RESPONSES not in allowed:
        assert reply.status_code == 403
        return
    table = read(reply)
    rows = table.to_pylist()
    comments = {r["value_text"] for r in rows if r["question_key"] == "comment"}
    assert comments == {comment_for(i) for i in visible_responses(email)}
    assert {r["response_id"] for r in rows} == {world.response_ids[i]
                                                for i in visible_responses(email)}


def test_values_types_filters_and_errors(world, client):
    headers = bearer(world, "admin@t.test")
    table = read(client.get(URL, headers=headers))
    assert table.schema.field("submitted_at").type.tz == "UTC"
    assert table.schema.field("value_num").type == "double"
    rows = table.to_pylist()
    by_response: dict[str, dict[str, object]] = {}
    for r in rows:
        by_response.setdefault(r["response_id"], {})[r["question_key"]] = r["value_num"]
    for index, (_unit, _staff, nps, csat) in enumerate(RESPONSES):
        answers = by_response[world.response_ids[index]]
        assert answers["nps"] == nps and answers["overall"] == csat
    first = next(r for r in rows if r["response_id"] == world.response_ids[0])
    assert first["unit"] == "n1-as" and first["staff"] == "n1-e1" and first["survey"] == "test"
    assert first["submitted_at"] is not None
    # the list's filters: a unit (with its subtree), a channel, a date range
    north = read(client.get(URL + "?unit=north", headers=headers)).to_pylist()
    assert {r["unit"] for r in north} == {"n1-as", "n2"}
    assert read(client.get(URL + "?channel=kiosk", headers=headers)).num_rows == 0
    assert read(client.get(URL + "?submitted_to=2020-01-01", headers=headers)).num_rows == 0
    # bad filters are named before anything is sent
    bad = client.get(URL + "?channel=pigeon", headers=headers)
    assert bad.status_code == 422 and "channel" in bad.text
    assert client.get(URL + "?unit=south", headers=bearer(world, "mgr.n1@t.test")
                      ).status_code == 422


def test_row_groups_are_written_as_they_come(world):
    """Two responses per group: the file arrives in several pieces and reads back whole."""
    from tiyan.store.responses import ResponseFilter

    actor = world.actor("admin@t.test")
    pieces = list(parquet_chunks(world.ctx, actor, ResponseFilter(), batch=2))
    assert len([p for p in pieces if p]) >= 4
    parquet = pq.ParquetFile(io.BytesIO(b"".join(pieces)))
    assert parquet.metadata.num_row_groups == 4  # 7 responses: 2 + 2 + 2 + 1
    assert {r["response_id"] for r in parquet.read().to_pylist()} == set(
        world.response_ids.values())


def test_the_responses_page_links_the_export_with_its_filter(world, client):
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/responses")
    assert "/responses.parquet" in page.text
    # the browser session may download it (GET, no CSRF header needed)
    assert read(client.get(URL)).num_rows > 0
