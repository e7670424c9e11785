"""Operations (INT-01-OPS-002, OPS-003): the alerts table, and audit events that retention may remove.

The append-only guard of 0001 refused every DELETE on audit_events. Retention must remove the
events older than the bookkeeping period, but only as a whole prefix of a tenant's chain and only
after recording a checkpoint (``models.audit.remove_prefix``). The guard now lets a DELETE through
exactly then: when the tenant's chain head is a checkpoint that covers the row. Everything else,
every UPDATE included, is refused as before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:12:40.118204
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The head of the row's chain is a checkpoint covering it (models.audit.CHECKPOINT, "through_seq").
_POSTGRES_COVERED = """
    EXISTS (SELECT 1 FROM (SELECT entity_type, new_state FROM audit_events WHERE tenant_id = OLD.tenant_id
                           ORDER BY seq DESC LIMIT 1) AS head
            WHERE head.entity_type = 'audit_chain' AND (head.new_state ->> 'through_seq')::bigint >= OLD.seq)
"""
_SQLITE_COVERED = """
    EXISTS (SELECT 1 FROM audit_events AS head
            WHERE head.seq = (SELECT max(seq) FROM audit_events WHERE tenant_id = OLD.tenant_id)
              AND head.entity_type = 'audit_chain' AND json_extract(head.new_state, '$.through_seq') >= OLD.seq)
"""


def _guard_function(delete_allowed: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {delete_allowed}
          RAISE EXCEPTION 'audit_events is append-only (seed 003 7.5): % refused', TG_OP;
        END $$;
    """


def _sqlite_delete_trigger(when: str) -> str:
    return (f"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events {when}"
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (seed 003 7.5): DELETE refused'); END")


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('fingerprint', sa.String(length=200), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('delivery', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_tenant_id_fingerprint_created_at'),
                              ['tenant_id', 'fingerprint', 'created_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_guard_function(f"IF TG_OP = 'DELETE' AND {_POSTGRES_COVERED} THEN RETURN OLD; END IF;"))
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(_sqlite_delete_trigger(f"WHEN NOT {_SQLITE_COVERED} "))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_guard_function(""))
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(_sqlite_delete_trigger(""))

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_tenant_id_fingerprint_created_at'))

    op.drop_table('alerts')
