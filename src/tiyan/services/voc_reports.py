"""The VOC review as files and as a monthly e-mail: Excel (openpyxl) and PDF (fpdf2) exports,
and subscriptions that mail last month's review as a PDF on the 1st of each month.

PDF text in Chinese needs a font with CJK glyphs, which is too large to ship (Noto Sans CJK is
~20 MB): TIYAN_PDF_FONT names one, otherwise the usual places are searched (Debian/Ubuntu
fonts-noto-cjk, WenQuanYi, macOS PingFang, Windows YaHei); fpdf2 embeds only the glyphs used.

Days and months are those of the reviewed unit's own time zone (org_unit.timezone), or of
TIYAN_TIMEZONE for a review of all one's units.

Subscriptions live in the installation settings (app_setting `voc.subscriptions`); the job
`voc.monthly` runs on the 1st at 08:00 (TIYAN_TIMEZONE), sends each subscriber the review of
their unit (and KPI) for the month before in that unit's time zone, scoped to what the subscriber
may see, and schedules itself for the next month. A subscriber's month is recorded once sent, so
a retried job sends nothing twice. Each mailing is an export in the audit log (via "mail").
"""

from __future__ import annotations

import datetime as dt
import io
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tiyan.analytics import voc
from tiyan.analytics.export_cells import append_row
from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.voc import VocKpi, parse_kpi
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services.audit_trail import Export, Origin, do_audit_export
from tiyan.services.jobs import BULK, RetryLater, enqueue, job_handler, retry_delay
from tiyan.store import app_settings, org
from tiyan.store import tables as t

TIMEZONE = "Asia/Shanghai"
MONTHLY = "voc.monthly"
SUBSCRIPTIONS = "voc.subscriptions"
SEND_HOUR = 8
FONT_PLACES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
TEXTS = {
    "zh-CN": {"title": "VOC 复盘", "period": "期间", "unit": "单元", "all": "全部可见单元",
              "responses": "{kpi} 回复数", "before": "上期", "aspects":
              "不满意反馈主题（按 {kpi} 损失排序）", "causes": "工单根因（按 {kpi} 损失排序）",
              "theme": "主题", "mentions": "负面提及", "share": "占比", "lost": "{kpi} 损失",
              "trend": "趋势", "quotes": "代表性原话", "cases": "工单", "opened": "新建工单",
              "sla": "SLA 达成率", "recovery": "挽回率", "none": "本期没有不满意反馈。",
              "new": "新出现", "rising": "上升", "steady": "持平", "falling": "下降",
              "summary": "概览", "mail": "附件是 {unit} {period} 的 VOC 复盘。",
              "mean": "{item} 均值", "timezone": "时区", "unit_code": "单元代码",
              "kpi_code": "指标代码"},
    "en": {"title": "VOC review", "period": "Period", "unit": "Unit", "all": "all your units",
           "responses": "{kpi} responses", "before": "previous", "aspects":
           "Dissatisfied feedback themes (by {kpi} points lost)", "causes":
           "Case root causes (by {kpi} points lost)", "theme": "Theme", "mentions":
           "Negative mentions", "share": "Share", "lost": "{kpi} points lost", "trend": "Trend",
           "quotes": "Representative quotes", "cases": "Cases", "opened": "Cases opened",
           "sla": "SLA compliance", "recovery": "Recovery rate", "none":
           "No dissatisfied feedback in this period.", "new": "new", "rising": "rising",
           "steady": "steady", "falling": "falling", "summary": "Summary",
           "mail": "Attached: the VOC review of {unit} for {period}.",
           "mean": "mean {item}", "timezone": "Time zone", "unit_code": "Unit code",
           "kpi_code": "KPI code"},
}


# --- periods ------------------------------------------------------------------------------------

def month_period(label: str, tz: str = TIMEZONE) -> tuple[dt.datetime, dt.datetime]:
    """[first moment, first moment of the next month) of 'YYYY-MM', in UTC."""
    try:
        year, month = (int(x) for x in label.split("-"))
        start = dt.datetime(year, month, 1, tzinfo=ZoneInfo(tz))
    except ValueError:
        raise InvalidInput("voc_reports.not_month_yyyy_mm", label=label, where="month") from None
    nxt = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=ZoneInfo(tz))
    return start.astimezone(dt.UTC), nxt.astimezone(dt.UTC)


def last_month(now: dt.datetime, tz: str = TIMEZONE) -> str:
    local = now.astimezone(ZoneInfo(tz))
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return f"{year:04d}-{month:02d}"


def date_period(start: dt.date, end: dt.date, tz: str = TIMEZONE) -> tuple[dt.datetime,
                                                                           dt.datetime]:
    """Days `start` to `end` (both included) in the business time zone, as UTC moments."""
    zone = ZoneInfo(tz)
    first = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    voc.check_period(first, last)
    return first, last


def review_timezone(ctx: Context, unit_code: str | None) -> str:
    """The unit's own time zone, or the installation's (TIYAN_TIMEZONE) for all units."""
    if unit_code:
        with ctx.db.read() as conn:
            zone = conn.execute(sa.select(t.org_unit.c.timezone)
                                .where(t.org_unit.c.code == unit_code)).scalar()
        if zone:
            return str(zone)
    return ctx.settings.timezone


def build_review(ctx: Context, actor: Actor, start: dt.datetime, end: dt.datetime,
                 unit_code: str | None, kpi: VocKpi | str = "nps",
                 tz: str | None = None) -> voc.VocReview:
    from tiyan.services.cases import root_causes

    actor.require(voc.PERMISSION)
    kpi = parse_kpi(kpi) if isinstance(kpi, str) else kpi
    with ctx.db.read() as conn:
        unit_id = org.unit_id_by_code(conn, unit_code) if unit_code else None
        return voc.review(conn, actor, start=start, end=end, unit_id=unit_id,
                          causes=root_causes(ctx), now=ctx.now(), kpi=kpi,
                          timezone=tz or review_timezone(ctx, unit_code),
                          min_n=ctx.settings.min_n)


def kpi_label(kpi: VocKpi, locale: str, item_text: str | None = None) -> str:
    """NPS, CSAT, or the mean of a rated item named by its question text (`item_text`, in
    `locale`; its code only where no survey the reader may see asks it)."""
    if kpi.code in ("nps", "csat"):
        return kpi.code.upper()
    return TEXTS[locale]["mean"].format(item=item_text or kpi.item)


@dataclass(frozen=True)
class Names:
    """What a review's files call its KPI and unit, in one language: words, not codes."""

    kpi: str
    unit: str


def names_for(ctx: Context, actor: Actor, review: voc.VocReview, locale: str) -> Names:
    """The KPI label with the item's question text and the unit's name in `locale` (all one's
    units when the review has no unit); the question texts are those `actor` may see."""
    from tiyan.store.surveys import item_labels

    locale = locale if locale in TEXTS else "zh-CN"
    with ctx.db.read() as conn:
        item = item_labels(conn, actor, locale).get(review.kpi.item) \
            if review.kpi.kind == "mean" and review.kpi.code != "csat" else None
        unit = TEXTS[locale]["all"]
        if review.unit_code:
            found = org.unit_by_code(conn, review.unit_code)
            unit = found["name_zh"] if locale == "zh-CN" else found["name_en"]
    return Names(kpi_label(review.kpi, locale, item), unit)


def default_dates(now: dt.datetime, tz: str) -> tuple[dt.date, dt.date]:
    """Last calendar month in the time zone `tz`."""
    first, _ = month_period(last_month(now, tz), tz)
    local = first.astimezone(ZoneInfo(tz)).date()
    nxt = (local.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return local, nxt - dt.timedelta(days=1)


def parse_dates(start: str, end: str) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        raise InvalidInput("voc_reports.not_date_yyyy_mm", start=start, where="start") from None
    try:
        return first, dt.date.fromisoformat(end)
    except ValueError:
        raise InvalidInput("voc_reports.not_date_yyyy_mm_2", end=end, where="end") from None


def review_for(ctx: Context, actor: Actor, start: str, end: str, unit: str,
               kpi: str) -> tuple[voc.VocReview, dt.date, dt.date]:
    """The review of `unit` (empty: all one's units) for days `start`..`end` (both empty: last
    month) in the unit's own time zone, ranked by `kpi`."""
    actor.require(voc.PERMISSION)
    parsed = parse_kpi(kpi)
    tz = review_timezone(ctx, unit or None)
    first, last = parse_dates(start, end) if start or end else default_dates(ctx.now(), tz)
    since, until = date_period(first, last, tz)
    review = build_review(ctx, actor, since, until, unit or None, parsed, tz)
    return review, first, last


# --- files --------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _period_text(review: voc.VocReview) -> str:
    zone = ZoneInfo(review.timezone)
    last = review.end.astimezone(zone) - dt.timedelta(seconds=1)
    return f"{review.start.astimezone(zone):%Y-%m-%d} – {last:%Y-%m-%d}"


def _kpi(value: float | None, n: int, min_n: int) -> str:
    """The KPI, or its n where it is under the minimum n."""
    return _num(value) if value is not None or n == 0 else f"n={n} < {min_n}"


def _before_text(review: voc.VocReview) -> str:
    days = review.before_days()
    return "" if days is None else f"{days[0].isoformat()} – {days[1].isoformat()}"


def summary_rows(review: voc.VocReview, locale: str, names: Names) -> list[tuple[str, str]]:
    """The summary: words in the label column and the values; the unit and KPI codes come
    after, each in its own row, for whoever matches the file to other data."""
    w = words(locale, names)
    label = names.kpi
    return [
        (w["period"], _period_text(review)), (w["timezone"], review.timezone),
        (w["unit"], names.unit), (w["responses"], str(review.responses)),
        (label, f"{_kpi(review.score, review.responses, review.min_n)} ({w['before']} "
                f"{_before_text(review)}: "
                f"{_kpi(review.score_before, review.responses_before, review.min_n)})"),
        (w["opened"], str(review.cases_opened)), (w["sla"], _pct(review.sla.rate)),
        (w["recovery"], _pct(review.recovery.rate)),
        (w["unit_code"], review.unit_code or ""), (w["kpi_code"], review.kpi.code),
    ]


def words(locale: str, names: Names) -> dict[str, str]:
    """The export texts with the review's KPI filled in."""
    return {k: v.replace("{kpi}", names.kpi) for k, v in TEXTS[locale].items()}


def excel_bytes(review: voc.VocReview, locale: str, names: Names) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    w = words(locale, names)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = w["summary"][:31]
    append_row(sheet, [w["title"]])
    sheet["A1"].font = Font(bold=True, size=14)
    for row in summary_rows(review, locale, names):
        append_row(sheet, row)
    for title, themes in ((w["aspects"], review.aspects), (w["causes"], review.causes)):
        ws = book.create_sheet(title[:31].replace("/", "-"))
        append_row(ws, [w["theme"], "code", w["mentions"], w["share"],
                        names.kpi, w["lost"], w["trend"], w["before"],
                        w["quotes"]])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for x in voc.as_rows(themes, locale):
            append_row(ws, [x["name"], x["code"], x["mentions"], round(x["share"], 4),
                            None if x["kpi_with"] is None else round(x["kpi_with"], 2),
                            round(x["points_lost"], 2), w[x["trend"]], x["before"],
                            "\n".join(x["quotes"])])
        ws.column_dimensions["A"].width = 24
        ws.column_dimensions["I"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def find_font(configured: str | None) -> tuple[str, int]:
    """A font file with CJK glyphs and, for a collection, the index of its Simplified Chinese
    face."""
    places = [configured] if configured else list(FONT_PLACES)
    for place in places:
        if place and Path(place).is_file():
            return place, 2 if "NotoS" in Path(place).name and place.endswith(".ttc") else 0
    raise FontMissing("voc_reports.no_font_chinese_glyphs", where="TIYAN_PDF_FONT")


class FontMissing(TiyanError):
    code = "font_missing"
    status = 503


def pdf_bytes(review: voc.VocReview, locale: str, font: tuple[str, int], names: Names) -> bytes:
    from fpdf import FPDF

    w = words(locale, names)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", fname=font[0], collection_font_number=font[1])
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 10, w["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    for label, value in summary_rows(review, locale, names):
        pdf.cell(45, 6, label)
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    for title, themes in ((w["aspects"], review.aspects), (w["causes"], review.causes)):
        pdf.ln(4)
        pdf.set_font("cjk", size=13)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        if not themes:
            pdf.cell(0, 6, w["none"], new_x="LMARGIN", new_y="NEXT")
        for x in voc.as_rows(themes, locale)[:15]:
            pdf.multi_cell(0, 5, f"{x['name']} · {w['mentions']} {x['mentions']} · "
                                 f"{w['share']} {_pct(x['share'])} · {w['lost']} "
                                 f"{x['points_lost']:.1f} · {w[x['trend']]}",
                           new_x="LMARGIN", new_y="NEXT")
            for quote in x["quotes"]:
                pdf.set_x(pdf.l_margin + 6)
                pdf.multi_cell(0, 5, f"“{quote}”", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- monthly e-mail -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Subscription:
    user_id: int
    email: str
    unit_code: str | None
    locale: str
    last_sent: str | None = None  # 'YYYY-MM'
    kpi: str = "nps"

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "email": self.email, "unit_code": self.unit_code,
                "locale": self.locale, "last_sent": self.last_sent, "kpi": self.kpi}


def subscriptions(conn: sa.Connection) -> list[Subscription]:
    return [Subscription(**raw) for raw in app_settings.get_value(conn, SUBSCRIPTIONS) or []]


def subscription_of(ctx: Context, actor: Actor) -> Subscription | None:
    with ctx.db.read() as conn:
        return next((s for s in subscriptions(conn) if s.user_id == actor.user_id), None)


def do_subscribe(ctx: Context, actor: Actor, *, unit_code: str | None, locale: str,
                 kpi: str = "nps") -> None:
    """Mail the signed-in user the monthly VOC review of a unit (replaces their earlier one)."""
    actor.require(voc.PERMISSION)
    kpi = parse_kpi(kpi).code
    now = ctx.now()
    with ctx.db.write() as conn:
        if unit_code:
            unit_id = org.unit_id_by_code(conn, unit_code)
            if unit_id not in actor.scope.visibility(voc.PERMISSION).unit_ids:
                raise InvalidInput("voc_reports.unit_not_yours_see", unit_code=unit_code,
                                   where="unit")
        mine = [s for s in subscriptions(conn) if s.user_id != actor.user_id]
        mine.append(Subscription(actor.user_id, actor.email, unit_code or None,
                                 locale if locale in TEXTS else "zh-CN", kpi=kpi))
        app_settings.put_value(conn, SUBSCRIPTIONS, [s.to_json() for s in mine], now)
        _ensure_scheduled(conn, now, ctx.settings.timezone)


def do_unsubscribe(ctx: Context, actor: Actor) -> None:
    with ctx.db.write() as conn:
        current = subscriptions(conn)
        rest = [s.to_json() for s in current if s.user_id != actor.user_id]
        if len(rest) < len(current):  # unsubscribing the unsubscribed changes nothing
            app_settings.put_value(conn, SUBSCRIPTIONS, rest, ctx.now())


def next_send_time(now: dt.datetime, tz: str = TIMEZONE) -> dt.datetime:
    local = now.astimezone(ZoneInfo(tz))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return dt.datetime(year, month, 1, SEND_HOUR, tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def _ensure_scheduled(conn: sa.Connection, now: dt.datetime, tz: str) -> None:
    """Queue the monthly sending unless it is queued (one row, whoever asks)."""
    enqueue(conn, MONTHLY, {}, run_at=next_send_time(now, tz), unique_key=MONTHLY)


@job_handler(MONTHLY, lane=BULK, one_at_a_time=True)
def monthly_job(ctx: Context, payload: dict[str, Any]) -> None:
    """Send last month's reports; the periodic row then waits for the next month (a job with a
    `month` sends that month once)."""
    tz = ctx.settings.timezone
    failures = send_monthly(ctx, payload.get("month") or last_month(ctx.now(), tz))
    if failures and not payload.get("month"):
        raise RetryLater(ctx.now() + retry_delay(1), "; ".join(failures))
    if not payload.get("month"):
        raise RetryLater(next_send_time(ctx.now(), tz), "runs again next month")


def send_monthly(ctx: Context, month: str) -> list[str]:
    """Mail `month`'s review to every subscriber who has not had it; returns the errors."""
    from tiyan.store.scoped import load_actor

    with ctx.db.read() as conn:
        subs = subscriptions(conn)
    font = find_font(ctx.settings.pdf_font)
    errors = []
    for sub in subs:
        if sub.last_sent == month:
            continue
        with ctx.db.read() as conn:
            actor = load_actor(conn, sub.user_id)
        tz = review_timezone(ctx, sub.unit_code)
        start, end = month_period(month, tz)
        review = build_review(ctx, actor, start, end, sub.unit_code, sub.kpi, tz)
        words = TEXTS[sub.locale]
        names = names_for(ctx, actor, review, sub.locale)
        period = month_text(month, tz, sub.locale)
        error = _mail(ctx, sub.email, f"[tiyan] {words['title']} {period} · {names.unit}",
                      words["mail"].format(unit=names.unit, period=period),
                      pdf_bytes(review, sub.locale, font, names), f"voc-{month}.pdf")
        if error:
            errors.append(f"{sub.email}: {error}")
            continue
        with ctx.db.write() as conn:
            now_subs = [s.to_json() | ({"last_sent": month} if s.user_id == sub.user_id else {})
                        for s in subscriptions(conn)]
            app_settings.put_value(conn, SUBSCRIPTIONS, now_subs, ctx.now())
        do_audit_export(ctx, actor, Export("voc", "pdf", filters={
            "start": month, "unit": sub.unit_code, "kpi": sub.kpi}), Origin("mail"))
    return errors


def month_text(month: str, tz: str, locale: str) -> str:
    """A month ('YYYY-MM') as the reader writes it, with the zone its days are counted in:
    "2026年11月（Asia/Shanghai）", "Nov 2026 (Asia/Shanghai)"."""
    from babel.dates import format_skeleton

    first = dt.date.fromisoformat(f"{month}-01")
    text = format_skeleton("yMMM", first, locale=locale.replace("-", "_"))
    return f"{text}（{tz}）" if locale == "zh-CN" else f"{text} ({tz})"


def _mail(ctx: Context, to: str, subject: str, body: str, pdf: bytes,
          filename: str) -> str | None:
    s = ctx.settings
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = s.smtp_from, to, subject
    message.set_content(body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    try:
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None
