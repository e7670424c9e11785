"""Options that several ``ledgerflow`` command groups share, spelled and explained once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from flows.settings import Settings

Tenant = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant id (default: LEDGERFLOW_TENANT or 'demo').")]
By = Annotated[str | None, typer.Option("--by", help="Who decides (default: your user name).")]


def load_settings() -> Settings:
    """The settings, read when a command runs: loading them imports SQLAlchemy, pydantic-settings and
    the cipher, which ``--help`` and the commands that never use them should not pay for."""
    from flows.settings import Settings

    return Settings()
