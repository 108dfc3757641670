"""Background work's rules that need no database: lanes, and when a job counts as stuck.

Every job kind belongs to a lane. `realtime` is what a person waits for (alerts, cases,
notifications, invitations, webhooks, a response's follow-ups); `bulk` is work that may take
minutes (a feedback import and its follow-ups, the churn refresh, retention, monthly reports).
A worker runs each of its lanes on a thread of its own, so bulk work never holds up real-time
work, and claims real-time work first wherever it takes from both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tiyan.errors import InvalidInput

REALTIME = "realtime"
BULK = "bulk"
LANES = (REALTIME, BULK)  # in priority order


def parse_lanes(text: str) -> tuple[str, ...]:
    """'bulk, realtime' -> ('realtime', 'bulk'): known lanes, each once, in priority order."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(LANES))
    if unknown:
        raise InvalidInput("jobs.unknown_lane_lanes", unknown=unknown[0], lanes=', '.join(LANES),
                           where="lanes")
    if not names:
        raise InvalidInput("jobs.name_least_lane", lanes=', '.join(LANES), where="lanes")
    return tuple(lane for lane in LANES if lane in names)


@dataclass(frozen=True)
class JobState:
    """What the queue knows of one job, enough to say whether it is stuck."""

    status: str                      # queued, running, done, failed
    run_at: dt.datetime
    lease_until: dt.datetime | None


def stuck_reason(job: JobState, now: dt.datetime, waiting_limit: dt.timedelta) -> str | None:
    """'lease' when a running job's worker stopped renewing it; 'waiting' when a due job has
    waited longer than `waiting_limit` (no worker takes its lane, or the lane is behind)."""
    if job.status == "running" and job.lease_until is not None and job.lease_until < now:
        return "lease"
    if job.status == "queued" and job.run_at < now - waiting_limit:
        return "waiting"
    return None
