"""Drop the tenant_id indexes that a unique key or another index starting with tenant_id makes redundant.

That key serves every lookup by tenant just as well; the extra index only cost each insert
(about a fifth of the database time of a large WorkCloud load). The tables where nothing
else starts with tenant_id keep theirs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:42:28.998366
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    # entity tables: unique (tenant_id, source_system, external_id)
    'accounts', 'attachments', 'bank_transactions', 'companies', 'customers', 'employees', 'invoices',
    'journal_entries', 'offers', 'payments', 'products', 'projects', 'rd_customers', 'rd_invoices',
    'supplier_invoices', 'suppliers', 'time_reports', 'vat_codes', 'work_orders',
    # bookkeeping tables
    'audit_events',  # index (tenant_id, seq)
    'integration_mappings',  # unique (tenant_id, system, entity_type, external_id)
    'integrations',  # unique (tenant_id, provider)
    'quarantine',  # unique (tenant_id, dataset, record_hash, error_code, field)
    'source_files',  # unique (tenant_id, system, sha256)
    'sync_logs',  # index (tenant_id, created_at)
)


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(op.f(f'ix_{table}_tenant_id'), table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(op.f(f'ix_{table}_tenant_id'), table, ['tenant_id'], unique=False)
