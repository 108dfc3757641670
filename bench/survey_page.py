"""Respondent page weight and server time for a 20-question survey on SQLite.

Builds a fresh SQLite database, publishes a 20-question survey (every question type, display
logic, piping, two pages), then drives the real ASGI app in-process: many GETs of the first
page (new visitors and resumed sessions) and many page POSTs (answers saved, next page). The
server time is measured inside the ASGI call (from the request entering the app to the last
byte of the response), so the test client's own overhead is not counted.

    .venv/bin/python bench/survey_page.py [--requests N]

The last line printed is JSON: {"page_bytes", "page_bytes_gzip", "p50_ms", "p95_ms", ...}.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.services.org import do_create_unit
from tiyan.settings import load_settings
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade
from tiyan.store.surveys import insert_survey
from tiyan.web.app import create_app

STATIC = Path(__file__).resolve().parent.parent / "src" / "tiyan" / "web" / "static"


def _text(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def _options(n: int) -> list[dict[str, Any]]:
    return [{"code": f"o{i}", "text": _text(f"选项 {i}", f"Option {i}")} for i in range(1, n + 1)]


def twenty_questions() -> dict[str, Any]:
    q: list[dict[str, Any]] = [
        {"key": "nps", "type": "nps", "required": True, "item_code": "nps",
         "text": _text("您有多大可能向朋友推荐我们?", "How likely are you to recommend us?")},
        {"key": "why", "type": "text", "show_if": {"question": "nps", "op": "<=", "value": 6},
         "text": _text("哪里让您失望了?", "What disappointed you?")},
        {"key": "csat", "type": "csat", "text": _text("总体满意度", "Overall satisfaction")},
        {"key": "ces", "type": "ces", "text": _text("办理是否容易?", "How easy was it?")},
        {"key": "staff", "type": "rating", "scale": {"min": 1, "max": 10},
         "text": _text("顾问的专业程度", "Advisor's expertise")},
        {"key": "agree", "type": "likert", "text": _text("价格透明", "Prices were clear")},
        {"key": "grid", "type": "matrix", "scale": {"min": 1, "max": 5},
         "rows": [{"code": f"r{i}", "text": _text(f"方面 {i}", f"Aspect {i}")} for i in range(5)],
         "text": _text("请为各方面打分", "Rate each aspect")},
        {"key": "visit", "type": "single", "options": _options(5), "allow_other": True,
         "randomize": True, "text": _text("您来店的目的", "Purpose of the visit")},
        {"key": "heard", "type": "multi", "options": _options(6), "allow_other": True,
         "text": _text("您如何得知我们?", "How did you hear of us?")},
        {"key": "again", "type": "yesno", "text": _text("还会再来吗?", "Would you come again?")},
    ]
    for i in range(10):
        kind = ("csat", "yesno", "text", "number", "date", "single", "likert", "nps", "ces",
                "text")[i]
        extra: dict[str, Any] = {"options": _options(4)} if kind == "single" else {}
        text = _text(f"第二页问题 {i + 1} (您刚才打了 {{answer:nps}} 分)",
                     f"Page two question {i + 1} (you gave {{answer:nps}})")
        q.append({"key": f"p2_{i}", "type": kind, "page": 2, "text": text, **extra})
    return {"title": _text("门店体验调查", "Store visit survey"), "questions": q}


class ServerTimer:
    """ASGI middleware: how long the app takes per HTTP request, in milliseconds."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        await self.app(scope, receive, send)
        self.samples.append((time.perf_counter() - start) * 1000)


def build(tmp: Path) -> tuple[Context, str]:
    url = f"sqlite:///{tmp / 'bench.db'}"
    db = Database(url)
    upgrade(db)
    ctx = Context(db, load_settings(db_url=url, worker_in_app=False))
    hq = do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="group",
                        parent_code=None)
    store = do_create_unit(ctx, None, code="sh01", name_zh="上海一店", name_en="Shanghai 1",
                           kind="store", parent_code="hq")
    with db.write() as conn:
        survey_id, _ = insert_survey(conn, code="bench", name="Bench", unit_id=hq,
                                     definition=parse_definition(twenty_questions()),
                                     now=ctx.now(), created_by=None)
    token = anonymous_url(ctx, AnonymousTarget(survey_id, store)).rsplit("/", 1)[1]
    return ctx, f"/s/{token}"


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def page_weight(client: TestClient, path: str) -> tuple[int, int]:
    html = client.get(path).content
    assets = [STATIC / "css" / "respond.css", STATIC / "js" / "respond.js"]
    referenced = [a for a in assets if a.name.encode() in html]
    parts = [html, *(a.read_bytes() for a in referenced)]
    return sum(len(p) for p in parts), sum(len(gzip.compress(p, 9)) for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="requests of each kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ctx, path = build(Path(tmp))
        timer = ServerTimer(create_app(ctx))
        with TestClient(timer, base_url="http://bench") as client:  # type: ignore[arg-type]
            page_bytes, page_gzip = page_weight(client, path)
            for _ in range(20):  # warm up: templates compiled, definition cached
                client.get(path)
            timer.samples.clear()
            gets, posts = run(client, timer, path, args.requests)
        ctx.db.dispose()
    every = gets + posts
    report = {"page_bytes": page_bytes, "page_bytes_gzip": page_gzip,
              "p50_ms": round(percentile(every, 0.5), 2),
              "p95_ms": round(percentile(every, 0.95), 2),
              "get_p50_ms": round(percentile(gets, 0.5), 2),
              "get_p95_ms": round(percentile(gets, 0.95), 2),
              "post_p50_ms": round(percentile(posts, 0.5), 2),
              "post_p95_ms": round(percentile(posts, 0.95), 2),
              "requests": len(every), "mean_ms": round(statistics.fmean(every), 2)}
    print(f"first page: {page_bytes} bytes (HTML+CSS+JS), {page_gzip} gzipped")
    print(f"server time over {len(every)} requests: p50 {report['p50_ms']} ms, "
          f"p95 {report['p95_ms']} ms")
    print(json.dumps(report))


def run(client: TestClient, timer: ServerTimer, path: str,
        n: int) -> tuple[list[float], list[float]]:
    """Alternate new visitors (GET, POST page 1) and returning ones (GET resumes page 2)."""
    gets: list[float] = []
    posts: list[float] = []
    for i in range(n):
        client.cookies.clear()
        page = client.get(path)
        gets.append(timer.samples[-1])
        sid = re.search(r'name="sid" value="(\w+)"', page.text)
        assert sid is not None and page.status_code == 200
        answers = {"sid": sid.group(1), "page": "1", "lang": "zh-CN", "a.nps": str(i % 11),
                   "a.why": "等待时间太长 🐢" if i % 11 <= 6 else "", "a.csat": "4",
                   "a.ces": "5", "a.staff": "8", "a.agree": "4", "a.grid.r0": "5",
                   "a.grid.r1": "3", "a.visit": "o2", "a.heard": ["o1", "other"],
                   "a.heard.other": "朋友推荐", "a.again": "yes"}
        saved = client.post(path, data=answers, follow_redirects=False)
        posts.append(timer.samples[-1])
        assert saved.status_code == 303, saved.text[:500]
        client.get(path)  # the resumed second page
        gets.append(timer.samples[-1])
    return gets, posts


if __name__ == "__main__":
    main()
