"""Anonymous links and QR codes per survey × unit: scoped, and they attribute the unit."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.world import PASSWORD
from tiyan.store import tables as t


def bearer(world, email: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def test_the_api_gives_a_unit_link_whose_qr_records_that_unit(ctx, world, client):
    reply = client.get("/api/v1/surveys/test/links", params={"unit": "n2"},
                       headers=bearer(world, "cx@t.test"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["qr_url"] == body["url"] + "?c=qr" and "/s/" in body["url"]
    png = client.get(body["qr_png"], headers=bearer(world, "cx@t.test"))
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.get(body["qr_svg"], headers=bearer(world, "cx@t.test"))
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    assert "test-n2-qr.svg" in svg.headers["content-disposition"]

    path = body["qr_url"].split("testserver", 1)[-1].replace("http://localhost:8000", "")
    path = path[path.index("/s/"):]
    page = client.get(path)
    sid = re.search(r'name="sid" value="(\w+)"', page.text).group(1)  # type: ignore[union-attr]
    done = client.post(path, data={"sid": sid, "page": "1", "a.nps": "9", "a.overall": "4"})
    assert done.status_code == 200
    with ctx.db.read() as conn:
        row = conn.execute(sa.select(t.response.c.unit_id, t.response.c.channel)
                           .order_by(t.response.c.id.desc()).limit(1)).one()
    assert (row.unit_id, row.channel) == (world.unit_ids["n2"], "qr")


def test_links_are_scoped_to_the_units_one_manages(world, client):
    south = client.get("/api/v1/surveys/test/links", params={"unit": "s1"},
                       headers=bearer(world, "cx@t.test"))
    assert south.status_code == 403
    viewer = client.get("/api/v1/surveys/test/links", params={"unit": "n1"},
                        headers=bearer(world, "viewer@t.test"))
    assert viewer.status_code in (403, 404)
    unknown = client.get("/api/v1/surveys/test/links", params={"unit": "nope"},
                         headers=bearer(world, "cx@t.test"))
    assert unknown.status_code == 404 and "nope" in unknown.text
    bad_format = client.get("/api/v1/surveys/test/links/qr.gif", params={"unit": "n1"},
                            headers=bearer(world, "cx@t.test"))
    assert bad_format.status_code == 422


def test_the_links_page_lists_managed_units_and_shows_the_qr(world, client):
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/surveys/test/links")
    assert page.status_code == 200
    assert 'value="n1"' in page.text and 'value="s1"' not in page.text
    chosen = client.get("/surveys/test/links", params={"unit": "n1"})
    assert "/surveys/test/links/qr.svg?unit=n1" in chosen.text and "/s/" in chosen.text
    download = client.get("/surveys/test/links/qr.png", params={"unit": "n1", "download": "true"})
    assert download.status_code == 200 and download.content[:4] == b"\x89PNG"
