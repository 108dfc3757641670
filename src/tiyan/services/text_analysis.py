"""Text analysis in the product: every comment analysed on arrival, and re-analysis in bulk.

A stored response or feedback batch enqueues a `text.analyze` job (tiyan.services.arrivals); the
job reads the record's free texts, runs the engine (tiyan.text, models loaded once per process)
with the taxonomy of the unit's industry and stores language, sentiment, aspects, keywords and the
redacted copy with the model version, with people's corrections laid over the models' reading
(and the installation's adaptation to them applied; tiyan.services.text_corrections).
`reanalyze()` does the same over every stored text (or those since a date), in batches, with a
checkpoint so an interrupted run continues where it stopped.

The industry of a record is the `industry` attribute of its unit or of the nearest ancestor
(e.g. `{"industry": "hotel"}` on a hotel group); where no unit says, `TIYAN_TEXT_INDUSTRY`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.text_corrections import apply_corrections
from tiyan.errors import InvalidInput
from tiyan.services.arrivals import TEXT_ANALYZE
from tiyan.services.jobs import ClaimedJob, batch_job_handler, in_bulk_work, yield_to_realtime
from tiyan.services.text_corrections import active_adaptation
from tiyan.store import text_analysis as store
from tiyan.store import text_corrections as corrections_store

if TYPE_CHECKING:
    from tiyan.text.adaptation import Adaptation

ENGINE = "tiyan-text"


@batch_job_handler(TEXT_ANALYZE)
def analyze_batch(ctx: Context, jobs: list[ClaimedJob]) -> dict[int, Exception]:
    """Analyse the texts of every job's responses with one model call (per industry) and store
    them in one transaction."""
    from tiyan.services.alerts import enqueue_evaluations

    groups = [[int(i) for i in job.payload.get("response_ids", [])] for job in jobs]
    # alert rules look at sentiment and aspects: evaluate them once the analysis is stored,
    # one evaluation job per analysis job (so a response's rules fail alone)
    analyze_responses(ctx, [i for ids in groups for i in ids],
                      then=lambda conn: enqueue_evaluations(conn, groups, ctx.now()))
    return {}


def analyze_responses(ctx: Context, response_ids: Sequence[int],
                      then: Callable[[Connection], None] | None = None) -> int:
    """Analyse (again) the free texts of these responses and store the results, replacing any
    earlier ones; `then` runs in the same transaction. Returns how many texts were analysed."""
    with ctx.db.read() as conn:
        texts = store.texts_of(conn, response_ids, ctx.db.immutable_cache)
        if not texts and then is None:
            return 0  # e.g. a response without a comment: nothing to store
        industries = store.unit_industries(conn)
        corrections = corrections_store.for_responses(conn, response_ids)
        adaptation_id, adaptation = active_adaptation(conn)
    results = [(model_version(industry, adaptation_id),
                _corrected(_analyse(group, industry, adaptation), corrections))
               for industry, group
               in _by_industry(texts, industries, ctx.settings.text_industry).items()]
    for attempt in (1, 2):
        try:
            with ctx.db.write() as conn:
                store.delete_analyses(conn, list(response_ids))
                for version, rows in results:
                    store.insert_analyses(conn, rows, version, ctx.now(),
                                          ctx.db.immutable_cache)
                if then is not None:
                    then(conn)
            break
        except IntegrityError:
            # Another process stored the same texts' analysis at the same moment (a new
            # response's job while a re-analysis reached it); replace theirs on a second try.
            if attempt == 2:
                raise
    return len(texts)


def _by_industry(texts: Sequence[store.TextToAnalyse], industries: dict[int, str | None],
                 default: str | None) -> dict[str | None, list[store.TextToAnalyse]]:
    groups: dict[str | None, list[store.TextToAnalyse]] = {}
    for item in texts:
        industry = _known(industries.get(item.unit_id)) or _known(default)
        groups.setdefault(industry, []).append(item)
    return groups


def _known(industry: str | None) -> str | None:
    from tiyan.text.taxonomy import INDUSTRIES

    return industry if industry in INDUSTRIES else None


# Texts per model call in bulk work: between two calls a bulk job lets the real-time lane of its
# process go first (jobs.yield_to_realtime), so an alert waits for at most one such slice.
BULK_SLICE_TEXTS = 50


def _analyse(texts: Sequence[store.TextToAnalyse], industry: str | None,
             adaptation: Adaptation | None = None) -> list[store.AnalysisRow]:
    from tiyan.text.pipeline import TextAnalysis, analyze_many

    size = BULK_SLICE_TEXTS if in_bulk_work() else max(len(texts), 1)
    results: list[TextAnalysis] = []
    for start in range(0, len(texts), size):
        if start:
            yield_to_realtime()
        results += analyze_many([item.text for item in texts[start:start + size]], industry,
                                adaptation)
    return [
        store.AnalysisRow(
            response_id=item.response_id, question_key=item.question_key,
            language=found.language, sentiment_label=found.sentiment.label,
            sentiment_score=float(found.sentiment.score), redacted_text=found.redacted,
            keywords=list(found.keywords), aspects=[a.to_dict() for a in found.aspects],
        )
        for item, found in zip(texts, results, strict=True)
    ]


def _corrected(rows: list[store.AnalysisRow],
               corrections: dict[tuple[int, str], list[corrections_store.StoredCorrection]]
               ) -> list[store.AnalysisRow]:
    """The rows with people's corrections laid over them (tiyan.domain.text_corrections)."""
    out = []
    for row in rows:
        found = corrections.get((row.response_id, row.question_key))
        if not found:
            out.append(row)
            continue
        reading = apply_corrections(row.sentiment_label, row.sentiment_score, row.aspects,
                                    row.redacted_text, [c.correction for c in found])
        out.append(dataclasses.replace(row, sentiment_label=reading.sentiment_label,
                                       sentiment_score=reading.sentiment_score,
                                       aspects=reading.aspects))
    return out


def model_version(industry: str | None, adaptation_id: int | None = None) -> str:
    """`tiyan-text:<12 hex of the model report and taxonomy>:<industry>`, with `+a<id>` when an
    adaptation to the installation's corrections was applied; changes on retraining, on editing
    the industry's taxonomy or on adapting."""
    adapted = f"+a{adaptation_id}" if adaptation_id is not None else ""
    return f"{ENGINE}:{_fingerprint(industry)}:{industry or 'none'}{adapted}"


@functools.cache
def _fingerprint(industry: str | None) -> str:
    from tiyan.text.sentiment import MODELS
    from tiyan.text.taxonomy import TAXONOMIES

    digest = hashlib.sha256()
    for path in [MODELS / "training_report.json",
                 *([TAXONOMIES / f"{industry}.yaml"] if industry else [])]:
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# --- re-analysis in bulk ------------------------------------------------------------------


@dataclass
class ReanalyzeReport:
    responses: int = 0
    texts: int = 0
    seconds: float = 0.0
    resumed_after: int | None = None

    @property
    def texts_per_second(self) -> float:
        return self.texts / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[int, int], None]  # (responses done in this batch, total to do)


def reanalyze(ctx: Context, *, since: dt.datetime | None = None, batch_size: int = 500,
              restart: bool = False, progress: Progress | None = None,
              stop_after_batches: int | None = None) -> ReanalyzeReport:
    """Analyse every stored text again (or those of records since `since`), batch by batch.

    After each batch a checkpoint (the last response id done) is committed with the results, so
    a run that is interrupted continues after the last finished batch when started again with
    the same `since`; `restart` ignores the checkpoint. `stop_after_batches` ends early (tests).
    """
    if batch_size < 1:
        raise InvalidInput("text_analysis.batch_size_must_least", where="--batch-size")
    since_key = since.isoformat() if since else None
    after_id = 0 if restart else _checkpoint(ctx, since_key)
    report = ReanalyzeReport(resumed_after=after_id or None)
    with ctx.db.read() as conn:
        total = store.count_responses_with_text(conn, since, after_id)
    started = time.perf_counter()
    batches = 0
    while stop_after_batches is None or batches < stop_after_batches:
        with ctx.db.read() as conn:
            ids = store.response_ids_after(conn, after_id, batch_size, since)
        if not ids:
            with ctx.db.write() as conn:
                store.clear_checkpoint(conn)
            break
        after_id = ids[-1]
        report.texts += analyze_responses(ctx, ids, then=functools.partial(
            store.save_checkpoint, since=since_key, after_id=after_id, now=ctx.now()))
        report.responses += len(ids)
        batches += 1
        if progress is not None:
            progress(len(ids), total)
    report.seconds = time.perf_counter() - started
    return report


def _checkpoint(ctx: Context, since_key: str | None) -> int:
    with ctx.db.read() as conn:
        saved = store.checkpoint(conn)
    if saved is not None and saved.get("since") == since_key:
        return int(saved.get("after_id", 0))
    return 0
