"""Real tiyan processes for the multi-process tests: `tiyan serve` on a free loopback port and
one-shot commands, each with an environment of its own (database URLs, temporary and data
folders), as another host would have."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.demo_db import TIYAN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any TIYAN_ setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIYAN_")}
    return {**env, **settings}


@contextmanager
def served(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`tiyan serve` with `env`; yields its base URL and stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "a") as log:
        process = subprocess.Popen([TIYAN, "serve", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"tiyan serve exited: {log_path.read_text()}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"tiyan serve did not answer: {log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def run_tiyan(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """A tiyan command with `env`; its output (the test fails, showing it, when it fails)."""
    done = subprocess.run([TIYAN, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"tiyan {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout
