"""Files handed out by pages and the API, each recorded in the audit log (services/audit_trail).

The VOC review's Excel and PDF files are built here for both the page (/voc.xlsx, /voc.pdf) and
the API (/api/v1/voc.xlsx, /api/v1/voc.pdf), so each download is audited in one place.
"""

from __future__ import annotations

import datetime as dt

from fastapi.responses import Response

from tiyan.analytics.voc import VocReview
from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.services import voc_reports as reports
from tiyan.services.audit_trail import Export, Origin, do_audit_export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(body: bytes, name: str, media_type: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


def voc_file(ctx: Context, actor: Actor, origin: Origin, review: VocReview,
             period: tuple[dt.date, dt.date], fmt: str, locale: str) -> Response:
    """The review of `period` (first, last day) as an Excel workbook ("xlsx") or a PDF."""
    first, last = period
    names = reports.names_for(ctx, actor, review, locale)
    if fmt == "xlsx":
        body, media_type = reports.excel_bytes(review, locale, names), XLSX
    else:
        font = reports.find_font(ctx.settings.pdf_font)
        body, media_type = reports.pdf_bytes(review, locale, font, names), "application/pdf"
    filters = {"start": first.isoformat(), "end": last.isoformat(), "unit": review.unit_code,
               "kpi": review.kpi.code}
    do_audit_export(ctx, actor, Export("voc", fmt, filters=filters), origin)
    return attachment(body, f"voc-{first}-{last}.{fmt}", media_type)
