"""Settings, read from the environment (prefix ``LEDGERFLOW_``) or a ``.env`` file.

Only flows and the command line read settings; tasks and connectors take what they need as
arguments, so they can be tested without environment variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url

from models.invoice_review import Buyer
from models.secrets import SecretCipher


Jurisdiction = Literal["SE", "DK"]  # the laws tasks.retention knows


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

    workers: int | None = Field(
        None, ge=0, description="Processes that validate a large export (20,000 rows or more) beside the flow's own "
        "(default: one per core; 0: the flow's process does it alone)",
    )
    bank_max_file_mb: int = Field(10, ge=1, description="Largest bank export accepted (seed 004 §5.1.1: 10 MB)")

    # Supplier-invoice validation (seed 002 BC11)
    company_name: str | None = Field(None, description="Our company as suppliers must invoice it (default: "
                                     "CompanyName of Fortnox's company information)")
    company_org_nr: str | None = Field(None, description="Our org.nr, NNNNNN-NNNN (default: OrganizationNumber of "
                                       "Fortnox's company information)")
    company_vat_number: str | None = Field(None, description="Our VAT number (default SE + org.nr + 01)")
    company_invoice_address: list[str] = Field(default_factory=list, description="Postal lines under the name "
                                               '(JSON list, e.g. ["Box 123", "753 23 Uppsala"])')
    company_contact_email: str | None = Field(None, description="Who suppliers answer a complaint to")
    anthropic_api_key: SecretStr | None = Field(None, description="Also read invoices with Claude when set")
    claude_model: str = Field("claude-sonnet-5-5", description="The Claude model that reads invoices")
    invoice_auto_reject: bool = Field(False, description="Send a complaint by itself below 60 % confidence")
    invoice_escalation_days: int = Field(3, ge=0, description="Flagged invoices due this soon are escalated")
    invoice_reviewer_email: str | None = Field(None, description="Who gets escalation notices (the reviewer)")
    review_api_token: SecretStr | None = Field(None, description="Bearer token of the review HTTP API")
    graph_tenant_id: str | None = Field(None, description="Microsoft Entra tenant of the mail app")
    graph_client_id: str | None = Field(None, description="Client id of the app with Mail.Send")
    graph_client_secret: SecretStr | None = Field(None, description="Its client secret")
    graph_sender: str | None = Field(None, description="Mailbox complaints are sent from")
    graph_api_url: str = Field("https://graph.microsoft.com/", description="Microsoft Graph (or its sandbox)")
    graph_authority_url: str = Field("https://login.microsoftonline.com", description="Token authority")

    # Alerting (INT-01-OPS-002) and retention (INT-01-OPS-003), docs/runbook.md
    alert_window_minutes: int = Field(60, ge=1, description="How far back each alert check looks")
    alert_error_rate: float = Field(0.05, ge=0, le=1, description="Alert when more than this share of a system's "
                                    "records failed (quarantined or dead-lettered) within the window")
    alert_slow_seconds: float = Field(900, gt=0, description="Alert when one dataset's sync took longer than this")
    alert_cooldown_minutes: int = Field(60, ge=0, description="The same alert is not sent again within this time")
    alert_webhook_url: str | None = Field(None, description="POST every alert here as JSON")
    alert_webhook_secret: SecretStr | None = Field(None, description="Signs webhook bodies: header "
                                                   "X-Ledgerflow-Signature: sha256=<HMAC-SHA256 hex>")
    alert_email: list[str] = Field(default_factory=list, description="Who gets alert e-mails through Microsoft "
                                   'Graph, from graph_sender (JSON list, e.g. ["drift@example.se"])')
    retention_log_months: int = Field(12, ge=12, description="Keep sync logs, jobs, dead letters and alerts this "
                                      "long (OPS-003: at least 12 months)")
    retention_personal_months: int = Field(24, ge=1, description="Then anonymise the personal data of invoice "
                                           "reviews (reviewer, comments, references) kept for the bookkeeping")
    jurisdiction: Jurisdiction = Field("SE", description="Bookkeeping law deciding how long documents and the audit "
                                       "trail are kept: SE 7 years, DK 5 years")
    tenant_jurisdictions: dict[str, Jurisdiction] = Field(
        default_factory=dict, description='Tenants under another law than `jurisdiction` (JSON, e.g. {"acme-dk": "DK"})'
    )

    reports_dir: Path = Field(Path("var/reports"), description="Where reconciliation reports (HTML and CSV) are "
                              "written: <reports_dir>/<tenant>/<kind>-<period>/")

    @property
    def store_is_postgres(self) -> bool:
        """Whether the store is PostgreSQL, which takes new records as COPY text."""
        return make_url(self.database_url).get_backend_name() == "postgresql"

    def buyer(self, name: str | None = None, org_nr: str | None = None) -> Buyer | None:
        """Our company for the invoice checks and complaints: `company_name` and `company_org_nr` where set,
        else `name` and `org_nr` (what Fortnox's company information says); None while either is unknown."""
        name, org_nr = self.company_name or name, self.company_org_nr or org_nr
        if not (name and org_nr):
            return None
        return Buyer(name=name, org_nr=org_nr, vat_number=self.company_vat_number,
                     invoice_address=tuple(self.company_invoice_address), contact_email=self.company_contact_email)

    def cipher(self) -> SecretCipher:
        if self.encryption_key is not None:
            return SecretCipher.from_text(self.encryption_key.get_secret_value())
        if not self.key_file.exists():
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            self.key_file.touch(mode=0o600)
            self.key_file.write_text(SecretCipher.new_key())
        return SecretCipher.from_text(self.key_file.read_text())


def settings_problems(error: BaseException) -> list[str] | None:
    """What a user got wrong in the settings, one line per problem naming the variable, or None if
    `error` is not about the settings (reading them raised it: a bad value, or a value that is no JSON)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    prefix = Settings.model_config.get("env_prefix", "")
    if isinstance(error, ValidationError) and error.title == Settings.__name__:
        lines = []
        for problem in error.errors():
            name, *inner = map(str, problem["loc"])
            where = f" (at {'.'.join(inner)})" if inner else ""
            lines.append(f"{prefix}{name.upper()}={problem.get('input')!r}{where}: {problem['msg']}")
        return lines
    if isinstance(error, SettingsError):  # pydantic-settings could not parse a JSON value
        field = str(error).split('"')[1] if str(error).count('"') >= 2 else ""
        return [f"{prefix}{field.upper()}: not valid JSON ({error.__cause__ or error})"]
    return None

