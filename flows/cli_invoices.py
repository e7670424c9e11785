"""``ledgerflow invoice analyze`` and ``ledgerflow invoices …``: supplier-invoice validation by hand.

`invoice analyze` runs the reading, matching and checks on PDFs from disk against the registry in
the store, without Fortnox. `invoices` is the reviewer's side: the flagged list and the approve,
reject and wait actions (the same ones the review API offers), and `invoices serve` runs that API.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flows.cli_options import By, Tenant, load_settings
from flows.console import console

invoice_app = typer.Typer(help="Analyse supplier-invoice PDFs (seed 002 BC11) without Fortnox.", no_args_is_help=True)
invoices_app = typer.Typer(help="Review flagged supplier invoices: list, approve, reject, wait; the review API.",
                           no_args_is_help=True)

def analysis_json(analysis: Any) -> dict[str, Any]:
    """The `--json` object of one analysed file."""
    fields = analysis.extraction.fields.model_dump(mode="json")
    return {
        "file": analysis.file,
        "fields": fields,
        "project": analysis.project,
        "alternatives": [c.model_dump(mode="json") for c in analysis.candidates[1:]],
        "confidence": analysis.confidence,
        "band": str(analysis.band),
        "checks": [c.model_dump(mode="json") for c in analysis.checks],
        "candidates": [c.model_dump(mode="json") for c in analysis.candidates],
        "problems": [p.model_dump(mode="json") for p in analysis.extraction.problems],
        "method": analysis.extraction.method,
    }


FIELDS_SHOWN = ("invoice_number", "invoice_date", "due_date", "total", "net", "vat_amount", "currency", "ocr",
                "bankgiro", "plusgiro", "supplier_name", "supplier_org_nr", "reference", "delivery_address")


def _print_analysis(result: dict[str, Any]) -> None:
    colour = {"auto_approve": "green", "suggestion": "yellow", "alternatives": "yellow", "manual": "red"}[result["band"]]
    console.print(f"\n[bold]{result['file']}[/]: [{colour}]{result['confidence']} % — {result['band']}[/]"
                  f" (läst med {result['method']})")
    for problem in result["problems"]:
        console.print(f"  [red]✗ {problem['message']}[/] ({problem['code']})")
    fields = Table("fält", "värde", show_header=False, box=None, padding=(0, 2))
    for name in FIELDS_SHOWN:
        if result["fields"].get(name) not in (None, [], ""):
            fields.add_row(name, str(result["fields"][name]))
    console.print(fields)
    if result["candidates"]:
        candidates = Table("projekt", "namn", "poäng", "skäl")
        for c in result["candidates"]:
            candidates.add_row(c["project_number"], c.get("project_name") or "", str(c["score"]), "; ".join(c["reasons"]))
        console.print(candidates)
    for check in result["checks"]:
        mark = "[green]✓[/]" if check["ok"] else "[red]✗[/]" if check["severity"] == "error" else "[yellow]⚠[/]"
        console.print(f"  {mark} {check['message']} ({check['code']})")


@invoice_app.command("analyze")
def analyze_command(
    files: Annotated[list[Path], typer.Argument(help="Supplier-invoice PDFs.")],
    tenant: Tenant = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file on standard output.")] = False,
) -> None:
    """Read, match and check PDFs against the project registry in the store (steps 3-6), without Fortnox."""
    from flows.connections import claude_reader
    from models.store import open_store
    from tasks.invoice_analysis.documents import Reader, analyze_documents
    from tasks.invoice_analysis.registry import Registry

    settings = load_settings()
    buyer = settings.buyer()
    if buyer is None:
        raise typer.BadParameter("set LEDGERFLOW_COMPANY_NAME and LEDGERFLOW_COMPANY_ORG_NR (who invoices must be "
                                 "addressed to)")
    tenant_id = tenant or settings.tenant
    engine = open_store(settings.database_url)
    with engine.connect() as connection:
        registry = Registry.from_store(connection, tenant_id)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise typer.BadParameter(f"not a file: {', '.join(missing)}")
    reader = Reader(engine, tenant_id, claude_reader(settings))
    analyses = analyze_documents.fn([(str(f), f.read_bytes()) for f in files], reader, registry, buyer)
    for analysis in analyses:
        result = analysis_json(analysis)
        if as_json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            _print_analysis(result)


@invoices_app.command("flagged")
def flagged_command(
    tenant: Tenant = None,
    status: Annotated[str, typer.Option(help="pending (also waiting), approved or rejected.")] = "pending",
    confidence: Annotated[str | None, typer.Option(help="Only one band: <60, 60-79 or 80-94.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The review API's JSON.")] = False,
) -> None:
    """The invoices waiting for a decision, most urgent first (due date, then the least sure)."""
    from flows import reviews
    from models.types import swedish_amount

    if status not in reviews.STATUSES or (confidence and confidence not in reviews.BANDS):
        raise typer.BadParameter("--status pending|approved|rejected, --confidence <60|60-79|80-94")
    settings = load_settings()
    found = reviews.list_flagged(settings, tenant or settings.tenant, status, confidence)  # type: ignore[arg-type]
    if as_json:
        from flows.review_api import flagged_item  # the API's own JSON (it imports FastAPI)

        print(json.dumps([flagged_item(r) for r in found], ensure_ascii=False))
        return
    table = Table("löpnr", "leverantör", "fakturanr", "belopp", "förfaller", "konf.", "förslag", "alternativ",
                  "status", title=f"Flaggade leverantörsfakturor ({len(found)})")
    for r in found:
        alternatives = ", ".join(f"{a['project_number']} ({a['score']})" for a in r.alternatives[:3])
        table.add_row(r.given_number, r.supplier_name or "", r.invoice_number or "",
                      swedish_amount(r.total) if r.total is not None else "",
                      r.due_date.isoformat() if r.due_date else "", f"{r.confidence} %", r.project_number or "-",
                      alternatives, "rejected, sending interrupted" if r.complaint_interrupted else r.status)
    console.print(table)


def _decided(decide: Any, invoice: str, by: str | None, tenant: str | None, *args: Any) -> None:
    """Run one of `flows.reviews`' decisions (approve, reject, wait) on `invoice` and print the outcome."""
    from flows.reviews import ReviewError

    settings = load_settings()
    try:
        review = decide(settings, tenant or settings.tenant, invoice, by or getpass.getuser(), *args)
    except ReviewError as error:
        console.print(f"[red]{error.message}[/] ({error.code})")
        raise typer.Exit(1) from None
    console.print(f"Faktura {review.given_number}: {review.status}"
                  + (f", projekt {review.project_number}" if review.project_number else "")
                  + (f" — {review.comment}" if review.comment else ""))
    if review.complaint and "fortnox_comment_error" in review.complaint:
        console.print(f"[yellow]The complaint was e-mailed, but Fortnox refused the comment:[/] "
                      f"{review.complaint['fortnox_comment_error']}")


@invoices_app.command("approve")
def approve_command(
    invoice: Annotated[str, typer.Argument(help="The Fortnox number (löpnummer) or review id.")],
    project: Annotated[str | None, typer.Option(help="The project (default: the AI's suggestion).")] = None,
    comment: Annotated[str | None, typer.Option(help="Added to the Fortnox comment.")] = None,
    by: By = None,
    tenant: Tenant = None,
) -> None:
    """Approve: the project goes to Fortnox with a "Godkänd av …" comment."""
    from flows import reviews

    _decided(reviews.approve, invoice, by, tenant, project, comment)


@invoices_app.command("reject")
def reject_command(
    invoice: Annotated[str, typer.Argument(help="The Fortnox number (löpnummer) or review id.")],
    reason: Annotated[str, typer.Option(help='What is wrong, in Swedish (e.g. "Saknar projektnummer").')],
    project: Annotated[str | None, typer.Option(help="The project the invoice should have named.")] = None,
    by: By = None,
    tenant: Tenant = None,
) -> None:
    """Reject: a complaint (reklamation) is e-mailed to the supplier and the invoice marked "Reklamerad"."""
    from flows import reviews

    _decided(reviews.reject, invoice, by, tenant, reason, project)


@invoices_app.command("wait")
def wait_command(
    invoice: Annotated[str, typer.Argument(help="The Fortnox number (löpnummer) or review id.")],
    comment: Annotated[str | None, typer.Option(help="Why (e.g. asked the project leader).")] = None,
    by: By = None,
    tenant: Tenant = None,
) -> None:
    """Park an invoice for later; it stays on the list, marked waiting."""
    from flows import reviews

    _decided(reviews.wait, invoice, by, tenant, comment)


@invoices_app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8780,
    tenant: Tenant = None,
) -> None:
    """Serve the review API (seed 002 §5.4); needs LEDGERFLOW_REVIEW_API_TOKEN."""
    import uvicorn

    from flows.review_api import create_app

    try:
        api = create_app(load_settings(), tenant)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    uvicorn.run(api, host=host, port=port)
