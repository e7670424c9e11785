"""The HTTP client every external system's connector is built on.

It owns what all of them share: connection reuse and timeouts, a bearer token that is
refreshed once when the server rejects it, a rate limiter shared by every thread, process and
machine using the same token (its windows kept in the store), retries with backoff for what may
pass (429, 5xx, timeouts, dropped connections) and typed errors for what will not (400, 403, 404,
409, 422, and a 401 that a fresh token did not cure). Each request writes one log line without
secrets; each error carries the request and every attempt, which is what a dead letter needs
(seed 003 §6.2).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from models.bookkeeping import DeadLetter
from models.rate_limits import Grants

logger = logging.getLogger("ledgerflow.http")

# Called after every request with (system, HTTP status or None for no answer, seconds taken):
# how the metrics count this process's API calls (``tasks.metrics.api_usage``).
RequestObserver = Callable[[str, "int | None", float], None]
request_observers: list[RequestObserver] = []

# A request still unanswered this long after its timeout came from a process that died (or whose
# machine did): its place in the shared windows is given up.
IN_FLIGHT_MARGIN = 60.0

PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 410, 422})
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


# --------------------------------------------------------------------------- rate limiting
@dataclass(frozen=True)
class RateLimit:
    """At most `requests` in any sliding window of `seconds`."""

    requests: int
    seconds: float


class Slot:
    """A request's place in the windows; dated when its answer arrives (None while in flight)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


def wait_needed(limits: Iterable[RateLimit], now: float, answered: Iterable[float], in_flight: int,
                poll: float) -> float:
    """How long a request must wait at `now` until it fits in every window (0: it may go now).

    `answered` holds when each earlier request's answer arrived, `in_flight` counts those let through
    and not yet answered: a request in flight takes its place as if answered now, and keeps taking
    it until its answer dates it. When a window is full, the place that frees first is the oldest
    of the newest `requests` in it; if they are all in flight, no one knows when that will be, so
    look again after `poll`. The one arithmetic of both limiters below.
    """
    times = sorted(answered)
    wait = 0.0
    for limit in limits:
        inside = [t for t in times if now - t < limit.seconds]
        if len(inside) + in_flight < limit.requests:
            continue
        if in_flight >= limit.requests:
            wait = max(wait, poll)
        else:
            wait = max(wait, inside[len(inside) + in_flight - limit.requests] + limit.seconds - now)
    return wait


class RateLimiter(Protocol):
    """Lets a request through when it fits in every window; :meth:`release` dates it by its answer."""

    limits: tuple[RateLimit, ...]

    def acquire(self) -> Any: ...

    def release(self, grant: Any) -> None: ...


class SlidingWindowLimiter:
    """Blocks a caller until a request fits in every window; safe to share between threads.

    A request holds its place from the moment it is let through until its answer arrives, and
    is then dated by the answer. The server saw it somewhere in between, so dating it by the
    answer can only err on the safe side. Dating it by the moment it was let through lets a
    request that waited for a thread or a connection reach the server inside the next
    request's window, which Fortnox answers with 429 (seen in the 10,000-invoice benchmark on
    a busy machine: 26 requests in one 5-second window).

    It counts this process's requests only; :class:`StoreLimiter` counts every process's.
    """

    POLL = 0.05  # how soon to look again while a request that blocks the window is in flight

    def __init__(
        self,
        limits: Iterable[RateLimit],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = tuple(limits)
        self._clock, self._sleep = clock, sleep
        self._slots: deque[Slot] = deque()
        self._lock = threading.Lock()
        self._longest = max((limit.seconds for limit in self.limits), default=0.0)

    def _wait_needed(self, now: float) -> float:
        while self._slots and self._slots[0].at is not None and now - self._slots[0].at >= self._longest:
            self._slots.popleft()
        answered = [s.at for s in self._slots if s.at is not None]
        return wait_needed(self.limits, now, answered, len(self._slots) - len(answered), self.POLL)

    def acquire(self) -> Slot:
        """Wait for a place in every window; give it back to :meth:`release` when the answer is in."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    slot = Slot()
                    self._slots.append(slot)
                    return slot
            self._sleep(wait)

    def release(self, slot: Slot) -> None:
        with self._lock:
            slot.at = self._clock()


class StoreLimiter:
    """The same windows kept in the store, so every process and machine using the token shares them.

    Each request is a grant in ``rate_limit_grants`` (``models.rate_limits``), taken in one short
    transaction serialised per key, with the arithmetic of :func:`wait_needed` on the database's
    clock (PostgreSQL) or this machine's (SQLite). A grant unanswered after `in_flight_for` seconds
    (a process that died mid-request) stops counting. If the store fails while a request is being
    dated, the answer matters more: the grant stays in flight until that bound, which errs on the
    safe side.
    """

    POLL = SlidingWindowLimiter.POLL

    def __init__(
        self,
        engine: sa.Engine,
        tenant_id: str,
        key: str,
        limits: Iterable[RateLimit],
        in_flight_for: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = tuple(limits)
        self.in_flight_for = in_flight_for
        self._grants = Grants(engine, tenant_id, key)
        self._sleep = sleep
        self._longest = max((limit.seconds for limit in self.limits), default=0.0)

    def _wait(self, now: float, answered: list[float], in_flight: int) -> float:
        return wait_needed(self.limits, now, answered, in_flight, self.POLL)

    def acquire(self) -> str:
        """Wait for a place in every window; give the grant to :meth:`release` when the answer is in."""
        while True:
            grant, wait = self._grants.take(self._wait, self._longest, self.in_flight_for)
            if grant is not None:
                return grant
            self._sleep(wait)

    def release(self, grant: str) -> None:
        try:
            self._grants.answer(grant)
        except sa.exc.SQLAlchemyError as error:
            logger.warning("rate-limit grant %s could not be dated (%s); it counts as in flight for %.0f s",
                           grant, error, self.in_flight_for)


_limiters: dict[tuple[str, tuple[RateLimit, ...]], SlidingWindowLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(key: str, limits: Iterable[RateLimit]) -> SlidingWindowLimiter:
    """The one limiter for `key` (a system and tenant: the server counts per token) and these
    limits in this process. A client asking for other limits under the same key gets a limiter
    of its own instead of one made with the first caller's limits (a server that came back on a
    freed port with another limit was otherwise held to the old one)."""
    wanted = tuple(limits)
    with _limiters_lock:
        if (key, wanted) not in _limiters:
            _limiters[key, wanted] = SlidingWindowLimiter(wanted)
        return _limiters[key, wanted]


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class Attempt:
    """One try of a request, as the dead-letter table keeps it."""

    attempted_at: str
    status_code: int | None
    response: Any
    error: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    """The request as sent, minus credentials."""

    method: str
    url: str
    params: dict[str, Any] | None = None
    body: Any = None


class ApiError(Exception):
    """A call that did not succeed, with the system's own error code and message."""

    category = "server"

    def __init__(
        self,
        system: str,
        status: int | None,
        code: str | None,
        message: str,
        request: RequestRecord,
        attempts: list[Attempt],
    ) -> None:
        self.system, self.status, self.code, self.message = system, status, code, message
        self.request, self.attempts = request, attempts
        detail = f" (code {code})" if code else ""
        super().__init__(f"{system} {request.method} {request.url} -> {status}{detail}: {message}")


class PermanentError(ApiError):
    """The request itself is wrong or not allowed; repeating it unchanged will fail again."""

    category = "validation"


class NotFoundError(PermanentError):
    pass


class AuthError(PermanentError):
    category = "auth"


class TransientError(ApiError):
    """Retries ran out on something that usually passes (rate limit, server or network trouble)."""


def dead_letter(error: ApiError, entity_type: str | None, entity_id: str | None) -> DeadLetter:
    """The dead-letter row for a call that failed for good: the request and every attempt."""
    return DeadLetter(
        entity_type, entity_id, asdict(error.request), [asdict(a) for a in error.attempts],
        error.category, error.code, error.message,
    )


class _Retry(Exception):
    """Internal: an attempt that may be retried."""

    def __init__(self, response: httpx.Response | None, error: Exception | None) -> None:
        self.response, self.error = response, error


# --------------------------------------------------------------------------- client
class TokenSource(Protocol):
    """Hands out the current access token and renews it when the server has rejected it."""

    def token(self) -> str: ...

    def renew(self, rejected: str) -> str: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff 1, 2, 4, 8, 16 s (+ jitter, at most `cap`), `Retry-After` honoured (DESIGN.md)."""

    attempts: int = 6
    initial: float = 1.0
    cap: float = 60.0
    jitter: float = 1.0


ErrorParser = Callable[[httpx.Response], tuple[str | None, str]]


def default_error(response: httpx.Response) -> tuple[str | None, str]:
    return None, response.text[:500]


def _retry_after(response: httpx.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = email.utils.parsedate_to_datetime(value)
    return max(0.0, (parsed - dt.datetime.now(dt.UTC)).total_seconds()) if parsed else None


@dataclass
class ApiClient:
    """A client for one system and tenant.

    `limits` are per token. With a `store` (the engine of ``models.store``) and the `tenant_id`, the
    windows are kept in the store under `limiter_key`, so every client of that key in every process
    and machine shares them; without one, every ApiClient of this process built with the same
    `limiter_key` shares one limiter.
    """

    system: str
    base_url: str
    tokens: TokenSource | None
    limits: tuple[RateLimit, ...] = ()
    limiter_key: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 30.0
    error_parser: ErrorParser = default_error
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    store: sa.Engine | None = None
    tenant_id: str | None = None

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
            transport=self.transport,
            headers={"Accept": "application/json"},
        )
        key = self.limiter_key or f"{self.system}:{self.base_url}"
        self._limiter: RateLimiter | None = None
        if self.limits and self.store is not None:
            if self.tenant_id is None:
                raise ValueError("a rate limiter kept in the store needs the tenant_id")
            self._limiter = StoreLimiter(self.store, self.tenant_id, key, self.limits,
                                         in_flight_for=self.timeout + IN_FLIGHT_MARGIN)
        elif self.limits:
            self._limiter = shared_limiter(key, self.limits)
        self.requests_made = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome.exception() if state.outcome else None
        retry_after = _retry_after(outcome.response) if isinstance(outcome, _Retry) else None
        backoff = min(self.retry.cap, self.retry.initial * 2 ** (state.attempt_number - 1))
        backoff += random.uniform(0, self.retry.jitter * self.retry.initial)
        return min(self.retry.cap, max(backoff, retry_after or 0.0))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        accept: str | None = None,
    ) -> httpx.Response:
        """Send a request with rate limiting, token renewal and retries; raise ApiError if it fails."""
        record = RequestRecord(method, str(self._http.base_url.join(path)), params, json)
        attempts: list[Attempt] = []
        renewed = False

        def once() -> httpx.Response:
            nonlocal renewed
            response, token = self._send(method, path, params, json, accept, attempts)
            if response.status_code == 401 and token is not None and not renewed:
                renewed = True  # one renewal per call: a token the server refuses twice is an auth error
                self.tokens.renew(token)  # type: ignore[union-attr]
                response, _ = self._send(method, path, params, json, accept, attempts)
            if response.status_code in TRANSIENT_STATUSES:
                raise _Retry(response, None)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Retry)),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            response = retrying(once)
        except _Retry as last:
            if last.response is not None:
                code, message = self.error_parser(last.response)
                raise TransientError(self.system, last.response.status_code, code, message, record, attempts) from None
            raise TransientError(self.system, None, None, str(last.error), record, attempts) from last.error
        if response.is_success:
            return response
        code, message = self.error_parser(response)
        error_type = {401: AuthError, 403: AuthError, 404: NotFoundError}.get(response.status_code, PermanentError)
        raise error_type(self.system, response.status_code, code, message, record, attempts)

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json: Any,
        accept: str | None,
        attempts: list[Attempt],
    ) -> tuple[httpx.Response, str | None]:
        """One attempt; returns the response and the token it was sent with."""
        headers = {"Accept": accept} if accept else {}
        token = self.tokens.token() if self.tokens is not None else None
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        grant = self._limiter.acquire() if self._limiter is not None else None
        started = time.monotonic()
        attempt_number = len(attempts) + 1
        at = dt.datetime.now(dt.UTC).isoformat()
        self.requests_made += 1
        try:
            response = self._http.request(method, path, params=params, json=json, headers=headers)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            attempts.append(Attempt(at, None, None, f"{type(error).__name__}: {error}"))
            self._log(method, path, None, started, attempt_number, type(error).__name__)
            raise _Retry(None, error) from error
        finally:
            if grant is not None:
                self._limiter.release(grant)  # type: ignore[union-attr]
        body: Any = None
        if not response.is_success:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:1000]
        attempts.append(Attempt(at, response.status_code, body))
        self._log(method, path, response.status_code, started, attempt_number)
        return response, token

    def _log(self, method: str, path: str, status: int | None, started: float, attempt: int, error: str | None = None) -> None:
        seconds = time.monotonic() - started
        for observe in request_observers:
            observe(self.system, status, seconds)
        duration_ms = round(seconds * 1000, 1)
        logger.info(
            "%s %s %s -> %s in %.1f ms (attempt %d)",
            self.system, method, path, status if status is not None else error, duration_ms, attempt,
            extra={"system": self.system, "method": method, "path": path, "status": status,
                   "duration_ms": duration_ms, "attempt": attempt},
        )

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()


def paginate(fetch_page: Callable[[int], tuple[list[Any], int]], start: int = 1) -> Iterator[Any]:
    """Items of every page: `fetch_page(n)` returns (items of page n, total pages)."""
    page = start
    while True:
        items, total_pages = fetch_page(page)
        yield from items
        if page >= total_pages or not items:
            return
        page += 1
