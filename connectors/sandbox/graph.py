"""Microsoft Graph `sendMail` and the identity platform's token endpoint, as a local sandbox.

Our Graph mail client is tested against this over HTTP, so it answers as the real services do
(``reference/notes/apis.md`` §5, and bodies developers have posted from them): client-credentials
tokens that expire, Entra ID errors such as ``invalid_client`` with their AADSTS numbers, Graph's
``{"error": {"code", "message", "innerError"}}``, 202 with an empty body, ``/me`` refused to app-only
tokens, and throttling with ``Retry-After``. Every accepted message is kept for
``GET /_sandbox/messages``. Where the real behaviour is not documented the choice is marked "guess".

Paths: ``POST /{tenant}/oauth2/v2.0/token`` (the authority is the sandbox's URL),
``POST /v1.0/users/{user}/sendMail`` and ``POST /v1.0/me/sendMail`` (the Graph base is the same URL).
Admin (no auth): ``GET /_sandbox/messages``; ``POST /_sandbox/faults`` with ``{"status": 429 | 503,
"count": n, "retry_after": seconds}`` (``{}`` clears); ``POST /_sandbox/clock`` with
``{"advance_seconds": s}``; ``POST /_sandbox/delegated-token`` with ``{"user": mailbox}``, a token as if
that user had signed in, for ``/me``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.sandbox.local_server import LocalServer, json_object

TENANT_ID = "5f3c9a3e-7d1b-4c2e-9a61-2b8f0e4d7c15"
CLIENT_ID = "0b9e6c2a-3f4d-4e8b-a1c7-6d2f9e8b4a30"
CLIENT_SECRET = "sandbox-graph-secret"
MAILBOXES = ("ekonomi@ekbackenbygg.se",)
SCOPE = "https://graph.microsoft.com/.default"
TOKEN_LIFETIME = 3599  # what Entra ID usually grants
FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Graph's answer to an injected fault: (code, message). The 503 wording is a guess.
FAULTS = {
    429: ("ApplicationThrottled", "Application is over its MailboxConcurrency limit."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry after a delay."),
}


@dataclass(frozen=True)
class Grant:
    user: str | None  # the signed-in user of a delegated token; None for an app-only token
    expires_at: float


@dataclass
class Fault:
    status: int
    count: int
    retry_after: int | None


class GraphState:
    """Tokens, recorded messages, pending faults and the clock, shared by the handlers."""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        mailboxes: Sequence[str],
        token_lifetime: int,
        clock: Callable[[], float],
    ) -> None:
        self.tenant_id, self.client_id, self.client_secret = tenant_id, client_id, client_secret
        self.mailboxes = {mailbox.casefold(): mailbox for mailbox in mailboxes}
        self.token_lifetime = token_lifetime
        self._clock = clock
        self._offset = 0.0
        self.lock = threading.Lock()
        self.grants: dict[str, Grant] = {}
        self.messages: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self.fault: Fault | None = None

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._offset += seconds

    def issue(self, user: str | None) -> str:
        token = secrets.token_urlsafe(48)
        with self.lock:
            self.grants[token] = Grant(user, self.now() + self.token_lifetime)
            self.tokens_issued += 1
        return token

    def draw_fault(self) -> Fault | None:
        with self.lock:
            fault = self.fault
            if fault is None:
                return None
            fault.count -= 1
            if fault.count <= 0:
                self.fault = None
            return fault

    def record(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(message)


# ---------------------------------------------------------------------------------------------
# Entra ID (login.microsoftonline.com): the client-credentials grant


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _entra_error(status: int, error: str, number: int, text: str) -> Response:
    """Entra ID's error body: the AADSTS number leads the description, trace ids follow it."""
    trace, correlation, timestamp = str(uuid.uuid4()), str(uuid.uuid4()), _utc_now()
    return JSONResponse({
        "error": error,
        "error_description": f"AADSTS{number}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\n"
                             f"Timestamp: {timestamp}",
        "error_codes": [number],
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={number}",
    }, status, headers={"Cache-Control": "no-store, no-cache"})


def _client(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """Client id and secret from HTTP Basic or the form: Entra ID accepts both."""
    kind, _, encoded = request.headers.get("authorization", "").partition(" ")
    if kind.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


async def token_endpoint(request: Request) -> Response:
    state: GraphState = request.app.state.graph
    tenant = request.path_params["tenant"]
    form = dict(parse_qsl((await request.body()).decode()))
    client_id, secret = _client(request, form)
    if tenant != state.tenant_id:
        return _entra_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check to make sure you "
                            "have the correct tenant ID and are signing into the correct cloud.")
    if form.get("grant_type") != "client_credentials":  # the only grant simulated; wording: guess
        return _entra_error(400, "unsupported_grant_type", 70003,
                            "The app requested an unsupported grant type.")
    if client_id != state.client_id:
        return _entra_error(400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was "
                            f"not found in the directory '{tenant}'.")
    if not secret:
        return _entra_error(401, "invalid_client", 7000218, "The request body must contain the following "
                            "parameter: 'client_assertion' or 'client_secret'.")
    if not secrets.compare_digest(secret.encode(), state.client_secret.encode()):
        return _entra_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                            "being sent in the request is the client secret value, not the client secret ID, "
                            f"for a secret added to app '{client_id}'.")
    if form.get("scope") != SCOPE:
        return _entra_error(400, "invalid_scope", 1002012, f"The provided value for scope {form.get('scope')} is "
                            "not valid. Client credential flows must have a scope value with /.default suffixed "
                            "to the resource identifier (application ID URI).")
    return JSONResponse({"token_type": "Bearer", "expires_in": state.token_lifetime,
                         "ext_expires_in": state.token_lifetime, "access_token": state.issue(None)},
                        headers={"Cache-Control": "no-store, no-cache"})


# ---------------------------------------------------------------------------------------------
# Graph: sendMail


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _graph_response(request: Request, status: int, content: Any = None, headers: dict[str, str] | None = None
                    ) -> Response:
    """Every Graph answer carries a request-id and echoes the caller's client-request-id."""
    request_id = str(uuid.uuid4())
    echoed = {"request-id": request_id,
              "client-request-id": request.headers.get("client-request-id", request_id), **(headers or {})}
    if content is None:
        return Response(status_code=status, headers=echoed)
    return JSONResponse(content, status, headers=echoed)


def _error_response(request: Request, error: GraphError) -> Response:
    inner = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")}
    body = {"error": {"code": error.code, "message": error.message, "innerError": inner}}
    return _graph_response(request, error.status, body, error.headers)


def _authenticate(request: Request, state: GraphState) -> Grant:
    kind, _, token = request.headers.get("authorization", "").partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
    grant = state.grants.get(token.strip())
    if grant is None:
        raise GraphError(401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217")
    if grant.expires_at <= state.now():
        raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
    return grant


def _sender(state: GraphState, grant: Grant, user: str | None) -> str:
    if user is None:
        if grant.user is None:
            raise GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
        return grant.user
    if grant.user is not None and grant.user.casefold() != user.casefold():
        raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    mailbox = state.mailboxes.get(user.casefold())
    if mailbox is None:
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
    return mailbox


def _addresses(recipients: Any, required: bool) -> list[str]:
    if recipients in (None, []):
        if required:
            raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't "
                             "be sent because it contains no recipients.")
        return []
    if not isinstance(recipients, list):
        raise GraphError(400, "RequestBodyRead", "An unexpected 'StartObject' node was found when reading from the "
                         "JSON reader. A 'StartArray' node was expected.")  # guess
    addresses = []
    for recipient in recipients:
        email = recipient.get("emailAddress") if isinstance(recipient, dict) else None
        address = email.get("address") if isinstance(email, dict) else None
        if not isinstance(address, str) or not _ADDRESS.match(address):
            raise GraphError(400, "ErrorInvalidRecipients", f"At least one recipient isn't valid., Recipient "
                             f"'{address or ''}' isn't resolved. All recipients must be resolved before a message "
                             "can be submitted.")
        addresses.append(address)
    return addresses


def _attachments(attachments: Any) -> list[dict[str, Any]]:
    decoded = []
    for attachment in attachments or []:
        if not isinstance(attachment, dict):
            raise GraphError(400, "RequestBodyRead", "An unexpected 'PrimitiveValue' node was found when reading "
                             "from the JSON reader. A 'StartObject' node was expected.")  # guess
        kind = str(attachment.get("@odata.type") or "#microsoft.graph.attachment")
        if kind != FILE_ATTACHMENT:
            raise GraphError(400, "RequestBodyRead", f"The property 'contentBytes' does not exist on type "
                             f"'{kind.lstrip('#')}'. Make sure to only use property names that are defined by the "
                             "type or mark the type as open type.")
        text = attachment.get("contentBytes")
        try:
            size = len(base64.b64decode(text, validate=True)) if isinstance(text, str) else None
        except binascii.Error:
            size = None
        if size is None:
            raise GraphError(400, "RequestBodyRead", f"Cannot convert the literal '{text}' to the expected type "
                             "'Edm.Binary'.")
        decoded.append({"name": attachment.get("name"), "contentType": attachment.get("contentType"),
                        "size": size, "contentBytes": text})
    return decoded


def _parse(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type "
                         "header is set and payload is of valid JSON format.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), dict):
        raise GraphError(400, "ErrorInvalidParameter", "The value of the parameter 'Message' is empty.")  # guess
    return payload


def _message(payload: dict[str, Any], sender: str, state: GraphState) -> dict[str, Any]:
    """The message as recorded: flattened, with each attachment's decoded size."""
    message = payload["message"]
    body = message.get("body") or {}
    if not isinstance(body, dict):
        raise GraphError(400, "RequestBodyRead", "An unexpected 'PrimitiveValue' node was found when reading from "
                         "the JSON reader. A 'StartObject' node was expected.")  # guess
    body_type = str(body.get("contentType", "Text"))
    if body_type.casefold() not in ("text", "html"):
        raise GraphError(400, "RequestBodyRead", f"Requested value '{body_type}' was not found.")
    return {
        "id": str(uuid.uuid4()),
        "sender": sender,
        "sentAt": dt.datetime.fromtimestamp(state.now(), dt.UTC).isoformat(timespec="seconds"),
        "saveToSentItems": payload.get("saveToSentItems", True),
        "subject": message.get("subject", ""),
        "bodyType": body_type,
        "body": body.get("content", ""),
        "to": _addresses(message.get("toRecipients"), required=True),
        "cc": _addresses(message.get("ccRecipients"), required=False),
        "bcc": _addresses(message.get("bccRecipients"), required=False),
        "attachments": _attachments(message.get("attachments")),
    }


async def send_mail(request: Request) -> Response:
    state: GraphState = request.app.state.graph
    try:
        fault = state.draw_fault()
        if fault is not None:
            code, text = FAULTS[fault.status]
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            raise GraphError(fault.status, code, text, headers)
        grant = _authenticate(request, state)
        sender = _sender(state, grant, request.path_params.get("user"))
        state.record(_message(_parse(await request.body()), sender, state))
    except GraphError as error:
        return _error_response(request, error)
    return _graph_response(request, 202)


# ---------------------------------------------------------------------------------------------
# /_sandbox: administration for tests and the demo (no auth)


def _admin(handler: Callable[[dict[str, Any], GraphState], Any]) -> Callable[[Request], Any]:
    """An admin endpoint: JSON in, JSON out, a 400 {"error"} for a bad body."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(handler(await json_object(request), request.app.state.graph))
        except (ValueError, TypeError, KeyError) as error:
            return JSONResponse({"error": str(error)}, 400)

    return endpoint


def _messages(body: dict[str, Any], state: GraphState) -> list[dict[str, Any]]:
    with state.lock:
        return list(state.messages)


def _faults(body: dict[str, Any], state: GraphState) -> dict[str, Any]:
    fault = None
    if body:
        status, retry_after = int(body["status"]), body.get("retry_after")
        if status not in FAULTS:
            raise ValueError(f"status must be one of {sorted(FAULTS)}")
        fault = Fault(status, int(body.get("count", 1)), None if retry_after is None else int(retry_after))
    with state.lock:
        state.fault = fault
    return {"fault": asdict(fault) if fault else None}


def _clock(body: dict[str, Any], state: GraphState) -> dict[str, Any]:
    state.advance(float(body["advance_seconds"]))
    return {"now": dt.datetime.fromtimestamp(state.now(), dt.UTC).isoformat(timespec="seconds")}


def _delegated_token(body: dict[str, Any], state: GraphState) -> dict[str, Any]:
    user = state.mailboxes.get(str(body["user"]).casefold())
    if user is None:
        raise ValueError(f"no mailbox {body['user']!r} in the sandbox")
    return {"access_token": state.issue(user), "expires_in": state.token_lifetime}


def create_app(state: GraphState) -> Starlette:
    app = Starlette(routes=[
        Route("/{tenant}/oauth2/v2.0/token", token_endpoint, methods=["POST"]),
        Route("/v1.0/users/{user}/sendMail", send_mail, methods=["POST"]),
        Route("/v1.0/me/sendMail", send_mail, methods=["POST"]),
        Route("/_sandbox/messages", _admin(_messages), methods=["GET"]),
        Route("/_sandbox/faults", _admin(_faults), methods=["POST"]),
        Route("/_sandbox/clock", _admin(_clock), methods=["POST"]),
        Route("/_sandbox/delegated-token", _admin(_delegated_token), methods=["POST"]),
    ])
    app.state.graph = state
    return app


# ---------------------------------------------------------------------------------------------
# Running it: a real HTTP server on 127.0.0.1, in a background thread


class GraphSandbox(LocalServer):
    """Graph and Entra ID on 127.0.0.1:`port`; `url` is both the Graph base URL and the authority.

    Use it as a context manager (or `start()`/`stop()`). `state` is the live state, for tests that want
    to look behind the API.
    """

    name = "Graph sandbox"

    def __init__(
        self,
        port: int = 0,
        *,
        tenant_id: str = TENANT_ID,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        mailboxes: Sequence[str] = MAILBOXES,
        token_lifetime: int = TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = GraphState(tenant_id, client_id, client_secret, mailboxes, token_lifetime, clock)
        super().__init__(create_app(self.state), port)

    @property
    def tenant_id(self) -> str:
        return self.state.tenant_id

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret
