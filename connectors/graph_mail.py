"""E-mail through Microsoft Graph `sendMail`: complaints to suppliers, alerts and escalations to reviewers.

Facts (``reference/notes/apis.md`` §5, Microsoft's sendMail and identity-platform pages): a message is
posted to ``/v1.0/users/{id or userPrincipalName}/sendMail`` with an app-only token (application
permission ``Mail.Send``) or to ``/v1.0/me/sendMail`` with a signed-in user's token; Graph answers
**202 Accepted with an empty body** and no message id. Errors come as ``{"error": {"code", "message",
"innerError"}}``; throttling is 429 with ``Retry-After``, which `ApiClient` honours. App-only tokens come
from ``{authority}/{tenant}/oauth2/v2.0/token`` with the client-credentials grant and the scope
``https://graph.microsoft.com/.default``. A file attachment travels base64 inside the JSON, which
Graph takes only up to 3 MB (larger files need an upload session to a draft), so bigger ones are refused
here, before anything is sent.

There is no client-side rate limiter: Graph publishes no fixed quota for sendMail, only throttling with
``Retry-After``, and ledgerflow sends a handful of messages a day.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from connectors.http import ApiClient, RetryPolicy, TokenSource
from connectors.oauth import OAuthEndpoints, token_request
from models.integrations import TokenSet
from models.parties import Email

API_URL = "https://graph.microsoft.com/"
AUTHORITY = "https://login.microsoftonline.com"
SCOPE = "https://graph.microsoft.com/.default"
MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024
FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"


# --------------------------------------------------------------------------- the message
class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: Email
    name: str | None = None

    def graph(self) -> dict[str, Any]:
        email: dict[str, str] = {"address": self.address}
        if self.name:
            email["name"] = self.name
        return {"emailAddress": email}


def _recipient(value: Any) -> Any:
    """A bare address is a recipient without a display name."""
    return {"address": value} if isinstance(value, str) else value


RecipientField = Annotated[Recipient, BeforeValidator(_recipient)]


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    content_type: str = Field(min_length=1)
    content: bytes = Field(repr=False)

    @model_validator(mode="after")
    def _fits_in_one_request(self) -> Attachment:
        if len(self.content) > MAX_ATTACHMENT_BYTES:
            raise ValueError(
                f"attachment {self.name!r} is {len(self.content)} bytes; Graph sendMail takes at most "
                f"{MAX_ATTACHMENT_BYTES} bytes (3 MB) per attachment"
            )
        return self

    def graph(self) -> dict[str, Any]:
        return {"@odata.type": FILE_ATTACHMENT, "name": self.name, "contentType": self.content_type,
                "contentBytes": base64.b64encode(self.content).decode("ascii")}


class MailMessage(BaseModel):
    """One e-mail with an HTML body; recipients may be given as bare addresses."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(min_length=1)
    html: str
    to: list[RecipientField] = Field(min_length=1)
    cc: list[RecipientField] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _attachments_fit_together(self) -> MailMessage:
        """Base64 makes 3 MB of files 4 MB of JSON, about what one Graph request may carry."""
        total = sum(len(attachment.content) for attachment in self.attachments)
        if total > MAX_ATTACHMENT_BYTES:
            raise ValueError(f"the attachments are {total} bytes together; Graph sendMail takes at most "
                             f"{MAX_ATTACHMENT_BYTES} bytes (3 MB) in one message")
        return self

    def graph(self) -> dict[str, Any]:
        """The `message` of a sendMail body."""
        message: dict[str, Any] = {
            "subject": self.subject,
            "body": {"contentType": "HTML", "content": self.html},
            "toRecipients": [recipient.graph() for recipient in self.to],
        }
        if self.cc:
            message["ccRecipients"] = [recipient.graph() for recipient in self.cc]
        if self.attachments:
            message["attachments"] = [attachment.graph() for attachment in self.attachments]
        return message


# --------------------------------------------------------------------------- tokens
def endpoints(tenant_id: str, authority: str = AUTHORITY) -> OAuthEndpoints:
    """The Microsoft identity platform (v2.0) endpoints of one tenant."""
    base = f"{authority.rstrip('/')}/{quote(tenant_id, safe='')}/oauth2/v2.0"
    return OAuthEndpoints(f"{base}/authorize", f"{base}/token")


class ClientCredentials:
    """App-only tokens (client-credentials grant), kept in memory until 5 minutes before they expire.

    Unlike Fortnox's there is no refresh token to store: a new token costs one request with the client
    secret, so nothing but the secret (which the caller holds) outlives the process. Renewal is
    serialised so that threads sharing the client fetch one token, not one each.
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        authority: str = AUTHORITY,
        margin: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self.endpoints = endpoints(tenant_id, authority)
        self.client_id = client_id
        self._secret = client_secret
        self._margin = margin
        self._lock = threading.Lock()
        self._tokens: TokenSet | None = None

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.endpoints.token_url!r}, client_id={self.client_id!r})"

    def _fetch(self) -> TokenSet:
        return token_request(self.endpoints, self.client_id, self._secret,
                              {"grant_type": "client_credentials", "scope": SCOPE})

    def token(self) -> str:
        with self._lock:
            if self._tokens is None or self._tokens.expires_at - self._margin <= dt.datetime.now(dt.UTC):
                self._tokens = self._fetch()
            return self._tokens.access_token

    def renew(self, rejected: str) -> str:
        with self._lock:
            if self._tokens is None or self._tokens.access_token == rejected:
                self._tokens = self._fetch()
            return self._tokens.access_token


# --------------------------------------------------------------------------- client
def parse_error(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from Graph's ``{"error": {"code", "message"}}``."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:500]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        return (str(code) if code is not None else None), str(error.get("message", ""))
    return None, response.text[:500]


class GraphMailClient:
    """Sends mail through Graph. Failures raise `connectors.http` errors carrying Graph's error code."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    @classmethod
    def connect(
        cls, tokens: TokenSource, base_url: str = API_URL, retry: RetryPolicy | None = None
    ) -> GraphMailClient:
        """A client on any token source: `ClientCredentials`, or a signed-in user's tokens for ``/me``."""
        return cls(ApiClient(system="graph", base_url=base_url.rstrip("/") + "/", tokens=tokens,
                             retry=retry or RetryPolicy(), error_parser=parse_error))

    @classmethod
    def for_tenant(
        cls,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        base_url: str = API_URL,
        authority: str = AUTHORITY,
        retry: RetryPolicy | None = None,
    ) -> GraphMailClient:
        """The usual set-up: an app registration with the application permission Mail.Send."""
        return cls.connect(ClientCredentials(tenant_id, client_id, client_secret, authority), base_url, retry)

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> GraphMailClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, message: MailMessage, sender: str | None, *, save_to_sent_items: bool = True) -> None:
        """Send `message` from the mailbox `sender` (app-only token), or as the signed-in user when None.

        Returns when Graph has accepted the message (202); delivery happens after that.
        """
        path = f"v1.0/users/{quote(sender, safe='@')}/sendMail" if sender else "v1.0/me/sendMail"
        self.api.request("POST", path, json={"message": message.graph(), "saveToSentItems": save_to_sent_items})
