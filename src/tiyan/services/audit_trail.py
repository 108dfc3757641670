"""The audit of reads of personal data and of every export (PIPL art. 51, GDPR art. 30 and 32).

One entry per read or file, written in the request's own transaction (so a refused or failed
request leaves none) and never holding personal data: who (the user), what (the kind of data and
its format), which unit and filters (codes and dates only, see `audit_filters`), how many rows
where that is known, and from where (page or API, the client's address).

    customer.view   a customer opened: the customer 360 page and API, GET /api/v1/customers/{id}
    export          a file taken out of tiyan: responses (CSV, Parquet), every dashboard table
                    (CSV, Excel), the VOC review (Excel, PDF), a case attachment
    reveal_phone    an agent revealed a phone number on a call (services/calls.py)

The audit page (/admin/audit) shows them in words; `TIYAN_RETENTION_AUDIT_DAYS` bounds their age.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.store import audit

CUSTOMER_VIEW = "customer.view"
EXPORT = "export"
# Filter names an export may be narrowed by; anything else in a query string is left out, since
# a name or value the code does not read could be anything, a phone number included.
FILTER_NAMES = frozenset({
    "from", "to", "start", "end", "unit", "unit_id", "survey", "survey_id", "staff", "channel",
    "source", "touchpoint", "journey", "segment", "kpi", "outcome", "grain", "include", "aspect",
    "aspect_label", "submitted_from", "submitted_to", "since", "until", "answer", "attr",
    "partial", "score", "sentiment", "comment", "q",
})
KEY_ONLY = frozenset({"answer", "attr"})  # KEY:VALUE filters whose value may be personal
HIDDEN = frozenset({"q"})  # words searched for (a name, a phone number): only that there were
LONGEST = 64


@dataclass(frozen=True)
class Origin:
    """Where a request came from: `via` "page" or "api", and the client's address."""

    via: str
    ip: str | None = None


@dataclass(frozen=True)
class Export:
    """One file taken out: `kind` names the data (responses, dashboard.<table>, voc,
    case_attachment), `fmt` the file format; `rows` where it is known (responses: the number of
    responses; tables: their rows)."""

    kind: str
    fmt: str
    rows: int | None = None
    filters: Mapping[str, object] = field(default_factory=dict)
    entity_id: str | None = None  # the dashboard table, the case of an attachment
    item: str | None = None  # the file of a case
    unit_id: int | None = None


def audit_filters(values: Mapping[str, object]) -> dict[str, str]:
    """The filters as the audit keeps them: known names with a value, cut to 64 characters; of
    an answer or customer-attribute filter (KEY:VALUE) only the key, of words searched for only
that there were some."""
    kept: dict[str, str] = {}
    for name in sorted(FILTER_NAMES.intersection(values)):
        value = values[name]
        if value is None or value == "":
            continue
        text = str(value)
        if name in KEY_ONLY:
            text = text.partition(":")[0] + ":…"
        if name in HIDDEN:
            text = "…"
        kept[name] = text[:LONGEST]
    return kept


def do_audit_export(ctx: Context, actor: Actor, export: Export, origin: Origin) -> None:
    """Record that `actor` took `export` out of tiyan."""
    detail: dict[str, object] = {"kind": export.kind, "format": export.fmt, "via": origin.via,
                                 "filters": audit_filters(export.filters)}
    if export.rows is not None:
        detail["rows"] = export.rows
    if export.item is not None:
        detail["item"] = export.item
    with ctx.db.write() as conn:
        audit.record(conn, at=ctx.now(), user_id=actor.user_id, action=EXPORT,
                     entity=export.kind, entity_id=export.entity_id, unit_id=export.unit_id,
                     detail=detail, ip=origin.ip)


def do_audit_customer_read(ctx: Context, actor: Actor, customer_id: str, unit_id: int, *,
                           masked: bool, origin: Origin) -> None:
    """Record that `actor` opened a customer (by opaque public id); `masked`: their personal
    data was shown masked (the actor lacks view_pii there)."""
    with ctx.db.write() as conn:
        audit.record(conn, at=ctx.now(), user_id=actor.user_id, action=CUSTOMER_VIEW,
                     entity="customer", entity_id=customer_id, unit_id=unit_id,
                     detail={"via": origin.via, "masked": masked}, ip=origin.ip)
