"""Action plans: create with tasks, progress, scope; the measured effect against comparable
units (difference-in-differences), and "too few units" when there are not enough."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.demo.bulk import ResponseDraft, write_responses
from tiyan.domain.responses import AnswerValue
from tiyan.errors import Forbidden, InvalidInput
from tiyan.services import plans
from tiyan.store import org, surveys
from tiyan.store import plans as store
from tiyan.store import tables as t

START = dt.date(2026, 9, 1)


def stores_with_scores(ctx: Context, world: World, changes: dict[str, tuple[int, int]]) -> None:
    """Extra stores under south, each with 10 NPS answers before START and 10 after it:
    (score before, score after) for all of them."""
    now = ctx.now()
    with ctx.db.write() as conn:
        south = org.unit_id_by_code(conn, "south")
        units = {org.insert_unit(conn, code=code, name_zh=code, name_en=code, kind="store",
                                 parent_id=south, now=now): change
                 for code, change in changes.items()}
    scores_at(ctx, world, units)


def scores_at(ctx: Context, world: World, changes: dict[int, tuple[int, int]]) -> None:
    """10 NPS answers before START and 10 after it at each unit: (score before, score after)."""
    with ctx.db.write() as conn:
        version = surveys.current_version(conn, world.survey_id)["id"]
        drafts = []
        for unit, (before, after) in changes.items():
            for day in range(10):
                for at, score in ((START - dt.timedelta(days=20 + day), before),
                                  (START + dt.timedelta(days=5 + day), after)):
                    drafts.append(ResponseDraft(
                        survey_id=world.survey_id, survey_version_id=version, unit_id=unit,
                        channel="qr", language="zh-CN",
                        submitted_at=dt.datetime.combine(at, dt.time(4), dt.UTC),
                        answers=[AnswerValue("nps", "nps", float(score))]))
        write_responses(conn, drafts, ctx.now())


def test_plan_with_tasks_progress_and_the_did_effect(ctx: Context, world: World) -> None:
    # treated stores go from all passives (NPS 0) to all promoters (100); controls stay or
    # move to promoters for one of them: changes 100, 100 vs 0, 100 → effect 50
    stores_with_scores(ctx, world, {"t1": (8, 10), "t2": (7, 9), "c1": (8, 8), "c2": (8, 10)})
    admin = world.actor("admin@t.test")
    public_id = plans.do_create_plan(ctx, admin, plans.PlanRequest(
        title="缩短等待 Shorter waits", kpi="nps", unit_codes=["t1", "t2"], start_date=START,
        owner_email="mgr.s1@t.test", tasks=[plans.TaskRequest("培训", dt.date(2026, 9, 15)),
                                            plans.TaskRequest("预约系统")]))
    with ctx.db.read() as conn:
        plan = store.get_plan(conn, admin, public_id)
        tasks = store.tasks_of(conn, [plan.id])[plan.id]
    plans.do_set_task_status(ctx, admin, public_id, tasks[0].id, "done")
    with ctx.db.read() as conn:
        assert plans.progress(store.tasks_of(conn, [plan.id])[plan.id]) == 0.5
    effect = plans.measured_effect(ctx, admin, plan)
    assert [f.code for f in effect.treated] == ["t1", "t2"]
    # world stores n1, n2, s1 have too few responses to compare; c1 and c2 do
    assert [f.code for f in effect.control] == ["c1", "c2"]
    assert effect.result is not None and effect.result.effect == pytest.approx(50.0)
    assert effect.result.low < 50 < effect.result.high


def test_a_shared_plan_shows_a_unit_manager_only_their_own_units_figures(
        ctx: Context, world: World, client: TestClient) -> None:
    """A plan on s1 and two other stores: s1's manager sees s1's figures and nothing computed
    from the other stores (no rows, no effect they enter); who sees them all sees everything."""
    stores_with_scores(ctx, world, {"t1": (8, 10), "t2": (7, 9), "c1": (8, 8), "c2": (8, 10)})
    scores_at(ctx, world, {world.unit_ids["s1"]: (6, 9)})
    admin = world.actor("admin@t.test")
    public_id = plans.do_create_plan(ctx, admin, plans.PlanRequest(
        title="共享计划", kpi="nps", unit_codes=["s1", "t1", "t2"], start_date=START))

    def effect_for(email: str) -> plans.Effect:
        actor = world.actor(email)
        with ctx.db.read() as conn:
            return plans.measured_effect(ctx, actor, store.get_plan(conn, actor, public_id))

    for email in ("admin@t.test", "analyst.south@t.test"):
        full = effect_for(email)
        assert [f.code for f in full.treated] == ["s1", "t1", "t2"], email
        assert full.result is not None and full.left_out == 0
    mine = effect_for("mgr.s1@t.test")
    assert mine.treated == full.treated[:1]  # s1's own figures, as everyone sees them
    assert mine.control == [] and mine.result is None and mine.problem == "too_few_units"
    assert mine.left_out == 2

    api = client.get(f"/api/v1/plans/{public_id}",
                     headers={"Authorization": f"Bearer {world.tokens['mgr.s1@t.test']}"})
    effect = api.json()["effect"]
    assert [u["unit"] for u in effect["treated"]] == ["s1"] and effect["control"] == []
    assert effect["effect"] is None and effect["units_left_out"] == 2
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get(f"/plans/{public_id}?lang=en").text
    shown = page.split('id="effect"')[1].split("</section>")[0]
    assert "<td>Unit s1</td>" in shown  # the unit by its name
    assert all(other not in shown for other in ("t1</td>", "t2</td>"))
    assert "2 of the plan&#39;s units are outside your units" in shown


def test_too_few_units_and_bad_input(ctx: Context, world: World) -> None:
    stores_with_scores(ctx, world, {"t1": (8, 10), "c1": (8, 8)})
    admin = world.actor("admin@t.test")
    public_id = plans.do_create_plan(ctx, admin, plans.PlanRequest(
        title="One store", kpi="nps", unit_codes=["t1"], start_date=START))
    with ctx.db.read() as conn:
        plan = store.get_plan(conn, admin, public_id)
    effect = plans.measured_effect(ctx, admin, plan)
    assert effect.result is None and effect.problem == "too_few_units"
    with pytest.raises(InvalidInput, match="not a KPI"):
        plans.do_create_plan(ctx, admin, plans.PlanRequest("x", "ces", ["t1"], START))
    with pytest.raises(Forbidden):
        plans.do_create_plan(ctx, world.actor("mgr.n1@t.test"),
                             plans.PlanRequest("x", "nps", ["s1"], START))


def test_plan_pages(ctx: Context, world: World, client: TestClient) -> None:
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get("/plans")
    assert page.status_code == 200 and "还没有改进计划" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = client.post("/plans", data={"csrf_token": token, "title": "x", "kpi": "nps",
                                      "start_date": "2026-09-01", "units": "s1",
                                      "tasks": "2026-13-01 wrong"})
    assert bad.status_code == 422 and "（位置：任务，第 1 行）" in bad.text  # the place in words
    made = client.post("/plans", data={"csrf_token": token, "title": "回访提速", "kpi": "nps",
                                       "start_date": "2026-09-01", "units": "s1",
                                       "tasks": "2026-10-01 培训\n上线预约"},
                       follow_redirects=False)
    assert made.status_code == 303
    plan = client.get(made.headers["location"] + "?lang=en").text
    assert "回访提速" in plan and "Too few units" in plan and "培训" in plan
    with ctx.db.read() as conn:
        task = conn.execute(sa.select(t.action_task.c.id).order_by(t.action_task.c.id)).first()
    assert task is not None
    done = client.post(f"{made.headers['location']}/tasks/{task.id}",
                       data={"csrf_token": token, "status": "done"})
    assert done.status_code == 200 and "50%" in done.text


def test_plan_page_edits_fields_status_tasks_and_deletes_after_confirming(
        ctx: Context, world: World, client: TestClient) -> None:
    manager = world.actor("mgr.s1@t.test")
    public_id = plans.do_create_plan(ctx, manager, plans.PlanRequest(
        title="回访提速", kpi="nps", unit_codes=["s1"], start_date=START,
        tasks=[plans.TaskRequest("培训", dt.date(2026, 9, 15))]))
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    url = f"/plans/{public_id}"
    page = client.get(url)
    assert 'id="edit"' in page.text and "删除计划" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": token, "title": "Faster callbacks", "kpi": "csat", "units": "s1",
            "owner": "mgr.s1@t.test", "start_date": "2026-09-02", "end_date": "2026-12-31"}
    assert client.post(f"{url}/edit", data=form, follow_redirects=False).status_code == 303
    with ctx.db.read() as conn:
        plan = store.get_plan(conn, manager, public_id)
    assert (plan.title, plan.kpi, plan.owner_email, str(plan.start_date), str(plan.end_date)) \
        == ("Faster callbacks", "csat", "mgr.s1@t.test", "2026-09-02", "2026-12-31")
    # errors come back on the page with what was typed, the edit form open
    bad = client.post(f"{url}/edit", data={**form, "end_date": "2026-01-01"})
    assert bad.status_code == 422 and "计划的结束早于开始" in bad.text
    assert '<details class="card" id="edit" open>' in bad.text
    other = client.post(f"{url}/edit", data={**form, "units": ["s1", "n1"]})
    assert other.status_code == 403  # not the manager's store; shown on the plan page
    assert "Faster callbacks" in other.text

    with ctx.db.read() as conn:
        task = store.tasks_of(conn, [plan.id])[plan.id][0]
    changed = client.post(f"{url}/tasks/{task.id}", data={
        "csrf_token": token, "whole": "yes", "title": "培训服务顾问", "due_date": "",
        "status": "doing"})
    assert changed.status_code == 200 and "培训服务顾问" in changed.text
    with ctx.db.read() as conn:
        row = store.tasks_of(conn, [plan.id])[plan.id][0]
    assert (row.title, row.due_date, row.status) == ("培训服务顾问", None, "doing")
    assert client.post(f"{url}/tasks/{task.id}", data={
        "csrf_token": token, "whole": "yes", "title": "x", "due_date": "2026-02-30",
        "status": "todo"}).status_code == 422
    client.post(f"{url}/tasks/{task.id}/delete", data={"csrf_token": token})
    with ctx.db.read() as conn:
        assert store.tasks_of(conn, [plan.id]) == {}

    done = client.post(f"{url}/status", data={"csrf_token": token, "status": "done"})
    assert done.status_code == 200 and 'id="plan-status">已完成' in done.text
    assert "重新开启" in done.text

    ask = client.get(f"{url}/delete?lang=en")
    assert 'id="confirm-delete"' in ask.text and "cannot be undone" in ask.text
    # without the confirmation nothing is deleted
    assert client.post(f"{url}/delete", data={"csrf_token": token},
                       follow_redirects=False).headers["location"] == f"{url}/delete"
    gone = client.post(f"{url}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert gone.status_code == 200 and "The plan was deleted." in gone.text
    assert client.get(url).status_code == 404


def test_the_creation_form_takes_tasks_as_rows_with_due_dates(
        ctx: Context, world: World, client: TestClient) -> None:
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get("/plans").text
    assert 'name="task_title0"' in page and 'name="task_due4"' in page
    assert 'id="plan-tasks"' not in page  # no free-text lines
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    base = {"csrf_token": token, "title": "回访提速", "kpi": "nps", "start_date": "2026-09-01",
            "units": "s1", "task_title0": "培训顾问", "task_due0": "2026-10-01",
            "task_title2": "上线预约 <b>", "task_due2": ""}
    bad = client.post("/plans", data={**base, "task_due0": "2026-13-01"})
    assert bad.status_code == 422 and "task_due0" in bad.text
    assert 'value="培训顾问"' in bad.text and 'value="上线预约 &lt;b&gt;"' in bad.text  # kept
    made = client.post("/plans", data=base, follow_redirects=False)
    assert made.status_code == 303
    with ctx.db.read() as conn:
        tasks = [(r.title, r.due_date) for r in conn.execute(
            sa.select(t.action_task).order_by(t.action_task.c.id))]
    assert tasks == [("培训顾问", dt.date(2026, 10, 1)), ("上线预约 <b>", None)]
