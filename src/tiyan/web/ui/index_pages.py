"""Composite indices (zh-CN/en): the organisation's list and a form to define one (users who
manage surveys). The form's items are rows — an item picked by its question text, its weight,
and a scale only for an item no survey has — with a button for more rows (nothing saved);
"Edit" fills the form with an index's rows. The overview shows a tile per index
(analytics/dashboard)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.domain.access import Permission
from tiyan.errors import InvalidInput
from tiyan.services import indices
from tiyan.store.indices import item_scales
from tiyan.web.bodies import PostedForm
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.driver_pages import item_labels
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
BLANK_ROWS = 3  # empty rows under the filled ones
MAX_ROWS = 60
_LINE = re.compile(r"items, line (\d+)")


def _form(request: Request, ctx: ContextDep, actor: PageActor, *, saved: str | None = None,
          error: InvalidInput | None = None, values: dict[str, Any] | None = None,
          row_errors: dict[int, str] | None = None) -> HTMLResponse:
    values = dict(values or {})
    with ctx.db.read() as conn:
        names = item_labels(conn, actor, translator(request).locale)
        scales = item_scales(conn, names)
    rows = list(values.get("rows") or [])
    rows += [{"item": "", "weight": "", "min": "", "max": ""}] * BLANK_ROWS
    values["rows"] = rows[:MAX_ROWS]
    choices = sorted(((code, names[code], scales[code]) for code in scales),
                     key=lambda c: c[1])
    return render(request, "dashboard_indices.html", actor=actor, item_names=names,
                  choices=choices, status_code=error.status if error else 200,
                  definitions=indices.list_indices(ctx), saved=saved, error=error,
                  row_errors=row_errors or {}, values=values)


@router.get("/dashboard/indices", response_class=HTMLResponse)
def indices_page(request: Request, ctx: ContextDep, actor: PageActor,
                 saved: str | None = None, edit: str | None = None) -> HTMLResponse:
    actor.require(Permission.MANAGE_SURVEYS)
    values: dict[str, Any] = {}
    found = next((d for d in indices.list_indices(ctx) if d.code == edit), None)
    if found is not None:  # its rows; a scale only where it is not the surveys' own
        with ctx.db.read() as conn:
            known = item_scales(conn, found.item_codes())
        values = {"code": found.code, "name_zh": found.name_zh, "name_en": found.name_en,
                  "rows": [{"item": i.key, "weight": f"{i.weight:g}",
                            **({"min": "", "max": ""}
                               if known.get(i.key) == (i.scale_min, i.scale_max) else
                               {"min": f"{i.scale_min:g}", "max": f"{i.scale_max:g}"})}
                           for i in found.items]}
    return _form(request, ctx, actor, saved=saved, values=values)


def _rows(form: Any) -> list[dict[str, str]]:
    count = min(int(str(form.get("rows") or "0")) if str(form.get("rows") or "").isdigit()
                else 0, MAX_ROWS)
    return [{key: str(form.get(f"{key}{i}") or "").strip()[:100]
             for key in ("item", "weight", "min", "max")} for i in range(count)]


@router.post("/dashboard/indices")
def indices_save(request: Request, ctx: ContextDep, actor: PageActor,
                 form: PostedForm) -> Response:
    """Define an index (or replace the one with this code); a bad field: the form again, 422.
    The items come as rows (`item0`, `weight0`, `min0`, `max0`, …) or as the text lines
    `item_code weight [min max]` in `items`."""
    actor.require(Permission.MANAGE_SURVEYS)
    fields = {k: str(form.get(k) or "")[:500] for k in ("code", "name_zh", "name_en")}
    rows = _rows(form)
    filled = [(i, r) for i, r in enumerate(rows) if r["item"]]
    values = {**fields, "rows": [r for r in rows if any(r.values())]}
    if form.get("action") == "more":
        values["rows"] = rows
        return _form(request, ctx, actor, values=values)
    row_errors: dict[int, str] = {}
    with ctx.db.read() as conn:
        known = item_scales(conn, [r["item"] for _, r in filled])
    for i, r in filled:
        if not _positive(r["weight"]):
            row_errors[i] = "indices.err.weight"
        elif bool(r["min"]) != bool(r["max"]) or (r["min"] and not (
                _number(r["min"]) is not None and _number(r["max"]) is not None
                and _number(r["min"]) < _number(r["max"]))):  # type: ignore[operator]
            row_errors[i] = "indices.err.scale"
        elif not r["min"] and r["item"] not in known:
            row_errors[i] = "indices.err.no_scale"
    text = str(form.get("items") or "") if "items" in form else "\n".join(
        " ".join(p for p in (r["item"], r["weight"], r["min"], r["max"]) if p)
        for _, r in filled)
    try:
        if row_errors:
            raise InvalidInput("index_pages.some_item_rows_not", where="items")
        saved = indices.do_save_index(ctx, actor, fields["code"], fields["name_zh"],
                                      fields["name_en"], text[:20000])
    except InvalidInput as exc:
        line = _LINE.match(exc.where or "")
        if line and "items" not in form and 0 < int(line.group(1)) <= len(filled):
            row_errors.setdefault(filled[int(line.group(1)) - 1][0], "indices.err.row")
        values["rows"] = [r for r in rows if any(r.values())] if not row_errors else rows
        return _form(request, ctx, actor, error=exc, row_errors=row_errors, values={
            **values, "items": text})
    return RedirectResponse(f"/dashboard/indices?saved={saved.code}", status_code=303)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _positive(text: str) -> bool:
    number = _number(text)
    return number is not None and 0 < number < 1e6


@router.post("/dashboard/indices/{code}/delete")
def indices_delete(request: Request, ctx: ContextDep, actor: PageActor, code: str) -> Response:
    actor.require(Permission.MANAGE_SURVEYS)
    indices.do_delete_index(ctx, actor, code)
    return RedirectResponse("/dashboard/indices", status_code=303)
