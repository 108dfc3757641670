"""A worker on another host: its own temporary and data folders, only the database in common.

Real processes on PostgreSQL (SQLite is one host's file by nature): `tiyan serve` on "host A"
(TMPDIR and TIYAN_DATA_DIR of its own) takes a CSV and an Excel import for the background and a
case attachment; `tiyan worker` on "host B" (other folders) runs the imports, the rules that
open the cases and the churn scoring with a model trained by a third process; a second
`tiyan serve` on host B hands out the attachment host A took. Nothing is left in, or read from,
any host's folders: the files travel through the database (tiyan.services.storage).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from pathlib import Path

import httpx
import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import postgres_available, postgres_problem, require_service
from tests.integration.conftest import sign_in
from tests.integration.processes import environment, run_tiyan, served
from tests.integration.s3_server import S3Server, s3_server  # noqa: F401 - the fixture
from tests.integration.test_closed_loop import add_detractor_rule
from tests.snapshots import as_built, world_with
from tests.world import PASSWORD
from tiyan.context import Context
from tiyan.services import churn
from tiyan.store import customers
from tiyan.store import tables as t

ROWS = 40
HEADER = ("评价ID", "评价内容", "评价时间", "门店编码", "评分")


def rows(prefix: str) -> list[tuple[str, str, str, str, int]]:
    return [(f"{prefix}{i}", f"第{i}条评价 服务很好", f"2026-11-{1 + i % 18:02d} 10:00", "n1",
             1 + i % 5) for i in range(ROWS)]


def csv_file() -> bytes:
    lines = [",".join(HEADER)] + [",".join(map(str, row)) for row in rows("csv")]
    return ("\n".join(lines) + "\n").encode()


def xlsx_file() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows("xlsx"):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def visits(ctx: Context, unit_id: int, count: int = 210) -> None:
    """Customers with 15 months of visits, some of whom stopped coming: enough to train on."""
    rng, now = random.Random(7), ctx.now()
    found = []
    with ctx.db.write() as conn:
        for index in range(count):
            cid = customers.insert_customer(conn, unit_id=unit_id, now=now, name=f"顾客{index}")
            stop = now - dt.timedelta(days=rng.randint(95, 200)) if index % 3 == 0 else now
            day = now - dt.timedelta(days=450)
            while day < stop:
                found.append({"customer_id": cid, "unit_id": unit_id, "kind": "visit",
                              "external_id": f"{cid}-{day:%Y%m%d}", "currency": "CNY",
                              "amount": Decimal(rng.randint(50, 900)), "occurred_at": day,
                              "attributes": {}})
                day += dt.timedelta(days=rng.randint(15, 60))
        conn.execute(sa.insert(t.customer_transaction), found)


@pytest.fixture
def backend() -> str:
    require_service("PostgreSQL", postgres_available(), postgres_problem() or "")
    return "postgres"


def host(root: Path, name: str, ctx: Context,
         store: dict[str, str]) -> tuple[dict[str, str], Path, Path]:
    temporary, data = root / name / "tmp", root / name / "data"
    temporary.mkdir(parents=True)
    env = environment(TIYAN_DB_URL=ctx.db.url, TMPDIR=str(temporary),
                      TIYAN_DATA_DIR=str(data), TIYAN_WORKER_IN_APP="false",
                      TIYAN_SMTP_PORT="1", **store)
    return env, temporary, data


@pytest.mark.parametrize("storage", ["database", "s3"])
def test_a_worker_on_another_host_runs_imports_cases_and_scoring(
        ctx: Context, tmp_path: Path, storage: str, request: pytest.FixtureRequest) -> None:
    """The same with the files in the database and in an S3 bucket (a real S3 server)."""
    store: dict[str, str] = {}
    if storage == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        bucket = s3.new_bucket()
        store = s3.environment(bucket)
        ctx.settings = ctx.settings.model_copy(update=s3.settings(bucket))
    world = world_with(ctx, as_built)
    add_detractor_rule(ctx, world)
    visits(ctx, world.unit_ids["n1"])
    ctx.settings = ctx.settings.model_copy(update={"data_dir": str(tmp_path / "trainer")})
    model = churn.train(ctx, seed=0)
    env_a, tmp_a, data_a = host(tmp_path, "a", ctx, store)
    env_b, tmp_b, data_b = host(tmp_path, "b", ctx, store)
    headers = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}

    with served(env_a, tmp_path / "serve-a.log") as host_a:
        queued = []
        for name, content in (("点评.csv", csv_file()), ("点评.xlsx", xlsx_file())):
            reply = httpx.post(f"{host_a}/api/v1/feedback/imports", headers=headers,
                               files={"file": (name, content)},
                               data={"source": "review", "background": "true"})
            assert reply.status_code == 202, reply.text
            queued.append(reply.json()["id"])

        run_tiyan(env_b, "worker", "--once")

        for import_id in queued:
            done = httpx.get(f"{host_a}/api/v1/feedback/imports/{import_id}",
                             headers=headers).json()
            assert (done["status"], done["rows_stored"], done["rows_rejected"]) == \
                ("done", ROWS, 0), done
        with ctx.db.read() as conn:
            scored = set(conn.execute(sa.select(t.churn_score.c.model_version)).scalars())
            case = conn.execute(sa.select(t.cx_case.c.public_id)
                                .order_by(t.cx_case.c.id)).scalars().first()
        assert scored == {model.version}   # host B scored with the model trained elsewhere
        assert case is not None            # host B ran the rules that open cases

        with httpx.Client(base_url=host_a, follow_redirects=True) as browser:
            sign_in(browser, "admin@t.test", PASSWORD)  # type: ignore[arg-type]
            page = browser.get(f"/cases/{case}")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            sent = browser.post(f"/cases/{case}/attachments", data={"csrf_token": token},
                                files={"file": ("录音.txt", "客户来电".encode())})
            assert sent.status_code == 200, sent.text
            link = sent.text.split(f'href="/cases/{case}/attachments/')[1].split('"')[0]
            cookies = browser.cookies

    with served(env_b, tmp_path / "serve-b.log") as host_b, \
            httpx.Client(base_url=host_b, cookies=cookies) as browser:
        download = browser.get(f"/cases/{case}/attachments/{link}")
        assert download.status_code == 200 and download.content == "客户来电".encode()

    with ctx.db.read() as conn:
        files = dict(conn.execute(sa.select(t.stored_object.c.key,
                                            t.stored_object.c.location)).all())
    assert sorted(files) == sorted([f"cases/{case}/{link}", model.object])  # uploads gone
    if storage == "s3":
        run_tiyan(env_b, "worker", "--once")  # removes what the imports let go of
        assert all(files.values())                           # the bytes are in the bucket
        assert s3.names(bucket) == sorted(files.values())    # and nothing else is
    for folder in (tmp_a, tmp_b):
        assert [p.name for p in folder.iterdir()] == []    # nothing left behind
    assert not data_a.exists() and not data_b.exists()     # nor kept on a host's disk
