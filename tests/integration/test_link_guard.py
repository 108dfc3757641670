"""Ballot stuffing on anonymous links (SQLite and PostgreSQL): twenty scripted promoter answers
through one link count once, the rest are stored, flagged and left out of NPS; restoring one
counts it at once and leaving it out again takes it back out, with every aggregate equal to a
rebuild from the responses; the respondent sees a polite page; the back button after the
thank-you page does not start a new response; limits per link, scope and audit."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import app_for, sign_in
from tests.world import PASSWORD, RESPONSES
from tiyan.analytics import dashboard as d
from tiyan.analytics.cube import Filters
from tiyan.services import aggregates as agg_service
from tiyan.services.jobs import run_until_idle
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.store import tables as t

TABLES = ("score_agg", "staff_agg", "unit_day_agg", "driver_agg", "segment_agg", "text_agg",
          "unit_text_agg", "driver_aspect_agg")
MONTH = Filters(dt.date(2026, 10, 25), dt.date(2026, 11, 20))


def link_path(world, unit: str = "n1") -> str:
    return urlsplit(anonymous_url(world.ctx, AnonymousTarget(
        world.survey_id, world.unit_ids[unit]))).path


def scripted_post(client: TestClient, path: str, nps: int = 10, **extra: str):  # type: ignore[no-untyped-def]
    """What a script does: post the answers straight away, keeping no cookie."""
    client.cookies.clear()
    return client.post(path, data={"page": "1", "a.nps": str(nps), "a.overall": "5",
                                   "a.comment": "服务很好，很满意", **extra})


def link_responses(ctx) -> list[sa.RowMapping]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.response).where(t.response.c.channel == "link")
                                 .order_by(t.response.c.id)).mappings())


def nps_now(world) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Responses and NPS on the overview, for the administrator, from the aggregates."""
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, world.actor("admin@t.test"))
        page = d.overview(conn, scope, MONTH, min_n=1)
    nps = next(k for k in page.kpis if k.kpi == "nps")
    return page.responses, round(float(nps.value.value or 0), 6)


def expected_nps(scores: list[int]) -> float:
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores), 6)


def aggregates(ctx) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """Every aggregate table's rows (floats rounded), in a stable order."""
    out = {}
    with ctx.db.read() as conn:
        for name in TABLES:
            table = t.metadata.tables[name]
            rows = [tuple(round(v, 6) if isinstance(v, float) else v for v in row)
                    for row in conn.execute(sa.select(table))]
            out[name] = sorted(rows, key=repr)
    return out


def assert_equal_to_a_rebuild(ctx) -> None:  # type: ignore[no-untyped-def]
    folded = aggregates(ctx)
    agg_service.rebuild(ctx)
    assert aggregates(ctx) == folded


@pytest.fixture
def app(world):  # type: ignore[no-untyped-def]
    run_until_idle(world.ctx)  # the world's responses folded and analysed
    with TestClient(app_for(world.ctx), base_url="http://testserver") as client:
        yield client


def test_twenty_scripted_answers_count_once_and_a_restore_counts_at_once(world, app):
    ctx, path = world.ctx, link_path(world)
    baseline = [nps for _, _, nps, _ in RESPONSES]
    for _ in range(20):
        reply = scripted_post(app, path)
        assert reply.status_code == 200
    stored = link_responses(ctx)
    assert len(stored) == 20  # nothing refused, nothing lost
    assert [r["status"] for r in stored] == ["complete"] + ["flagged"] * 19
    reasons = [set((r["flag_reasons"] or "").split(",")) - {""} for r in stored]
    assert reasons[0] == set()
    assert all("network" in r for r in reasons[1:])  # same network and browser, no cookie
    assert not any("burst" in r for r in reasons)  # 20 a link per 10 minutes by default
    assert all("identical" in r for r in reasons[2:]) and "identical" not in reasons[1]
    run_until_idle(ctx)
    assert nps_now(world) == (len(baseline) + 1, expected_nps(baseline + [10]))
    assert_equal_to_a_rebuild(ctx)

    # The CX manager of the region restores one (API), which counts at once...
    token = world.tokens["cx@t.test"]
    restored = stored[5]["public_id"]
    reply = app.put(f"/api/v1/responses/{restored}/counted", json={"counted": True},
                    headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    assert nps_now(world) == (len(baseline) + 2, expected_nps(baseline + [10, 10]))
    assert_equal_to_a_rebuild(ctx)
    listed = app.get("/api/v1/flagged-responses?state=restored",
                     headers={"Authorization": f"Bearer {token}"}).json()
    assert [(r["id"], r["counted"]) for r in listed] == [(restored, True)]

    # ... and leaves it out again on the page (a form with its CSRF token).
    sign_in(app, "cx@t.test", PASSWORD)
    page = app.get("/flagged-responses?state=restored")
    assert page.status_code == 200 and restored in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    assert app.post(f"/flagged-responses/{restored}", data={"counted": "0"},
                    follow_redirects=False).status_code == 403  # no CSRF token: refused
    reply = app.post(f"/flagged-responses/{restored}",
                     data={"counted": "0", "csrf_token": csrf, "state": "restored"},
                     follow_redirects=False)
    assert reply.status_code == 303
    assert nps_now(world) == (len(baseline) + 1, expected_nps(baseline + [10]))
    assert_equal_to_a_rebuild(ctx)
    with ctx.db.read() as conn:
        actions = [a for (a,) in conn.execute(
            sa.select(t.audit_log.c.action).where(t.audit_log.c.entity_id == restored)
            .order_by(t.audit_log.c.id))]
    assert actions == ["response.restore", "response.exclude"]


def test_a_restore_before_the_fold_job_counts_the_response_once(world, app):
    ctx, path = world.ctx, link_path(world)
    baseline = [nps for _, _, nps, _ in RESPONSES]
    scripted_post(app, path, nps=10)
    scripted_post(app, path, nps=2)  # flagged: same network and browser
    second = link_responses(ctx)[1]
    assert second["status"] == "flagged"
    reply = app.put(f"/api/v1/responses/{second['public_id']}/counted", json={"counted": True},
                    headers={"Authorization": f"Bearer {world.tokens['admin@t.test']}"})
    assert reply.status_code == 200
    run_until_idle(ctx)  # the fold jobs of both responses run after the restore
    assert nps_now(world) == (len(baseline) + 2, expected_nps(baseline + [10, 2]))
    assert_equal_to_a_rebuild(ctx)


def test_restoring_is_scoped_and_needs_the_right_to_manage_surveys(world, app):
    path = link_path(world)
    scripted_post(app, path)
    scripted_post(app, path)
    flagged = link_responses(world.ctx)[1]["public_id"]

    def put(email: str) -> int:
        return app.put(f"/api/v1/responses/{flagged}/counted", json={"counted": True},
                       headers={"Authorization": f"Bearer {world.tokens[email]}"}).status_code

    assert put("mgr.s1@t.test") == 404  # another store's response does not exist for them
    assert put("viewer@t.test") == 404  # may not even see responses
    assert put("mgr.n1@t.test") == 403  # sees it, may not change the store's surveys
    listed = app.get("/api/v1/flagged-responses",
                     headers={"Authorization": f"Bearer {world.tokens['mgr.s1@t.test']}"})
    assert listed.status_code == 403 or listed.json() == []
    assert link_responses(world.ctx)[1]["status"] == "flagged"


@pytest.mark.parametrize("lang,title", [("zh-CN", "感谢您，我们已收到您的回答"),
                                        ("en", "Thank you, we already have your answer")])
def test_back_after_the_thank_you_page_and_a_second_answer_get_the_polite_page(
        world, app, lang, title):
    path = link_path(world)
    headers = {"accept-language": lang}
    first = app.get(path, headers=headers)
    sid = re.search(r'name="sid" value="([^"]+)"', first.text)[1]  # type: ignore[index]
    done = app.post(path, data={"sid": sid, "page": "1", "a.nps": "9"}, headers=headers)
    assert done.status_code == 200 and 'data-kind="thanks"' in done.text
    back = app.get(path, headers=headers)  # the back button (or a reload) after submitting
    assert back.status_code == 200 and title in back.text and "<form" not in back.text
    replay = app.post(path, data={"sid": sid, "page": "1", "a.nps": "3"}, headers=headers)
    assert 'data-kind="thanks"' in replay.text  # the first answer stands, stored once
    # The session cookie is gone but the device cookie stays: still answered.
    app.cookies.delete("tiyan_sid")
    assert title in app.get(path, headers=headers).text
    # A second answer from this device is stored, flagged, and told so politely.
    again = app.post(path, data={"page": "1", "a.nps": "10"}, headers=headers)
    assert again.status_code == 200 and title in again.text
    assert [r["status"] for r in link_responses(world.ctx)] == ["complete", "flagged"]
    # A different device (another network, another browser) answers normally.
    with TestClient(app_for(world.ctx), client=("203.0.113.7", 5000)) as other:
        page = other.get(path, headers={**headers, "user-agent": "another phone"})
        assert "<form" in page.text
        sid = re.search(r'name="sid" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        reply = other.post(path, data={"sid": sid, "page": "1", "a.nps": "8"},
                           headers={**headers, "user-agent": "another phone"})
        assert 'data-kind="thanks"' in reply.text
    assert [r["status"] for r in link_responses(world.ctx)] == ["complete", "flagged", "complete"]


def test_a_kiosk_link_without_a_device_limit_starts_afresh_after_each_answer(world, app):
    token = {"Authorization": f"Bearer {world.tokens['cx@t.test']}"}
    url = "/api/v1/surveys/test/links/policy?unit=n1"
    assert app.get(url, headers=token).json() == {
        "device_limit": 1, "device_window_hours": 24, "burst_limit": 20,
        "burst_window_minutes": 10}
    kiosk = {"device_limit": 0, "device_window_hours": 24, "burst_limit": 3,
             "burst_window_minutes": 10}
    assert app.put(url, json=kiosk, headers=token).json() == kiosk
    bad = app.put(url, json={**kiosk, "device_window_hours": 0}, headers=token)
    assert bad.status_code == 422 and bad.json()["error"]["where"] == "device_window_hours"
    path = link_path(world)
    for score in (9, 7, 10, 8):
        page = app.get(path)
        assert "<form" in page.text  # a fresh survey for the next person at the kiosk
        sid = re.search(r'name="sid" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        assert 'data-kind="thanks"' in app.post(path, data={"sid": sid, "page": "1",
                                                           "a.nps": str(score)}).text
    stored = link_responses(world.ctx)
    assert len({r["public_id"] for r in stored}) == 4
    assert [r["status"] for r in stored] == ["complete"] * 3 + ["flagged"]  # the burst limit
    assert stored[3]["flag_reasons"] == "burst"
    with world.ctx.db.read() as conn:
        audited = conn.execute(sa.select(t.audit_log.c.detail).where(
            t.audit_log.c.action == "survey_link.policy")).scalars().all()
    assert audited == [{"unit": "n1", **kiosk}]


def test_the_links_page_sets_the_limits_with_messages_in_the_readers_language(world, app):
    sign_in(app, "cx@t.test", PASSWORD)
    page = app.get("/surveys/test/links?unit=n1&lang=zh-CN")
    assert page.status_code == 200 and "防止重复作答" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    form = {"csrf_token": csrf, "device_limit": "2", "device_window_hours": "abc",
            "burst_limit": "20", "burst_window_minutes": "5"}
    bad = app.post("/surveys/test/links/policy?unit=n1", data=form)
    assert bad.status_code == 422
    assert "设备时段：请输入 1 到 720 之间的整数小时。" in bad.text
    assert 'value="abc"' in bad.text  # what was typed stays
    good = app.post("/surveys/test/links/policy?unit=n1",
                    data={**form, "device_window_hours": "48"}, follow_redirects=False)
    assert good.status_code == 303
    shown = app.get(good.headers["location"])
    assert 'id="guard-device_window_hours"' in shown.text and 'value="48"' in shown.text
    # Someone who may not manage the store's surveys gets no form and cannot post one.
    app.cookies.clear()
    sign_in(app, "mgr.s1@t.test", PASSWORD)
    page = app.get("/flagged-responses")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert app.post("/surveys/test/links/policy?unit=n1",
                    data={**form, "csrf_token": csrf[1] if csrf else ""}
                    ).status_code in (403, 404)


def test_a_scripted_flood_of_detractors_opens_one_case_and_a_restored_one_opens_its_own(
        world, app):
    """Flagged responses act on no alert rule (a script cannot bury a store in cases); once a
    CX manager restores one, its rules act on it as if it had just arrived, once."""
    from tests.integration.test_closed_loop import add_detractor_rule

    ctx, path = world.ctx, link_path(world)
    add_detractor_rule(ctx, world)
    run_until_idle(ctx)
    with ctx.db.read() as conn:
        before = set(conn.execute(sa.select(t.cx_case.c.response_id)).scalars())
    for _ in range(10):
        assert scripted_post(app, path, nps=0).status_code == 200
    run_until_idle(ctx)
    stored = link_responses(ctx)
    with ctx.db.read() as conn:
        opened = set(conn.execute(sa.select(t.cx_case.c.response_id)).scalars()) - before
    assert opened == {stored[0]["id"]}  # the counted one; the 9 flagged opened nothing

    token = world.tokens["cx@t.test"]
    for _ in range(2):  # restored twice over (restore, exclude, restore): still one case
        for counted in (True, False):
            reply = app.put(f"/api/v1/responses/{stored[3]['public_id']}/counted",
                            json={"counted": counted},
                            headers={"Authorization": f"Bearer {token}"})
            assert reply.status_code == 200, reply.text
            run_until_idle(ctx)
    with ctx.db.read() as conn:
        cases = list(conn.execute(sa.select(t.cx_case.c.response_id)).scalars())
    assert sorted(set(cases) - before) == sorted({stored[0]["id"], stored[3]["id"]})
    assert len(cases) == len(set(cases))  # one case per response
