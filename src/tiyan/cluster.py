"""The multi-process topology on one machine, for development and the smoke test: N `tiyan serve`
processes on consecutive ports and M `tiyan worker` processes, all on one database, sharing one
PROMETHEUS_MULTIPROC_DIR so any serve's /metrics counts the work of all of them.

    cluster = start_cluster(ClusterPlan(db_url, serves=2, workers=2, first_port=8100))
    wait_until_ready(cluster)
    ...
    stop_cluster(cluster)

`tiyan dev-cluster` runs this in the foreground until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# The `tiyan` command as the running interpreter starts it (no PATH lookup).
TIYAN = [sys.executable, "-c", "from tiyan.entry import main; main()"]


@dataclass(frozen=True)
class ClusterPlan:
    db_url: str
    serves: int = 2
    workers: int = 2
    first_port: int = 8100
    host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)  # extra TIYAN_* settings for every process


@dataclass
class Cluster:
    plan: ClusterPlan
    metrics_dir: Path
    serves: list[subprocess.Popen[bytes]]
    workers: list[subprocess.Popen[bytes]]

    @property
    def urls(self) -> list[str]:
        return [f"http://{self.plan.host}:{self.plan.first_port + i}"
                for i in range(self.plan.serves)]

    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [*self.serves, *self.workers]

    def named(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        return [*((f"serve-{i}", p) for i, p in enumerate(self.serves)),
                *((f"worker-{i}", p) for i, p in enumerate(self.workers))]


def cluster_environment(plan: ClusterPlan, metrics_dir: Path) -> dict[str, str]:
    env = {**os.environ, **plan.env, "TIYAN_DB_URL": plan.db_url,
           "TIYAN_WORKER_IN_APP": "false", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    if not env.get("TIYAN_METRICS_TOKEN") and not env.get("TIYAN_METRICS_ALLOW"):
        env["TIYAN_METRICS_ALLOW"] = "127.0.0.1/32,::1/128"  # this machine only
    return env


def start_cluster(plan: ClusterPlan, *, log_dir: Path | None = None) -> Cluster:
    """Start the processes (the schema must be current: see `tiyan db upgrade`). Their output
    goes to `log_dir/serve-N.log` and `worker-N.log`, or to this process's own."""
    metrics_dir = Path(tempfile.mkdtemp(prefix="tiyan-metrics-"))
    env = cluster_environment(plan, metrics_dir)

    def spawn(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        out = open(log_dir / f"{name}.log", "ab") if log_dir else None  # noqa: SIM115
        try:
            return subprocess.Popen([*TIYAN, *args], env=env, stdout=out, stderr=out)
        finally:
            if out is not None:
                out.close()  # the child holds its own descriptor

    serves = [spawn(f"serve-{i}", ["serve", "--host", plan.host,
                                   "--port", str(plan.first_port + i)])
              for i in range(plan.serves)]
    workers = [spawn(f"worker-{i}", ["worker"]) for i in range(plan.workers)]
    return Cluster(plan, metrics_dir, serves, workers)


def wait_until_ready(cluster: Cluster, timeout: float = 180.0) -> None:
    """Return once every serve listens (uvicorn listens once the app has started, and a serve
    starts only on a current schema); raise if a process exits or time runs out."""
    deadline = time.monotonic() + timeout
    waiting = list(range(cluster.plan.first_port, cluster.plan.first_port + cluster.plan.serves))
    while waiting:
        exited = [f"{name} (code {p.returncode})" for name, p in cluster.named()
                  if p.poll() is not None]
        if exited:
            raise RuntimeError(f"exited while the cluster started: {', '.join(exited)}")
        waiting = [port for port in waiting if not _listens(cluster.plan.host, port)]
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"no serve listening on port {waiting} after {timeout:.0f} s")
        if waiting:
            time.sleep(0.2)


def _listens(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return True
    except OSError:
        return False


def stop_cluster(cluster: Cluster, timeout: float = 20.0) -> list[int]:
    """SIGTERM to every process, SIGKILL to those still running after `timeout`; returns
    their exit codes and removes the metrics folder."""
    for process in cluster.processes():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    codes = []
    for process in cluster.processes():
        try:
            codes.append(process.wait(max(deadline - time.monotonic(), 0.1)))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    shutil.rmtree(cluster.metrics_dir, ignore_errors=True)
    return codes
