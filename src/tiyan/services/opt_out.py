"""Opting out (退订): a customer who asks never to be invited again is never contacted again.

Ways in, each setting `customer.opted_out_at` once (idempotent) in one transaction with an
audit-log entry (`customer.opt_out`, with the source) and the suppression of the customer's
invitations that are still queued (e-mail, SMS and calls on the agents' worklist):

    link       the respondent confirmed on /u/{token} (the link in every invitation e-mail)
    one_click  the mail program posted RFC 8058 `List-Unsubscribe=One-Click` to /u/{token}
    sms_reply  the customer answered an SMS with T / TD / 退订 / STOP (the provider's MO callback)
    api        staff with view_pii at the customer's unit (POST /api/v1/customers/{id}/opt-out)
    import     an opt-out list of phone numbers and e-mail addresses (`tiyan customers opt-out`)

Every channel honours it: invitations are suppressed when created (contact rules), and again
just before each send and reminder; the call worklist leaves such customers out.
Opting back in (`customer.opt_in`) needs the same permission and is audited too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.contacts import contact_of
from tiyan.errors import InvalidInput, NotFound
from tiyan.services.links import read_unsubscribe_token
from tiyan.services.table_files import decode_text
from tiyan.store import audit, outreach
from tiyan.store import tables as t
from tiyan.store.invitations import invitation_by_public_id, log_invitation_event
from tiyan.store.scoped import visible

SOURCES = ("link", "one_click", "sms_reply", "api", "import")
# What an SMS reply may say to opt out (case and surrounding blanks ignored).
SMS_STOP_WORDS = frozenset({"t", "td", "退订", "stop", "stopall", "unsubscribe", "cancel",
                            "quit", "end", "optout", "opt out"})
IMPORT_CHUNK = 500


def opt_out(conn: Connection, customer: RowMapping, now: dt.datetime, *, source: str,
            user_id: int | None = None, invitation_id: int | None = None,
            detail: dict[str, Any] | None = None) -> bool:
    """Opt one customer out inside the caller's transaction; False when they already were."""
    changed = conn.execute(
        sa.update(t.customer).where(t.customer.c.id == customer["id"],
                                    t.customer.c.opted_out_at.is_(None))
        .values(opted_out_at=now)).rowcount
    if not changed:
        return False
    info = {"source": source, **(detail or {})}
    suppressed = _suppress_queued(conn, int(customer["id"]), now, source)
    if suppressed:
        info["suppressed_invitations"] = suppressed
    audit.record(conn, at=now, user_id=user_id, action="customer.opt_out", entity="customer",
                 entity_id=customer["public_id"], unit_id=customer["unit_id"], detail=info)
    if invitation_id is not None:
        log_invitation_event(conn, invitation_id, "opted_out", now, {"source": source})
    return True


def _suppress_queued(conn: Connection, customer_id: int, now: dt.datetime, source: str) -> int:
    """Queued invitations (not yet sent, or calls not yet made) are held back at once."""
    inv = t.invitation
    ids = list(conn.execute(sa.select(inv.c.id).where(
        inv.c.customer_id == customer_id, inv.c.status == "queued")).scalars())
    for invitation_id in ids:
        outreach.set_fields(conn, invitation_id, status=outreach.SUPPRESSED)
        log_invitation_event(conn, invitation_id, outreach.SUPPRESSED, now,
                             {"reason": "opted_out", "source": source})
    return len(ids)


# --- the unsubscribe link: /u/{token} --------------------------------------------------------

@dataclass(frozen=True)
class UnsubscribeState:
    """What the unsubscribe page shows: the customer's language and whether they are out."""

    language: str | None
    opted_out: bool
    changed: bool = False


def _link_customer(conn: Connection, ctx: Context, token: str
                   ) -> tuple[RowMapping, int | None]:
    target = read_unsubscribe_token(ctx, token)
    customer = outreach.customer_by_public_id(conn, target.customer_public_id)
    if customer is None:  # erased and removed: nothing left to contact
        raise NotFound("opt_out.customer_no_longer_file", where="customer")
    invitation_id = None
    if target.invitation_public_id:
        invitation = invitation_by_public_id(conn, target.invitation_public_id)
        if invitation is not None and invitation["customer_id"] == customer["id"]:
            invitation_id = int(invitation["id"])
    return customer, invitation_id


def unsubscribe_state(ctx: Context, token: str) -> UnsubscribeState:
    """For GET /u/{token}; LinkProblem("tampered") for a bad link, NotFound when gone."""
    with ctx.db.read() as conn:
        customer, _ = _link_customer(conn, ctx, token)
    return UnsubscribeState(customer["language"], _is_out(customer))


def do_unsubscribe(ctx: Context, token: str, *, one_click: bool = False) -> UnsubscribeState:
    """For POST /u/{token}: opt the customer out (again: nothing changes)."""
    now = ctx.now()
    with ctx.db.write() as conn:
        customer, invitation_id = _link_customer(conn, ctx, token)
        changed = customer["erased_at"] is None and opt_out(
            conn, customer, now, source="one_click" if one_click else "link",
            invitation_id=invitation_id)
    return UnsubscribeState(customer["language"], True, changed)


def _is_out(customer: RowMapping) -> bool:
    return customer["opted_out_at"] is not None or customer["erased_at"] is not None


# --- staff: the API --------------------------------------------------------------------------

@dataclass(frozen=True)
class OptOutStatus:
    customer_id: str
    opted_out: bool
    opted_out_at: dt.datetime | None
    changed: bool


def do_set_opt_out(ctx: Context, actor: Actor, customer_public_id: str, opted_out: bool, *,
                   note: str | None = None) -> OptOutStatus:
    """Opt a customer out or back in; needs view_pii at the customer's unit; audited."""
    if note is not None and len(note) > 500:
        raise InvalidInput("opt_out.keep_note_within_characters", where="note")
    now = ctx.now()
    with ctx.db.write() as conn:
        customer = _scoped_customer(conn, actor, customer_public_id)
        actor.require(Permission.VIEW_PII, customer["unit_id"])
        detail = {"note": note} if note else None
        if opted_out:
            changed = opt_out(conn, customer, now, source="api", user_id=actor.user_id,
                              detail=detail)
        else:
            if customer["erased_at"] is not None:
                raise InvalidInput("opt_out.customer_erased_cannot_contacted",
                                   where="customer")
            changed = _opt_in(conn, actor, customer, now, detail)
        row = outreach.customer_row(conn, customer["id"])
    return OptOutStatus(row["public_id"], _is_out(row), row["opted_out_at"], changed)


def _scoped_customer(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    vis = actor.scope.visibility(Permission.VIEW_CUSTOMERS)
    row = conn.execute(sa.select(t.customer).where(
        t.customer.c.public_id == public_id, visible(vis, t.customer.c.unit_id))
    ).mappings().first()
    if row is None:
        raise NotFound("common.customer_does_not_exist", public_id=public_id,
                       where="customer")
    return row


def _opt_in(conn: Connection, actor: Actor, customer: RowMapping, now: dt.datetime,
            detail: dict[str, Any] | None) -> bool:
    changed = conn.execute(
        sa.update(t.customer).where(t.customer.c.id == customer["id"],
                                    t.customer.c.opted_out_at.is_not(None))
        .values(opted_out_at=None)).rowcount
    if changed:
        audit.record(conn, at=now, user_id=actor.user_id, action="customer.opt_in",
                     entity="customer", entity_id=customer["public_id"],
                     unit_id=customer["unit_id"],
                     detail={"source": "api", "was_opted_out_at":
                             customer["opted_out_at"].isoformat(), **(detail or {})})
    return bool(changed)


# --- SMS replies ("回T退订") -------------------------------------------------------------------

def is_stop_reply(text: str) -> bool:
    return " ".join(text.strip().lower().split()) in SMS_STOP_WORDS


def do_sms_reply(ctx: Context, sender: str, text: str) -> str:
    """One inbound SMS: a stop word from a known number opts that customer out.
    Returns what it meant: opted_out, already, unknown_number or ignored."""
    if not is_stop_reply(text):
        return "ignored"
    now = ctx.now()
    with ctx.db.write() as conn:
        customer = _customer_by_contact(conn, sender, ctx.settings.phone_region)
        if customer is None:
            return "unknown_number"
        changed = opt_out(conn, customer, now, source="sms_reply", detail={"text": text[:40]})
    return "opted_out" if changed else "already"


def _customer_by_contact(conn: Connection, value: str, region: str) -> RowMapping | None:
    """The customer holding this phone number (however it is written) or e-mail address."""
    found = contact_of(value, region)
    if found is None:
        return None
    kind, normalised = found
    query = (sa.select(t.customer).join(t.customer_identity,
                                        t.customer_identity.c.customer_id == t.customer.c.id)
             .where(t.customer_identity.c.kind == kind,
                    t.customer_identity.c.value == normalised))
    return conn.execute(query.limit(1)).mappings().first()


# --- an opt-out list (CLI) ---------------------------------------------------------------------

@dataclass
class ListReport:
    """What an opt-out list did: rows by outcome, and each row that matched nobody or was bad."""

    rows: int = 0
    opted_out: int = 0
    already: int = 0
    unknown: list[tuple[int, str]] = field(default_factory=list)
    invalid: list[tuple[int, str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "opted_out": self.opted_out, "already": self.already,
                "unknown": [{"line": line, "value": value} for line, value in self.unknown],
                "invalid": [{"line": line, "value": value, "reason": reason}
                            for line, value, reason in self.invalid]}


def read_contact_list(data: bytes, where: str) -> list[tuple[int, list[str]]]:
    """(line, contacts) per row of a CSV (UTF-8 or GBK) of phone numbers and/or e-mail
    addresses, one or more per row; a first row naming columns (phone, email, 手机…) is skipped."""
    text, _ = decode_text(data, where)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text.replace("\0", ""), newline=""))
    try:
        for number, cells in enumerate(reader, start=1):
            values = [c.strip() for c in cells if c.strip()]
            if not values:
                continue
            if number == 1 and not any(_looks_like_contact(v) for v in values):
                continue  # a header
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise InvalidInput("opt_out.line_csv_malformed", line_num=reader.line_num, exc=exc,
                           where=where) from None
    return rows


def _looks_like_contact(value: str) -> bool:
    return "@" in value or bool(re.search(r"\d{5}", value))


def _kind_of(value: str, region: str) -> tuple[str, str]:
    """("email" | "phone", normalised value), or InvalidInput saying why it is neither."""
    found = contact_of(value, region)
    if found is not None:
        return found
    if "@" in value:
        raise InvalidInput("common.not_mail_address", value=value)
    raise InvalidInput("opt_out.neither_mobile_number_nor", value=value)


def import_opt_out_list(ctx: Context, rows: Iterable[tuple[int, list[str]]],
                        progress: Any = None) -> ListReport:
    """Opt out every customer the list names (by any of their phones or e-mail addresses).
    Each chunk of rows is one transaction; running the list again changes nothing."""
    report = ListReport()
    chunk: list[tuple[int, list[str]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= IMPORT_CHUNK:
            _import_chunk(ctx, chunk, report)
            if progress:
                progress(len(chunk))
            chunk = []
    if chunk:
        _import_chunk(ctx, chunk, report)
        if progress:
            progress(len(chunk))
    return report


def _import_chunk(ctx: Context, chunk: list[tuple[int, list[str]]], report: ListReport) -> None:
    now = ctx.now()
    with ctx.db.write() as conn:
        for line, values in chunk:
            report.rows += 1
            matched: dict[int, RowMapping] = {}
            bad = False
            for value in values:
                try:
                    _, normalised = _kind_of(value, ctx.settings.phone_region)
                except InvalidInput as exc:
                    report.invalid.append((line, value, exc.message))
                    bad = True
                    continue
                customer = _customer_by_contact(conn, normalised, ctx.settings.phone_region)
                if customer is not None:
                    matched[int(customer["id"])] = customer
            if not matched:
                if not bad:
                    report.unknown.append((line, ", ".join(values)))
                continue
            for customer in matched.values():
                fresh = outreach.customer_row(conn, customer["id"])
                if _is_out(fresh):
                    report.already += 1
                elif opt_out(conn, fresh, now, source="import", detail={"line": line}):
                    report.opted_out += 1
