"""The `tiyan` command line: one command group per area.

Imports stay inside the commands so that `tiyan text analyze` does not pay for the web stack.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from tiyan.errors import TiyanError
from tiyan.feedback_cli import app as feedback_app
from tiyan.text.cli import app as text_app

if TYPE_CHECKING:
    from tiyan.context import Context

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="tiyan (体验): customer experience management.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
users_app = typer.Typer(no_args_is_help=True, help="Users and roles.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
units_app = typer.Typer(no_args_is_help=True, help="Organisation units.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(token_app, name="token")
app.add_typer(units_app, name="units")

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="TIYAN_DB_URL",
                 help="Database URL (default: SQLite file tiyan.db in the working directory)."),
]
F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn tiyan's typed errors into one clear line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TiyanError as exc:
            where = f" ({exc.where})" if exc.where else ""
            typer.secho(f"error: {exc.message}{where}", fg="red", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Web processes answering on this port (set PROMETHEUS_MULTIPROC_DIR "
                    "so /metrics sums them; see docs/deploy.md).")] = 1,
) -> None:
    """Start the web app and API."""
    import os

    import uvicorn

    from tiyan.context import open_context
    from tiyan.logs import configure_logging
    from tiyan.web.app import create_app

    ctx = open_context(db)
    configure_logging(ctx.settings)
    typer.echo(f"tiyan on http://{host}:{port}  (database: {ctx.db.safe_url})")
    # proxy_headers off: uvicorn would otherwise take X-Forwarded-For from any local peer;
    # tiyan reads it itself, only from TIYAN_TRUSTED_PROXIES (tiyan.web.client_address).
    # log_config None: the logging set up above (TIYAN_LOG_FORMAT) also formats uvicorn's.
    options: dict[str, Any] = {"host": host, "port": port, "proxy_headers": False,
                               "log_config": None, "access_log": False}
    if workers == 1:
        uvicorn.run(create_app(ctx), **options)
        return
    ctx.db.dispose()
    if db:
        os.environ["TIYAN_DB_URL"] = db  # each process opens the database itself
    uvicorn.run("tiyan.web.app:app_from_environment", factory=True, workers=workers, **options)


@app.command()
@reports_errors
def worker(
    db: DbOption = None,
    once: Annotated[bool, typer.Option(help="Run what is due now, then exit.")] = False,
    lanes: Annotated[str | None, typer.Option(
        help="Lanes to run, comma-separated: realtime, bulk (default: TIYAN_WORKER_LANES).",
    )] = None,
    metrics_port: Annotated[int | None, typer.Option(
        help="Answer Prometheus scrapes of this worker's counters on this port (for a worker "
             "that shares no PROMETHEUS_MULTIPROC_DIR with a `serve`).")] = None,
    metrics_host: Annotated[str, typer.Option(
        help="Address the metrics port listens on.")] = "127.0.0.1",
) -> None:
    """Run background work (sending, reminders, webhooks, imports) outside the web app.

    Each lane runs on a thread of its own. SIGTERM or Ctrl-C drains: no more claims, the running
    jobs finish (up to TIYAN_WORKER_DRAIN_SECONDS), claimed ones not started go back to the
    queue; a second signal stops at once. Start the app with TIYAN_WORKER_IN_APP=false when a
    separate worker runs.
    """
    from tiyan.context import open_context
    from tiyan.domain.jobs import parse_lanes
    from tiyan.logs import configure_logging
    from tiyan.services.jobs import job_counts, run_until_idle, schedule_periodic

    ctx = open_context(db)
    configure_logging(ctx.settings)
    chosen = parse_lanes(lanes if lanes is not None else ctx.settings.worker_lanes)
    if once:
        schedule_periodic(ctx)
        ran = run_until_idle(ctx, lanes=chosen)
        typer.echo(f"ran {ran} jobs; queue now: {job_counts(ctx)}")
        return
    if metrics_port is not None:
        from tiyan.metrics import serve_worker_metrics

        serve_worker_metrics(metrics_host, metrics_port)
    _serve_jobs(ctx, chosen)


def _serve_jobs(ctx: Context, lanes: tuple[str, ...]) -> None:
    """Run a worker until SIGTERM/SIGINT, then drain it and return (exit status 0)."""
    import logging
    import signal
    import threading

    from tiyan.services.jobs import Worker, load_handlers

    load_handlers()  # before it says it runs: its first claim does not wait for imports
    stopping, hurry = threading.Event(), threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        (hurry if stopping.is_set() else stopping).set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner = Worker(ctx, ctx.settings.worker_poll_seconds, "worker", lanes=lanes)
    runner.start()
    typer.echo(f"tiyan worker {runner.name} on {ctx.db.safe_url}, lanes {', '.join(lanes)}; "
               "Ctrl-C or SIGTERM stops it", err=True)
    log = logging.getLogger("tiyan.worker")
    log.info("worker started", extra={"worker": runner.name, "lanes": ",".join(lanes)})
    while not stopping.wait(0.5):
        pass
    typer.echo("worker draining: no more claims; waiting for the running jobs", err=True)
    runner.request_stop()
    waited = 0.0
    drained = False
    while not hurry.is_set() and waited < ctx.settings.worker_drain_seconds:
        drained = runner.stop(timeout=min(0.5, ctx.settings.worker_drain_seconds - waited))
        if drained:
            break
        waited += 0.5
    if drained:
        typer.echo("worker stopped: every job it held finished or went back to the queue",
                   err=True)
    else:
        typer.echo("worker stopped before its running jobs finished; they are run again once "
                   f"their lease ({ctx.settings.job_lease_seconds:g} s) runs out", err=True)
    log.info("worker stopped", extra={"worker": runner.name, "drained": drained})


@db_app.command("upgrade")
@reports_errors
def db_upgrade(db: DbOption = None) -> None:
    """Create or upgrade the database schema to this version of tiyan."""
    from tiyan.context import open_context
    from tiyan.logs import configure_logging
    from tiyan.store.migrate import upgrade

    ctx = open_context(db, check_schema=False)
    configure_logging(ctx.settings)
    status = upgrade(ctx.db)
    typer.echo(f"database {ctx.db.safe_url} is at schema revision {status.current}")


@app.command("dev-cluster")
@reports_errors
def dev_cluster(
    db: DbOption = None,
    serves: Annotated[int, typer.Option("--serve", min=1, help="`tiyan serve` processes.")] = 2,
    workers: Annotated[int, typer.Option("--workers", min=0,
                                         help="`tiyan worker` processes.")] = 2,
    port: Annotated[int, typer.Option(help="Port of the first serve; the others follow.")]
    = 8100,
) -> None:
    """Run several serve and worker processes on one database on this machine (migrating it
    first), as a company runs tiyan, until Ctrl-C. For development and smoke tests: a real
    installation runs them under systemd or containers (docs/deploy.md)."""
    import signal
    import time

    from tiyan.cluster import ClusterPlan, start_cluster, stop_cluster, wait_until_ready
    from tiyan.context import open_context
    from tiyan.store.migrate import upgrade

    ctx = open_context(db, check_schema=False)
    upgrade(ctx.db)
    if ctx.db.is_sqlite:
        typer.echo("note: on SQLite every process shares one writer; use PostgreSQL to see "
                   "how the processes scale", err=True)
    plan = ClusterPlan(ctx.settings.db_url, serves, workers, port)
    ctx.db.dispose()
    cluster = start_cluster(plan)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wait_until_ready(cluster)
        typer.echo(f"{serves} serve ({', '.join(cluster.urls)}) and {workers} workers on "
                   f"{ctx.db.safe_url}; /metrics open to this machine; Ctrl-C stops them")
        while not stopping and all(p.poll() is None for p in cluster.processes()):
            time.sleep(0.5)
        died = [name for name, process in cluster.named() if process.poll() is not None]
    finally:
        codes = stop_cluster(cluster)
    typer.echo(f"stopped (exit codes {codes})")
    if died:
        typer.secho(f"error: {', '.join(died)} exited on its own", fg="red", err=True)
        raise typer.Exit(1)


@app.command()
@reports_errors
def demo(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 20261123,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Day the demo world ends (YYYY-MM-DD, Shanghai); default: today. The "
                        "same seed and day give the same world whenever it is built.")] = None,
) -> None:
    """Fill an empty database with the demo world and print the demo sign-ins."""
    import datetime as dt

    from tiyan.context import open_context
    from tiyan.demo.world import build_demo, demo_anchor
    from tiyan.store.migrate import upgrade

    ctx = open_context(db, check_schema=False)
    upgrade(ctx.db)
    anchor = demo_anchor(ctx.now())
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)",
                                     param_hint="--as-of") from None
        anchor = demo_anchor(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC))
    ctx.clock = lambda: anchor  # every step of the build stamps the world's own moment
    summary = build_demo(ctx, seed=seed, progress=True, as_of=anchor)
    from tiyan.services.aggregates import catch_up

    catch_up(ctx)
    if not summary.already_there:
        from tiyan.text.cli import reanalyze_with_progress

        report = reanalyze_with_progress(ctx, batch_size=2000, restart=True)
        typer.echo(f"analysed {report.texts:,} comments ({report.texts_per_second:,.0f}/s)")
        from tiyan.demo.closed_loop import build_closed_loop

        typer.echo(f"opened {build_closed_loop(ctx, seed=seed):,} cases for the year's "
                   "detractors")
        from tiyan.demo.calls import plan_demo_calls

        typer.echo(f"planned {plan_demo_calls(ctx)} after-sales follow-up calls")
        if not ctx.db.is_sqlite:  # fresh statistics for the planner on what was just written
            with ctx.db.write() as conn:
                conn.exec_driver_sql("ANALYZE")
    _print_demo_summary(summary)


def _print_demo_summary(summary: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if summary.already_there:
        console.print("[yellow]the demo world is already in this database; nothing added[/]")
    console.print(f"[green]demo ready:[/] {summary.responses:,} responses, "
                  f"{summary.invitations:,} invitations, "
                  f"{summary.customers:,} customers, {summary.units} units, "
                  f"{summary.staff} staff")
    table = Table(title="Demo sign-ins (password for all: " + summary.password + ")")
    for column in ("role", "unit", "e-mail"):
        table.add_column(column)
    for user in summary.users:
        table.add_row(user.role, user.unit, user.email)
    console.print(table)


@app.command()
@reports_errors
def generate(
    responses: Annotated[int, typer.Option("--responses", min=1,
                                           help="How many responses to generate.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    db: DbOption = None,
) -> None:
    """Stream N synthetic responses into the database in bulk (for benchmarks)."""
    from tiyan.context import open_context
    from tiyan.demo.generate import generate_responses

    ctx = open_context(db)
    report = generate_responses(ctx, responses, seed=seed, progress=True)
    typer.echo(f"generated {report.responses:,} responses in {report.seconds:.1f} s "
               f"({report.responses / max(report.seconds, 1e-9):,.0f}/s)")


@units_app.command("create")
@reports_errors
def units_create(
    code: Annotated[str, typer.Option(help="Unique code, used by the CLI, API and imports.")],
    name_zh: Annotated[str, typer.Option("--name-zh", help="Chinese name.")],
    name_en: Annotated[str, typer.Option("--name-en", help="English name.")],
    kind: Annotated[str, typer.Option(help="group, company, region, store or department.")],
    parent: Annotated[str | None, typer.Option(help="Code of the parent unit (none for the "
                                                    "root).")] = None,
    db: DbOption = None,
) -> None:
    """Create an organisation unit (the first one, without --parent, is the root)."""
    from tiyan.context import open_context
    from tiyan.services.org import do_create_unit

    ctx = open_context(db)
    unit_id = do_create_unit(ctx, None, code=code, name_zh=name_zh, name_en=name_en, kind=kind,
                             parent_code=parent)
    typer.echo(f"unit {unit_id} {code}" + (f" under {parent}" if parent else " (root)"))


@users_app.command("create")
@reports_errors
def users_create(
    email: Annotated[str, typer.Option(help="E-mail address (the sign-in name).")],
    password: Annotated[str, typer.Option(help="Password (at least 8 characters).")],
    role: Annotated[str, typer.Option(help="admin, cx_manager, unit_manager, frontline, "
                                           "agent, analyst or viewer.")],
    unit: Annotated[str, typer.Option(help="Code of the unit the role is granted at.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    db: DbOption = None,
) -> None:
    """Create a user with a role at a unit (covering its whole subtree)."""
    from tiyan.context import open_context
    from tiyan.services.accounts import do_create_user

    ctx = open_context(db)
    user_id = do_create_user(ctx, None, email=email, name=name or email.split("@")[0],
                             password=password, role=role, unit_code=unit)
    typer.echo(f"user {user_id} {email}: {role} at {unit}")


@users_app.command("deactivate")
@reports_errors
def users_deactivate(
    email: Annotated[str, typer.Argument(help="E-mail of the user.")],
    db: DbOption = None,
) -> None:
    """Stop a user signing in: their sessions end and their API tokens are revoked at once."""
    _set_active(email, False, db)


@users_app.command("activate")
@reports_errors
def users_activate(
    email: Annotated[str, typer.Argument(help="E-mail of the user.")],
    db: DbOption = None,
) -> None:
    """Let a deactivated user sign in again (their old API tokens stay revoked)."""
    _set_active(email, True, db)


def _set_active(email: str, active: bool, db: str | None) -> None:
    from tiyan.context import open_context
    from tiyan.services.accounts import do_set_active, user_id_by_email

    ctx = open_context(db)
    do_set_active(ctx, None, user_id=user_id_by_email(ctx, email), active=active)
    typer.echo(f"{email} {'activated' if active else 'deactivated'}")


@token_app.command("create")
@reports_errors
def token_create(
    email: Annotated[str, typer.Option(help="E-mail of the user the token acts as.")],
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "cli",
    scope: Annotated[str, typer.Option(help="read (GET only), write (also changes, not user, "
                                            "unit, audit or webhook administration) or admin "
                                            "(everything the user may).")] = "read",
    expires_days: Annotated[int | None, typer.Option(
        "--expires-days", help="Lifetime in days (default: TIYAN_API_TOKEN_DAYS, 90).")] = None,
    never_expires: Annotated[bool, typer.Option(
        "--never-expires", help="A token that never expires (instead of --expires-days).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create an API token and print it (shown once; only its hash is kept)."""
    from tiyan.context import open_context
    from tiyan.services.api_tokens import TokenRequest, do_create_token

    ctx = open_context(db)
    issued = do_create_token(ctx, None, TokenRequest(name, scope, expires_days, never_expires),
                             email=email)
    until = f"expires {issued.expires_at:%Y-%m-%d %H:%M} UTC" if issued.expires_at else "never " \
        "expires"
    typer.echo(f"token {issued.id} ({issued.scope}, {until}):", err=True)
    typer.echo(issued.secret)


@token_app.command("list")
@reports_errors
def token_list(
    email: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    db: DbOption = None,
) -> None:
    """List API tokens (never their secrets): id, user, name, scope, expiry, last use, state."""
    from tiyan.context import open_context
    from tiyan.services.api_tokens import list_tokens

    ctx = open_context(db)
    rows = [r for r in list_tokens(ctx, None)
            if email is None or r["email"] == email.strip().lower()]
    now = ctx.now()
    for r in rows:
        typer.echo("\t".join((str(r["id"]), r["email"], r["name"], r["scope"],
                              _when(r["expires_at"], "never"), _when(r["last_used_at"], "unused"),
                              _token_state(r, now))))
    if not rows:
        typer.echo("no API tokens", err=True)


def _when(value: Any, empty: str) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else empty


def _token_state(row: Any, now: Any) -> str:
    if row["revoked_at"]:
        return "revoked"
    return "expired" if row["expires_at"] and row["expires_at"] <= now else "live"


@token_app.command("revoke")
@reports_errors
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="Id of the token (see `tiyan token list`).",
                                            min=1, max=2**62)],
    db: DbOption = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    from tiyan.context import open_context
    from tiyan.services.api_tokens import do_revoke_token

    ctx = open_context(db)
    do_revoke_token(ctx, None, token_id)
    typer.echo(f"token {token_id} revoked")


calendar_app = typer.Typer(no_args_is_help=True, help="Business calendars (SLA working hours).")
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("import-holidays")
@reports_errors
def calendar_import_holidays(
    year: Annotated[int, typer.Option(help="Year of the State Council's notice, e.g. 2026.")],
    unit: Annotated[str, typer.Option(help="Code of the unit whose calendar gets the days.")],
    db: DbOption = None,
) -> None:
    """Add mainland China's public holidays and make-up working days (调休) of a year to a
    unit's business calendar (idempotent: a second import changes nothing)."""
    from tiyan.context import open_context
    from tiyan.services.calendars import do_import_china_holidays

    ctx = open_context(db)
    _, holidays, workdays = do_import_china_holidays(ctx, None, unit, year)
    typer.echo(f"{unit}: {year} imported, {holidays} days off and {workdays} make-up working "
               "days added")


app.add_typer(text_app, name="text", help="Text analytics: analyze files, train models.")

aggregates_app = typer.Typer(no_args_is_help=True, help="Dashboard aggregates.")
app.add_typer(aggregates_app, name="aggregates")


@aggregates_app.command("rebuild")
@reports_errors
def aggregates_rebuild(
    db: DbOption = None,
    only_new: Annotated[bool, typer.Option("--only-new", help="Fold only the responses not "
                                                             "folded yet.")] = False,
) -> None:
    """Recompute the dashboard aggregates from all stored responses (with a progress bar)."""
    import time

    from tiyan.context import open_context
    from tiyan.demo.generate import _progress_callback
    from tiyan.services.aggregates import catch_up, rebuild

    ctx = open_context(db)
    started = time.perf_counter()
    run = catch_up if only_new else rebuild
    count = run(ctx, _progress_callback(True, "aggregates"))
    seconds = time.perf_counter() - started
    typer.echo(f"folded {count:,} responses in {seconds:.1f} s")
app.add_typer(feedback_app, name="feedback",
              help="Feedback gathered elsewhere: import reviews, hotline records and more.")

from tiyan.customer_cli import (  # noqa: E402
    customers_app,
    predict_app,
    retention_app,
    transactions_app,
)

app.add_typer(transactions_app, name="transactions")
app.add_typer(customers_app, name="customers")
app.add_typer(predict_app, name="predict")
app.add_typer(retention_app, name="retention")

from tiyan.storage_cli import storage_app  # noqa: E402

app.add_typer(storage_app, name="storage")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
