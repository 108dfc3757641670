"""REST API for the VOC review (客户之声复盘): the review as JSON for a period, unit and KPI, its
Excel and PDF files, and the caller's monthly e-mail subscription."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tiyan.analytics import voc
from tiyan.services import voc_reports as reports
from tiyan.web.api import plan_schemas as s
from tiyan.web.api.schemas import ErrorBody
from tiyan.web.deps import ApiActor, ContextDep
from tiyan.web.downloads import XLSX, voc_file
from tiyan.web.request_origin import OriginDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["VOC review"])
DateQ = Annotated[str, Query(max_length=10, description="YYYY-MM-DD, a day in the unit's "
                                                        "time zone (both empty: last month)")]
UnitQ = Annotated[str, Query(max_length=64, description="unit code (empty: all your units)")]
KpiQ = Annotated[str, Query(max_length=80, description="nps, csat or item:<item code>")]
LocaleQ = Annotated[str, Query(pattern="^(zh-CN|en)$")]


def _theme(x: voc.Theme) -> s.VocThemeOut:
    return s.VocThemeOut(code=x.code, name_zh=x.name_zh, name_en=x.name_en, mentions=x.mentions,
                         responses=x.responses, share=x.share, kpi_with=x.kpi_with,
                         points_lost=x.points_lost, trend=x.trend.value, before=x.before,
                         quotes=list(x.quotes))


@router.get("/voc", response_model=s.VocReviewOut)
def get_review(ctx: ContextDep, actor: ApiActor, start: DateQ = "", end: DateQ = "",
               unit: UnitQ = "", kpi: KpiQ = "nps") -> s.VocReviewOut:
    """Dissatisfied feedback by aspect and case root cause ranked by KPI points lost, with
    quotes and trends, case volumes, SLA compliance and recovery rate."""
    review, first, last = reports.review_for(ctx, actor, start, end, unit, kpi)
    return s.VocReviewOut(
        start=first, end=last, timezone=review.timezone, unit=review.unit_code,
        kpi=review.kpi.code, responses=review.responses, score=review.score,
        score_before=review.score_before, feedback=review.feedback,
        aspects=[_theme(x) for x in review.aspects], causes=[_theme(x) for x in review.causes],
        new_themes=review.new_themes, cases_opened=review.cases_opened,
        cases_by_status=review.cases_by_status,
        sla=s.SlaOut(due=review.sla.due, on_time=review.sla.on_time, rate=review.sla.rate),
        recovery=s.RecoveryOut(recovered=review.recovery.recovered,
                               reached=review.recovery.reached, rate=review.recovery.rate))


@router.get("/voc.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}})
def get_excel(ctx: ContextDep, actor: ApiActor, origin: OriginDep, start: DateQ = "",
              end: DateQ = "", unit: UnitQ = "", kpi: KpiQ = "nps",
              locale: LocaleQ = "zh-CN") -> Response:
    """The review as an Excel workbook (summary, aspects, root causes); audited."""
    review, first, last = reports.review_for(ctx, actor, start, end, unit, kpi)
    return voc_file(ctx, actor, origin, review, (first, last), "xlsx", locale)


@router.get("/voc.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, 503: {"model": ErrorBody}})
def get_pdf(ctx: ContextDep, actor: ApiActor, origin: OriginDep, start: DateQ = "",
            end: DateQ = "", unit: UnitQ = "", kpi: KpiQ = "nps",
            locale: LocaleQ = "zh-CN") -> Response:
    """The review as a PDF (503 font_missing when no font with Chinese glyphs is installed);
    audited."""
    review, first, last = reports.review_for(ctx, actor, start, end, unit, kpi)
    return voc_file(ctx, actor, origin, review, (first, last), "pdf", locale)


def _subscription(sub: reports.Subscription | None) -> s.SubscriptionOut:
    if sub is None:
        return s.SubscriptionOut(subscribed=False)
    return s.SubscriptionOut(subscribed=True, email=sub.email, unit=sub.unit_code,
                             locale=sub.locale, kpi=sub.kpi, last_sent=sub.last_sent)


@router.get("/voc/subscription", response_model=s.SubscriptionOut)
def get_subscription(ctx: ContextDep, actor: ApiActor) -> s.SubscriptionOut:
    actor.require(voc.PERMISSION)
    return _subscription(reports.subscription_of(ctx, actor))


@router.put("/voc/subscription", response_model=s.SubscriptionOut)
def subscribe(body: s.SubscriptionIn, ctx: ContextDep, actor: ApiActor) -> s.SubscriptionOut:
    """Mail the caller last month's review of a unit (PDF) on the 1st at 08:00; replaces the
    caller's earlier subscription."""
    reports.do_subscribe(ctx, actor, unit_code=body.unit, locale=body.locale, kpi=body.kpi)
    return _subscription(reports.subscription_of(ctx, actor))


@router.delete("/voc/subscription", response_model=s.SubscriptionOut)
def unsubscribe(ctx: ContextDep, actor: ApiActor) -> s.SubscriptionOut:
    reports.do_unsubscribe(ctx, actor)
    return _subscription(None)
