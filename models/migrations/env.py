"""Alembic environment: runs our migrations on the engine handed over by `models.store`.

Run from the command line (``alembic revision --autogenerate -m ...``), it uses
``LEDGERFLOW_DATABASE_URL`` or the embedded SQLite store.
"""

import os

from alembic import context

from models.store import create_engine
from models.tables import metadata

engine = context.config.attributes.get("engine") or create_engine(
    os.environ.get("LEDGERFLOW_DATABASE_URL", "sqlite:///var/ledgerflow.db")
)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
