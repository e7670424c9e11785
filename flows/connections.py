"""Clients for the connected systems, built from settings and the tenant's stored integration."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import httpx

import sqlalchemy as sa

from connectors import fortnox as fx
from connectors.graph_mail import GraphMailClient
from connectors.http import ApiError, RetryPolicy
from connectors.oauth import OAuthEndpoints, StoredTokenSource, exchange_code
from flows.settings import Settings
from models import integrations
from models.invoice_review import Buyer

if TYPE_CHECKING:  # the Anthropic SDK takes seconds to import; only invoice validation needs it
    from connectors.claude_invoice import ClaudeInvoiceReader


@dataclass(frozen=True)
class FortnoxEndpoints:
    """Where a tenant's Fortnox lives and how hard it may be driven: the real one, or a sandbox.

    Kept in the integration's settings, so every run for the tenant talks to the same place.
    """

    api_url: str = fx.API_URL
    authorize_url: str = fx.OAUTH.authorize_url
    token_url: str = fx.OAUTH.token_url
    requests_per_5s: int = 25  # Fortnox's published limit per access token
    page_size: int = fx.PAGE_SIZE

    @property
    def oauth(self) -> OAuthEndpoints:
        return OAuthEndpoints(self.authorize_url, self.token_url)

    @property
    def limits(self) -> tuple[fx.RateLimit, ...]:
        return fx.limits(self.requests_per_5s)

    @classmethod
    def of(cls, settings: dict) -> FortnoxEndpoints:
        return cls(**{key: settings[key] for key in cls.__dataclass_fields__ if key in settings})


def fortnox_client(settings: Settings, engine: sa.Engine, tenant_id: str) -> fx.FortnoxClient:
    """A client for the tenant's Fortnox, with tokens renewed through the store and its rate limit kept
    there, so every process and machine calling the tenant's token shares one budget."""
    cipher = settings.cipher()
    with engine.connect() as connection:
        stored = integrations.load(connection, cipher, tenant_id, "fortnox")
    endpoints = FortnoxEndpoints.of(stored.settings)
    tokens = StoredTokenSource(engine, cipher, tenant_id, "fortnox", endpoints.oauth)
    retry = RetryPolicy(attempts=settings.http_attempts, initial=settings.http_backoff_seconds)
    return fx.FortnoxClient.for_tenant(tenant_id, tokens, endpoints.api_url, retry, endpoints.limits,
                                       page_size=endpoints.page_size, store=engine)


COMPANY_SOURCE = ("set LEDGERFLOW_COMPANY_NAME and LEDGERFLOW_COMPANY_ORG_NR, or let Fortnox answer "
                  "GET /3/companyinformation (scope companyinformation)")


def our_company(settings: Settings, client: fx.FortnoxClient) -> Buyer:
    """Our company as suppliers must invoice it. `LEDGERFLOW_COMPANY_NAME` and `_ORG_NR` override,
    each on its own; what is not set comes from the tenant's Fortnox company information (one request,
    only then, under the tenant's rate limit). Raises ValueError, one line, when it stays unknown."""
    buyer = settings.buyer()
    if buyer is not None:
        return buyer
    try:
        company = client.company_information()
    except ApiError as error:
        raise ValueError(f"our company is unknown: {COMPANY_SOURCE}; Fortnox: {' '.join(str(error).split())}") from None
    org_nr = (company.organization_number or "").strip()
    if org_nr.isdigit() and len(org_nr) == 10:  # Buyer's form is NNNNNN-NNNN
        org_nr = f"{org_nr[:6]}-{org_nr[6:]}"
    name = (company.company_name or "").strip()
    buyer = settings.buyer(name, org_nr)
    if buyer is None:
        missing = "CompanyName" if not (settings.company_name or name) else "OrganizationNumber"
        raise ValueError(f"our company is unknown: {COMPANY_SOURCE}; Fortnox's company information has no {missing}")
    return buyer


def sandbox_endpoints(url: str, **overrides: int) -> FortnoxEndpoints:
    """The endpoints of a Fortnox sandbox served at `url` (``ledgerflow sandbox serve``)."""
    base = url.rstrip("/")
    return FortnoxEndpoints(f"{base}/3/", f"{base}/oauth-v1/auth", f"{base}/oauth-v1/token", **overrides)


def connect_fortnox(settings: Settings, engine: sa.Engine, tenant_id: str, code: str, endpoints: FortnoxEndpoints) -> str:
    """Trade an authorization code for tokens and store the tenant's Fortnox integration (encrypted)."""
    secret = settings.fortnox_client_secret.get_secret_value()
    tokens = exchange_code(endpoints.oauth, settings.fortnox_client_id, secret, code, settings.fortnox_redirect_uri)
    with engine.begin() as connection:
        return integrations.connect(connection, settings.cipher(), tenant_id, "fortnox", settings.fortnox_client_id,
                                    secret, tokens, asdict(endpoints))


def sandbox_code(url: str, redirect_uri: str) -> str:
    """An authorization code from a running sandbox, without a browser (its admin endpoint)."""
    response = httpx.post(f"{url.rstrip('/')}/_sandbox/authorize",
                          json={"redirect_uri": redirect_uri, "scope": " ".join(fx.SCOPES)}, timeout=10)
    response.raise_for_status()
    return response.json()["code"]


def graph_mailer(settings: Settings) -> GraphMailClient | None:
    """The Microsoft Graph mail client, when an app registration is configured."""
    if not (settings.graph_tenant_id and settings.graph_client_id and settings.graph_client_secret):
        return None
    retry = RetryPolicy(attempts=settings.http_attempts, initial=settings.http_backoff_seconds)
    return GraphMailClient.for_tenant(settings.graph_tenant_id, settings.graph_client_id,
                                      settings.graph_client_secret.get_secret_value(), base_url=settings.graph_api_url,
                                      authority=settings.graph_authority_url, retry=retry)


def claude_reader(settings: Settings) -> ClaudeInvoiceReader | None:
    """Claude as a second reader of invoice PDFs, when an API key is configured."""
    if settings.anthropic_api_key is None:
        return None
    from connectors.claude_invoice import ClaudeInvoiceReader

    return ClaudeInvoiceReader(settings.anthropic_api_key.get_secret_value(), settings.claude_model)
