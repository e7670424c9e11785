"""Claude's readings of invoice PDFs, kept by the document's SHA-256 (table ``invoice_extractions``).

A reading costs money and seconds, and the same bytes come back often: a retried run, an invoice
whose Fortnox record changed but not its attachment, one PDF attached to two invoices. The key is
(tenant, SHA-256, model): the same bytes are sent once per model, and a new model setting reads
them afresh instead of inheriting an older model's answer.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from models.invoice_review import ExtractedFields
from models.store import is_postgres
from models.tables import invoice_extractions


def cached_fields(engine: sa.Engine, tenant_id: str, sha256: str, model: str) -> ExtractedFields | None:
    """The fields `model` read from the PDF with this SHA-256 for the tenant, or None if it never did."""
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(invoice_extractions.c.fields).where(
                invoice_extractions.c.tenant_id == tenant_id,
                invoice_extractions.c.sha256 == sha256,
                invoice_extractions.c.model == model,
            )
        ).scalar_one_or_none()
    return None if stored is None else ExtractedFields.model_validate(stored)


def store_fields(
    engine: sa.Engine,
    tenant_id: str,
    sha256: str,
    model: str,
    fields: ExtractedFields,
    now: dt.datetime | None = None,
) -> bool:
    """Keep a reading; False when one for this key is kept already (it stays as it was).

    Insert-or-nothing on the unique key rather than look-then-insert, so two runs reading the same
    PDF at once cannot both insert: the second one's row is simply not written.
    """
    insert = (postgresql.insert if is_postgres(engine) else sqlite.insert)(invoice_extractions)
    statement = insert.values(
        id=str(uuid.uuid4()), tenant_id=tenant_id, sha256=sha256, model=model,
        fields=fields.model_dump(mode="json"), created_at=now or dt.datetime.now(dt.UTC),
    ).on_conflict_do_nothing(index_elements=["tenant_id", "sha256", "model"])
    with engine.begin() as connection:
        # SQLAlchemy reports the rows an INSERT wrote only when asked to keep the driver's count.
        return connection.execute(statement.execution_options(preserve_rowcount=True)).rowcount == 1
