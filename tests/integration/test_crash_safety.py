"""The server is killed (SIGKILL) while 50 respondents submit; nothing they were told is lost.

A real `tiyan serve` (uvicorn, worker in the app) runs in a subprocess on the test database
(SQLite and PostgreSQL). Fifty respondents, each a thread with its own httpx client and so its
own session cookie, open an anonymous link, answer page 1, then submit page 2. Once ten of them
have been thanked, the server gets SIGKILL — the others are somewhere between opening and
submitting — and a new server is started on the same port. Every respondent retries what failed
(the same form, the same cookie) until it is thanked, then replays the submit once more. Then:
each thanked respondent's session holds exactly one response, there are exactly as many
responses as respondents, every response has all its answers, and the replays stored nothing.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.demo_db import TIYAN
from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.services.org import do_create_unit
from tiyan.store import tables as t
from tiyan.store.surveys import insert_survey

RESPONDENTS = 50
KILL_AFTER = 10  # thanked respondents before the server is killed
PATIENCE_S = 90.0  # how long a respondent keeps retrying before the test gives up

SURVEY = {
    "title": {"zh-CN": "到店体验", "en": "Store visit"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-CN": "推荐?", "en": "Recommend us?"}},
        {"key": "csat", "type": "csat", "page": 2, "required": True,
         "text": {"zh-CN": "满意吗?", "en": "Satisfied?"}},
        {"key": "comment", "type": "text", "page": 2, "required": True,
         "text": {"zh-CN": "还想说什么?", "en": "Anything else?"}},
    ],
}
THANKS = "感谢"  # the thank-you page in the default language


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`tiyan serve` in a subprocess that can be killed and started again on the same port."""

    def __init__(self, db_url: str, log_path: Path) -> None:
        self.db_url, self.log_path = db_url, log_path
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [TIYAN, "serve", "--port", str(self.port), "--db", self.db_url],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"tiyan serve exited: {self.log_path.read_text()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"tiyan serve did not answer: {self.log_path.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def _until_answered(client: httpx.Client, method: str, url: str, ok: Callable[[str], bool],
                    data: dict[str, str] | None = None) -> httpx.Response:
    """Send a request again (the same one) until the server is back and answers it."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        try:
            reply = client.request(method, url, data=data, follow_redirects=True)
            if reply.status_code >= 500:
                raise AssertionError(f"{method} {url} -> {reply.status_code}: {reply.text[:500]}")
            if reply.status_code == 200 and ok(reply.text):
                return reply
            raise AssertionError(f"{method} {url} -> {reply.status_code}: {reply.text[:500]}")
        except httpx.TransportError:  # the server is down or died mid-request: try again
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def survey_link(ctx: Context) -> str:
    do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="company",
                   parent_code=None)
    store = do_create_unit(ctx, None, code="sh01", name_zh="上海一店", name_en="Shanghai 1",
                           kind="store", parent_code="hq")
    with ctx.db.write() as conn:
        hq = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == "hq")).scalar()
        survey_id, _ = insert_survey(conn, code="visit", name="Visit", unit_id=hq,
                                     definition=parse_definition(SURVEY), now=ctx.now(),
                                     created_by=None)
    return "/s/" + anonymous_url(ctx, AnonymousTarget(survey_id, store)).rsplit("/", 1)[1]


def test_sigkill_while_50_respondents_submit_loses_and_duplicates_nothing(
        ctx: Context, survey_link: str, tmp_path: Path) -> None:
    server = Server(ctx.settings.db_url, tmp_path / "serve.log")
    server.start()
    thanked: dict[int, dict[str, Any]] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()
    enough_thanked = threading.Event()
    start = threading.Barrier(RESPONDENTS)

    def respond(n: int) -> None:
        answers = {"a.nps": str(n % 11), "a.csat": str(n % 5 + 1),
                   "a.comment": f"第 {n} 位顾客 🚗 visit {n}"}
        try:
            with httpx.Client(base_url=server.base, timeout=20) as client:
                start.wait()
                page1 = _until_answered(client, "GET", survey_link, lambda html: "推荐?" in html)
                form1 = {**_hidden(page1.text), "a.nps": answers["a.nps"]}
                page2 = _until_answered(client, "POST", survey_link,
                                        lambda html: "满意吗?" in html, form1)
                form2 = {**_hidden(page2.text), "a.csat": answers["a.csat"],
                         "a.comment": answers["a.comment"]}
                _until_answered(client, "POST", survey_link, lambda html: THANKS in html, form2)
                with lock:
                    thanked[n] = {"sid": form2["sid"], **answers}
                    if len(thanked) >= KILL_AFTER:
                        enough_thanked.set()
                # A double click or a replayed request after the answer: thanked again.
                _until_answered(client, "POST", survey_link, lambda html: THANKS in html, form2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
            enough_thanked.set()

    threads = [threading.Thread(target=respond, args=(n,)) for n in range(RESPONDENTS)]
    try:
        for thread in threads:
            thread.start()
        assert enough_thanked.wait(timeout=PATIENCE_S)
        server.kill()
        with lock:
            thanked_before_kill = len(thanked)
        server.start()
        for thread in threads:
            thread.join(timeout=PATIENCE_S * 2)
    finally:
        server.stop()
    assert failures == []
    assert KILL_AFTER <= thanked_before_kill < RESPONDENTS  # some were still answering
    assert len(thanked) == RESPONDENTS

    with ctx.db.read() as conn:
        sessions = {row.public_id: row for row in conn.execute(sa.select(
            t.survey_session.c.public_id, t.survey_session.c.status,
            t.survey_session.c.response_id))}
        stored = {row.id: row for row in conn.execute(sa.select(
            t.response.c.id, t.response.c.idempotency_key))}
        answers: dict[int, dict[str, Any]] = {}
        for row in conn.execute(sa.select(t.answer.c.response_id, t.answer.c.question_key,
                                          t.answer.c.value_num, t.answer.c.value_text)):
            value = row.value_text if row.value_num is None else int(row.value_num)
            answers.setdefault(row.response_id, {})[row.question_key] = value

    # Every thanked respondent: one submitted session holding one response with their answers.
    assert len(stored) == RESPONDENTS
    response_ids = []
    for n, sent in thanked.items():
        session = sessions[sent["sid"]]
        assert session.status == "submitted" and session.response_id in stored
        assert stored[session.response_id].idempotency_key == f"session:{sent['sid']}"
        assert answers[session.response_id] == {
            "nps": int(sent["a.nps"]), "csat": int(sent["a.csat"]), "comment": sent["a.comment"]
        }, f"respondent {n}"
        response_ids.append(session.response_id)
    assert sorted(response_ids) == sorted(stored)  # one each; none left over from a retry
    # No half-written response: every stored response has every answer.
    assert all(len(answers.get(response_id, {})) == 3 for response_id in stored)
