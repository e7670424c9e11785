"""SQLAlchemy tables: the bookkeeping tables of DESIGN.md and one table per canonical entity.

Entity tables are derived from the pydantic models so that a model and its table can never
disagree: scalar fields become typed columns, nested models and lists become JSON. Every
entity table also carries the columns the loader needs: the origin key (tenant, source
system, external id) that makes loads idempotent and a hash of the canonical record that
tells an unchanged record from an updated one. Migrations under ``models/migrations`` are
generated from this metadata and committed; a test checks that they still match it.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal

import sqlalchemy as sa
from pydantic import BaseModel

from models import documents, invoices, ledger, parties, payments, products, projects, raindance
from models.types import MONEY_PLACES, NUMERIC_PRECISION, QUANTITY_PLACES, is_money

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = sa.DateTime(timezone=True)
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Sequence = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", sa.String(36), primary_key=True)


def _tenant(indexed: bool = True) -> sa.Column:
    """The tenant column; indexed on its own unless a unique key or index of the table starts with
    it (that one serves every lookup by tenant, and a second index only slows each insert)."""
    return sa.Column("tenant_id", sa.String(64), nullable=False, index=indexed)


def _created() -> sa.Column:
    return sa.Column("created_at", Timestamp, nullable=False)


# --------------------------------------------------------------------------- bookkeeping
integrations = sa.Table(
    "integrations",
    metadata,
    _id(),
    _tenant(indexed=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="disconnected"),
    sa.Column("oauth_client_id", sa.Text),
    sa.Column("oauth_client_secret_encrypted", sa.Text),
    sa.Column("access_token_encrypted", sa.Text),
    sa.Column("refresh_token_encrypted", sa.Text),
    sa.Column("token_expires_at", Timestamp),
    sa.Column("webhook_secret_encrypted", sa.Text),
    sa.Column("last_sync_at", Timestamp),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_message", sa.Text),
    sa.Column("settings", sa.JSON, nullable=False, default=dict),
    _created(),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("tenant_id", "provider"),
)

integration_jobs = sa.Table(
    "integration_jobs",
    metadata,
    _id(),
    _tenant(),
    sa.Column("integration_id", sa.String(36), sa.ForeignKey("integrations.id")),
    sa.Column("job_type", sa.String(16), nullable=False),  # export | import | webhook
    sa.Column("data_type", sa.String(32), nullable=False),
    sa.Column("resource_type", sa.String(32), nullable=False),
    sa.Column("resource_id", sa.String(36)),
    sa.Column("external_id", sa.String(200)),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("payload", sa.JSON),
    sa.Column("response", sa.JSON),
    sa.Column("error_message", sa.Text),
    sa.Column("retry_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_retries", sa.Integer, nullable=False, server_default="5"),
    _created(),
    sa.Column("processed_at", Timestamp),
    sa.Column("completed_at", Timestamp),
    sa.Index(None, "status", "created_at"),
)

integration_mappings = sa.Table(
    "integration_mappings",
    metadata,
    _id(),
    _tenant(indexed=False),
    sa.Column("system", sa.String(32), nullable=False),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("local_id", sa.String(36), nullable=False),
    sa.Column("last_sync_direction", sa.String(8), nullable=False),  # import | export
    sa.Column("synced_at", Timestamp, nullable=False),
    _created(),
    sa.UniqueConstraint("tenant_id", "system", "entity_type", "external_id"),
    sa.Index(None, "entity_type", "local_id"),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("system", sa.String(32), primary_key=True),
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("cursor", sa.Text),
    sa.Column("updated_at", Timestamp, nullable=False),
)

sync_logs = sa.Table(
    "sync_logs",
    metadata,
    _id(),
    _tenant(indexed=False),
    sa.Column("system", sa.String(32), nullable=False),
    sa.Column("sync_type", sa.String(16), nullable=False),  # export | import | webhook | scheduled
    sa.Column("data_type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # started | success | partial | failed
    sa.Column("record_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_message", sa.Text),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("flow_run_id", sa.String(36)),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
    _created(),
    sa.Index(None, "tenant_id", "created_at"),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    _id(),
    _tenant(),
    sa.Column("system", sa.String(32), nullable=False),
    sa.Column("entity_type", sa.String(32)),
    sa.Column("entity_id", sa.String(200)),
    sa.Column("request", sa.JSON, nullable=False),  # method, url, headers (no secrets), body
    sa.Column("attempts", sa.JSON, nullable=False),  # [{attempted_at, status_code, response}]
    sa.Column("error_category", sa.String(16), nullable=False),  # validation|auth|rate_limit|server|network
    sa.Column("error_code", sa.String(64)),
    sa.Column("error_message", sa.Text),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("queued_at", Timestamp, nullable=False),
    sa.Column("resolved_at", Timestamp),
    sa.Column("resolved_by", sa.String(100)),
    sa.Column("resolution", sa.String(16)),  # retried | skipped | manual_fix
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    _id(),
    _tenant(indexed=False),
    sa.Column("system", sa.String(32), nullable=False),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("source_ref", sa.Text, nullable=False),  # e.g. the file name
    sa.Column("row_number", sa.Integer),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("record_hash", sa.String(64), nullable=False),
    # INT-01-VAL-003: error code, field, description, suggested action.
    sa.Column("error_code", sa.String(64), nullable=False),
    sa.Column("field", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("suggested_action", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),  # open | resolved
    sa.Column("flow_run_id", sa.String(36)),
    _created(),
    # INT-01-ERR-003: held for manual handling, and closed by it (or by the record loading later).
    sa.Column("resolved_at", Timestamp),
    sa.Column("resolved_by", sa.String(100)),
    sa.Column("resolution", sa.String(16)),  # reloaded | skipped | manual_fix
    sa.UniqueConstraint("tenant_id", "dataset", "record_hash", "error_code", "field"),
)

bank_imports = sa.Table(
    "bank_imports",
    metadata,
    _id(),
    _tenant(),
    # Seed 004 §6.4: time, file name and size, rows, imported, duplicates, errors and their list.
    sa.Column("imported_at", Timestamp, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("file_size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("bank", sa.String(16)),
    sa.Column("format", sa.String(32)),
    sa.Column("account", sa.String(64)),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("imported", sa.Integer, nullable=False),
    sa.Column("duplicates", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("flow_run_id", sa.String(36)),
)

invoice_reviews = sa.Table(
    "invoice_reviews",
    metadata,
    _id(),
    _tenant(indexed=False),
    # Seed 002 BC11: one row per Fortnox supplier invoice, with every decision's reasons.
    sa.Column("given_number", sa.String(50), nullable=False),
    sa.Column("invoice_number", sa.String(100)),
    sa.Column("supplier_number", sa.String(50)),
    sa.Column("supplier_name", sa.Text),
    sa.Column("invoice_date", sa.Date),
    sa.Column("due_date", sa.Date),
    sa.Column("total", sa.Numeric(18, 2)),
    sa.Column("currency", sa.String(3)),
    sa.Column("source_version", sa.String(64), nullable=False),  # hash of the invoice as read: "changed" means this differs
    sa.Column("pdf_sha256", sa.String(64)),
    sa.Column("analysis", sa.JSON),  # models.invoice_review.Analysis: fields, candidates, checks
    sa.Column("project_number", sa.String(50)),  # the best candidate, or the reviewer's choice
    sa.Column("confidence", sa.Integer, nullable=False),
    sa.Column("band", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # auto_approved | pending | approved | rejected | waiting | closed
    sa.Column("decided_by", sa.String(100)),  # "ai" or the reviewer
    sa.Column("decided_at", Timestamp),
    sa.Column("comment", sa.Text),
    sa.Column("complaint", sa.JSON),  # the reklamation sent: to, subject, sent_at, message id
    sa.Column("escalated_at", Timestamp),
    _created(),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("tenant_id", "given_number"),
    sa.Index(None, "tenant_id", "status", "due_date"),
)

invoice_extractions = sa.Table(
    "invoice_extractions",
    metadata,
    _id(),
    _tenant(indexed=False),
    # Claude's reading of a PDF, cached by the document's SHA-256: the same bytes are never sent twice.
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    _created(),
    sa.UniqueConstraint("tenant_id", "sha256", "model"),
)

sync_conflicts = sa.Table(
    "sync_conflicts",
    metadata,
    _id(),
    _tenant(),
    sa.Column("system", sa.String(32), nullable=False),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("local_id", sa.String(36), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("local_state", sa.JSON, nullable=False),  # the version that lost
    sa.Column("remote_state", sa.JSON, nullable=False),
    sa.Column("resolution", sa.String(16), nullable=False),  # remote_wins | local_wins
    sa.Column("detected_at", Timestamp, nullable=False),
    sa.Column("reviewed_at", Timestamp),
)

source_files = sa.Table(
    "source_files",
    metadata,
    _id(),
    _tenant(indexed=False),
    sa.Column("system", sa.String(32), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32)),
    sa.Column("row_count", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),  # loaded | failed
    sa.Column("error", sa.Text),
    sa.Column("ingested_at", Timestamp, nullable=False),
    sa.UniqueConstraint("tenant_id", "system", "sha256"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    # The chain order; ids are random, so the sequence is what "previous" means.
    sa.Column("seq", Sequence, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    _tenant(indexed=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("entity_type", sa.String(50), nullable=False),
    sa.Column("entity_id", sa.String(36), nullable=False),
    sa.Column("user_id", sa.String(36)),
    sa.Column("system_actor", sa.String(100)),
    sa.Column("ip_address", sa.String(45)),
    sa.Column("previous_state", sa.JSON),
    sa.Column("new_state", sa.JSON),
    sa.Column("change_set", sa.JSON),
    sa.Column("details", sa.JSON),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("previous_checksum", sa.String(64)),
    sa.Index(None, "tenant_id", "seq"),  # the chain head of a tenant, read on every load
)

# INT-01-OPS-002: every alert raised, where it went, and the memory that keeps a condition from
# being announced again within the cooldown (fingerprint = code, tenant and what it is about).
alerts = sa.Table(
    "alerts",
    metadata,
    _id(),
    _tenant(indexed=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("fingerprint", sa.String(200), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),  # warning | critical
    sa.Column("message", sa.Text, nullable=False),  # Swedish, then English
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("delivery", sa.JSON, nullable=False),  # channel -> "ok" or the error
    sa.Column("status", sa.String(16), nullable=False),  # sent | logged (no channel set up) | failed
    _created(),
    sa.Index(None, "tenant_id", "fingerprint", "created_at"),
)


# One rate limit per external token across processes and machines (models.rate_limits): each request
# let through under a limiter key, from the moment it was granted until its answer arrived (null while
# in flight). Rows older than the key's longest window are deleted as new ones are granted. The times
# are seconds since the Unix epoch on the store's clock: every request reads up to a minute's worth of
# them (300 for Fortnox), and numbers cost nothing to read where timestamps cost milliseconds.
rate_limit_grants = sa.Table(
    "rate_limit_grants",
    metadata,
    _id(),
    _tenant(indexed=False),
    sa.Column("key", sa.String(300), nullable=False),  # the system and its address: one token of the tenant
    sa.Column("granted_at", sa.Double, nullable=False),
    sa.Column("answered_at", sa.Double),
    sa.Index(None, "tenant_id", "key"),
)


# --------------------------------------------------------------------------- entities
@dataclass(frozen=True)
class Entity:
    """A canonical entity and where it is stored.

    A `bulk` entity holds facts that arrive by the hundred thousand from one source and are
    never exported or linked from another system (time reports, bank transactions). Its records
    are found by their own table's key (tenant, source system, external id) instead of through
    ``integration_mappings``, and the records a load inserts are audited together by one
    ``sync`` event holding a digest of them, not one ``create`` event each (``models.upsert``).
    Writing a mapping row and an audit row per record tripled what PostgreSQL had to store for
    100,000 time reports: 3.5 s of COPY against 0.9 s for the records alone.
    """

    entity_type: str
    model: type[BaseModel]
    table: sa.Table
    bulk: bool = False

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """The model's field names, which are also its columns."""
        return tuple(self.model.model_fields)

    @cached_property
    def computed_fields(self) -> tuple[str, ...]:
        """The model's computed fields (such as is_income): derived, but stored so queries can use them."""
        return tuple(self.model.model_computed_fields)

    @cached_property
    def json_fields(self) -> frozenset[str]:
        """The fields stored as JSON (nested models, lists and dicts)."""
        return frozenset(c.name for c in self.table.columns if isinstance(c.type, sa.JSON))


def _sql_type(annotation: typing.Any) -> tuple[sa.types.TypeEngine, bool]:
    """The column type for a model field's annotation, and whether the column is nullable."""
    nullable = False
    money = False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # constraints on an optional field: Annotated[int | None, ...]
        annotation, *extras = typing.get_args(annotation)
        money = is_money(extras)
        origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else dict
        origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # an optional constrained type: Money | None
        annotation, *extras = typing.get_args(annotation)
        money = money or is_money(extras)
        origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return sa.String(32), nullable
    if annotation is Decimal:
        return sa.Numeric(NUMERIC_PRECISION, MONEY_PLACES if money else QUANTITY_PLACES), nullable
    simple: dict[typing.Any, sa.types.TypeEngine] = {
        str: sa.Text(),
        bool: sa.Boolean(),
        int: sa.BigInteger(),
        dt.date: sa.Date(),
        dt.datetime: Timestamp,
    }
    if isinstance(annotation, type) and annotation in simple:
        return simple[annotation], nullable
    return sa.JSON(), nullable  # nested models, lists and dicts


def _entity(table_name: str, entity_type: str, model: type[BaseModel], *, bulk: bool = False) -> Entity:
    columns = [
        _id(),
        _tenant(indexed=False),
        sa.Column("source_system", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        _created(),
        sa.Column("updated_at", Timestamp, nullable=False),
    ]
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if field.metadata:  # pydantic strips Annotated metadata off the annotation
            annotation = typing.Annotated[annotation, *field.metadata]
        sql_type, nullable = _sql_type(annotation)
        columns.append(sa.Column(name, sql_type, nullable=nullable or not field.is_required()))
    for name, computed in model.model_computed_fields.items():  # derived, but stored so queries can use them
        sql_type, nullable = _sql_type(computed.return_type)
        columns.append(sa.Column(name, sql_type, nullable=nullable))
    table = sa.Table(
        table_name,
        metadata,
        *columns,
        sa.UniqueConstraint("tenant_id", "source_system", "external_id"),
    )
    return Entity(entity_type, model, table, bulk)


ENTITIES: dict[str, Entity] = {
    e.entity_type: e
    for e in (
        _entity("companies", "company", parties.Company),
        _entity("customers", "customer", parties.Customer),
        _entity("suppliers", "supplier", parties.Supplier),
        _entity("employees", "employee", parties.Employee),
        _entity("accounts", "account", ledger.Account),
        _entity("vat_codes", "vat_code", ledger.VATCode),
        _entity("journal_entries", "journal_entry", ledger.JournalEntry),
        _entity("products", "product", products.Product),
        _entity("invoices", "invoice", invoices.Invoice),
        _entity("supplier_invoices", "supplier_invoice", invoices.SupplierInvoice),
        _entity("payments", "payment", payments.Payment),
        _entity("bank_transactions", "bank_transaction", payments.BankTransaction, bulk=True),
        _entity("attachments", "attachment", documents.Attachment),
        _entity("rd_customers", "rd_customer", raindance.Kund),
        _entity("rd_invoices", "rd_invoice", raindance.Faktura),
        _entity("projects", "project", projects.Project),
        _entity("work_orders", "work_order", projects.WorkOrder),
        _entity("time_reports", "time_report", projects.TimeReport, bulk=True),
        _entity("offers", "offer", projects.Offer),
    )
}
