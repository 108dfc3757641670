"""Work through chunks of a batch job in forked child processes, output kept in input order.

`tiyan text analyze` loads its models once and then spends its time in pure-Python loops
(segmentation, the opinion spans), which one process runs on one core. On Linux the process can
fork after the models are loaded: each child shares the loaded models and tables with its parent
(copy-on-write) and works through one chunk of the rows, writing its lines to an anonymous
in-memory file (`memfd_create`: nothing on disk, nothing left behind if anything dies); the parent
works the first chunk itself, then copies each child's lines after its own, in order. A child
that fails leaves its chunk to the parent, which works it again itself: the output is the same
lines in the same order as in one process, whatever happens to a child.

Elsewhere (no `fork` or `memfd_create`, macOS where forking after loading numpy's BLAS is not
safe) everything runs in the one process. So it does where no CPU is idle: the children would
only compete with other work for the same CPUs (`idle_cpus`).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, TypeVar

Chunk = TypeVar("Chunk")

MIN_ROWS_PER_PROCESS = 250
"""Fewer rows than this for a process are not worth a fork (≈ 5–10 ms of copying page tables
and pages written after the fork, against ≈ 0.2 ms of analysis per short comment)."""

MAX_PROCESSES = 8
_ENCODING, _ERRORS = "utf-8", "backslashreplace"


def can_fork() -> bool:
    """Whether this platform forks the way `write_in_forks` needs."""
    return sys.platform == "linux" and hasattr(os, "fork") and hasattr(os, "memfd_create")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def idle_cpus() -> int:
    """CPUs this process may run on that other work is not keeping busy right now: the
    machine's CPUs less the other tasks ready to run (`_others_running`), or, where the kernel
    does not say, less its one-minute load average rounded up. On a busy machine a fork only
    adds the copying of pages (≈ 10% more CPU) and wins nothing.

    The load average is a poor witness of *now*: it decays over minutes, so a machine that has
    just finished a minute of work reads 1.0 busy CPU for a while after. A 2-CPU machine then
    ran `analyze` in one process (0.75 s for waimai_10k's test split against 0.49 s in two)."""
    cpus = os.cpu_count() or 1
    others = _others_running()
    if others is not None:
        spare = cpus - others
    else:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
        spare = math.ceil(cpus - load)
    return max(1, min(usable_cpus(), spare))


RUN_QUEUE = "/proc/loadavg"
RUN_QUEUE_READINGS = 3
"""Readings of the run queue, ~1 ms apart; the least counts (a task that ran for a moment, such
as the shell that started this process, is not work that keeps a CPU busy)."""


def _others_running() -> int | None:
    """Tasks other than this one that the kernel has ready to run now (the running count of
    /proc/loadavg, which counts this process too); None where there is no such file."""
    readings = []
    for reading in range(RUN_QUEUE_READINGS):
        if reading:
            time.sleep(0.001)
        try:
            with open(RUN_QUEUE, encoding="ascii") as source:
                running = source.read().split()[3].split("/")[0]
            readings.append(int(running) - 1)
        except (OSError, IndexError, ValueError):
            return None
    return max(0, min(readings))


def processes_for(rows: int, jobs: int | None) -> int:
    """How many processes should share `rows` rows: `jobs` when given (1: no fork), else one per
    idle CPU with at least MIN_ROWS_PER_PROCESS rows each, at most MAX_PROCESSES."""
    if not can_fork():
        return 1
    if jobs is not None:
        return max(1, min(jobs, rows))
    return max(1, min(idle_cpus(), rows // MIN_ROWS_PER_PROCESS, MAX_PROCESSES))


CHILD_COST = 1.3
"""CPU a forked child spent on an equal share of rows, relative to the parent (1.27–1.33 on the
test splits of waimai_10k and chnsenticorp_htl, two processes): a child loads its own lexicon
buckets again, and every object it touches that it shares with the parent costs a page copied on
write. With the parent's share this much larger, the two ended within 6% of each other."""


def split(
    items: Sequence[Chunk], parts: int, child_cost: float = CHILD_COST
) -> list[Sequence[Chunk]]:
    """`items` in `parts` contiguous slices: the first (this process's) `child_cost` times as
    long as each of the others (the others' lengths differ by at most one)."""
    if parts <= 1:
        return [items]
    each = int(len(items) / (parts - 1 + child_cost))
    first = len(items) - each * (parts - 1)
    slices, start = [items[:first]], first
    size, extra = divmod(len(items) - first, parts - 1)
    for index in range(parts - 1):
        end = start + size + (1 if index < extra else 0)
        slices.append(items[start:end])
        start = end
    return slices


def write_in_forks(
    chunks: Sequence[Chunk],
    write: Callable[[Chunk, IO[str]], None],
    sink: IO[str],
    done: Callable[[Chunk], None] = lambda chunk: None,
) -> None:
    """`write(chunk, sink)` for every chunk, in order: the first in this process, the others in
    forked children whose lines are copied to `sink` after it. `done(chunk)` is called in this
    process once a chunk's lines are in `sink`."""
    if not chunks:
        return
    sink.flush()  # a child must not inherit (and later write) lines still in the buffer
    children = [_fork(chunk, write) for chunk in chunks[1:]]
    write(chunks[0], sink)
    done(chunks[0])
    for chunk, child in zip(chunks[1:], children, strict=True):
        lines = _collect(*child) if child is not None else None
        if lines is None:  # the fork or the child failed: its chunk is worked here
            write(chunk, sink)
        else:
            sink.write(lines)
        done(chunk)


def _fork(chunk: Chunk, write: Callable[[Chunk, IO[str]], None]) -> tuple[int, int] | None:
    """Start a child writing `chunk` to a new in-memory file: (pid, file descriptor)."""
    try:
        descriptor = os.memfd_create("tiyan-analyze", os.MFD_CLOEXEC)
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(descriptor)
        return None
    if pid == 0:  # the child: write, then leave without running the parent's exit handlers
        status = 1
        try:
            with open(descriptor, "w", encoding=_ENCODING, errors=_ERRORS) as lines:
                write(chunk, lines)
            status = 0
        finally:
            os._exit(status)
    return pid, descriptor


def _collect(pid: int, descriptor: int) -> str | None:
    """The lines a child wrote, once it has ended; None when it did not end well."""
    try:
        _, status = os.waitpid(pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        os.lseek(descriptor, 0, os.SEEK_SET)
        with open(descriptor, encoding=_ENCODING, errors=_ERRORS, closefd=False) as lines:
            return lines.read()
    finally:
        os.close(descriptor)
