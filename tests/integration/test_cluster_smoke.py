"""Smoke test of the multi-process topology: real `tiyan serve` and `tiyan worker` processes on
one PostgreSQL database, started as `tiyan dev-cluster` starts them."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.snapshots import as_built, world_with
from tiyan.cluster import ClusterPlan, start_cluster, stop_cluster, wait_until_ready
from tiyan.context import Context

TOKEN = "cluster-smoke-metrics-token-0123"
COMMENT = "前台服务太慢了，等了一个小时，没人理我"


def two_free_ports() -> int:
    """A port that is free, with the next one free too."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_response_sent_to_one_serve_is_analysed_by_a_worker_and_seen_through_the_other(
        ctx: Context, tmp_path: Path) -> None:
    world = world_with(ctx, as_built)
    auth = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    plan = ClusterPlan(ctx.settings.db_url, serves=2, workers=2, first_port=two_free_ports(),
                       env={"TIYAN_METRICS_TOKEN": TOKEN, "TIYAN_LOG_FORMAT": "json"})
    cluster = start_cluster(plan, log_dir=tmp_path)
    try:
        wait_until_ready(cluster)
        first, other = cluster.urls
        sent = httpx.post(f"{first}/api/v1/responses", headers=auth, timeout=30, json={
            "survey_id": world.survey_id, "unit_code": "s1",
            "answers": {"nps": 2, "overall": 1, "comment": COMMENT}})
        assert sent.status_code == 201, sent.text
        seen = _analysed(f"{other}/api/v1/responses/{sent.json()['id']}", auth)
        scraped = httpx.get(f"{other}/metrics", timeout=30,
                            headers={"Authorization": f"Bearer {TOKEN}"})
        running = [name for name, process in cluster.named() if process.poll() is None]
    finally:
        codes = stop_cluster(cluster)
    logs = "\n".join(f"{p.name}: {p.read_text()[-2000:]}" for p in sorted(tmp_path.glob("*.log")))
    assert len(running) == 4, logs
    assert seen["answers"] and seen["text_analysis"], logs
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(scraped.text)
               for s in family.samples}
    posted = ("tiyan_http_requests_total",
              (("method", "POST"), ("route", "/api/v1/responses"), ("status", "2xx")))
    assert samples[posted] == 1  # answered by the first serve, counted by the other one
    done = sum(value for (name, labels), value in samples.items()
               if name == "tiyan_jobs_total" and ("outcome", "done") in labels)
    assert done > 0, logs  # the workers' counts, read through a serve
    assert samples[("tiyan_database_up", ())] == 1
    assert all(code is not None for code in codes)


def _analysed(url: str, auth: dict[str, str], timeout: float = 180.0) -> dict[str, object]:
    """The response once a worker has analysed its comment (polling the other serve)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = httpx.get(url, headers=auth, timeout=30)
        assert reply.status_code == 200, reply.text
        body: dict[str, object] = reply.json()
        if body["text_analysis"] or time.monotonic() > deadline:
            return body
        time.sleep(0.5)
