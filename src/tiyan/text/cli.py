"""`tiyan text …`: analyse a file of comments, and retrain the shipped text models.

    tiyan text analyze INPUT --output OUT.jsonl [--text-column text] [--id-column id] [--industry X]
    tiyan text train [--data /path/to/shared/data] [--output src/tiyan/text/models]

Imports stay lean (the analysis pipeline is imported inside the command, scikit-learn only by
`train`), because the whole process is what users time; `analyze` itself lives in
`analyze_command`, which also runs a plain `analyze` line without building the typer app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tiyan.text.analyze_command import analyze_from_argv, run_analyze

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
) -> None:
    """Analyse every comment of INPUT and write one JSON line per row to OUTPUT."""
    status = run_analyze(input, output, text_column, id_column, industry)
    if status:
        raise typer.Exit(code=status)


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


def main() -> None:
    """`python -m tiyan.text.cli …`: plain `analyze` lines skip building the typer app."""
    status = analyze_from_argv(sys.argv[1:])
    if status is None:
        app()
    else:
        sys.exit(status)


if __name__ == "__main__":
    main()
