"""`tiyan text …`: analyse a file of comments, and retrain the shipped text models.

    tiyan text analyze INPUT --output OUT.jsonl [--text-column text] [--id-column id] [--industry X]
                       [--jobs N]
    tiyan text prepare [--industry X ...]
    tiyan text train [--data /path/to/shared/data] [--output src/tiyan/text/models]
    tiyan text reanalyze [--since DATE] [--batch-size N] [--restart] [--db URL]
    tiyan text adapt [--rollback] [--no-reanalyze] [--db URL]

Imports stay lean (the analysis pipeline is imported inside the command, scikit-learn only by
`train`, the database only by `reanalyze`), because the whole process is what users time;
`analyze` itself lives in `analyze_command`, which also runs a plain `analyze` line without
building the typer app.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tiyan.text.analyze_command import analyze_from_argv, run_analyze

if TYPE_CHECKING:
    from tiyan.context import Context
    from tiyan.services.text_analysis import ReanalyzeReport

INDUSTRY_HELP = (
    "Aspect taxonomy: car_aftersales, car_product, hotel, restaurant, retail, banking or telecom "
    "(none: no aspects)"
)

app = typer.Typer(
    help="Text analytics: sentiment, aspects, keywords, PII redaction.", no_args_is_help=True
)


@app.command()
def analyze(
    input: Annotated[Path, typer.Argument(help="Comments as .csv, .jsonl or .xlsx")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write one JSON line per row")
    ],
    text_column: Annotated[str, typer.Option(help="Column holding the comment")] = "text",
    id_column: Annotated[str, typer.Option(help="Column holding the row id")] = "id",
    industry: Annotated[str | None, typer.Option(help=INDUSTRY_HELP)] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1,
                     help="Processes sharing the work (default: one per idle CPU on big files)"),
    ] = None,
) -> None:
    """Analyse every comment of INPUT and write one JSON line per row to OUTPUT."""
    status = run_analyze(input, output, text_column, id_column, industry, jobs)
    if status:
        raise typer.Exit(code=status)


@app.command()
def prepare(
    industry: Annotated[
        list[str] | None,
        typer.Option(help="Only these industries (repeatable; default: every industry)"),
    ] = None,
) -> None:
    """Build the cache files `analyze` reads (lexicons, IDF tables, taxonomies), so that the
    first analysis on this machine is as fast as the later ones; `make setup` runs it."""
    from tiyan.text.prepare import prepare_caches

    try:
        report = prepare_caches(industry or None, log=lambda line: typer.echo(line, err=True))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"text caches ready in {report.folder} ({report.seconds:.1f} s; "
               f"{len(report.built)} files written)")


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Folder of the labelled corpora (shared/data)")] = Path(
        "../shared/data"
    ),
    output: Annotated[
        Path | None, typer.Option(help="Where to write the models (default: shipped)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
) -> None:
    """Retrain every shipped text model from the corpora in DATA (fit on train, choose on dev)."""
    from tiyan.text.train import TrainingDataError, train_all

    try:
        report = train_all(data, output, seed=seed, log=lambda line: typer.echo(line, err=True))
    except TrainingDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(json.dumps(report, ensure_ascii=False, indent=1))


@app.command()
def reanalyze(
    since: Annotated[
        str | None,
        typer.Option(help="Only records submitted on or after this day (YYYY-MM-DD, UTC) or "
                          "time (ISO 8601 with zone)"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Responses per batch")] = 500,
    restart: Annotated[
        bool, typer.Option(help="Start from the top even if an earlier run was interrupted")
    ] = False,
    db: Annotated[
        str | None, typer.Option("--db", envvar="TIYAN_DB_URL", help="Database URL")
    ] = None,
) -> None:
    """Analyse every stored comment again (after a model or taxonomy change); resumable."""
    from tiyan.context import open_context
    from tiyan.errors import TiyanError

    try:
        ctx = open_context(db)
        report = reanalyze_with_progress(ctx, since=_since(since), batch_size=batch_size,
                                         restart=restart)
    except TiyanError as exc:
        where = f" ({exc.where})" if exc.where else ""
        typer.secho(f"error: {exc.message}{where}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"re-analysed {report.texts:,} texts of {report.responses:,} records in "
               f"{report.seconds:.1f} s ({report.texts_per_second:,.0f} texts/s)")


@app.command()
def adapt(
    rollback: Annotated[
        bool, typer.Option(help="Go back to the adaptation before the active one (or none)")
    ] = False,
    reanalyze: Annotated[
        bool, typer.Option(help="Analyse every stored comment again afterwards")
    ] = True,
    db: Annotated[
        str | None, typer.Option("--db", envvar="TIYAN_DB_URL", help="Database URL")
    ] = None,
) -> None:
    """Adapt the text analysis to the corrections people made (the shipped models stay as they
    are), or roll the adaptation back; then analyse every comment again."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from tiyan.context import open_context
    from tiyan.errors import TiyanError
    from tiyan.services import text_corrections

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    try:
        ctx = open_context(db)
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task("analysing comments again", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, total=total, advance=done)

            if rollback:
                now_active = text_corrections.do_rollback(ctx, None, reanalyze=reanalyze,
                                                          progress=advance)
            else:
                report = text_corrections.do_adapt(ctx, None, reanalyze=reanalyze,
                                                   progress=advance)
    except TiyanError as exc:
        where = f" ({exc.where})" if exc.where else ""
        typer.secho(f"error: {exc.message}{where}", fg="red", err=True)
        raise typer.Exit(1) from None
    if rollback:
        typer.echo("rolled back: " + (f"adaptation {now_active} is in use" if now_active
                                      else "the shipped models alone are in use"))
    else:
        learned = report.summary
        typer.echo(f"adaptation {report.adaptation_id} is in use, fitted on "
                   f"{report.corrections:,} corrections: "
                   f"{sum(len(v) for v in learned['added_terms'].values())} aspect words added, "
                   f"{sum(len(v) for v in learned['dropped_terms'].values())} dropped")


def _since(value: str | None) -> dt.datetime | None:
    from tiyan.errors import InvalidInput

    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("cli.not_date_yyyy_mm", value=value,
                           where="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def reanalyze_with_progress(ctx: Context, *, since: dt.datetime | None = None,
                            batch_size: int = 500, restart: bool = False) -> ReanalyzeReport:
    """`tiyan.services.text_analysis.reanalyze` with a Rich progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from tiyan.services.text_analysis import reanalyze as run

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("analysing comments", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, total=total, advance=done)

        report = run(ctx, since=since, batch_size=batch_size, restart=restart, progress=advance)
    if report.resumed_after:
        typer.echo(f"continued an interrupted run after record {report.resumed_after}", err=True)
    return report


def main() -> None:
    """`python -m tiyan.text.cli …`: plain `analyze` lines skip building the typer app."""
    status = analyze_from_argv(sys.argv[1:])
    if status is None:
        app()
    else:
        sys.exit(status)


if __name__ == "__main__":
    main()
