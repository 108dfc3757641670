"""`tiyan text analyze` shared among forked processes: the same lines in the same order as one
process, whatever happens to a child."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pytest

from tiyan.text import _forked
from tiyan.text._forked import processes_for, split, write_in_forks

ROOT = Path(__file__).parents[3]
DATA = ROOT.parent / "shared" / "data"
needs_fork = pytest.mark.skipif(not _forked.can_fork(), reason="forks only on Linux")


def test_split_keeps_order_and_gives_the_parent_the_larger_share() -> None:
    items = list(range(1000))
    parts = split(items, 3, child_cost=1.5)
    assert [len(part) for part in parts] == [430, 285, 285]
    assert [item for part in parts for item in part] == items
    assert [len(part) for part in split(items[:11], 3, child_cost=1.0)] == [5, 3, 3]
    assert split(items[:5], 1) == [items[:5]]
    assert split([], 2) == [[], []]


@needs_fork
def test_processes_follow_jobs_or_cpus_and_rows() -> None:
    assert processes_for(10_000, 1) == 1
    assert processes_for(10_000, 3) == 3
    assert processes_for(2, 5) == 2  # never more processes than rows
    assert processes_for(_forked.MIN_ROWS_PER_PROCESS - 1, None) == 1
    assert processes_for(10_000_000, None) == min(_forked.idle_cpus(), _forked.MAX_PROCESSES)


@needs_fork
def test_idle_cpus_leave_out_the_tasks_running_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_forked, "usable_cpus", lambda: 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    # a minute of earlier work still weighs in the load average: it does not count
    monkeypatch.setattr(os, "getloadavg", lambda: (7.9, 7.9, 7.9))
    for others, idle in [(0, 4), (4, 4), (5, 3), (7, 1), (30, 1)]:
        monkeypatch.setattr(_forked, "_others_running", lambda others=others: others)
        assert _forked.idle_cpus() == idle


@needs_fork
def test_without_the_run_queue_the_load_average_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_forked, "usable_cpus", lambda: 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(_forked, "RUN_QUEUE", "/nonexistent/loadavg")
    assert _forked._others_running() is None
    for load, idle in [(0.0, 4), (4.2, 4), (5.5, 3), (7.9, 1), (30.0, 1)]:
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert _forked.idle_cpus() == idle


@needs_fork
def test_the_run_queue_counts_a_busy_process() -> None:
    assert _forked._others_running() is not None  # Linux has /proc/loadavg
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        # the spinning process is ready to run in every reading once it has started
        readings = [_forked._others_running() for _ in range(50)]
    finally:
        busy.kill()
        busy.wait()
    assert max(r or 0 for r in readings) >= 1


def test_the_least_of_the_readings_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = iter(["3.0 2.0 1.0 5/200 99\n", "3.0 2.0 1.0 2/200 99\n", "3.0 2.0 1.0 4/200 99\n"])
    queue = tmp_path / "loadavg"

    def fresh_reading(seconds: float) -> None:
        queue.write_text(next(readings), encoding="ascii")

    queue.write_text(next(readings), encoding="ascii")
    monkeypatch.setattr(_forked, "RUN_QUEUE", str(queue))
    monkeypatch.setattr(_forked.time, "sleep", fresh_reading)
    assert _forked._others_running() == 1  # 2 running, less this process


def _numbered(chunk: Sequence[int], sink: IO[str]) -> None:
    for number in chunk:
        sink.write(f"{number} 号 ✓\n")


@needs_fork
def test_children_lines_come_after_the_parents_in_chunk_order() -> None:
    sink = io.StringIO()
    finished: list[int] = []
    chunks = split(list(range(100)), 4, child_cost=1.0)
    write_in_forks(chunks, _numbered, sink, done=lambda chunk: finished.append(chunk[0]))
    assert sink.getvalue() == "".join(f"{n} 号 ✓\n" for n in range(100))
    assert finished == [0, 25, 50, 75]


@needs_fork
def test_a_failing_child_leaves_its_chunk_to_the_parent() -> None:
    parent = os.getpid()
    worked_here: list[int] = []

    def fails_in_the_second_child(chunk: Sequence[int], sink: IO[str]) -> None:
        if os.getpid() != parent and chunk[0] == 10:
            raise RuntimeError("a child dies")
        if os.getpid() == parent:
            worked_here.append(chunk[0])
        _numbered(chunk, sink)

    sink = io.StringIO()
    write_in_forks(split(list(range(30)), 3, child_cost=1.0), fails_in_the_second_child, sink)
    assert sink.getvalue() == "".join(f"{n} 号 ✓\n" for n in range(30))
    assert worked_here == [0, 10]  # its own chunk, then the failed child's; not the third


def _rows(limit: int) -> list[tuple[str, str]]:
    path = DATA / "waimai_10k" / "waimai_10k.csv"
    if not path.is_file():
        pytest.skip(f"labelled corpora not found at {DATA}")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(r["id"], r["text"]) for r in csv.DictReader(handle) if r["split"] == "test"]
    return rows[:limit]


@needs_fork
def test_the_cli_writes_the_same_file_with_one_process_or_three(tmp_path: Path) -> None:
    rows = _rows(700)
    # bad rows among them, in every process's share
    rows[5] = ("empty", "")
    rows[300] = ("emoji", "😀😀👍🎉")
    rows[650] = ("long", "味道很好，送餐很快。" * 10_000)
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(rows)
    outputs = {}
    for jobs in ("1", "3"):
        out = tmp_path / f"out-{jobs}.jsonl"
        subprocess.run(
            [sys.executable, "-m", "tiyan.entry", "text", "analyze", str(source), "-o", str(out),
             "--industry", "restaurant", "--jobs", jobs],
            cwd=ROOT, check=True, capture_output=True,
        )
        outputs[jobs] = out.read_bytes()
    assert outputs["1"] == outputs["3"]
    lines = outputs["3"].decode("utf-8").splitlines()
    assert len(lines) == 700
    assert '"id": "empty", "error"' in lines[5] and '"language": "other"' in lines[300]


def test_jobs_below_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tiyan.text.analyze_command import analyze_from_argv

    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,好吃\n", encoding="utf-8")
    out = str(tmp_path / "out.jsonl")
    assert analyze_from_argv(["analyze", str(source), "-o", out, "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err
