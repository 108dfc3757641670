"""The wide export of the responses list on the demo database (issue 16): every response the
administrator sees (no filter beyond the period), one row per response with the questions as
columns, as CSV and as Excel, through the code the pages stream (analytics/response_table).

    .venv/bin/python bench/response_export.py DATABASE_URL [--months 36] [--locale zh-CN]

DATABASE_URL is a demo database (`tiyan demo --db URL`). Each format runs in a fresh process
(so one's memory does not hide the other's); each reports its rows, bytes, CPU and wall
seconds, rows per CPU second, and the process's peak resident memory before the export (the
code and the database connection loaded) and at its end. The Excel file is written into a
spooled temporary file and read back in chunks as the page sends it; the CSV's chunks are
counted and dropped as a client would take them. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from typing import Any

FORMATS = ("csv", "xlsx")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(db_url: str, fmt: str, months: int, locale: str) -> dict[str, Any]:
    import openpyxl  # noqa: F401 - loaded before the baseline, as in a running server

    from tiyan.analytics import response_table as wide
    from tiyan.analytics.cube import utc_bounds
    from tiyan.context import open_context
    from tiyan.services.text_corrections import aspect_names
    from tiyan.store import responses, text_analysis
    from tiyan.store.aggregates import BUSINESS_TIMEZONE
    from tiyan.store.scoped import load_actor
    from tiyan.store.users import user_by_email
    from tiyan.text.taxonomy import INDUSTRIES
    from tiyan.web.i18n import Translator

    ctx = open_context(db_url)
    with ctx.db.read() as conn:
        actor = load_actor(conn, user_by_email(conn, "admin@demo.tiyan.dev")["id"])  # type: ignore[index]
    today = ctx.now().date()
    since, until = utc_bounds(today - dt.timedelta(days=31 * months), today, BUSINESS_TIMEZONE)
    f = responses.ResponseFilter(since=since, until=until)
    words = Translator(locale)
    with ctx.db.read() as conn:
        industries = text_analysis.unit_industries(conn)
    names = {unit: aspect_names(industries.get(unit) if industries.get(unit) in INDUSTRIES
                                else None, locale) for unit in industries}
    baseline = _peak_mb()
    cpu, wall = time.process_time(), time.perf_counter()
    size = 0
    with ctx.db.read() as conn:
        count = responses.count_responses(conn, actor, f)
        table = wide.wide_table(conn, actor, f, locale=locale, timezone="Asia/Shanghai",
                                words=words, aspect_names=names.__getitem__)
        batches = wide.wide_rows(conn, actor, f, table)
        if fmt == "csv":
            for chunk in wide.csv_chunks(table.head(), batches):
                size += len(chunk.encode())
        else:
            for part in wide.file_chunks(wide.xlsx_file(table.head(), batches, "responses")):
                size += len(part)
    cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
    return {"format": fmt, "rows": count, "columns": len(table.head()), "bytes": size,
            "cpu_s": round(cpu_s, 2), "wall_s": round(wall_s, 2),
            "rows_per_cpu_s": round(count / cpu_s), "rss_before_mb": round(baseline, 1),
            "peak_rss_mb": round(_peak_mb(), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db_url")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--locale", default="zh-CN")
    parser.add_argument("--one", choices=FORMATS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.db_url, args.one, args.months, args.locale)))
        return
    results = []
    for fmt in FORMATS:
        out = subprocess.run([sys.executable, __file__, args.db_url, "--one", fmt, "--months",
                              str(args.months), "--locale", args.locale],
                             capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{fmt}: {result}")
        results.append(result)
    print(json.dumps({"bench": "response_export", "results": results}))


if __name__ == "__main__":
    main()
