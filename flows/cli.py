"""The ``ledgerflow`` command line: run flows ad hoc, look after the store, check the audit trail.

Start-up is part of the product: this module and the command groups import only typer and rich;
a command imports what it needs when it runs, so ``--help`` and the read-only commands never
load Prefect, GX, pandas or PyMuPDF.
"""

from __future__ import annotations

import os

# Before Prefect or GX are imported: no telemetry from a machine that may have no internet, and
# Prefect's own telemetry writes collide on the embedded server's SQLite ("database is locked").
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated  # noqa: E402

import typer  # noqa: E402
from rich.table import Table  # noqa: E402

from flows.cli_invoices import invoice_app, invoices_app  # noqa: E402
from flows.cli_options import Tenant, load_settings  # noqa: E402
from flows.cli_ops import alerts_app, metrics_app, retention_app  # noqa: E402
from flows.cli_quarantine import quarantine_app  # noqa: E402
from flows.cli_reports import report_app  # noqa: E402
from flows.cli_server import server_app  # noqa: E402
from flows.console import console  # noqa: E402
from flows.serve import serve_command  # noqa: E402

# No --install-completion: typer builds its value adapter with pydantic on every command, --help included.
app = typer.Typer(help="ledgerflow: Nordic finance data pipelines on Prefect.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="The store: migrations and status.", no_args_is_help=True)
run_app = typer.Typer(help="Run a flow now (recorded on the Prefect server if one is up, see `server`).",
                      no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit trail.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Local simulators of the external systems.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(run_app, name="run")
app.add_typer(audit_app, name="audit")
app.add_typer(sandbox_app, name="sandbox")
connect_app = typer.Typer(help="Connect a tenant to an external system (OAuth).", no_args_is_help=True)
app.add_typer(connect_app, name="connect")
dlq_app = typer.Typer(help="Dead letters: calls that failed for good, for manual repair (seed 003 §6.2-6.4).",
                      no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(invoice_app, name="invoice")
app.add_typer(invoices_app, name="invoices")
app.add_typer(metrics_app, name="metrics")
app.add_typer(alerts_app, name="alerts")
app.add_typer(retention_app, name="retention")
app.add_typer(report_app, name="report")
app.add_typer(server_app, name="server")
app.command("serve")(serve_command)


@app.callback()
def _command() -> None:
    # Runs are recorded on the local Prefect server when it is up (and PREFECT_API_URL names no
    # other); otherwise flows run locally, without Prefect (tasks.runtime).
    if not os.environ.get("PREFECT_API_URL"):
        from flows.local_server import api_url_if_up
        from tasks.runtime import record_ad_hoc_runs

        if url := api_url_if_up():
            record_ad_hoc_runs(url)
    # Warnings and errors of the runs and clients reach the terminal; their routine lines do not.
    logger = logging.getLogger("ledgerflow")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the store (LEDGERFLOW_DATABASE_URL) to the newest schema."""
    from models.store import create_engine, current_revision, upgrade

    settings = load_settings()
    engine = create_engine(settings.database_url)
    before = current_revision(engine)
    upgrade(engine)
    console.print(f"{engine.url.render_as_string(hide_password=True)}: {before or 'empty'} -> {current_revision(engine)}")


@db_app.command("status")
def db_status() -> None:
    """Show the store's URL, schema revision and row counts."""
    import sqlalchemy as sa

    from models.store import current_revision, open_store
    from models.tables import metadata

    engine = open_store(load_settings().database_url)
    table = Table("table", "rows", title=f"{engine.url.render_as_string(hide_password=True)} @ {current_revision(engine)}")
    empty = 0
    with engine.connect() as connection:
        for name, t in sorted(metadata.tables.items()):
            count = connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            if count:
                table.add_row(name, f"{count:,}")
            else:
                empty += 1
    if table.row_count:
        console.print(table)
        console.print(f"{empty} more tables are empty")
    else:
        console.print(f"{table.title}: {empty} tables, all empty")


@run_app.command("workcloud-ingest")
def run_workcloud_ingest(
    directory: Annotated[Path | None, typer.Option("--dir", "-d", help="Export folder (default: LEDGERFLOW_WORKCLOUD_DIR).")] = None,
    tenant: Tenant = None,
) -> None:
    """Ingest the WorkCloud CSV exports (projects, work orders, time reports) in a folder."""
    from flows.console import print_ingest
    from flows.workcloud_ingest import missing_folder, workcloud_ingest

    folder = directory or load_settings().workcloud_dir
    if not folder.is_dir():  # said before Prefect's temporary server takes seconds to start
        raise typer.BadParameter(missing_folder(folder), param_hint="--dir")
    summary = workcloud_ingest(directory=str(folder), tenant=tenant)
    print_ingest(summary)
    if any(r.status == "failed" for r in summary.files):
        raise typer.Exit(1)


@run_app.command("import-sync")
def run_import_sync(
    tenant: Tenant = None,
    system: Annotated[str, typer.Option(help="The system to import from.")] = "fortnox",
    dataset: Annotated[list[str] | None, typer.Option("--dataset", help="Only these datasets (repeatable).")] = None,
) -> None:
    """Import what changed since the last run from every connected integration (or one tenant's)."""
    from flows.console import print_sync
    from flows.import_sync import ImportFailed, import_sync

    try:
        reports = import_sync(tenant=tenant, system=system, datasets=dataset)
    except ImportFailed as error:
        console.print(f"[red]import failed for some datasets:[/] {error}")
        raise typer.Exit(1) from None
    print_sync(reports)


@connect_app.command("fortnox")
def connect_fortnox_command(
    tenant: Tenant = None,
    code: Annotated[str | None, typer.Option(help="The authorization code from the redirect (asked for if omitted).")] = None,
    sandbox: Annotated[str | None, typer.Option(help="Connect to a Fortnox sandbox at this URL instead of Fortnox.")] = None,
) -> None:
    """Authorize ledgerflow in Fortnox: prints the sign-in URL, then stores the tokens encrypted."""
    import secrets

    from connectors import fortnox as fx
    from connectors.oauth import authorize_url
    from flows.connections import FortnoxEndpoints, connect_fortnox, sandbox_code, sandbox_endpoints
    from models.store import open_store

    settings = load_settings()
    tenant_id = tenant or settings.tenant
    endpoints = sandbox_endpoints(sandbox) if sandbox else FortnoxEndpoints()
    if code is None:
        url = authorize_url(endpoints.oauth, settings.fortnox_client_id, settings.fortnox_redirect_uri, fx.SCOPES,
                            secrets.token_urlsafe(16))
        console.print(f"Open this URL, sign in and approve ledgerflow:\n\n  {url}\n")
        if sandbox:
            code = sandbox_code(sandbox, settings.fortnox_redirect_uri)
            console.print("(sandbox: approved automatically)")
        else:
            code = typer.prompt("Paste the `code` parameter of the address you were sent to")
    connect_fortnox(settings, open_store(settings.database_url), tenant_id, code, endpoints)
    console.print(f"[green]tenant {tenant_id} is connected to Fortnox at {endpoints.api_url}[/]")


@run_app.command("invoice-validation")
def run_invoice_validation(tenant: Tenant = None) -> None:
    """Validate new and changed Fortnox supplier invoices: approve, flag for review or complain (seed 002)."""
    from flows.console import print_validation
    from flows.invoice_validation import supplier_invoice_validation

    try:
        summary = supplier_invoice_validation(tenant=tenant)
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    print_validation(summary)


@run_app.command("export")
def run_export(
    system: Annotated[str, typer.Option(help="The system to export to.")] = "fortnox",
    entity: Annotated[list[str] | None, typer.Option("--entity", help="customer and/or invoice (repeatable).")] = None,
    tenant: Tenant = None,
    since: Annotated[str | None, typer.Option(help="Only records changed since this ISO date or time.")] = None,
) -> None:
    """Send customers and invoices that the system has not seen in their current state."""
    import datetime as dt

    from flows.console import print_export
    from flows.export import export

    when = dt.datetime.fromisoformat(since) if since else None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    reports = export(system=system, entities=entity, tenant=tenant, since=when)
    print_export(reports)
    if any(r.dead_letters for r in reports):
        console.print("Refused records are in the dead letters: `ledgerflow dlq list`")
        raise typer.Exit(1)


@dlq_app.command("list")
def dlq_list(
    tenant: Tenant = None,
    status: Annotated[str, typer.Option(help="pending, resolved or all.")] = "pending",
) -> None:
    """List dead letters, oldest first."""
    from models.bookkeeping import dead_letter_rows
    from models.store import open_store

    with open_store(load_settings().database_url).connect() as connection:
        rows = dead_letter_rows(connection, tenant, None if status == "all" else status)
    table = Table("id", "queued", "tenant", "system", "entity", "category", "code", "message", "status",
                  title=f"Dead letters ({status})")
    for row in rows:
        table.add_row(row.id[:8], f"{row.queued_at:%Y-%m-%d %H:%M}", row.tenant_id, row.system,
                      f"{row.entity_type} {row.entity_id}", row.error_category, row.error_code or "",
                      (row.error_message or "")[:80], row.status)
    console.print(table)


@dlq_app.command("show")
def dlq_show(letter_id: Annotated[str, typer.Argument(help="The id (or its first characters).")]) -> None:
    """Show one dead letter whole: the request and every attempt."""
    import json

    from models.bookkeeping import find_dead_letter
    from models.store import open_store

    with open_store(load_settings().database_url).connect() as connection:
        row = find_dead_letter(connection, letter_id)
    console.print_json(json.dumps({k: v for k, v in row._asdict().items()}, default=str))


@dlq_app.command("retry")
def dlq_retry(letter_id: Annotated[str, typer.Argument(help="The id (or its first characters).")]) -> None:
    """Send the record again as it is now in the store (fix the data first); closes the letter on success."""
    from flows.console import print_export
    from flows.export import export
    from models.bookkeeping import find_dead_letter
    from models.store import open_store

    with open_store(load_settings().database_url).connect() as connection:
        row = find_dead_letter(connection, letter_id)
    if row.status != "pending":
        console.print(f"dead letter {row.id[:8]} is already {row.status}")
        raise typer.Exit(1)
    if row.request.get("method") not in ("POST", "PUT"):
        console.print("only refused exports can be retried here; an import is retried by the next import-sync")
        raise typer.Exit(2)
    reports = export(system=row.system, entities=[row.entity_type], tenant=row.tenant_id, local_ids=[row.entity_id])
    print_export(reports)
    if any(r.dead_letters for r in reports):
        console.print("[red]refused again; see `ledgerflow dlq list`[/]")
        raise typer.Exit(1)


@dlq_app.command("resolve")
def dlq_resolve(
    letter_id: Annotated[str, typer.Argument(help="The id (or its first characters).")],
    resolution: Annotated[str, typer.Option(help="skipped or manual_fix.")] = "manual_fix",
    by: Annotated[str, typer.Option(help="Who resolved it.")] = "cli",
) -> None:
    """Close a dead letter by hand (repaired elsewhere, or not worth repairing)."""
    from models.bookkeeping import MANUAL_RESOLUTIONS, find_dead_letter, resolve_dead_letters
    from models.store import open_store

    if resolution not in MANUAL_RESOLUTIONS:
        raise typer.BadParameter(f"resolution must be {' or '.join(MANUAL_RESOLUTIONS)}")
    with open_store(load_settings().database_url).begin() as connection:
        row = find_dead_letter(connection, letter_id)
        resolve_dead_letters(connection, resolution, by, ids=[row.id])
    console.print(f"dead letter {row.id[:8]} resolved: {resolution}")


@app.command("bank-import")
def bank_import_command(
    files: Annotated[list[Path], typer.Argument(help="Export files, or folders of them.")],
    bank: Annotated[str, typer.Option(help="auto, ica or swedbank.")] = "auto",
    account: Annotated[str | None, typer.Option(help="The account the rows belong to (default: from the file).")] = None,
    tenant: Tenant = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, store nothing.")] = False,
    allow_duplicates: Annotated[bool, typer.Option("--allow-duplicates", help="Import rows the duplicate rule "
                                                   "would skip.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file on standard output.")] = False,
    log: Annotated[bool, typer.Option("--log", help="Print every row error and warning.")] = False,
) -> None:
    """Import ICA-banken and Swedbank CSV exports into bank transactions (seed 004)."""
    import json

    from flows.bank_import import bank_import
    from flows.console import print_bank_import, progress_bar
    from tasks.progress import listening

    if bank not in ("auto", "ica", "swedbank"):
        raise typer.BadParameter("--bank must be auto, ica or swedbank")
    if missing := [str(f) for f in files if not f.exists()]:  # said in one line, before any file is read
        raise typer.BadParameter(f"{', '.join(missing)} {'does' if len(missing) == 1 else 'do'} not exist",
                                 param_hint="FILES")
    paths = [str(f) for f in files]
    if as_json:
        reports = bank_import(paths, bank, account, tenant, dry_run, allow_duplicates)
        for report in reports:
            print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        with progress_bar() as show, listening(show):
            reports = bank_import(paths, bank, account, tenant, dry_run, allow_duplicates)
        print_bank_import(reports, dry_run=dry_run, row_log=log)
    if any(r.file_error for r in reports):
        raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify(tenant: Tenant = None, all_tenants: Annotated[bool, typer.Option("--all", help="Every tenant.")] = False) -> None:
    """Walk the audit chain and name the first broken link, then check the rows of every bulk load
    (time reports, bank transactions) against its audit event; exit 1 if anything does not hold."""
    from models.audit import tenants, verify_chain
    from models.batches import verify_batches
    from models.store import open_store

    settings = load_settings()
    broken = False
    with open_store(settings.database_url).connect() as connection:
        for tenant_id in tenants(connection) if all_tenants else [tenant or settings.tenant]:
            report = verify_chain(connection, tenant_id)
            if report.ok:
                console.print(f"[green]tenant {tenant_id}: audit chain intact, {report.events_checked:,} events[/]")
            else:
                broken = True
                b = report.first_break
                console.print(
                    f"[red]tenant {tenant_id}: audit chain BROKEN at event seq {b.seq} (id {b.id}): {b.reason}; "
                    f"{report.events_checked:,} events before it verified[/]"
                )
            checks = verify_batches(connection, tenant_id)
            failed = [check for check in checks if not check.ok]
            if checks and not failed:
                console.print(f"[green]tenant {tenant_id}: {len(checks):,} bulk loads hold the rows their audit "
                              f"events vouch for ({sum(c.inserted for c in checks):,} rows)[/]")
            for check in failed:
                broken = True
                console.print(f"[red]tenant {tenant_id}: the {check.entity_type} load of "
                              f"{check.occurred_at:%Y-%m-%d %H:%M:%S} (audit event seq {check.seq}): {check.problem}[/]")
    if broken:
        raise typer.Exit(1)


@sandbox_app.command("workcloud-export")
def sandbox_workcloud_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the exports to.")] = Path("var/workcloud"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same company.")] = 7,
    projects: Annotated[int, typer.Option(help="Number of projects.")] = 40,
    work_orders: Annotated[int, typer.Option(help="Number of work orders.")] = 120,
    time_reports: Annotated[int, typer.Option(help="Number of time reports.")] = 2000,
) -> None:
    """Write realistic WorkCloud exports (projects, work orders, time reports) of a Swedish builder."""
    from connectors.sandbox.workcloud import write_exports

    for kind, path in write_exports(out, seed, projects, work_orders, time_reports).items():
        console.print(f"{kind.value:>13}: {path}")


@sandbox_app.command("bank-export")
def sandbox_bank_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the exports to.")] = Path("var/bank"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed (and day) gives the same files.")] = 7,
    rows: Annotated[int, typer.Option(min=1, help="Rows per file.")] = 200,
) -> None:
    """Write a Swedbank and an ICA-banken export of the last 90 days, as the banks write them
    (var/bank is where the bank-import-on-demand deployment looks)."""
    from connectors.sandbox.bank import write_bank_exports

    for path in write_bank_exports(out, seed, rows):
        console.print(f"{path}")


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8710,
    seed: Annotated[int, typer.Option(help="Random seed of the sandbox company.")] = 7,
    supplier_invoices: Annotated[int, typer.Option(help="Supplier invoices to seed.")] = 60,
    customers: Annotated[int, typer.Option(help="Customers to seed.")] = 25,
) -> None:
    """Run the Fortnox sandbox (API, OAuth, admin endpoints under /_sandbox) until interrupted."""
    from connectors.sandbox.fortnox import FortnoxSandbox

    sandbox = FortnoxSandbox(port=port, seed=seed, supplier_invoices=supplier_invoices, customers=customers)
    console.print(f"Fortnox sandbox (seed {seed}) on {sandbox.url}: API {sandbox.api_url}, "
                  f"client {sandbox.client_id} / {sandbox.client_secret}, admin {sandbox.url}/_sandbox/info. "
                  "Ctrl-C stops it.")
    sandbox.serve()


@sandbox_app.command("token")
def sandbox_token(url: Annotated[str, typer.Option(help="The running sandbox.")] = "http://127.0.0.1:8710") -> None:
    """Print a valid access token of a running sandbox, for scripts and curl."""
    from connectors.oauth import exchange_code
    from flows.connections import sandbox_code, sandbox_endpoints

    settings = load_settings()
    tokens = exchange_code(sandbox_endpoints(url).oauth, settings.fortnox_client_id,
                           settings.fortnox_client_secret.get_secret_value(),
                           sandbox_code(url, settings.fortnox_redirect_uri), settings.fortnox_redirect_uri)
    print(tokens.access_token)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its data.")] = Path("var"),
) -> None:
    """Run every flow there is against the sandbox data and the embedded store, and show the result."""
    from flows.demo import run_demo

    run_demo(workdir)


def main() -> None:
    """The ``ledgerflow`` command: the app, and settings a user got wrong said in one line each, exit 2."""
    try:
        app()
    except Exception as error:
        from flows.settings import settings_problems

        problems = settings_problems(error)
        if problems is None:
            raise
        for line in problems:
            print(f"setting refused: {line}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
