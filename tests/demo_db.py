"""The demo database, built once per test run with the real `tiyan demo` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TIYAN = str(Path(sys.executable).parent / "tiyan")


def run_tiyan(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TIYAN, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def build_demo_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'demo.db'}"
    result = run_tiyan("demo", "--db", url)
    assert result.returncode == 0, result.stderr
    return url
