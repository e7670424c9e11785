"""Settings, read from the environment (prefix ``LEDGERFLOW_``) or a ``.env`` file.

Only flows and the command line read settings; tasks and connectors take what they need as
arguments, so they can be tested without environment variables.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERFLOW_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/ledgerflow.db",
        description="SQLAlchemy URL of the store; PostgreSQL as postgresql+psycopg://user@host/db",
    )
    tenant: str = Field("demo", description="Tenant the commands act for when none is given")
    workcloud_dir: Path = Field(Path("var/workcloud"), description="Folder the daily WorkCloud exports are saved in")
