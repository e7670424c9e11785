"""OAuth 2.0 authorization-code flow with rotating refresh tokens, and the token source built on it.

The token endpoint answers errors as JSON whatever its Content-Type says (Fortnox sends
``invalid_grant`` as text/html), so bodies are parsed as JSON first.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from connectors.http import AuthError, RequestRecord, TransientError
from models import integrations
from models.integrations import Credentials, TokenSet
from models.secrets import SecretCipher


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize_url: str
    token_url: str


def authorize_url(endpoints: OAuthEndpoints, client_id: str, redirect_uri: str, scopes: list[str], state: str) -> str:
    """Where a person signs in and approves the integration."""
    query = urlencode(
        {"client_id": client_id, "redirect_uri": redirect_uri, "scope": " ".join(scopes), "state": state,
         "access_type": "offline", "response_type": "code"}
    )
    return f"{endpoints.authorize_url}?{query}"


def token_request(endpoints: OAuthEndpoints, client_id: str, client_secret: str, form: dict[str, str]) -> TokenSet:
    record = RequestRecord("POST", endpoints.token_url, None, {"grant_type": form["grant_type"]})
    try:
        response = httpx.post(endpoints.token_url, data=form, auth=(client_id, client_secret), timeout=30.0)
    except httpx.HTTPError as error:
        raise TransientError("oauth", None, None, f"token endpoint unreachable: {error}", record, []) from error
    try:
        body = json.loads(response.text)
    except ValueError:
        body = {"error": "invalid_response", "error_description": response.text[:200]}
    if response.status_code != 200:
        error_type = TransientError if response.status_code >= 500 or response.status_code == 429 else AuthError
        raise error_type("oauth", response.status_code, body.get("error"), body.get("error_description", ""), record, [])
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(body.get("expires_in", 3600)))
    return TokenSet(body["access_token"], body.get("refresh_token"), expires_at)


def exchange_code(
    endpoints: OAuthEndpoints, client_id: str, client_secret: str, code: str, redirect_uri: str
) -> TokenSet:
    """Trade the one-time authorization code for the first token set."""
    return token_request(endpoints, client_id, client_secret,
                          {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})


def refresh(endpoints: OAuthEndpoints, credentials: Credentials) -> TokenSet:
    if credentials.tokens is None or not credentials.tokens.refresh_token:
        raise AuthError("oauth", None, None, "no refresh token stored; connect again",
                        RequestRecord("POST", endpoints.token_url), [])
    return token_request(endpoints, credentials.client_id, credentials.client_secret,
                          {"grant_type": "refresh_token", "refresh_token": credentials.tokens.refresh_token})


class StoredTokenSource:
    """Tokens from the `integrations` table, renewed shortly before expiry and when refused."""

    def __init__(
        self,
        engine: sa.Engine,
        cipher: SecretCipher,
        tenant_id: str,
        provider: str,
        endpoints: OAuthEndpoints,
        margin: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self._engine, self._cipher, self._endpoints, self._margin = engine, cipher, endpoints, margin
        self.tenant_id, self.provider = tenant_id, provider
        self._lock = threading.Lock()
        self._tokens: TokenSet | None = None
        self.renewals = 0

    def _renew(self, rejected: str | None) -> TokenSet:
        def do_refresh(credentials: Credentials) -> TokenSet:
            self.renewals += 1
            return refresh(self._endpoints, credentials)

        try:
            return integrations.renew_tokens(self._engine, self._cipher, self.tenant_id, self.provider, rejected,
                                             do_refresh, self._margin)
        except AuthError as error:
            integrations.record_failure(self._engine, self.tenant_id, self.provider, str(error))
            raise

    def token(self) -> str:
        with self._lock:
            if self._tokens is None:
                with self._engine.connect() as connection:
                    self._tokens = integrations.load(connection, self._cipher, self.tenant_id, self.provider).tokens
            if self._tokens is None or self._tokens.expires_at - self._margin <= dt.datetime.now(dt.UTC):
                self._tokens = self._renew(None)
            return self._tokens.access_token

    def renew(self, rejected: str) -> str:
        with self._lock:
            if self._tokens is None or self._tokens.access_token == rejected:
                self._tokens = self._renew(rejected)
            return self._tokens.access_token
