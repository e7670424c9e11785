"""Bank imports (seed 004): the import log of §6.4 and the bank-transaction fields counterparty, source file and row, is_income.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:47:51.990423
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bank_imports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('bank', sa.String(length=16), nullable=True),
    sa.Column('format', sa.String(length=32), nullable=True),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('flow_run_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_imports'))
    )
    with op.batch_alter_table('bank_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_imports_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('bank_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counterparty', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('source_file', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('source_row', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('is_income', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('bank_transactions', schema=None) as batch_op:
        batch_op.drop_column('is_income')
        batch_op.drop_column('source_row')
        batch_op.drop_column('source_file')
        batch_op.drop_column('counterparty')

    with op.batch_alter_table('bank_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_imports_tenant_id'))

    op.drop_table('bank_imports')
