"""Options that several ``ledgerflow`` command groups share, spelled and explained once."""

from __future__ import annotations

from typing import Annotated

import typer

Tenant = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant id (default: LEDGERFLOW_TENANT or 'demo').")]
By = Annotated[str | None, typer.Option("--by", help="Who decides (default: your user name).")]
