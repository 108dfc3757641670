"""`tiyan transactions …`, `tiyan customers …` and `tiyan predict …`: behaviour data, segments
and the churn-risk model on this installation's own customers.

Heavy imports (scikit-learn, the web stack) stay inside the commands. Registered by
`tiyan.cli` (import that module, not this one, to get the whole command line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tiyan.cli import DbOption, reports_errors

transactions_app: typer.Typer = typer.Typer(no_args_is_help=True, help="Transactions and visits.")
customers_app: typer.Typer = typer.Typer(no_args_is_help=True, help="Customers: RFM and segments.")
predict_app: typer.Typer = typer.Typer(no_args_is_help=True,
                                       help="Churn-risk model: train and score.")
retention_app: typer.Typer = typer.Typer(no_args_is_help=True,
                                         help="Retention periods (TIYAN_RETENTION_*_DAYS).")


@transactions_app.command("import")
@reports_errors
def transactions_import(
    file: Annotated[Path, typer.Argument(help=".csv (UTF-8 or GBK), .xlsx or .jsonl file")],
    map_: Annotated[str | None, typer.Option(
        "--map", help="Columns by field, e.g. customer=会员号,time=消费时间,amount=金额 "
                      "(fields: customer, time, amount, kind, unit, external_id, currency); "
                      "unnamed fields are guessed from the headers.")] = None,
    kind: Annotated[str, typer.Option(help="Kind of rows without a kind column.")] = "purchase",
    report: Annotated[Path | None, typer.Option(
        help="Write the row-level report (JSON) here.")] = None,
    db: DbOption = None,
) -> None:
    """Import transactions/visits; bad rows are reported by line, column and reason."""
    from rich.progress import Progress

    from tiyan.context import open_context
    from tiyan.services.table_files import open_table_file
    from tiyan.services.transactions import import_transactions

    if not file.is_file():
        typer.secho(f"error: {file}: no such file", fg="red", err=True)
        raise typer.Exit(1)
    mapping = _mapping(map_)
    ctx = open_context(db)
    try:
        with open_table_file(file) as table, Progress(transient=True) as bar:
            task = bar.add_task("importing transactions", total=table.size)
            result = import_transactions(
                ctx, None, table.rows(), table.headers, mapping=mapping, default_kind=kind,
                encoding=table.encoding,
                progress=lambda _: bar.update(task, completed=table.bytes_read()))
    finally:
        ctx.db.dispose()
    typer.echo(f"{result.rows:,} rows ({result.encoding}): {result.imported:,} imported, "
               f"{result.already_imported:,} already imported, {result.rejected:,} rejected")
    for problem in result.problems[:20]:
        typer.echo(f"  line {problem.line}, column {problem.column}: {problem.reason}"
                   + (f" ({problem.value})" if problem.value else ""))
    if len(result.problems) > 20:
        typer.echo(f"  … {len(result.problems) - 20} more problems"
                   + (f" in {report}" if report else " (use --report FILE)"))
    if report is not None:
        report.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1),
                          encoding="utf-8")
    if result.rejected:
        raise typer.Exit(2)


def _mapping(text: str | None) -> dict[str, str] | None:
    """``customer=会员号,amount=金额`` -> {"customer": "会员号", …}; errors name the part."""
    from tiyan.domain.transaction_rows import FIELDS
    from tiyan.errors import InvalidInput

    if not text:
        return None
    result: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        if not sep or not column.strip():
            raise InvalidInput("common.mapping_entry_must_read", part=part.strip(),
                               where="--map")
        if name.strip() not in FIELDS:
            raise InvalidInput("common.unknown_field_fields", name=name.strip(),
                               fields=', '.join(FIELDS),
                               where="--map")
        result[name.strip()] = column.strip()
    return result


@customers_app.command("segment")
@reports_errors
def customers_segment(db: DbOption = None) -> None:
    """Measure RFM over the customer base and store every customer's segment."""
    from tiyan.context import open_context
    from tiyan.services.churn import refresh_segments

    ctx = open_context(db)
    changed = refresh_segments(ctx)
    typer.echo(f"segments refreshed: {changed:,} customers changed segment")


@customers_app.command("opt-out")
@reports_errors
def customers_opt_out(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) of mobile numbers and/or "
                                              "e-mail addresses, one customer per row")],
    report: Annotated[Path | None, typer.Option(
        help="Write the row-level report (JSON) here.")] = None,
    db: DbOption = None,
) -> None:
    """Opt out every customer the list names; rows that match no customer are reported."""
    from rich.progress import Progress

    from tiyan.context import open_context
    from tiyan.services.opt_out import import_opt_out_list, read_contact_list

    if not file.is_file():
        typer.secho(f"error: {file}: no such file", fg="red", err=True)
        raise typer.Exit(1)
    rows = read_contact_list(file.read_bytes(), file.name)
    ctx = open_context(db)
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task("opting out", total=len(rows))
            result = import_opt_out_list(ctx, rows, progress=lambda n: bar.advance(task, n))
    finally:
        ctx.db.dispose()
    typer.echo(f"{result.rows:,} rows: {result.opted_out:,} opted out, {result.already:,} "
               f"already opted out, {len(result.unknown):,} unknown, "
               f"{len(result.invalid):,} invalid")
    for line, value in result.unknown[:20]:
        typer.echo(f"  line {line}: no customer has {value}")
    for line, _value, reason in result.invalid[:20]:
        typer.echo(f"  line {line}: {reason}")
    hidden = max(len(result.unknown) - 20, 0) + max(len(result.invalid) - 20, 0)
    if hidden:
        typer.echo(f"  … {hidden} more" + (f" in {report}" if report else " (use --report FILE)"))
    if report is not None:
        report.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1),
                          encoding="utf-8")


@customers_app.command("erase")
@reports_errors
def customers_erase(
    customer: Annotated[str, typer.Argument(help="The customer's public id (as in the URL of "
                                                 "their customer 360 page).")],
    db: DbOption = None,
) -> None:
    """Erase a customer (right to erasure): personal data, comments, contacts and notes go
    everywhere; anonymous scores stay. Audited; running it again changes nothing."""
    from tiyan.context import open_context
    from tiyan.services.erasure import do_erase_customer

    ctx = open_context(db)
    try:
        typer.echo(do_erase_customer(ctx, None, customer).message)
    finally:
        ctx.db.dispose()


@retention_app.command("apply")
@reports_errors
def retention_apply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what is due; change "
                                                            "nothing.")] = False,
    db: DbOption = None,
) -> None:
    """Apply the retention periods now (the daily job does the same), reporting counts."""
    from tiyan.context import open_context
    from tiyan.services.retention import apply_retention

    ctx = open_context(db)
    try:
        report = apply_retention(ctx, dry_run=dry_run)
    finally:
        ctx.db.dispose()
    for line in report.lines():
        typer.echo(line)


@predict_app.command("train")
@reports_errors
def predict_train(
    seed: Annotated[int, typer.Option(help="Random seed (same data and seed: same model).")] = 0,
    window_days: Annotated[int | None, typer.Option(
        help="Churned = no transaction in this many days (default TIYAN_CHURN_WINDOW_DAYS).",
        min=14, max=730)] = None,
    db: DbOption = None,
) -> None:
    """Train the churn-risk model on this installation's customers and make it current."""
    from tiyan.context import open_context
    from tiyan.predict import TooFewToTrain
    from tiyan.services.churn import train

    ctx = open_context(db)
    try:
        summary = train(ctx, seed=seed, window_days=window_days, log=typer.echo)
    except TooFewToTrain as exc:
        typer.secho(f"too few churners to train (n={exc.churners} churned, {exc.stayers} stayed "
                    f"of {exc.rows}; need ≥ {exc.minimum_per_class} of each and ≥ "
                    f"{exc.minimum_rows} customers)", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"model {summary.version}: {summary.chosen}, cross-validated ROC AUC "
               f"{summary.cv_auc:.3f} on {summary.rows:,} customers ({summary.churners:,} "
               f"churned); stored in the database as {summary.object}")
    typer.echo(json.dumps(summary.to_json(), ensure_ascii=False))


@predict_app.command("score")
@reports_errors
def predict_score(db: DbOption = None) -> None:
    """Score every customer with the current model and store probability and reasons."""
    from rich.progress import Progress

    from tiyan.context import open_context
    from tiyan.services.churn import score

    ctx = open_context(db)
    with Progress(transient=True) as bar:
        task = bar.add_task("scoring customers", total=None)
        scored = score(ctx, progress=lambda done, total: bar.update(task, completed=done,
                                                                   total=total))
    typer.echo(f"scored {scored:,} customers")
