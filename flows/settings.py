"""Settings, read from the environment (prefix ``LEDGERFLOW_``) or a ``.env`` file.

Only flows and the command line read settings; tasks and connectors take what they need as
arguments, so they can be tested without environment variables.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.secrets import SecretCipher


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERFLOW_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/ledgerflow.db",
        description="SQLAlchemy URL of the store; PostgreSQL as postgresql+psycopg://user@host/db",
    )
    tenant: str = Field("demo", description="Tenant the commands act for when none is given")
    workcloud_dir: Path = Field(Path("var/workcloud"), description="Folder the daily WorkCloud exports are saved in")
    encryption_key: SecretStr | None = Field(
        None,
        description="Base64 AES-256 key that encrypts stored tokens and client secrets. Without it a key is "
        "generated once into key_file (fine on one machine; set it explicitly in production).",
    )
    key_file: Path = Field(Path("var/ledgerflow.key"), description="Where the generated key is kept (mode 0600)")
    fortnox_client_id: str = Field("ledgerflow-sandbox", description="OAuth client id of the Fortnox app")
    fortnox_client_secret: SecretStr = Field(SecretStr("sandbox-secret"), description="OAuth client secret")
    fortnox_redirect_uri: str = Field("http://127.0.0.1:8765/callback", description="Registered OAuth redirect URI")
    http_attempts: int = Field(6, ge=1, le=8, description="Tries per HTTP request on 429, 5xx and network errors")
    http_backoff_seconds: float = Field(1.0, gt=0, description="First backoff; doubles per try (1, 2, 4, 8, 16 s)")

    bank_max_file_mb: int = Field(10, ge=1, description="Largest bank export accepted (seed 004 §5.1.1: 10 MB)")

    def cipher(self) -> SecretCipher:
        if self.encryption_key is not None:
            return SecretCipher.from_text(self.encryption_key.get_secret_value())
        if not self.key_file.exists():
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            self.key_file.touch(mode=0o600)
            self.key_file.write_text(SecretCipher.new_key())
        return SecretCipher.from_text(self.key_file.read_text())
