"""The Fortnox API v3 as the sandbox serves it: resources, OAuth, the gateway in front, admin.

Our Fortnox client is tested against this over HTTP, so Fortnox's quirks are reproduced on
purpose (apis.md §1): a gateway 401 that is no ErrorInformation at all, OAuth errors with the
wrong Content-Type, and those of `errors` and `entities`. Every resource is one entry in
`entities.RESOURCES`; the handlers here are generic over it. Where Fortnox's behaviour is not
documented, the choice made here is marked "guess".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
from base64 import b64decode
from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.sandbox.fortnox import pdf
from connectors.sandbox.fortnox.entities import RESOURCES, Resource, create
from connectors.sandbox.fortnox.errors import (
    ARCHIVE_FILE_NOT_FOUND, INVALID_FILTER, INVALID_JSON, INVALID_PARAMETER, METHOD_NOT_ALLOWED, MISSING_FIELD,
    NO_SCOPE, SANDBOX_RULE, SYSTEM_EXCEPTION, UNKNOWN_PATH, ApiError, error_response, fortnox_json, no_data, refuse,
)
from connectors.sandbox.fortnox.shapes import is_date
from connectors.sandbox.fortnox.state import STOCKHOLM, Faults, Record, Rule, SandboxState
from connectors.sandbox.local_server import json_object

ALL_SCOPES = ("archive article companyinformation connectfile customer invoice offer project salary supplier "
              "supplierinvoice")

# ---------------------------------------------------------------------------------------------
# Listing: filters, search, dates, sorting, paging

PAGE_LIMIT, MAX_LIMIT = 100, 500
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def _bad_parameter() -> ApiError:
    return ApiError(400, INVALID_PARAMETER, "Ogiltig parameter i anropet.")


def _int_parameter(request: Request, name: str, default: int, minimum: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.strip().isdigit() or int(text) < minimum:
        raise _bad_parameter()
    return int(text)


def _since(text: str) -> float:
    """`lastmodified` in Swedish local time: ``YYYY-MM-DD``, ``... HH:MM`` or ``... HH:MM:SS``."""
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text.strip(), pattern).replace(tzinfo=STOCKHOLM).timestamp()
        except ValueError:
            continue
    raise _bad_parameter()


def _date_parameter(request: Request, name: str) -> str | None:
    text = request.query_params.get(name)
    if text is not None and not is_date(text):
        raise _bad_parameter()
    return text


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers, and numeric strings such as ids and supplier-invoice amounts, sort as numbers."""
    if isinstance(value, bool) or value is None:
        return (2, str(value))
    if isinstance(value, int | float):
        return (0, value)
    text = str(value)
    return (0, float(text)) if _NUMERIC.match(text) else (1, text.casefold())


def _selection(resource: Resource, request: Request, state: SandboxState) -> list[Record]:
    query = request.query_params
    checks: list[Callable[[Record, float], bool]] = []
    if "filter" in query:
        chosen = resource.filters.get(query["filter"])
        if chosen is None:
            raise ApiError(400, INVALID_FILTER, "Ett ogiltigt filter har använts.")
        today = state.today()
        checks.append(lambda record, modified: chosen(record, today))
    if "lastmodified" in query:
        since = _since(query["lastmodified"])
        checks.append(lambda record, modified: modified >= since)
    if resource.date_field:
        field = resource.date_field  # bound by value below: the loops after this reuse `name`
        start, end = _date_parameter(request, "fromdate"), _date_parameter(request, "todate")
        if start:
            checks.append(lambda record, modified, field=field, start=start: (record[field] or "") >= start)
        if end:
            checks.append(lambda record, modified, field=field, end=end: (record[field] or "9999") <= end)
    for parameter, name in resource.search.items():
        if parameter in query:
            needle = query[parameter].casefold()
            checks.append(
                lambda record, modified, name=name, needle=needle: needle in str(record[name] or "").casefold()
            )
    for parameter, name in resource.exact.items():
        if parameter in query:
            checks.append(lambda record, modified, name=name, value=query[parameter]: str(record[name]) == value)
    selected = [
        record for record, modified in state.snapshot(resource.path) if all(check(record, modified) for check in checks)
    ]
    order = resource.default_sort or (resource.id_field,)
    if "sortby" in query:
        if query["sortby"] not in resource.sort:
            raise _bad_parameter()
        order = (resource.sort[query["sortby"]], resource.id_field)
    direction = query.get("sortorder", "ascending")
    if direction not in ("ascending", "descending"):
        raise _bad_parameter()
    selected.sort(key=lambda record: [_sort_key(record[name]) for name in order], reverse=direction == "descending")
    return selected


def _list(resource: Resource, request: Request, state: SandboxState, base: str) -> Response:
    limit = min(_int_parameter(request, "limit", PAGE_LIMIT, 1), MAX_LIMIT)  # above 500: clamped (guess)
    page = _int_parameter(request, "page", 1, 1)
    offset = _int_parameter(request, "offset", 0, 0)
    selected = _selection(resource, request, state)
    start = (page - 1) * limit + offset
    meta = {"@TotalResources": len(selected), "@TotalPages": math.ceil(len(selected) / limit), "@CurrentPage": page}
    items = [resource.item(base, record) for record in selected[start : start + limit]]
    return fortnox_json({"MetaInformation": meta, resource.plural: items})


# ---------------------------------------------------------------------------------------------
# HTTP: the /3/ endpoints


def _sandbox(request: Request) -> SandboxState:
    return request.app.state.sandbox


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _authorise(request: Request, scope: str) -> None:
    if scope not in request.scope.get("fortnox.scopes", ()):
        raise ApiError(403, NO_SCOPE, "Har inte behörighet för scope.")


def _apply_rules(request: Request, state: SandboxState, singular: str | None, raw: bytes) -> None:
    fields: Any = {}
    if singular and raw:
        try:
            fields = json.loads(raw).get(singular, {})
        except (ValueError, AttributeError):
            fields = {}
    route = request.scope.get("route")
    paths = (request.url.path, getattr(route, "path", request.url.path))
    rule = state.rule_for(request.method, paths, fields if isinstance(fields, dict) else {})
    if rule is not None:
        raise ApiError(rule.status, rule.code, rule.message)


def _body(resource: Resource, raw: bytes, creating: bool) -> Record:
    if not raw.strip():
        raise no_data()
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, INVALID_JSON, "Error deserializing JSON: JSON_ERROR_SYNTAX") from None
    if not isinstance(body, dict) or resource.singular not in body:
        raise no_data()
    fields = resource.entity.check(body[resource.singular])
    ignored = resource.read_only if creating else resource.read_only | {resource.id_field}
    fields = {name: value for name, value in fields.items() if name not in ignored}
    missing = [name for name in resource.required if fields.get(name) in (None, "")] if creating else []
    refuse(bool(missing), MISSING_FIELD, f"{', '.join(missing)} måste anges.")
    return fields


def _stored(resource: Resource, state: SandboxState, ident: str) -> Record:
    record = state.get(resource.path, ident)
    if record is None:
        raise ApiError(404, *resource.not_found)
    return record


def _not_allowed() -> ApiError:
    return ApiError(405, METHOD_NOT_ALLOWED, "Metoden stöds inte för denna resurs.")  # status and code: guess


def _dispatch(resource: Resource, action: str | None, request: Request, state: SandboxState, raw: bytes) -> Response:
    method, ident, base = request.method, request.path_params.get("id"), _base(request)

    def answer(record: Record, status: int = 200) -> Response:
        return fortnox_json({resource.singular: resource.full(base, record)}, status)

    if action is not None:
        if method != "PUT":
            raise _not_allowed()
        record = resource.actions[action](state, _stored(resource, state, ident))
        state.store(resource.path, ident, record)
        return answer(record)
    if ident is None and method == "GET" and "list" in resource.methods:
        return _list(resource, request, state, base)
    if ident is None and method == "POST" and "create" in resource.methods:
        return answer(create(state, resource, _body(resource, raw, creating=True)), 201)
    if ident is not None and method == "GET" and "get" in resource.methods:
        return answer(_stored(resource, state, ident))
    if ident is not None and method == "PUT" and "update" in resource.methods:
        old = _stored(resource, state, ident)
        record = resource.write(state, old, _body(resource, raw, creating=False))
        state.store(resource.path, ident, record)
        return answer(record)
    if ident is not None and method == "DELETE" and "delete" in resource.methods:
        _stored(resource, state, ident)
        state.delete(resource.path, ident)
        return Response(status_code=204)
    raise _not_allowed()


async def resource_endpoint(resource: Resource, action: str | None, request: Request) -> Response:
    state = _sandbox(request)
    try:
        _authorise(request, resource.scope)
        raw = await request.body()
        _apply_rules(request, state, resource.singular, raw)
        with state.lock:
            return _dispatch(resource, action, request, state, raw)
    except ApiError as error:
        return error.response()


async def archive_endpoint(request: Request) -> Response:
    """GET /3/archive/{id}: the raw bytes of a file, rendered on first download."""
    state = _sandbox(request)
    try:
        _authorise(request, "archive")
        _apply_rules(request, state, None, b"")
        content = await run_in_threadpool(state.archive_content, request.path_params["id"], pdf.render)
        if content is None:
            raise ApiError(404, ARCHIVE_FILE_NOT_FOUND, "Kan inte hitta filen.")
        return Response(content, media_type="application/pdf")
    except ApiError as error:
        return error.response()


async def company_information_endpoint(request: Request) -> Response:
    """GET /3/companyinformation: the company whose database the token opens (schema
    `fortnox_CompanyInfo`, scope `companyinformation`). Read only: other methods get 405, as resources do."""
    state = _sandbox(request)
    try:
        _authorise(request, "companyinformation")
        _apply_rules(request, state, None, b"")
        if request.method != "GET":
            raise _not_allowed()
        with state.lock:
            return fortnox_json({"CompanyInformation": dict(state.company_information)})
    except ApiError as error:
        return error.response()


async def unknown_endpoint(request: Request) -> Response:
    return error_response(404, UNKNOWN_PATH, "Kan inte hitta resursen.")


# ---------------------------------------------------------------------------------------------
# OAuth (apps.fortnox.se/oauth-v1): authorization code and refresh-token grants


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _oauth_error(status: int, error: str, description: str, content_type: str) -> Response:
    body = {"error": error, "error_description": description}
    return fortnox_json(body, status, {"Cache-Control": "no-store"}, content_type)


async def authorize_endpoint(request: Request) -> Response:
    """The consent page, approved at once: redirects back with a code (or with an error)."""
    state = _sandbox(request)
    query = request.query_params
    redirect_uri = query.get("redirect_uri", "")
    if query.get("client_id") != state.client_id or not redirect_uri:
        return Response("Okänd klient eller saknad redirect_uri.", 400, media_type="text/plain")
    if query.get("response_type") != "code" or not query.get("state") or not query.get("scope"):
        return RedirectResponse(_with_query(redirect_uri, error="invalid_request", state=query.get("state", "")), 302)
    code = state.issue_code(redirect_uri, query["scope"])
    return RedirectResponse(_with_query(redirect_uri, code=code, state=query["state"]), 302)


def _client_authenticated(state: SandboxState, header: str | None) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        client_id, _, secret = b64decode(header[6:].strip()).decode().partition(":")
    except ValueError:
        return False
    return client_id == state.client_id and secret == state.client_secret


async def token_endpoint(request: Request) -> Response:
    state = _sandbox(request)
    if not _client_authenticated(state, request.headers.get("authorization")):
        return _oauth_error(401, "invalid_client", "The client credentials are invalid", "text/plain;charset=UTF-8")
    form = dict(parse_qsl((await request.body()).decode()))
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        grant = state.redeem_code(form.get("code", ""), form.get("redirect_uri", ""))
        description = "Invalid authorization code"  # the wording is a guess; refresh's is captured
    elif grant_type == "refresh_token":
        grant = state.refresh(form.get("refresh_token", ""))
        description = "Invalid refresh token"
    else:
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type", "text/html; charset=UTF-8")
    if grant is None:
        return _oauth_error(400, "invalid_grant", description, "text/html; charset=UTF-8")
    return fortnox_json(grant.body(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# ---------------------------------------------------------------------------------------------
# /_sandbox: administration for tests, benchmarks and scripts (no auth)


def _admin(handler: Callable[[Request, SandboxState], Any]) -> Callable[[Request], Any]:
    """An admin endpoint: JSON in, JSON out, a 400 {"error"} for a bad body."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await handler(request, _sandbox(request)))
        except (ValueError, TypeError, KeyError) as error:
            return JSONResponse({"error": str(error)}, 400)

    return endpoint


async def _stats(request: Request, state: SandboxState) -> dict[str, Any]:
    return state.stats()


async def _reset_stats(request: Request, state: SandboxState) -> dict[str, Any]:
    state.reset_stats()
    return state.stats()


async def _faults(request: Request, state: SandboxState) -> dict[str, Any]:
    body = await json_object(request)
    unknown = body.keys() - {f.name for f in dataclass_fields(Faults)}
    if unknown:
        raise ValueError(f"unknown fault settings: {sorted(unknown)}")
    state.set_faults(Faults(**body))
    return state.faults_config()


async def _add_rule(request: Request, state: SandboxState) -> dict[str, Any]:
    body = await json_object(request)
    rule = Rule(
        method=str(body["method"]).upper(),
        path=str(body["path"]).rstrip("/"),
        match=dict(body.get("match") or {}),
        status=int(body.get("status", 400)),
        code=int(body.get("code", SANDBOX_RULE)),
        message=str(body.get("message", "Regel i sandlådan.")),
    )
    state.add_rule(rule)
    return {"rules": len(state.rules)}


async def _clear_rules(request: Request, state: SandboxState) -> dict[str, Any]:
    state.clear_rules()
    return {"rules": 0}


async def _clock(request: Request, state: SandboxState) -> dict[str, Any]:
    state.advance(float((await json_object(request))["advance_seconds"]))
    return {"now": dt.datetime.fromtimestamp(state.now(), STOCKHOLM).isoformat(timespec="seconds")}


async def _authorize(request: Request, state: SandboxState) -> dict[str, Any]:
    body = await json_object(request)
    return {"code": state.issue_code(str(body["redirect_uri"]), str(body.get("scope") or ALL_SCOPES))}


async def _info(request: Request, state: SandboxState) -> dict[str, Any]:
    base = _base(request)
    return {
        "client_id": state.client_id,
        "client_secret": state.client_secret,
        "url": base,
        "api_url": f"{base}/3",
        "token_url": f"{base}/oauth-v1/token",
        "authorize_url": f"{base}/oauth-v1/auth",
        "scopes": ALL_SCOPES,
        "seed": state.seed,
        "today": state.today().isoformat(),
        "counts": {**state.counts(), "archive": len(state.archive)},
    }


# ---------------------------------------------------------------------------------------------
# The gateway in front of /3/ and /oauth-v1


class _Dropped:
    """The gateway's answer when a request is to be left without one."""


DROPPED = _Dropped()


def _bearer(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else ""
    return ""


def _fault_response(kind: str, retry_after: int | None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if kind == "429":
        return fortnox_json({"message": "Too Many Requests"}, 429, headers)
    if kind == "503":
        return fortnox_json({"message": "Service Unavailable"}, 503, headers)  # body: guess
    return error_response(500, SYSTEM_EXCEPTION, "System exception")


async def _drop(send: Send) -> None:
    """Close the connection without a response. ASGI has no message for that, so this reaches the
    server's per-request object behind `send` (uvicorn's RequestResponseCycle) and aborts its transport."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs uvicorn's transport")
    transport.abort()
    for _ in range(100):  # let the loop run connection_lost, so uvicorn does not answer 500 after us
        if cycle.disconnected:
            break
        await asyncio.sleep(0)


class Gateway:
    """What stands in front of Fortnox's API: it counts every request (but /_sandbox ones), accepts
    trailing slashes, and for /3/ injects the configured faults, checks the bearer token and the
    rate limit before the application sees the request."""

    def __init__(self, app: Starlette, state: SandboxState) -> None:
        self.app = app
        self.state = state

    def _route(self, scope: Scope) -> str:
        for route in self.app.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return route.path
        return scope["path"]

    async def _gate(self, scope: Scope) -> Response | _Dropped | None:
        state, token = self.state, _bearer(scope)
        if token:
            state.arrive(token)
        fault = state.draw_fault()
        if state.faults.latency_ms:
            await asyncio.sleep(state.faults.latency_ms / 1000)
        if fault == "drop":
            return DROPPED
        if fault is not None:
            return _fault_response(fault, state.faults.retry_after)
        scopes = state.scope_of(token) if token else None
        if scopes is None:
            return fortnox_json({"message": "unauthorized"}, 401)
        if not state.admit(token):
            return _fault_response("429", state.retry_after)
        scope["fortnox.scopes"] = tuple(scopes.split())
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        if len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope["path"] = scope["path"].rstrip("/")
        status = "dropped"

        async def respond(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
                message = {**message, "headers": [*message.get("headers", []), (b"server", b"Fortnox")]}
            await send(message)

        try:
            answer = await self._gate(scope) if scope["path"].startswith("/3/") else None
            if answer is DROPPED:
                await _drop(send)
            elif isinstance(answer, Response):
                await answer(scope, receive, respond)
            else:
                await self.app(scope, receive, respond)
        finally:
            self.state.record(scope["method"], self._route(scope), status)


def _routes() -> list[Route]:
    every = ["GET", "POST", "PUT", "DELETE"]
    routes = []
    for resource in RESOURCES.values():
        routes.append(Route(f"/3/{resource.path}", partial(resource_endpoint, resource, None), methods=every))
        routes.append(Route(f"/3/{resource.path}/{{id}}", partial(resource_endpoint, resource, None), methods=every))
        for action in resource.actions:
            endpoint = partial(resource_endpoint, resource, action)
            routes.append(Route(f"/3/{resource.path}/{{id}}/{action}", endpoint, methods=every))
    return [
        *routes,
        Route("/3/archive/{id}", archive_endpoint, methods=["GET"]),
        Route("/3/companyinformation", company_information_endpoint, methods=every),
        Route("/3/{rest:path}", unknown_endpoint, methods=every),
        Route("/oauth-v1/auth", authorize_endpoint, methods=["GET"]),
        Route("/oauth-v1/token", token_endpoint, methods=["POST"]),
        Route("/_sandbox/stats", _admin(_stats), methods=["GET"]),
        Route("/_sandbox/stats/reset", _admin(_reset_stats), methods=["POST"]),
        Route("/_sandbox/faults", _admin(_faults), methods=["POST"]),
        Route("/_sandbox/rules", _admin(_add_rule), methods=["POST"]),
        Route("/_sandbox/rules", _admin(_clear_rules), methods=["DELETE"]),
        Route("/_sandbox/clock", _admin(_clock), methods=["POST"]),
        Route("/_sandbox/authorize", _admin(_authorize), methods=["POST"]),
        Route("/_sandbox/info", _admin(_info), methods=["GET"]),
    ]


def create_app(state: SandboxState) -> ASGIApp:
    app = Starlette(routes=_routes())
    app.state.sandbox = state
    return Gateway(app, state)
