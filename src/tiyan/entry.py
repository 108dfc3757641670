"""The `tiyan` console script: a plain `tiyan text analyze …` line runs without building the CLI.

Importing `tiyan.cli` imports typer and every command module, and typer then builds the whole
command tree (≈ 0.15–0.3 s of CPU) before it reads the line. `text analyze` is what the text
evaluation times as a whole process, so a plain `analyze` line goes straight to
`tiyan.text.analyze_command`; anything else (help, other commands, a line argparse cannot read)
goes to the full typer app, which prints its usual help and messages.

Importing numpy and the analysis modules, and loading the models, allocates many objects that
live as long as the process; the cyclic garbage collector would walk them again and again
(~2.5% of the instructions of a whole `analyze` of 1,174 short comments), so it is off until
the first batch is done, and then leaves those objects out of its walks (`gc.freeze`).

A finished `analyze` leaves the process with `os._exit` (`_leave`): freeing its tables one
object at a time (≈ 7 ms) would only give memory back to an operating system that takes it
anyway.

The analysis needs no multi-threaded linear algebra, so that path asks OpenBLAS (loaded with
numpy) for one thread unless the environment says otherwise: starting its thread pool costs
≈ 30 ms of CPU per process on a 2-core machine.
"""

from __future__ import annotations

import contextlib
import os
import sys


def main() -> None:
    words = sys.argv[1:]
    if words[:2] == ["text", "analyze"]:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        import gc

        # no cyclic garbage collection while modules import (run_analyze turns it on again
        # once the first batch has loaded the models and tables; see there)
        gc.disable()
        from tiyan.text.analyze_command import analyze_from_argv

        status = analyze_from_argv(words[1:])
        gc.enable()
        if status is not None:
            _leave(status)
    from tiyan.cli import main as full_main

    full_main()


def _leave(status: int) -> None:
    """Exit with `status` once the output is written, without tearing the interpreter down.

    The analysis leaves the tokenizer's dictionary, the lexicon tables and the models in memory;
    freeing them object by object at exit took ≈ 7 ms (the median time from the end of the
    analysis of waimai_10k's test split to the exit its parent saw: 13.3 ms against 6.0, 15
    runs each), for memory the operating system takes back anyway. By
    now the output file is closed (`run_analyze` writes it in a `with`), and this path starts no
    threads and registers no exit handlers that matter; the standard streams are flushed here.
    """
    for stream in (sys.stdout, sys.stderr):
        # a closed or broken pipe: nothing more can reach it
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
