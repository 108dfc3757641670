"""Rows per second and peak memory of `tiyan feedback import` on a large CSV, against references.

    .venv/bin/python bench/feedback_import.py [--rows 1000000] [--pg] [--pg-url URL] [--keep DIR]

1. Writes a CSV of N online reviews (GBK-free UTF-8; columns 评价ID, 评价内容, 评价时间, 门店编码,
   评分, 平台): texts from the demo generator's after-sales phrasebook (a pool of distinct
   comments, reused with unique review ids), 20 stores, times over a year, ratings 1–5.
2. Imports it into a fresh SQLite database (and PostgreSQL with --pg) through
   `do_import_feedback`: row checks, duplicate lookup, one transaction per 1,000 rows, follow-up
   jobs — what `tiyan feedback import` does, without the progress bar.
3. References on the same file: DuckDB `read_csv` into a table (parsing only), and a raw
   `sqlite3` executemany of the same response + answer rows (1,000 per transaction).

Peak RSS (resource.getrusage) is read right after the import, before the references run.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tiyan.context import Context  # noqa: E402
from tiyan.demo.comments import after_sales_comment  # noqa: E402
from tiyan.services.feedback_import import ImportRequest, do_import_feedback  # noqa: E402
from tiyan.services.org import do_create_unit  # noqa: E402
from tiyan.settings import load_settings  # noqa: E402
from tiyan.store.db import Database  # noqa: E402
from tiyan.store.migrate import upgrade  # noqa: E402

STORES = [f"s{i:02d}" for i in range(20)]
HEADER = ["评价ID", "评价内容", "评价时间", "门店编码", "评分", "平台"]
POOL = 20_000


def comment_pool(rng: random.Random) -> list[str]:
    codes = ["overall", "advisor", "timeliness", "quality", "price", "facility", "explain"]
    pool: list[str] = []
    while len(pool) < POOL:
        scores = {"nps": rng.randint(0, 10), **{c: rng.randint(1, 5) for c in codes}}
        try:
            text = after_sales_comment(rng, scores)
        except ValueError:
            text = after_sales_comment(rng, {"nps": scores["nps"]})
        if text:
            pool.append(text)
    return pool


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = comment_pool(rng)
    start = dt.datetime(2025, 11, 20, 8, 0)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(rows):
            at = start + dt.timedelta(seconds=rng.randrange(365 * 86400))
            out.writerow([f"dp-{i}", pool[i % POOL], at.strftime("%Y-%m-%d %H:%M:%S"),
                          STORES[i % len(STORES)], rng.randint(1, 5), "大众点评"])


def fresh_context(url: str) -> Context:
    db = Database(url)
    upgrade(db)
    ctx = Context(db, load_settings(db_url=url, worker_in_app=False))
    do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="group",
                   parent_code=None)
    for code in STORES:
        do_create_unit(ctx, None, code=code, name_zh=code, name_en=code, kind="store",
                       parent_code="hq")
    return ctx


def import_rate(ctx: Context, path: Path) -> dict[str, float]:
    started = time.perf_counter()
    report = do_import_feedback(ctx, None, ImportRequest(path=path, source="review"))
    seconds = time.perf_counter() - started
    return {"rows": report.rows_total, "stored": report.rows_stored,
            "rejected": report.rows_rejected, "seconds": round(seconds, 2),
            "rows_per_s": round(report.rows_total / seconds)}


def duckdb_rate(path: Path) -> float | None:
    try:
        import duckdb
    except ImportError:
        return None
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', header=true, "
                "all_varchar=true)")
    count = con.execute("SELECT count(*) FROM t").fetchone()
    seconds = time.perf_counter() - started
    con.close()
    return round(int(count[0] if count else 0) / seconds)


def raw_sqlite_rate(path: Path, folder: Path) -> float:
    """The same rows, parsed with csv and inserted with executemany, 1,000 per transaction."""
    con = sqlite3.connect(folder / "raw.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE response (id INTEGER PRIMARY KEY, public_id TEXT UNIQUE, "
                "source TEXT, unit TEXT, submitted_at TEXT, external_id TEXT, "
                "UNIQUE (source, external_id))")
    con.execute("CREATE TABLE answer (response_id INTEGER, question_key TEXT, value_num REAL, "
                "value_text TEXT, PRIMARY KEY (response_id, question_key))")
    started, count, next_id = time.perf_counter(), 0, 1
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        while True:
            chunk = [row for _, row in zip(range(1000), reader, strict=False)]
            if not chunk:
                break
            ids = range(next_id, next_id + len(chunk))
            con.executemany("INSERT INTO response VALUES (?, ?, 'review', ?, ?, ?)",
                            [(i, uuid.uuid4().hex, r[3], r[2], r[0]) for i, r in zip(ids, chunk,
                                                                                      strict=True)])
            con.executemany("INSERT INTO answer VALUES (?, ?, ?, ?)",
                            [(i, k, v, t) for i, r in zip(ids, chunk, strict=True)
                             for k, v, t in (("comment", None, r[1]),
                                             ("rating", float(r[4]), None))])
            con.commit()
            next_id += len(chunk)
            count += len(chunk)
    seconds = time.perf_counter() - started
    con.close()
    return round(count / seconds)


def postgres_url(admin_url: str) -> str:
    import sqlalchemy as sa

    name = f"tiyan_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", action="store_true", help="also import into PostgreSQL")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", type=Path, help="write the CSV and databases here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="tiyan-bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviews.csv"
    started = time.perf_counter()
    write_csv(path, args.rows)
    print(f"wrote {args.rows:,} rows ({path.stat().st_size / 1e6:,.1f} MB) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    figures: dict[str, object] = {"file_mb": round(path.stat().st_size / 1e6, 1)}
    sqlite = import_rate(fresh_context(f"sqlite:///{folder / 'tiyan.db'}"), path)
    print(f"sqlite: {sqlite}", file=sys.stderr)
    figures.update(rows=sqlite["rows"], rows_per_s=sqlite["rows_per_s"],
                   seconds=sqlite["seconds"], stored=sqlite["stored"])
    if args.pg:
        pg = import_rate(fresh_context(postgres_url(args.pg_url)), path)
        print(f"postgres: {pg}", file=sys.stderr)
        figures["pg_rows_per_s"] = pg["rows_per_s"]
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["reference_rows_per_s"] = raw_sqlite_rate(path, folder)
    figures["duckdb_read_csv_rows_per_s"] = duckdb_rate(path)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
