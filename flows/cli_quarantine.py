"""``ledgerflow quarantine …``: the records held back by the quality gate, and closing them by hand.

A held-back record waits for manual handling (INT-01-ERR-003) with its error code, field,
description and suggested action (INT-01-VAL-003). A Fortnox record that loads later closes
its entries by itself (resolution ``reloaded``); a file row has no identity that survives
the next export, so a person closes it: ``manual_fix`` once the source is corrected,
``skipped`` when it is not worth correcting. The daily report counts what is still open.
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from flows.cli_options import By, Tenant, load_settings
from flows.console import console

if TYPE_CHECKING:
    import sqlalchemy as sa

quarantine_app = typer.Typer(help="Records held back by the quality gate, waiting for manual handling "
                             "(INT-01-ERR-003).", no_args_is_help=True)

@quarantine_app.command("list")
def quarantine_list(
    tenant: Tenant = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset, e.g. workcloud_time_reports.")] = None,
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on standard output.")] = False,
) -> None:
    """List quarantined records, oldest first, with what is wrong and what to do about it."""
    from models.bookkeeping import quarantined_rows
    from models.store import open_store

    if status not in ("open", "resolved", "all"):
        raise typer.BadParameter("status must be open, resolved or all", param_hint="--status")
    settings = load_settings()
    tenant_id = tenant or settings.tenant
    with open_store(settings.database_url).connect() as connection:
        rows = quarantined_rows(connection, tenant_id, status=None if status == "all" else status, dataset=dataset)
    if as_json:
        print(json.dumps([row._asdict() for row in rows], ensure_ascii=False, default=str))
        return
    table = Table("id", "held since", "dataset", "source", "line", "code", "field", "what is wrong", "what to do",
                  "status", title=f"Quarantine, tenant {tenant_id} ({status}): {len(rows):,}")
    for row in rows:
        table.add_row(row.id[:8], f"{row.created_at:%Y-%m-%d %H:%M}", row.dataset, row.source_ref,
                      str(row.row_number or ""), row.error_code, row.field, row.description, row.suggested_action,
                      row.resolution or row.status)
    console.print(table)


@quarantine_app.command("show")
def quarantine_show(
    record_id: Annotated[str, typer.Argument(help="The id (or its first characters).")],
    tenant: Tenant = None,
) -> None:
    """Show one quarantined record whole: the row as it arrived and the rule it broke."""
    from models.store import open_store

    settings = load_settings()
    with open_store(settings.database_url).connect() as connection:
        row = _found(connection, tenant or settings.tenant, record_id)
    console.print_json(json.dumps(row._asdict(), ensure_ascii=False, default=str))


@quarantine_app.command("resolve")
def quarantine_resolve(
    record_ids: Annotated[list[str] | None, typer.Argument(help="Ids (or their first characters).")] = None,
    dataset: Annotated[str | None, typer.Option(help="Every open record of this dataset instead.")] = None,
    resolution: Annotated[str, typer.Option(help="manual_fix (corrected at the source) or skipped.")] = "manual_fix",
    by: By = None,
    tenant: Tenant = None,
) -> None:
    """Close quarantined records that were handled by hand."""
    from models.bookkeeping import MANUAL_RESOLUTIONS, resolve_quarantined
    from models.store import open_store

    if resolution not in MANUAL_RESOLUTIONS:
        raise typer.BadParameter(f"resolution must be {' or '.join(MANUAL_RESOLUTIONS)}", param_hint="--resolution")
    if bool(record_ids) == bool(dataset):
        raise typer.BadParameter("give record ids or --dataset, not both and not neither")
    settings = load_settings()
    tenant_id = tenant or settings.tenant
    with open_store(settings.database_url).begin() as connection:
        rows = [_found(connection, tenant_id, prefix) for prefix in record_ids or []]
        done = [row for row in rows if row.status != "open"]
        if done:
            console.print("[red]already resolved:[/] " + ", ".join(
                f"{row.id[:8]} ({row.resolution}, {row.resolved_by}, {row.resolved_at:%Y-%m-%d %H:%M})" for row in done))
            raise typer.Exit(1)
        closed = resolve_quarantined(connection, tenant_id, resolution, by or getpass.getuser(),
                                     ids=[row.id for row in rows] or None, dataset=dataset)
    console.print(f"{closed:,} quarantined record{'' if closed == 1 else 's'} resolved: {resolution}")


def _found(connection: sa.Connection, tenant_id: str, prefix: str) -> sa.Row[Any]:
    from models.bookkeeping import find_quarantined

    try:
        return find_quarantined(connection, tenant_id, prefix)
    except LookupError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
