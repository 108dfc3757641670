"""People correct the text analysis, and an installation adapts the shipped models to them.

- `do_correct_text`: an analyst, CX manager or administrator corrects a comment's sentiment or
  one of its aspects (change the label, remove it, add one the models missed). Only on responses
  in their scope (404 outside); audited; the response is analysed again at once, with every
  correction of it laid over the models' reading (tiyan.domain.text_corrections), and so on every
  later re-analysis: a correction is never overwritten.
- `do_adapt`: fits an adaptation on every correction (tiyan.text.adaptation; the shipped models
  stay untouched), stores it as a new version, makes it the active one and analyses every text
  again. `do_rollback` makes the version before it (or none) active and analyses again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.text_corrections import TextCorrection, check_correction
from tiyan.errors import InvalidInput, NotFound
from tiyan.services.jobs import BULK, enqueue, job_handler
from tiyan.store import audit, responses
from tiyan.store import text_analysis as analyses
from tiyan.store import text_corrections as store

if TYPE_CHECKING:
    from tiyan.text.adaptation import Adaptation

TEXT_ADAPT = "text.adapt"
_LOADED: dict[int, Adaptation] = {}  # adaptations by id, loaded once per process


def do_correct_text(ctx: Context, actor: Actor, public_id: str,
                    correction: TextCorrection) -> None:
    """Store `actor`'s correction of a text of response `public_id` and analyse it again."""
    from tiyan.services.text_analysis import analyze_responses

    with ctx.db.write() as conn:
        response, analysis = _analysed_text(conn, actor, public_id, correction.question_key)
        actor.require(Permission.CORRECT_TEXT, response["unit_id"])
        industry = industry_of_unit(ctx, conn, response["unit_id"])
        checked = check_correction(correction, known_aspects=aspect_names(industry),
                                   text=analysis["redacted_text"])
        model_label = analysis["sentiment_label"] if checked.aspect is None else next(
            (a["label"] for a in analysis["aspects"] if a["aspect"] == checked.aspect), None)
        store.save(conn, response["id"], checked, model_label=model_label,
                   text=analysis["redacted_text"], language=analysis["language"],
                   industry=industry, user_id=actor.user_id, now=ctx.now())
        audit.record(conn, at=ctx.now(), user_id=actor.user_id, action="text.correct",
                     entity="response", entity_id=public_id, unit_id=response["unit_id"],
                     detail={"question": checked.question_key, "aspect": checked.aspect,
                             "from": model_label, "to": checked.label})
    analyze_responses(ctx, [response["id"]])


def do_withdraw_correction(ctx: Context, actor: Actor, public_id: str, question_key: str,
                           aspect: str | None) -> None:
    """Take a correction back: the models' reading of that text (or aspect) applies again."""
    from tiyan.services.text_analysis import analyze_responses

    with ctx.db.write() as conn:
        response, _ = _analysed_text(conn, actor, public_id, question_key)
        actor.require(Permission.CORRECT_TEXT, response["unit_id"])
        if not store.withdraw(conn, response["id"], question_key, aspect or None):
            raise NotFound("text_corrections.no_such_correction",
                           where="aspect" if aspect else "label")
        audit.record(conn, at=ctx.now(), user_id=actor.user_id, action="text.correct.withdraw",
                     entity="response", entity_id=public_id, unit_id=response["unit_id"],
                     detail={"question": question_key, "aspect": aspect or None})
    analyze_responses(ctx, [response["id"]])


def _analysed_text(conn: Connection, actor: Actor, public_id: str,
                   question_key: str) -> tuple[Any, dict[str, Any]]:
    response = responses.get_response(conn, actor, public_id[:64])  # 404 outside the scope
    found = next((a for a in analyses.analyses_for(conn, [response["id"]])[response["id"]]
                  if a["question_key"] == question_key), None)
    if found is None:
        raise NotFound("text_corrections.response_no_analysed_text", public_id=public_id[:64],
                       question_key=question_key[:130], where="question_key")
    return response, found


def industry_of_unit(ctx: Context, conn: Connection, unit_id: int) -> str | None:
    """The industry whose taxonomy a unit's comments are read with (its own or an ancestor's,
    else TIYAN_TEXT_INDUSTRY; None when that names no taxonomy)."""
    from tiyan.text.taxonomy import INDUSTRIES

    industry = analyses.unit_industries(conn).get(unit_id) or ctx.settings.text_industry
    return industry if industry in INDUSTRIES else None


def aspect_names(industry: str | None, locale: str = "zh-CN") -> dict[str, str]:
    """The aspects a comment of `industry` may be corrected to, code → name."""
    if industry is None:
        return {}
    from tiyan.text.taxonomy import load_taxonomy

    return {a.code: (a.name_zh if locale == "zh-CN" else a.name_en)
            for a in load_taxonomy(industry).aspects}


def corrections_by_text(conn: Connection, response_id: int
                        ) -> dict[str, list[store.StoredCorrection]]:
    """A response's corrections by question key (what its page shows)."""
    return {key: found for (_, key), found in store.for_responses(conn, [response_id]).items()}


# --- adaptation -----------------------------------------------------------------------------


def active_adaptation(conn: Connection) -> tuple[int | None, Adaptation | None]:
    """The active adaptation's id and the adaptation (None, None: the shipped models alone)."""
    adaptation_id = store.active_id(conn)
    if adaptation_id is None:
        return None, None
    if adaptation_id not in _LOADED:
        data = store.adaptation_model(conn, adaptation_id)
        if data is None:
            return None, None
        from tiyan.text.adaptation import Adaptation

        _LOADED[adaptation_id] = Adaptation.from_bytes(data)
    return adaptation_id, _LOADED[adaptation_id]


@dataclass(frozen=True)
class AdaptReport:
    adaptation_id: int
    corrections: int
    summary: dict[str, Any]


def fit_adaptation(corrections: list[store.StoredCorrection]) -> Adaptation:
    """The adaptation these corrections teach (see tiyan.text.adaptation)."""
    from tiyan.domain.text_corrections import apply_corrections
    from tiyan.text.adaptation import (
        Adaptation,
        AspectChange,
        Example,
        Reviewed,
        fit_layer,
        learn_terms,
    )
    from tiyan.text.pipeline import analyze_many
    from tiyan.text.segment import segment
    from tiyan.text.taxonomy import load_taxonomy

    sentiment: dict[str, list[Example]] = {}
    aspect: dict[str, list[Example]] = {}
    changes: list[AspectChange] = []
    reviewed: list[Reviewed] = []
    by_text: dict[tuple[int, str], list[store.StoredCorrection]] = {}
    for c in corrections:
        by_text.setdefault((c.response_id, c.correction.question_key), []).append(c)
    by_industry: dict[str | None, list[list[store.StoredCorrection]]] = {}
    for group in by_text.values():
        by_industry.setdefault(group[-1].industry, []).append(group)
    for industry, texts in by_industry.items():
        # the shipped models' reading of each corrected text, without any adaptation
        readings = analyze_many([group[-1].text for group in texts], industry)
        taxonomy = load_taxonomy(industry) if industry else None
        for group, reading in zip(texts, readings, strict=True):
            text = group[-1].text
            language = "en" if reading.language == "en" else "zh"
            final = apply_corrections(reading.sentiment.label, reading.sentiment.score,
                                      [a.to_dict() for a in reading.aspects], text,
                                      [c.correction for c in group])
            reviewed.append(Reviewed(text, frozenset(a["aspect"] for a in final.aspects)))
            for c in group:
                fix = c.correction
                if fix.aspect is None:
                    if fix.label is not None:
                        sentiment.setdefault(language, []).append(
                            Example(text, reading.sentiment.score, fix.label,
                                    base_label=reading.sentiment.label))
                    continue
                found = next((a for a in reading.aspects if a.aspect == fix.aspect), None)
                if fix.label is None:
                    if found is not None and taxonomy is not None:
                        terms = tuple(m.term for m in taxonomy.find_mentions(found.evidence)
                                      if m.aspect.code == fix.aspect)
                        changes.append(AspectChange(fix.aspect, False, found.evidence, terms))
                    continue
                evidence = fix.evidence or (found.evidence if found else text)
                base = found.score if found is not None else reading.sentiment.score
                aspect.setdefault(language, []).append(
                    Example(evidence, base, fix.label, fix.aspect,
                            found.label if found is not None else None))
                if found is None and fix.evidence:
                    changes.append(AspectChange(fix.aspect, True, fix.evidence))
    added, dropped = learn_terms(changes, reviewed, segment)
    sentiment_layers = {lang: layer for lang, examples in sentiment.items()
                        if (layer := fit_layer(examples)) is not None}
    aspect_layers = {lang: layer for lang, examples in aspect.items()
                     if (layer := fit_layer(examples)) is not None}
    return Adaptation(sentiment_layers, aspect_layers, added, dropped)


def do_adapt(ctx: Context, actor: Actor | None, *, reanalyze: bool = True,
             progress: Callable[[int, int], None] | None = None,
             user_id: int | None = None) -> AdaptReport:
    """Fit an adaptation on every correction, make it active and (by default) analyse every
    text again. `actor` None: the command line or the background job of the administrators'
    button (`user_id`: who pressed it)."""
    if actor is not None:
        actor.require(Permission.ADAPT_TEXT_MODELS)
        user_id = actor.user_id
    with ctx.db.read() as conn:
        corrections = store.every_correction(conn)
    if not corrections:
        raise InvalidInput("text_corrections.no_corrections_adapt_yet", where="corrections")
    adaptation = fit_adaptation(corrections)
    summary = adaptation.summary()
    now = ctx.now()
    with ctx.db.write() as conn:
        adaptation_id = store.add_adaptation(conn, model=adaptation.to_bytes(),
                                             corrections=len(corrections), summary=summary,
                                             user_id=user_id, now=now)
        store.set_active(conn, adaptation_id, now)
        audit.record(conn, at=now, user_id=user_id,
                     action="text.adapt", entity="text_adaptation", entity_id=adaptation_id,
                     detail={"corrections": len(corrections)})
    if reanalyze:
        _reanalyze(ctx, progress)
    return AdaptReport(adaptation_id, len(corrections), summary)


def do_rollback(ctx: Context, actor: Actor | None, *, reanalyze: bool = True,
                progress: Callable[[int, int], None] | None = None,
                user_id: int | None = None) -> int | None:
    """Make the adaptation before the active one active (none before it: the shipped models
    alone) and analyse again; returns the id now active."""
    if actor is not None:
        actor.require(Permission.ADAPT_TEXT_MODELS)
        user_id = actor.user_id
    now = ctx.now()
    with ctx.db.write() as conn:
        current = store.active_id(conn)
        if current is None:
            raise InvalidInput("text_corrections.no_adaptation_active_shipped",
                               where="adaptation")
        earlier = [row["id"] for row in store.adaptations(conn) if row["id"] < current]
        target = earlier[0] if earlier else None
        store.set_active(conn, target, now)
        audit.record(conn, at=now, user_id=user_id,
                     action="text.adapt.rollback", entity="text_adaptation",
                     entity_id=current, detail={"now_active": target})
    if reanalyze:
        _reanalyze(ctx, progress)
    return target


def _reanalyze(ctx: Context, progress: Callable[[int, int], None] | None) -> None:
    from tiyan.services.text_analysis import reanalyze

    reanalyze(ctx, restart=True, batch_size=1000, progress=progress)


def request_adapt(ctx: Context, actor: Actor, *, rollback: bool = False) -> None:
    """The administrators' button: fit (or roll back) and re-analyse in the background."""
    actor.require(Permission.ADAPT_TEXT_MODELS)
    with ctx.db.write() as conn:
        if not rollback and store.count(conn) == 0:
            raise InvalidInput("text_corrections.no_corrections_adapt_yet", where="corrections")
        if rollback and store.active_id(conn) is None:
            raise InvalidInput("text_corrections.no_adaptation_active_shipped",
                               where="adaptation")
        enqueue(conn, TEXT_ADAPT, {"rollback": rollback, "user_id": actor.user_id},
                run_at=ctx.now())


@job_handler(TEXT_ADAPT, lane=BULK)
def adapt_job(ctx: Context, payload: dict[str, Any]) -> None:
    user_id = payload.get("user_id")
    if payload.get("rollback"):
        do_rollback(ctx, None, user_id=user_id)
    else:
        do_adapt(ctx, None, user_id=user_id)


def correction_count(conn: Connection) -> int:
    return store.count(conn)


def adaptation_history(conn: Connection) -> tuple[int | None, list[Any]]:
    """(active id, every adaptation newest first) for the administrators' page."""
    return store.active_id(conn), store.adaptations(conn)
