"""The builder's preview spells out skip rules next to the display logic."""

from __future__ import annotations

from tests.integration.conftest import sign_in
from tests.integration.test_respond import LOGIC_SURVEY
from tests.world import PASSWORD
from tiyan.domain.surveys import parse_definition
from tiyan.store.surveys import insert_survey


def test_the_preview_shows_where_a_skip_rule_jumps(ctx, world, client):
    with ctx.db.write() as conn:
        insert_survey(conn, code="skips", name="Skips", unit_id=world.unit_ids["hq"],
                      definition=parse_definition(LOGIC_SURVEY), now=ctx.now(), created_by=None)
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/surveys/skips/preview", params={"lang": "en"})
    assert page.status_code == 200
    assert "After this page, go to page 3 when" in page.text and "nps ≥ 9" in page.text
