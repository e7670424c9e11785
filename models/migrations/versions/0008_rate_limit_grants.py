"""One rate limit per external token across processes and machines (issue 15): the grants of each limiter key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:02:11.530417
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_grants',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('granted_at', sa.Double(), nullable=False),
    sa.Column('answered_at', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limit_grants'))
    )
    with op.batch_alter_table('rate_limit_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_grants_tenant_id_key'), ['tenant_id', 'key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_limit_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_grants_tenant_id_key'))

    op.drop_table('rate_limit_grants')
