"""The demo database, built once per test run with the real `tiyan demo` command."""

from __future__ import annotations

import fcntl
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

TIYAN = str(Path(sys.executable).parent / "tiyan")


def run_tiyan(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TIYAN, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def build_demo_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'demo.db'}"
    # about 50 s of CPU (two years of service visits before the survey programme); the wall
    # time on a shared, busy machine can be several times that
    result = run_tiyan("demo", "--db", url, timeout=900)
    assert result.returncode == 0, result.stderr
    return url


def shared_demo_database(shared: Path) -> Path:
    """The demo database the first worker of a parallel run builds in `shared` (a folder all
    workers see); the others wait on a file lock until it is there. Nobody writes to it: each
    test module that needs the demo works on a copy."""
    shared.mkdir(exist_ok=True)
    built = shared / "built" / "demo.db"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            building = shared / "building"
            shutil.rmtree(building, ignore_errors=True)  # what a failed build left
            building.mkdir()
            build_demo_database(building)
            building.rename(built.parent)
    return built


def copy_of_demo_database(built: Path, own: Path) -> str:
    """A private copy of the built demo database in the folder `own`."""
    target = own / "demo.db"
    source, copy = sqlite3.connect(built), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return f"sqlite:///{target}"
