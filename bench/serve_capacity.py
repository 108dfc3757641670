"""Capacity of one `tiyan serve`: requests per second and latency under wrk, on a demo database.

    tiyan demo --db postgresql://…/tiyan_bench          # once
    .venv/bin/python bench/serve_capacity.py --db postgresql://…/tiyan_bench \
        [--workers 1] [--seconds 20] [--connections 16]

Starts `tiyan serve --workers N` (TIYAN_WORKER_IN_APP=false, so no background work competes;
the jobs the writes queue wait), then runs Debian's `wrk` against it for each scenario:
- `health`: GET /healthz (one trivial query: the floor of the stack);
- `read`: GET /api/v1/responses?limit=20 with an analyst's API token (a scoped list query);
- `write`: POST /api/v1/responses with an agent's token (the intake path: validate, one
  transaction, jobs queued).
The demo database is left with the responses the write scenario added.

The last line printed is one JSON object: {"serve_workers": N, "health_rps": …, "read_rps": …,
"write_rps": …, "read_p99_ms": …, "write_p99_ms": …, "read_cpu_ms_per_request": …, …,
"backend": …}: the CPU milliseconds the serve process(es) spent per request tell the capacity of
a core where the machine is shared (requests/s per core ≈ 1000 / cpu_ms; PostgreSQL's own CPU
is not in it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

TIYAN = [sys.executable, "-c", "from tiyan.entry import main; main()"]

WRITE_LUA = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = '{"survey_id": %(survey)d, "unit_code": "%(unit)s", "channel": "phone", ' ..
    '"answers": {%(answers)s}}'
  return wrk.format(nil, nil, nil, body)
end
"""
READ_LUA = """
wrk.headers["Authorization"] = "Bearer %(token)s"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_target(url: str) -> tuple[int, str, str]:
    """The survey of the demo's latest survey response, its unit, and answers to every question
    of its version as JSON members (a detractor with a comment)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        survey_id, unit_code, definition = conn.execute(sa.text(
            "SELECT r.survey_id, u.code, v.definition FROM response r "
            "JOIN org_unit u ON u.id = r.unit_id JOIN survey_version v "
            "ON v.id = r.survey_version_id WHERE r.source = 'survey' ORDER BY r.id DESC LIMIT 1"
        )).one()
    engine.dispose()
    value = {"nps": "3", "csat": "2", "yesno": "false", "text": '"等了很久，服务态度一般"'}
    members = [f'"{q["key"]}": {value[q["type"]]}' for q in definition["questions"]
               if q["type"] in value]
    return int(survey_id), str(unit_code), ", ".join(members)


def token(url: str, email: str, scope: str) -> str:
    out = subprocess.run([*TIYAN, "token", "create", "--email", email, "--name", "bench",
                          "--scope", scope, "--db", url],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1].split()[-1]


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by process `root` and its descendants (Linux)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = parents.get(pid, 0)
        return False

    return sum(t for pid, t in ticks.items() if descends(pid)) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, connections: int, script: Path | None,
        serve: int) -> dict[str, float]:
    """Run wrk; requests per second, latency percentiles, non-2xx answers, and the serve's CPU
    milliseconds per request (the part of the cost that the machine's load does not change)."""
    before = cpu_seconds(serve)
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50_ms": _ms(out, "50%"), "p99_ms": _ms(out, "99%"),
            "errors": float(non2xx.group(1)) if non2xx else 0.0,
            "cpu_ms": (cpu_seconds(serve) - before) * 1000 / max(total, 1)}


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--analyst", default="analyst@demo.tiyan.dev")
    parser.add_argument("--writer", default="admin@demo.tiyan.dev")
    args = parser.parse_args()
    survey, unit, answers = demo_target(args.db)
    folder = Path(tempfile.mkdtemp(prefix="tiyan-serve-bench-"))
    read_lua, write_lua = folder / "read.lua", folder / "write.lua"
    read_lua.write_text(READ_LUA % {"token": token(args.db, args.analyst, "read")})
    writer = token(args.db, args.writer, "write")
    write_lua.write_text(WRITE_LUA % {"token": writer, "survey": survey, "unit": unit,
                                      "answers": answers})
    port = free_port()
    env = {**os.environ, "TIYAN_DB_URL": args.db, "TIYAN_WORKER_IN_APP": "false",
           "TIYAN_ACCESS_LOG": "false", "TIYAN_LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    serve = subprocess.Popen([*TIYAN, "serve", "--port", str(port), "--workers",
                              str(args.workers)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(port)
        results = {
            "health": wrk(f"{base}/healthz", args.seconds, args.connections, None, serve.pid),
            "read": wrk(f"{base}/api/v1/responses?limit=20", args.seconds, args.connections,
                        read_lua, serve.pid),
            "write": wrk(f"{base}/api/v1/responses", args.seconds, args.connections, write_lua,
                         serve.pid),
        }
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
    for name, figures in results.items():
        print(f"{name:>6}: {figures}", file=sys.stderr)
    print(json.dumps({
        "serve_workers": args.workers, "connections": args.connections,
        **{f"{name}_rps": round(r["rps"], 1) for name, r in results.items()},
        **{f"{name}_p50_ms": round(r["p50_ms"], 1) for name, r in results.items()},
        **{f"{name}_p99_ms": round(r["p99_ms"], 1) for name, r in results.items()},
        **{f"{name}_errors": int(r["errors"]) for name, r in results.items()},
        **{f"{name}_cpu_ms_per_request": round(r["cpu_ms"], 2) for name, r in results.items()},
        "load_1min": os.getloadavg()[0], "cpus": os.cpu_count(),
        "backend": "postgresql" if args.db.startswith("postgresql") else "sqlite",
    }))


def _wait(port: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("tiyan serve did not start")


if __name__ == "__main__":
    main()
