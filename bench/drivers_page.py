"""Key drivers page time and figures on a demo database (`tiyan demo --db sqlite:///PATH`).

    .venv/bin/python bench/drivers_page.py --db /tmp/drivers-demo.db [--rounds 7] [--figures]

Signs in as the demo CX manager and the gz-tianhe manager through the app (FastAPI's test
client, the whole request: scope, aggregate reads, the respondent rows for the bootstrap, the
template) and times GET /dashboard/drivers for a few views, p50 of --rounds after one warm-up
request: cold (the per-process drivers cache emptied before each request, as for the first
viewer after new data) and warm (served from that cache while the data stay the same). With
--figures, prints each view's figures (n, R², adjusted R², shares, quadrants) as read from the
CSV export, one JSON line per view, before the timing line. The last line printed is one JSON
object.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tiyan.context import open_context  # noqa: E402
from tiyan.web.app import create_app  # noqa: E402

PASSWORD = "tiyan-demo-2026"
VIEWS = {
    "nps": "/dashboard/drivers?lang=en",
    "csat": "/dashboard/drivers?lang=en&outcome=csat",
    "aspects": "/dashboard/drivers?lang=en&include=aspects",
    "repurchase": "/dashboard/drivers?lang=en&outcome=repurchase",
}
UNIT_VIEWS = {"tianhe_nps": "/dashboard/drivers?lang=en",
              "tianhe_week": "/dashboard/drivers?lang=en&from=2026-11-02&to=2026-11-07"}


def sign_in(client: TestClient, email: str) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    reply = client.post("/login", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token, "next": "/"},
                        follow_redirects=False)
    if reply.status_code != 303:
        raise SystemExit(f"sign-in as {email} failed: {reply.status_code}")


def clear_cache() -> None:
    """Empty the per-process drivers cache (analytics/driver_cache), where there is one."""
    try:
        from tiyan.analytics import driver_cache
    except ImportError:  # the code before the cache
        return
    driver_cache.clear()


def timed(client: TestClient, url: str, rounds: int, *, cold: bool) -> float:
    client.get(url)
    times = []
    for _ in range(rounds):
        if cold:
            clear_cache()
        start = time.perf_counter()
        reply = client.get(url)
        times.append(time.perf_counter() - start)
        if reply.status_code != 200:
            raise SystemExit(f"{url}: {reply.status_code} {reply.text[:300]}")
    return round(1000 * statistics.median(times), 1)


def figures(client: TestClient, name: str, url: str) -> None:
    page = client.get(url).text
    export = client.get(url.replace("/dashboard/drivers?", "/dashboard/drivers/export.csv?"))
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    found = re.search(r"(The items explain[^<]*|Too few[^<]*|Not enough[^<]*)", page)
    note = found.group(1) if found else ""
    print(json.dumps({"view": name, "note": " ".join(note.split()), "head": rows[0] if rows
                      else [], "rows": rows[1:]}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--figures", action="store_true")
    args = parser.parse_args()
    ctx = open_context(f"sqlite:///{args.db}")
    out: dict[str, float] = {}
    for email, views in (("cx@demo.tiyan.dev", VIEWS), ("tianhe@demo.tiyan.dev", UNIT_VIEWS)):
        with TestClient(create_app(ctx), base_url="http://testserver") as client:
            sign_in(client, email)
            for name, url in views.items():
                if args.figures:
                    figures(client, name, url)
                out[f"drivers_{name}_cold_ms"] = timed(client, url, args.rounds, cold=True)
                out[f"drivers_{name}_warm_ms"] = timed(client, url, args.rounds, cold=False)
    print(json.dumps({"drivers_page_p50_ms": out}))


if __name__ == "__main__":
    main()
