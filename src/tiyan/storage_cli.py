"""`tiyan storage …`: where uploads, case attachments and trained models are kept
(TIYAN_STORAGE, docs/database.md). Registered by `tiyan.cli`."""

from __future__ import annotations

from typing import Annotated

import typer

from tiyan.cli import DbOption, reports_errors

storage_app: typer.Typer = typer.Typer(
    no_args_is_help=True, help="Stored files: move them between the database and an S3 bucket.")


@storage_app.command("move")
@reports_errors
def storage_move(
    to: Annotated[str, typer.Option(help="Where the files go: `s3` (the bucket of "
                                         "TIYAN_S3_*) or `database`.")],
    db: DbOption = None,
) -> None:
    """Move every stored file into the database or the bucket, one file per transaction (safe
    to stop and run again; the files stay readable throughout). Set TIYAN_STORAGE to the same
    place so new files go there too."""
    from rich.progress import Progress

    from tiyan.context import open_context
    from tiyan.errors import InvalidInput
    from tiyan.services.storage import object_store

    if to not in ("s3", "database"):
        raise InvalidInput("storage_cli.must_database_not", to=to, where="--to")
    ctx = open_context(db)
    objects = object_store(ctx)
    if to == "s3" and objects.bucket is None:
        raise InvalidInput("storage_cli.moving_files_into_bucket", where="--to")
    pending = objects.pending_moves(to_bucket=to == "s3")
    moved = 0
    with Progress(transient=True) as progress:
        task = progress.add_task(f"moving files to {to}", total=pending)
        for _key in objects.move(to_bucket=to == "s3", now=ctx.now()):
            moved += 1
            progress.advance(task)
    purged = objects.purge(ctx.now())
    typer.echo(f"{moved} file(s) moved to {to}" + (f"; {purged} bucket object(s) removed"
                                                   if purged else ""))


@storage_app.command("purge")
@reports_errors
def storage_purge(db: DbOption = None) -> None:
    """Remove bucket objects that no stored file points at any more (replaced or deleted files,
    uploads of requests that failed more than an hour ago). The worker does this by itself."""
    from tiyan.context import open_context
    from tiyan.services.storage import object_store

    ctx = open_context(db)
    typer.echo(f"{object_store(ctx).purge(ctx.now())} bucket object(s) removed")
