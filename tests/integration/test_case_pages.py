"""The closed-loop pages as a browser posts them: inbox filters, working a case (status, note,
root cause, attachment), alert rules with errors naming the node, the callback worklist."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.integration.test_closed_loop import add_detractor_rule, cases_by_unit
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.services.cases import attachment_key
from tiyan.services.storage import object_store, read_bytes


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def with_cases(ctx: Context, world: World, tmp_path: Path) -> None:
    ctx.settings = ctx.settings.model_copy(update={
        "smtp_port": 1, "data_dir": str(tmp_path), "files_dir": None,
        "attachment_max_mb": 0.01})
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)


def test_inbox_filters_by_status_unit_rule_mine_and_overdue(
        ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    with_cases(ctx, world, tmp_path)
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/cases").text
    cases = cases_by_unit(ctx, world)
    assert all(c.public_id in page for c in cases.values())
    north = client.get("/cases?unit=north").text
    assert cases["n1-as"].public_id in north and cases["s1"].public_id not in north
    assert "没有符合条件的工单" in client.get("/cases?status=closed").text
    assert cases["s1"].public_id not in client.get("/cases?mine=true").text
    assert "没有符合条件的工单" in client.get("/cases?overdue=true").text
    ctx.clock.advance(hours=25)  # type: ignore[attr-defined]  # first contact was due in 24 h
    sign_in(client, "admin@t.test", PASSWORD)  # the earlier session has expired
    assert cases["s1"].public_id in client.get("/cases?overdue=true&lang=en").text
    bad = client.get("/cases?status=lost")
    assert bad.status_code == 422 and "lost" in bad.text
    assert client.get("/cases?rule=nope").status_code == 422


def test_a_manager_works_a_case_through_the_page(
        ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    with_cases(ctx, world, tmp_path)
    case = cases_by_unit(ctx, world)["s1"].public_id
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get(f"/cases/{case}").text
    assert "通知发送记录" in page and "重试中" in page  # SMTP on port 1 refuses: retried
    token = csrf(page)
    moved = client.post(f"/cases/{case}/status", data={"csrf_token": token,
                                                       "status": "acknowledged"})
    assert moved.status_code == 200 and "已确认" in moved.text
    wrong = client.post(f"/cases/{case}/status", data={"csrf_token": token, "status": "closed"})
    assert wrong.status_code == 409 and "不能变为“已关闭”" in wrong.text
    client.post(f"/cases/{case}/notes", data={"csrf_token": token, "note": "客户已致电"})
    client.post(f"/cases/{case}/root-cause", data={"csrf_token": token, "code": "wait_time"})
    sent = client.post(f"/cases/{case}/attachments", data={"csrf_token": token},
                       files={"file": ("通话记录.txt", b"hello", "text/plain")})
    assert sent.status_code == 200 and "通话记录.txt" in sent.text
    too_big = client.post(f"/cases/{case}/attachments", data={"csrf_token": token},
                          files={"file": ("big.bin", b"x" * 20000, "application/pdf")})
    assert too_big.status_code == 422 and "最多 10,485" in too_big.text
    link = sent.text.split(f'href="/cases/{case}/attachments/')[1].split('"')[0]
    download = client.get(f"/cases/{case}/attachments/{link}")
    assert download.content == b"hello"
    assert download.headers["content-disposition"] == \
        "attachment; filename*=utf-8''%E9%80%9A%E8%AF%9D%E8%AE%B0%E5%BD%95.txt"
    # stored in the database (every process reads it), not under TIYAN_DATA_DIR
    assert read_bytes(object_store(ctx), attachment_key(case, link)) == b"hello"
    assert not (tmp_path / "files").exists()
    history = client.get(f"/cases/{case}?lang=en").text.split('id="case-history"')[1]
    for what in ("Opened", "Acknowledged", "客户已致电", "Root cause set", "Attachment added"):
        assert what in history
    # status moves in words, times in the unit's own time zone
    assert "New → Acknowledged" in history and "new → acknowledged" not in history
    assert "Times are in Asia/Shanghai." in history
    sign_in(client, "mgr.n1@t.test", PASSWORD)  # another store's manager
    assert client.get(f"/cases/{case}").status_code == 404
    assert client.get(f"/cases/{case}/attachments/{link}").status_code == 404


def test_alert_rule_json_form_names_the_bad_node_and_keeps_the_input(
        ctx: Context, world: World, client: TestClient) -> None:
    """The advanced JSON form is for administrators; everyone else uses the builder."""
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/alert-rules")
    assert page.status_code == 200 and "还没有预警规则" in page.text
    assert 'name="condition"' not in page.text
    refused = client.post("/alert-rules", data={
        "csrf_token": csrf(page.text), "name": "差评", "unit_code": "north",
        "condition": '{"sentiment": "negative"}'})
    assert refused.status_code == 403
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/alert-rules")
    bad = client.post("/alert-rules", data={
        "csrf_token": csrf(page.text), "name": "差评", "unit_code": "north",
        "condition": '{"all": [{"sentiment": "negative"}, {"score": {"item": "nps", "op": "<<",'
                     ' "value": 6}}]}'})
    assert bad.status_code == 422 and "condition.all[1].score" in bad.text
    assert "&lt;&lt;" in bad.text  # the input is kept
    broken = client.post("/alert-rules", data={
        "csrf_token": csrf(page.text), "name": "x", "unit_code": "north", "condition": "{"})
    assert broken.status_code == 422 and "不是有效的 JSON" in broken.text
    good = client.post("/alert-rules", data={
        "csrf_token": csrf(page.text), "name": "差评", "unit_code": "north",
        "condition": '{"sentiment": "negative"}', "callback": "yes",
        "sla": '{"close": {"hours": 48}}'})
    assert good.status_code == 200 and "差评" in good.text and "还没有预警规则" not in good.text


def test_callback_worklist_logs_calls_and_shows_the_recovery_rate(
        ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    with_cases(ctx, world, tmp_path)
    sign_in(client, "agent@t.test", PASSWORD)
    page = client.get("/callbacks").text
    task = page.split('action="/callbacks/')[1].split("/calls")[0]
    missing = client.post(f"/callbacks/{task}/calls", data={
        "csrf_token": csrf(page), "outcome": "reached"})
    assert missing.status_code == 422 and "recovered" in missing.text
    done = client.post(f"/callbacks/{task}/calls", data={
        "csrf_token": csrf(page), "outcome": "reached", "recovered": "yes",
        "satisfaction": "9", "note": "道歉并补偿"})
    assert done.status_code == 200 and 'id="recovery-rate">100.0%' in done.text
    finished = client.get("/callbacks?status=done&lang=en").text
    assert "道歉并补偿" in finished and "recovered" in finished and "9/10" in finished


def test_changing_a_root_cause_again_shows_both_causes_by_name(
        ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    with_cases(ctx, world, tmp_path)
    case = cases_by_unit(ctx, world)["s1"].public_id
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    token = csrf(client.get(f"/cases/{case}").text)
    for code in ("wait_time", "attitude", "billing"):
        set_cause = client.post(f"/cases/{case}/root-cause",
                                data={"csrf_token": token, "code": code})
        assert set_cause.status_code == 200, set_cause.text[-500:]
    page = client.get(f"/cases/{case}?lang=en")
    assert page.status_code == 200
    history = page.text.split('id="case-history"')[1]
    assert "Root cause set: Waiting time" in history
    assert "Waiting time → Attitude" in history and "Attitude → Billing error" in history
    assert "等待时间 → 服务态度" in client.get(f"/cases/{case}?lang=zh-CN").text


def test_codes_the_case_page_does_not_know_are_shown_as_themselves(
        ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    """Codes a later (or earlier) version stored — a status, a root cause no longer in the
    tree, an event kind, a timer, a callback without outcome, a delivery channel and status —
    are shown as they are; the page still answers."""
    import sqlalchemy as sa

    from tiyan.store import cases as case_store
    from tiyan.store import tables as t

    with_cases(ctx, world, tmp_path)
    case = cases_by_unit(ctx, world)["s1"]
    with ctx.db.write() as conn:
        case_id = conn.execute(sa.select(t.cx_case.c.id).where(
            t.cx_case.c.public_id == case.public_id)).scalar_one()
        conn.execute(sa.update(t.cx_case).where(t.cx_case.c.id == case_id)
                     .values(status="on_hold", root_cause="old_cause"))
        for kind, detail in (("root_cause", {"from": "older_cause", "to": "old_cause"}),
                             ("merged", {"from": "new", "to": "on_hold"}),
                             ("escalated", {"timer": "recontact", "level": 2}),
                             ("callback", {})):
            case_store.log_event(conn, case_id, at=ctx.now(), user_id=None, kind=kind,
                                 detail=detail)
        conn.execute(sa.update(t.notification).where(t.notification.c.case_id == case_id)
                     .values(channel="pigeon", status="lost"))
        timer = conn.execute(sa.select(sa.func.min(t.case_timer.c.id))
                             .where(t.case_timer.c.case_id == case_id)).scalar_one()
        conn.execute(sa.update(t.case_timer).where(t.case_timer.c.id == timer)
                     .values(kind="recontact"))
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    for lang in ("en", "zh-CN"):
        page = client.get(f"/cases/{case.public_id}?lang={lang}")
        assert page.status_code == 200
        for code in ("on_hold", "old_cause", "older_cause → old_cause", "merged",
                     "recontact", "pigeon", "lost"):
            assert code in page.text, (lang, code)
    assert 'id="case-status"' not in page.text  # no moves from a status it does not know


def test_sla_clocks_say_due_met_met_late_or_overdue_and_the_inbox_the_next_clock(
        ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    import re

    import sqlalchemy as sa

    from tiyan.store import tables as t

    def clocks(page: str) -> dict[str, str]:
        table = page.split('id="sla-zone"')[1].split("</table>")[0]
        return dict(zip(re.findall(r"<tr><td[^>]*>([^<]+)</td>", table),
                        re.findall(r'data-timer-state="(\w+)"', table), strict=True))

    with_cases(ctx, world, tmp_path)
    case = cases_by_unit(ctx, world)["s1"]
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get(f"/cases/{case.public_id}?lang=en").text
    assert set(clocks(page).values()) == {"due"}  # a new case: nothing met, nothing late
    assert "met " not in page.split('id="sla-zone"')[1].split("</table>")[0]
    ctx.clock.advance(hours=25)  # type: ignore[attr-defined]  # first contact was due in 24 h
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get(f"/cases/{case.public_id}?lang=en").text
    assert clocks(page)["First contact"] == "overdue" and clocks(page)["Close"] == "due"
    client.post(f"/cases/{case.public_id}/status", data={"csrf_token": csrf(page),
                                                         "status": "in_progress"})
    with ctx.db.read() as conn:
        due = dict(conn.execute(sa.select(t.case_timer.c.kind, t.case_timer.c.due_at)
                                .where(t.case_timer.c.case_id == case.id)).all())
    page = client.get(f"/cases/{case.public_id}?lang=en").text
    late = "met_late" if due["acknowledge"].replace(tzinfo=None) < ctx.now().replace(
        tzinfo=None) else "met"
    assert clocks(page) == {"Acknowledge": late, "First contact": "met_late", "Close": "due"}
    assert "met late" in page
    # the inbox's Due is the clock still running (close), not the acknowledge clock
    row = client.get("/cases?lang=en").text.split(case.public_id)[1].split("</tr>")[0]
    assert "overdue" not in row
