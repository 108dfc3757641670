"""`tiyan text analyze`, runnable without typer.

The whole process is what users time, and building the typer command costs ~0.15 s (typer, and the
pydantic adapters it builds for every parameter). `run_analyze` is the command itself (typer's
`analyze` calls it); `analyze_from_argv` parses a plain `analyze` command line with argparse and
runs it, or returns None when the line asks for anything else (help, unknown options, errors), so
that the caller hands it to typer, which prints its usual help and messages.

    from tiyan.text.analyze_command import analyze_from_argv
    status = analyze_from_argv(sys.argv[2:])  # after "text"

`python -m tiyan.text.analyze_command text analyze IN --output OUT` takes the `tiyan` command line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import IO, Any

from tiyan.text._rows import Columns, InputFileError, InputRow, count_rows, read_rows

BATCH_SIZE = 512
WARM_UP_ROWS = 32
"""Rows analysed in this process before any fork: the first analysis loads the models and
tables, which forked processes then share instead of each loading its own."""
ROUND_ROWS = 20_000
"""Rows read and shared among the processes at a time (the memory a file's rows take is
bounded by this, however long the file)."""
EXIT_BAD_INPUT = 2


def run_analyze(
    input: Path,
    output: Path,
    text_column: str = "text",
    id_column: str = "id",
    industry: str | None = None,
    jobs: int | None = None,
) -> int:
    """Analyse every comment of `input` into JSON lines at `output`; the exit status. `jobs`:
    how many processes share the work (None: one per idle CPU where the file is big enough)."""
    from tiyan.text.pipeline import UnknownIndustry, check_industry

    try:
        check_industry(industry)
        if jobs is not None and jobs < 1:
            raise InputFileError(f"--jobs must be 1 or more, not {jobs}")
        rows = read_rows(input, Columns(text=text_column, id=id_column))
        written = _write_analyses(rows, output, industry, lambda: count_rows(input), jobs)
    except (InputFileError, UnknownIndustry) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    sys.stderr.write(f"{written} rows analysed → {output}\n")
    return 0


def analyze_from_argv(argv: Sequence[str]) -> int | None:
    """Run `analyze …` from `argv` (the words after `text`); None when typer should handle it."""
    if not argv or argv[0] != "analyze" or any(word in ("--help", "-h") for word in argv):
        return None
    import argparse

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("input", type=Path, nargs="?")
    parser.add_argument("--output", "-o", type=Path)
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--id-column", default="id")
    parser.add_argument("--industry", default=None)
    parser.add_argument("--jobs", "-j", type=int, default=None)
    try:
        known, unknown = parser.parse_known_args(list(argv[1:]))
    except argparse.ArgumentError:
        return None
    if unknown or known.input is None or known.output is None:
        return None  # typer names what is wrong
    return run_analyze(
        known.input, known.output, known.text_column, known.id_column, known.industry, known.jobs
    )


def _write_analyses(
    rows: Iterable[InputRow],
    output: Path,
    industry: str | None,
    total: Callable[[], int | None],
    jobs: int | None,
) -> int:
    """Write every row's analysis: the first few rows in this process (which loads the models),
    then the rest a round at a time, each round shared among forked processes (`_forked`)."""
    from tiyan.text._forked import processes_for, split, write_in_forks

    def write(chunk: Sequence[InputRow], sink: IO[str]) -> None:
        for batch in _batches(chunk, BATCH_SIZE):
            _write_batch(batch, sink, industry)

    written = 0
    iterator = iter(rows)
    with (
        output.open("w", encoding="utf-8", errors="backslashreplace") as sink,
        _progress(total) as advance,
        _collector_off_until_loaded() as loaded,
    ):
        first = list(islice(iterator, WARM_UP_ROWS))
        write(first, sink)
        loaded()
        advance(len(first))
        written += len(first)
        while round_rows := list(islice(iterator, ROUND_ROWS)):
            chunks = split(round_rows, processes_for(len(round_rows), jobs))
            write_in_forks(chunks, write, sink, done=lambda chunk: advance(len(chunk)))
            written += len(round_rows)
    return written


@contextmanager
def _collector_off_until_loaded() -> Iterator[Callable[[], None]]:
    """The cyclic garbage collector off until the first batch has loaded the models, lexicon
    and tables (the caller calls the function it gets after each batch), then on again with
    everything alive by then frozen (`gc.freeze`: left out of later collections, as it lives
    as long as the process). Loading allocates many long-lived objects, and each collection
    on the way would walk all of them again; the analysis itself makes little cyclic garbage,
    and the collector runs as usual after the first batch."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()

    def loaded() -> None:
        if not gc.isenabled():
            gc.freeze()
            gc.enable()

    try:
        yield loaded
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()  # as the caller had it


@contextmanager
def _progress(total: Callable[[], int | None]) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal (rich costs ~50 ms to import, and counting
    the rows reads the file once more), else none."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True)) as progress:
        task = progress.add_task("analysing", total=total())
        yield lambda done: progress.advance(task, done)


def _write_batch(batch: list[InputRow], sink: IO[str], industry: str | None) -> None:
    from tiyan.text.pipeline import analyze_many

    good = [row for row in batch if row.text is not None]
    analyses = iter(analyze_many([row.text for row in good if row.text is not None], industry))
    for row in batch:
        record: dict[str, Any] = {"id": row.id}
        if row.text is None:
            record["error"] = row.error
        else:
            record.update(next(analyses).to_dict())
        sink.write(_ENCODER.encode(record) + "\n")


# one encoder for every line (json.dumps with options builds a new one per call)
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _batches(rows: Iterable[InputRow], size: int) -> Iterator[list[InputRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


if __name__ == "__main__":
    # `python -m tiyan.text.analyze_command [text] analyze …`: the `tiyan` contract, minus typer
    words = sys.argv[1:]
    status = analyze_from_argv(words[1:] if words[:1] == ["text"] else words)
    if status is None:
        sys.exit("usage: python -m tiyan.text.analyze_command [text] analyze INPUT --output OUT …")
    sys.exit(status)
