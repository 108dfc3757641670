"""The demo world: big enough, realistic, deterministic, consistent."""

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from tests.conftest import Clock
from tiyan.context import Context
from tiyan.demo.world import build_demo, demo_anchor
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade

R, A, INV = t.response, t.answer, t.invitation


@pytest.fixture(scope="module")
def demo(demo_db_url):
    db = Database(demo_db_url)
    with db.read() as conn:
        yield conn
    db.dispose()


def scalar(conn, query):
    return conn.execute(sa.text(query)).scalar_one()


def test_stores_differ_in_size_and_every_buyer_buys_one_car(demo):
    sizes = [n for (n,) in demo.execute(sa.text(
        "SELECT count(*) FROM response r JOIN org_unit u ON u.id = r.unit_id "
        "WHERE u.code LIKE '%-as' GROUP BY u.code"))]
    assert len(sizes) == 6 and max(sizes) > 1.8 * min(sizes)
    assert scalar(demo, "SELECT max(n) FROM (SELECT count(*) AS n FROM customer_transaction "
                        "WHERE kind = 'purchase' GROUP BY customer_id)") == 1


def test_car_owners_service_every_few_months_not_every_few_days(demo):
    rows = demo.execute(sa.text(
        "SELECT customer_id, julianday(occurred_at) FROM customer_transaction "
        "WHERE kind = 'repair' ORDER BY customer_id, occurred_at")).all()
    gaps = [b[1] - a[1] for a, b in zip(rows, rows[1:], strict=False) if a[0] == b[0]]
    gaps.sort()
    assert len(gaps) > 10_000
    assert 150 <= gaps[len(gaps) // 2] <= 330  # the median owner comes back in 5–11 months
    assert gaps[len(gaps) // 20] > 90


def test_demo_holds_twelve_months_and_at_least_20000_responses(demo):
    assert scalar(demo, "SELECT count(*) FROM response") >= 20_000
    assert scalar(demo, "SELECT count(DISTINCT substr(submitted_at, 1, 7)) FROM response") >= 12
    assert scalar(demo, "SELECT count(*) FROM staff WHERE title = '服务顾问'") == 30
    assert scalar(demo, "SELECT count(*) FROM org_unit WHERE kind = 'store'") == 9
    assert scalar(demo, "SELECT count(*) FROM customer_transaction") > 20_000


def test_after_sales_responses_answer_nine_process_and_nine_satisfaction_items(demo):
    items = {row[0] for row in demo.execute(sa.text(
        "SELECT DISTINCT a.item_code FROM answer a JOIN survey s ON s.id = "
        "(SELECT survey_id FROM response WHERE id = a.response_id) WHERE s.code = 'after-sales'"))}
    assert len({i for i in items if i.startswith("proc_")}) == 9
    assert len({i for i in items if i.startswith("sat_")} | {"csat"} & items) == 9
    assert {"nps", "comment"} <= items


def test_comments_follow_the_scores(demo):
    def share_with_complaint(nps_filter):
        rows = demo.execute(sa.text(
            "SELECT c.value_text FROM answer c JOIN answer n ON n.response_id = c.response_id "
            f"AND n.item_code = 'nps' WHERE c.item_code = 'comment' AND {nps_filter}")).all()
        words = ("没", "不", "差", "慢", "太", "but", "n't", "never")
        return sum(any(w in r[0] for w in words) for r in rows) / len(rows)

    assert share_with_complaint("n.value_num <= 4") > 2 * share_with_complaint("n.value_num = 10")


def test_some_advisors_are_clearly_better_or_worse(demo):
    rows = demo.execute(sa.text(
        "SELECT r.staff_id, 100.0 * (sum(a.value_num >= 9) - sum(a.value_num <= 6)) / count(*) "
        "FROM answer a JOIN response r ON r.id = a.response_id JOIN staff s ON s.id = r.staff_id "
        "WHERE a.item_code = 'nps' AND s.title = '服务顾问' GROUP BY r.staff_id")).all()
    scores = sorted(nps for _, nps in rows)
    assert scores[-1] - scores[0] > 100


def digest(db: Database) -> str:
    """A digest of the customers, their transactions, the answers and invitations that reads
    the same on either backend (the column types give the same Python values on both): rows
    sorted here, not by the database's collation."""
    C, T = t.customer, t.customer_transaction
    with db.read() as conn:
        rows = conn.execute(sa.select(R.c.public_id, R.c.submitted_at, R.c.channel,
                                      A.c.item_code, A.c.value_num, A.c.value_text)
                            .join(A, A.c.response_id == R.c.id)).all()
        invitations = conn.execute(sa.select(INV.c.id, INV.c.public_id, INV.c.unit_id,
                                             INV.c.customer_id, INV.c.channel, INV.c.status,
                                             INV.c.sent_at, INV.c.completed_at)).all()
        people = conn.execute(sa.select(C.c.id, C.c.public_id, C.c.name, C.c.unit_id,
                                        C.c.created_at, C.c.segment)).all()
        visits = conn.execute(sa.select(T.c.customer_id, T.c.unit_id, T.c.kind, T.c.amount,
                                        T.c.occurred_at)).all()
    written = [sorted(repr(tuple(row)) for row in table)
               for table in (rows, invitations, people, visits)]
    return hashlib.sha256(repr(written).encode()).hexdigest()


def test_sms_and_email_answers_came_from_invitations_that_match_them(demo):
    rows = demo.execute(sa.text(
        "SELECT r.channel, i.status, i.survey_id = r.survey_id AND i.unit_id = r.unit_id "
        "AND i.staff_id = r.staff_id AND i.touchpoint_id = r.touchpoint_id "
        "AND i.channel = r.channel AND i.customer_id = r.customer_id, "
        "i.completed_at = r.submitted_at, i.sent_at < r.started_at, "
        "julianday(r.submitted_at) - julianday(i.sent_at), i.contact = CASE i.channel "
        "WHEN 'sms' THEN (SELECT value FROM customer_identity WHERE kind = 'phone' "
        "AND customer_id = i.customer_id) ELSE json_extract(c.attributes, '$.email') END "
        "FROM response r LEFT JOIN invitation i ON i.id = r.invitation_id "
        "LEFT JOIN customer c ON c.id = i.customer_id WHERE r.channel IN ('sms', 'email')"
    )).all()
    assert len(rows) > 8000
    assert {row[:5] + (row[6],) for row in rows} == {(row[0], "completed", 1, 1, 1, 1)
                                                      for row in rows}
    assert all(0 < row[5] <= 2.01 for row in rows)  # sent minutes to two days before
    assert scalar(demo, "SELECT count(*) FROM response WHERE channel IN ('qr', 'link') "
                        "AND invitation_id IS NOT NULL") == 0


def test_the_demo_response_rate_is_realistic_and_varies_by_unit(demo):
    from tiyan.analytics import dashboard as d
    from tiyan.analytics import response_rate as rr
    from tiyan.domain.access import Visibility
    from tiyan.store.scoped import parent_map

    everything = frozenset(demo.execute(sa.select(t.org_unit.c.id)).scalars())
    today = demo.execute(sa.select(sa.func.max(R.c.submitted_at))).scalar_one()
    filters = d.default_filters(dt.date.fromisoformat(str(today)[:10]))
    vis, parents = Visibility(everything), parent_map(demo)
    overall = rr.invited(demo, vis, parents, filters).rate(30)
    assert 20 < (overall.value or 0) < 40
    codes = dict(demo.execute(sa.select(t.org_unit.c.id, t.org_unit.c.code)).all())
    rates = {codes[unit]: 100 * n.completed / n.sent
             for unit, n in rr.invited_by_unit(demo, vis, parents, filters).items()}
    assert len(rates) == 15 and all(10 < rate < 50 for rate in rates.values())
    assert min(rates, key=rates.__getitem__) == "nj-gulou-as"
    assert max(rates.values()) - min(rates.values()) > 20


def test_demo_invitations_are_history_the_sender_and_reminders_leave_alone(demo):
    rows = demo.execute(sa.text(
        "SELECT status, sent_at IS NULL, bounced_at IS NULL, next_reminder_at IS NULL, "
        "json_extract(data, '$.reminder_days') = '[]', count(*) FROM invitation "
        "WHERE channel IN ('sms', 'email') GROUP BY 1, 2, 3, 4, 5")).all()
    shapes = {row[:5]: row[5] for row in rows}
    assert set(shapes) == {("completed", 0, 1, 1, 1), ("sent", 0, 1, 1, 1),
                           ("opened", 0, 1, 1, 1), ("failed", 0, 1, 1, 1),
                           ("bounced", 1, 0, 1, 1)}  # refused at sending: never sent
    assert shapes[("bounced", 1, 0, 1, 1)] < shapes[("sent", 0, 1, 1, 1)] / 10
    # the send and remind jobs are the only way an invitation reaches a customer
    assert scalar(demo, "SELECT count(*) FROM job WHERE kind LIKE 'invitation.%'") == 0
    steps = demo.execute(sa.text(
        "SELECT group_concat(status, ' ') FROM (SELECT e.status FROM invitation_event e "
        "WHERE e.invitation_id = (SELECT min(id) FROM invitation WHERE status = 'completed') "
        "ORDER BY e.at, e.id)")).scalar_one()
    assert steps == "queued sent opened started completed"


def test_the_demo_anchor_is_the_start_of_the_day_in_shanghai_whatever_the_hour():
    morning = dt.datetime(2026, 12, 5, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 6th in Shanghai
    evening = dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.UTC)  # 23:59 on the 6th
    assert demo_anchor(morning) == demo_anchor(evening) == dt.datetime(2026, 12, 5, 16,
                                                                         tzinfo=dt.UTC)
    assert demo_anchor(evening + dt.timedelta(minutes=1)) > demo_anchor(evening)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_same_seed_and_day_give_the_same_world_whatever_the_clock_and_database(ctx, tmp_path):
    """Built on PostgreSQL at one clock time and on SQLite five weeks and seven hours later,
    for the same day: every customer, visit, answer and invitation is the same."""
    summary = build_demo(ctx, seed=7)
    with ctx.db.read() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(R)).scalar_one()
        invitations = conn.execute(sa.select(sa.func.count()).select_from(INV)).scalar_one()
        linked = conn.execute(sa.select(sa.func.count(R.c.invitation_id), sa.func.count())
                              .where(R.c.channel.in_(["sms", "email"]))).one()
        data = conn.execute(sa.select(INV.c.data).limit(1)).scalar_one()
    assert summary.responses == stored >= 20_000
    assert summary.invitations == invitations > 20_000
    assert linked[0] == linked[1] > 8_000 and data == {"reminder_days": []}

    lite = Database(f"sqlite:///{tmp_path / 'again.db'}")
    upgrade(lite)
    later = Clock(ctx.now() + dt.timedelta(days=35, hours=7))
    build_demo(Context(lite, ctx.settings, later), seed=7, as_of=demo_anchor(ctx.now()))
    assert digest(lite) == digest(ctx.db)
    lite.dispose()


def test_the_demo_agent_has_after_sales_follow_up_calls_due(demo):
    rows = demo.execute(sa.text(
        "SELECT u.code, i.next_call_at, i.status FROM invitation i "
        "JOIN org_unit u ON u.id = i.unit_id JOIN survey s ON s.id = i.survey_id "
        "WHERE i.channel = 'phone' AND s.code = 'after-sales'")).all()
    # the browser tests share this demo database and may plan or work a call or two
    planned = [(due, status) for code, due, status in rows if code.endswith("-as")]
    assert len(planned) >= 12
    queued = [due for due, status in planned if status == "queued"]
    assert len(queued) >= len(planned) - 3
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
    assert sum(str(due) <= now for due in queued) >= 8  # due today, the rest later


def test_the_demo_defines_the_after_sales_csi_and_the_overview_shows_it(demo):
    from tiyan.analytics import dashboard as d
    from tiyan.domain.access import Visibility
    from tiyan.store import indices
    from tiyan.store.scoped import parent_map

    [csi] = indices.load(demo)
    assert csi.name_zh == "CSI 售后满意度指数" and len(csi.items) == 9
    assert {(i.weight, i.scale_min, i.scale_max) for i in csi.items} == {(1.0, 1.0, 5.0)}
    everything = frozenset(demo.execute(sa.select(t.org_unit.c.id)).scalars())
    scope = d.Scope(Visibility(everything), parent_map(demo))
    today = demo.execute(sa.select(sa.func.max(R.c.submitted_at))).scalar_one()
    filters = d.default_filters(dt.date.fromisoformat(str(today)[:10]))
    [tile] = d.overview(demo, scope, filters, min_n=30).indices
    assert not tile.kpi.value.too_few and 0 < (tile.kpi.value.value or 0) < 100
