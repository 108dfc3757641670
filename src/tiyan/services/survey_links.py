"""Anonymous survey links and their QR codes, per survey × unit (× staff member).

A QR code on a store counter encodes the store's anonymous link with `?c=qr`, so its responses
record that store and the channel "qr". Only someone who manages surveys at the unit may make
its links; the unit must be the survey's unit or one below it (a survey applies downwards).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import InvalidInput
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.store.org import unit_by_code
from tiyan.store.scoped import parent_map
from tiyan.store.surveys import get_survey

QR_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class SurveyLink:
    survey_code: str
    unit_code: str
    url: str  # the anonymous link to share (SMS, web, e-mail signature)
    qr_url: str  # what the QR code encodes: the same link, counted as channel "qr"


def access_survey_link_target(ctx: Context, actor: Actor, survey_code: str,
                              unit_code: str) -> AnonymousTarget:
    """The survey × unit of an anonymous link, for someone who manages surveys at the unit
    (NotFound, Forbidden, InvalidInput when the unit is not under the survey's)."""
    with ctx.db.read() as conn:
        survey = get_survey(conn, actor, survey_code)
        unit = unit_by_code(conn, unit_code)
        actor.require(Permission.MANAGE_SURVEYS, unit["id"])
        _check_under(conn, unit, survey)
    return AnonymousTarget(survey_id=survey["id"], unit_id=unit["id"])


def access_survey_link(ctx: Context, actor: Actor, survey_code: str,
                       unit_code: str) -> SurveyLink:
    url = anonymous_url(ctx, access_survey_link_target(ctx, actor, survey_code, unit_code))
    return SurveyLink(survey_code, unit_code, url, f"{url}?c=qr")


def _check_under(conn: Connection, unit: RowMapping, survey: RowMapping) -> None:
    parents = parent_map(conn)
    node: int | None = unit["id"]
    while node is not None:
        if node == survey["unit_id"]:
            return
        node = parents.get(node)
    raise InvalidInput("survey_links.unit_not_under_unit", code=unit["code"], code2=survey["code"],
                       where="unit")


def qr_code(link: SurveyLink, kind: str) -> bytes:
    """The QR code of a link as PNG or SVG bytes (error correction M, quiet zone 4)."""
    if kind not in QR_FORMATS:
        raise InvalidInput("survey_links.not_qr_format_png", kind=kind, where="format")
    code = segno.make(link.qr_url, error="m")
    out = io.BytesIO()
    if kind == "png":
        code.save(out, kind="png", scale=8, border=4)
    else:
        code.save(out, kind="svg", scale=8, border=4, xmldecl=False, title=link.unit_code)
    return out.getvalue()


def qr_filename(link: SurveyLink, kind: str) -> str:
    return f"{link.survey_code}-{link.unit_code}-qr.{kind}"
