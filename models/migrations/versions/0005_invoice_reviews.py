"""Invoice validation (seed 002 BC11): a review row per Fortnox supplier invoice, and the cache of Claude's readings by PDF SHA-256.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:26:58.773468
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('invoice_extractions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_extractions')),
    sa.UniqueConstraint('tenant_id', 'sha256', 'model', name=op.f('uq_invoice_extractions_tenant_id_sha256_model'))
    )
    op.create_table('invoice_reviews',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('given_number', sa.String(length=50), nullable=False),
    sa.Column('invoice_number', sa.String(length=100), nullable=True),
    sa.Column('supplier_number', sa.String(length=50), nullable=True),
    sa.Column('supplier_name', sa.Text(), nullable=True),
    sa.Column('invoice_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('source_version', sa.String(length=64), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('analysis', sa.JSON(), nullable=True),
    sa.Column('project_number', sa.String(length=50), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=False),
    sa.Column('band', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('complaint', sa.JSON(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_reviews')),
    sa.UniqueConstraint('tenant_id', 'given_number', name=op.f('uq_invoice_reviews_tenant_id_given_number'))
    )
    with op.batch_alter_table('invoice_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_reviews_tenant_id_status_due_date'), ['tenant_id', 'status', 'due_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invoice_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_reviews_tenant_id_status_due_date'))

    op.drop_table('invoice_reviews')
    op.drop_table('invoice_extractions')
