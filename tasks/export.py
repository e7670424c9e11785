"""Export: send due canonical records to a system, never creating one twice.

Before creating, the remote side is asked whether the record is there already (a customer by
its number, an invoice by our id in ExternalInvoiceReference1): an export that died after a
create but before it could note the new id finds the record instead of creating another.
A record the system refuses for good goes to the dead letters; the others go on. Retries ran
out (the system is down): the export stops, and what it sent is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tasks.runtime import run_logger, task
from pydantic import BaseModel

from connectors import fortnox as fx
from connectors.http import NotFoundError, PermanentError, dead_letter
from models.bookkeeping import add_dead_letters
from models.exports import Due, record_export
from models.store import open_store
from models.tables import ENTITIES
from tasks.mapping.fortnox import customer_payload, invoice_payload


@dataclass(frozen=True)
class Target:
    """How one canonical entity is written to Fortnox."""

    resource: fx.Resource[Any]
    payload: Callable[[Any, str], dict[str, Any]]
    find: Callable[[fx.FortnoxClient, BaseModel, str], str | None]


def _find_customer(client: fx.FortnoxClient, model: BaseModel, _local_id: str) -> str | None:
    try:
        return client.get(fx.CUSTOMERS, model.customer_number).customer_number  # type: ignore[attr-defined]
    except NotFoundError:
        return None


def _find_invoice(client: fx.FortnoxClient, _model: BaseModel, local_id: str) -> str | None:
    found = next(iter(client.list(fx.INVOICES, externalinvoicereference1=local_id)), None)
    return found.document_number if found is not None else None  # type: ignore[attr-defined]


TARGETS = {
    "customer": Target(fx.CUSTOMERS, lambda model, _id: customer_payload(model), _find_customer),
    "invoice": Target(fx.INVOICES, invoice_payload, _find_invoice),
}


@dataclass
class ExportReport:
    tenant: str
    entity: str
    due: int
    created: int = 0
    updated: int = 0
    found_existing: int = 0  # created by an earlier, interrupted run
    dead_letters: int = 0
    failed_ids: list[str] = field(default_factory=list)


@task(name="export-to-fortnox")
def export_to_fortnox(
    client: fx.FortnoxClient, database_url: str, tenant_id: str, entity_type: str, due: list[Due], actor: str
) -> ExportReport:
    """Create or update each due record in Fortnox, one committed step per record."""
    logger = run_logger()
    target, entity = TARGETS[entity_type], ENTITIES[entity_type]
    engine = open_store(database_url)
    report = ExportReport(tenant_id, entity_type, len(due))
    for item in due:
        payload = target.payload(item.model, item.local_id)
        key = target.resource.id_field
        try:
            external_id = item.external_id or target.find(client, item.model, item.local_id)
            if external_id is None:
                record = client.create(target.resource, payload)
                report.created += 1
            else:
                report.found_existing += item.external_id is None
                report.updated += item.external_id is not None
                record = client.update(target.resource, external_id, {k: v for k, v in payload.items() if k != key})
        except PermanentError as error:
            logger.warning("%s %s refused by Fortnox: %s", entity_type, item.local_id, error)
            with engine.begin() as connection:
                add_dead_letters(connection, tenant_id, "fortnox", [dead_letter(error, entity_type, item.local_id)])
            report.dead_letters += 1
            report.failed_ids.append(item.local_id)
            continue
        response = record.model_dump(by_alias=True, mode="json")
        with engine.begin() as connection:
            record_export(connection, entity, tenant_id, "fortnox", item.local_id, str(response[key]), payload,
                          response, created=external_id is None, actor=actor, now=dt.datetime.now(dt.UTC))
    return report
