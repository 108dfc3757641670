"""Prometheus metrics: what every process counts, and what a scrape reads from the database.

Counted in the process where it happens (labels are fixed words, never a raw path, an address
or anything a customer wrote):
- `tiyan_http_requests_total{method, route, status}`: route is the route's template
  (`/api/v1/responses/{response_id}`), status the class (`2xx` … `5xx`);
- `tiyan_http_request_duration_seconds{method, route}` (histogram);
- `tiyan_jobs_total{kind, outcome}` (done, retry, failed) and `tiyan_job_duration_seconds{kind}`;
- `tiyan_deliveries_total{channel, outcome}` (email, sms, webhook, chat; sent or failed).
Read from the database at each scrape (`queue_collector`): the due jobs, the oldest due job's
age and the running jobs per lane, so any process gives the same answer.

Several processes: set prometheus-client's own `PROMETHEUS_MULTIPROC_DIR` to an empty folder
shared by every `serve` worker and `tiyan worker` of a host before they start; each process
writes its counters there and any of them answers a scrape with the sum (docs/deploy.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from tiyan.context import Context

log = logging.getLogger(__name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0)

HTTP_REQUESTS = Counter("tiyan_http_requests", "Web requests answered, by route template, "
                        "method and status class.", ["method", "route", "status"])
HTTP_SECONDS = Histogram("tiyan_http_request_duration_seconds", "Time from a request's arrival "
                         "to the end of its answer, by route template and method.",
                         ["method", "route"], buckets=HTTP_BUCKETS)
JOBS = Counter("tiyan_jobs", "Background jobs run, by kind and outcome (done, retry, failed).",
               ["kind", "outcome"])
JOB_SECONDS = Histogram("tiyan_job_duration_seconds", "Time a background job's handler ran, "
                        "by kind.", ["kind"], buckets=JOB_BUCKETS)
DELIVERIES = Counter("tiyan_deliveries", "Messages handed to a channel (email, sms, webhook, "
                     "chat), by outcome (sent, failed).", ["channel", "outcome"])


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    shown = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(shown, route, f"{status // 100}xx").inc()
    HTTP_SECONDS.labels(shown, route).observe(seconds)


def job_ran(kind: str, outcome: str, seconds: float | None, count: int = 1) -> None:
    """`count` jobs of `kind` ended with `outcome`, each after `seconds` of its handler (for a
    batch: its time shared by its jobs; None: not timed on its own)."""
    if count:
        JOBS.labels(kind, outcome).inc(count)
    if seconds is not None:
        for _ in range(count):
            JOB_SECONDS.labels(kind).observe(seconds)


def delivered(channel: str, ok: bool) -> None:
    DELIVERIES.labels(channel, "sent" if ok else "failed").inc()


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class _QueueCollector(Collector):
    """The job backlog per lane, read from the database when scraped."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[Metric]:
        from tiyan.services.jobs import job_backlog

        up = GaugeMetricFamily("tiyan_database_up", "1 when the database answered this scrape.")
        try:
            backlog = job_backlog(self._ctx)
        except Exception:  # noqa: BLE001 - a scrape must still answer, saying the database is down
            log.exception("metrics: could not read the job backlog")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        due = GaugeMetricFamily("tiyan_job_queue_depth", "Queued jobs that are due, per lane.",
                                labels=["lane"])
        age = GaugeMetricFamily("tiyan_job_oldest_due_age_seconds", "How long the oldest due "
                                "job of a lane has waited (0 when none is due).", labels=["lane"])
        running = GaugeMetricFamily("tiyan_jobs_running", "Jobs claimed by a worker and not "
                                    "finished, per lane.", labels=["lane"])
        for lane in backlog.values():
            due.add_metric([lane.lane], lane.due)
            age.add_metric([lane.lane], lane.oldest_due_seconds)
            running.add_metric([lane.lane], lane.running)
        yield from (up, due, age, running)


class _ProcessCounters(Collector):
    """This process's own metrics (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry(ctx: Context | None) -> CollectorRegistry:
    """What a scrape reads: the counters of this process (or of every process sharing
    PROMETHEUS_MULTIPROC_DIR) and, given a context, the job backlog from the database."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCounters())
    if ctx is not None:
        registry.register(_QueueCollector(ctx))
    return registry


def exposition(ctx: Context | None) -> tuple[bytes, str]:
    """The Prometheus text for a scrape and its content type."""
    return generate_latest(scrape_registry(ctx)), CONTENT_TYPE_LATEST


def serve_worker_metrics(host: str, port: int) -> None:
    """Answer scrapes of this worker's counters on `host:port` from a daemon thread (for a
    worker that shares no PROMETHEUS_MULTIPROC_DIR with a `serve`; no token: bind it to an
    address only the Prometheus server reaches)."""
    start_http_server(port, host, registry=scrape_registry(None))
    log.info("worker metrics listening", extra={"address": f"{host}:{port}"})
