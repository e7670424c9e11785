"""Connected integrations and their credentials, kept encrypted in the `integrations` table.

Fortnox rotates the refresh token on every refresh and the old one stops working, so two
processes refreshing at once would strand the integration. Renewal therefore happens inside
a transaction that holds the integration's row (``FOR UPDATE`` on PostgreSQL, the write lock
on SQLite) and re-reads it first: whoever comes second finds a fresh token already there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from models.secrets import SecretCipher
from models.store import is_postgres
from models.tables import integrations


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime


@dataclass(frozen=True)
class Credentials:
    integration_id: str
    tenant_id: str
    provider: str
    client_id: str
    client_secret: str
    tokens: TokenSet | None
    settings: dict[str, Any]


def _context(tenant_id: str, provider: str, column: str) -> str:
    return f"{tenant_id}/{provider}/{column}"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def connect(
    connection: sa.Connection,
    cipher: SecretCipher,
    tenant_id: str,
    provider: str,
    client_id: str,
    client_secret: str,
    tokens: TokenSet,
    settings: dict[str, Any] | None = None,
) -> str:
    """Store (or replace) the tenant's connection to `provider`; returns the integration id."""
    now = dt.datetime.now(dt.UTC)
    values = {
        "status": "connected",
        "oauth_client_id": client_id,
        "oauth_client_secret_encrypted": cipher.encrypt(client_secret, _context(tenant_id, provider, "client_secret")),
        "error_count": 0,
        "error_message": None,
        "settings": settings or {},
        "updated_at": now,
        **_token_values(cipher, tenant_id, provider, tokens),
    }
    key = (integrations.c.tenant_id == tenant_id) & (integrations.c.provider == provider)
    existing = connection.execute(sa.select(integrations.c.id).where(key)).scalar_one_or_none()
    if existing:
        connection.execute(integrations.update().where(key).values(values))
        return existing
    integration_id = str(uuid.uuid4())
    connection.execute(
        integrations.insert().values(id=integration_id, tenant_id=tenant_id, provider=provider, created_at=now, **values)
    )
    return integration_id


def _token_values(cipher: SecretCipher, tenant_id: str, provider: str, tokens: TokenSet) -> dict[str, Any]:
    return {
        "access_token_encrypted": cipher.encrypt(tokens.access_token, _context(tenant_id, provider, "access_token")),
        "refresh_token_encrypted": (
            cipher.encrypt(tokens.refresh_token, _context(tenant_id, provider, "refresh_token"))
            if tokens.refresh_token else None
        ),
        "token_expires_at": tokens.expires_at,
    }


def load(connection: sa.Connection, cipher: SecretCipher, tenant_id: str, provider: str, *, lock: bool = False) -> Credentials:
    """The decrypted credentials; with `lock`, the row stays locked until the transaction ends."""
    query = sa.select(integrations).where(integrations.c.tenant_id == tenant_id, integrations.c.provider == provider)
    if lock and is_postgres(connection):
        query = query.with_for_update()
    row = connection.execute(query).one_or_none()
    if row is None:
        raise LookupError(f"tenant {tenant_id} has no {provider} integration; run `ledgerflow connect {provider}` first")
    tokens = None
    if row.access_token_encrypted:
        tokens = TokenSet(
            cipher.decrypt(row.access_token_encrypted, _context(tenant_id, provider, "access_token")),
            cipher.decrypt(row.refresh_token_encrypted, _context(tenant_id, provider, "refresh_token"))
            if row.refresh_token_encrypted else None,
            _utc(row.token_expires_at),
        )
    return Credentials(
        row.id, tenant_id, provider, row.oauth_client_id,
        cipher.decrypt(row.oauth_client_secret_encrypted, _context(tenant_id, provider, "client_secret")),
        tokens, row.settings or {},
    )


def renew_tokens(
    engine: sa.Engine,
    cipher: SecretCipher,
    tenant_id: str,
    provider: str,
    rejected: str | None,
    refresh: Callable[[Credentials], TokenSet],
    margin: dt.timedelta,
) -> TokenSet:
    """A usable token set: the stored one if another process renewed it meanwhile, else a refreshed one.

    `rejected` is the access token the server refused (None when renewing ahead of expiry).
    """
    with engine.begin() as connection:
        credentials = load(connection, cipher, tenant_id, provider, lock=True)
        current = credentials.tokens
        if current and current.access_token != rejected and current.expires_at - margin > dt.datetime.now(dt.UTC):
            return current
        tokens = refresh(credentials)
        connection.execute(
            integrations.update()
            .where(integrations.c.id == credentials.integration_id)
            .values(updated_at=dt.datetime.now(dt.UTC), status="connected", **_token_values(cipher, tenant_id, provider, tokens))
        )
        return tokens


def record_failure(engine: sa.Engine, tenant_id: str, provider: str, message: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            integrations.update()
            .where(integrations.c.tenant_id == tenant_id, integrations.c.provider == provider)
            .values(status="error", error_message=message, error_count=integrations.c.error_count + 1,
                    updated_at=dt.datetime.now(dt.UTC))
        )


def connected(connection: sa.Connection, provider: str | None = None, tenant_id: str | None = None) -> list[tuple[str, str]]:
    """(tenant, provider) of every connected integration, optionally narrowed."""
    query = sa.select(integrations.c.tenant_id, integrations.c.provider).where(integrations.c.status == "connected")
    if provider:
        query = query.where(integrations.c.provider == provider)
    if tenant_id:
        query = query.where(integrations.c.tenant_id == tenant_id)
    return [tuple(row) for row in connection.execute(query.order_by(integrations.c.tenant_id, integrations.c.provider))]
