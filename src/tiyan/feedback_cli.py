"""`tiyan feedback …`: import feedback files (reviews, hotline records, social posts, complaints).

    tiyan feedback import FILE --source review [--unit CODE] [--map text=内容 ...]
                          [--encoding gbk] [--as EMAIL] [--report problems.csv] [--db URL]
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tiyan.errors import TiyanError

if TYPE_CHECKING:
    from tiyan.services.feedback_import import ImportReport

app = typer.Typer(no_args_is_help=True, help="Feedback gathered elsewhere: import files.")

SHOWN_PROBLEMS = 20


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A .csv, .xlsx or .jsonl file.")],
    source: Annotated[str, typer.Option(help="review, hotline, social or complaint.")],
    unit: Annotated[str | None, typer.Option(
        help="Code of the unit the records belong to: fills empty unit cells and limits the "
             "import to this unit's subtree.")] = None,
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="FIELD=COLUMN, repeatable (fields: text, time, unit, customer, rating, "
                      "source, external_id; extra=COL1|COL2). Unmapped fields are guessed "
                      "from the column names.")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="CSV encoding (default: detected; UTF-8, UTF-8 with BOM, GBK/GB18030).")] = None,
    as_user: Annotated[str | None, typer.Option(
        "--as", help="E-mail of the user to import as (their unit scope applies).")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Write every rejected row (line, column, reason, value) to this CSV file.")] = None,
    db: Annotated[str | None, typer.Option("--db", envvar="TIYAN_DB_URL",
                                           help="Database URL.")] = None,
) -> None:
    """Import FILE: valid rows are stored, rejected rows are listed, duplicates are skipped."""
    try:
        result = _run(file, source, unit, map_ or [], encoding, as_user, report, db)
    except TiyanError as exc:
        where = f" ({exc.where})" if exc.where else ""
        typer.secho(f"error: {exc.message}{where}", fg="red", err=True)
        raise typer.Exit(1) from None
    _print_report(result, report)


def _run(file: Path, source: str, unit: str | None, maps: list[str], encoding: str | None,
         as_user: str | None, report: Path | None, db: str | None) -> ImportReport:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from tiyan.analytics.export_cells import csv_row
    from tiyan.context import open_context
    from tiyan.domain.feedback_rows import RowProblem, parse_mapping_option
    from tiyan.services.feedback_import import ImportRequest, do_import_feedback

    mapping: dict[str, str] = {}
    for entry in maps:
        mapping.update(parse_mapping_option(entry))
    ctx = open_context(db)
    actor = _actor(ctx, as_user) if as_user else None
    request = ImportRequest(path=file, source=source, unit_code=unit, mapping=mapping,
                            encoding=encoding)
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    out = report.open("w", encoding="utf-8-sig", newline="") if report else None
    writer = csv.writer(out) if out else None
    if writer:
        writer.writerow(["line", "column", "reason", "value"])

    def write_problem(p: RowProblem) -> None:
        if writer:
            writer.writerow(csv_row([p.line, p.column or "", p.reason, p.value or ""]))

    try:
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(f"importing {file.name}", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return do_import_feedback(ctx, actor, request, progress=advance,
                                      on_problem=write_problem)
    finally:
        if out:
            out.close()


def _actor(ctx, email: str):  # type: ignore[no-untyped-def]
    from tiyan.errors import NotFound
    from tiyan.store.scoped import load_actor
    from tiyan.store.users import user_by_email

    with ctx.db.read() as conn:
        row = user_by_email(conn, email)
        if row is None:
            raise NotFound("feedback_cli.no_user", email=email, where="--as")
        return load_actor(conn, row["id"])


def _print_report(result: ImportReport, report: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    rate = result.rows_total / max(result.seconds, 1e-9)
    typer.echo(f"import {result.import_id} ({result.file_format}"
               + (f", {result.encoding}" if result.encoding else "") + "): "
               f"{result.rows_stored:,} stored, {result.rows_duplicate:,} already there, "
               f"{result.rows_rejected:,} rejected of {result.rows_total:,} rows "
               f"in {result.seconds:.1f} s ({rate:,.0f} rows/s)")
    columns = result.mapping.get("columns", {})
    typer.echo("mapping: " + ", ".join(f"{k}={v}" for k, v in columns.items()))
    if not result.problems:
        return
    table = Table(title=f"first {min(SHOWN_PROBLEMS, len(result.problems))} problems")
    for name in ("line", "column", "reason"):
        table.add_column(name)
    for p in result.problems[:SHOWN_PROBLEMS]:
        table.add_row(str(p.line or ""), p.column or "", p.reason)
    console.print(table)
    if report:
        console.print(f"every rejected row is listed in {report}")
    elif result.rows_rejected > SHOWN_PROBLEMS:
        console.print("write them all to a file with --report FILE")
