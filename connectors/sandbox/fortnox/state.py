"""The Fortnox sandbox's memory: records, OAuth grants, rate windows, statistics, faults, rules, clock.

Both the server's event loop and the thread that started the sandbox (a test, a benchmark) read
and change this state, so all of it sits behind one re-entrant lock. Every operation is short,
which makes a single lock simpler than finer ones and never the bottleneck. The state knows
nothing of Fortnox's entities; `app` gives the records their meaning.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

Record = dict[str, Any]

STOCKHOLM = ZoneInfo("Europe/Stockholm")  # Fortnox's dates and `lastmodified` are Swedish local time (guess)
CODE_SECONDS = 600  # an authorization code works once, for 10 minutes
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 45 * 24 * 3600  # a refresh token works once, for 45 days


@dataclass
class Table:
    """The records of one resource by id, and when each last changed."""

    records: dict[str, Record] = field(default_factory=dict)
    modified: dict[str, float] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # deleted ids stay taken: Fortnox never reuses a customer number
    highest: int = 0

    def next_number(self) -> str:
        return str(self.highest + 1)


@dataclass(frozen=True)
class Grant:
    """What the token endpoint hands out."""

    access_token: str
    refresh_token: str
    scope: str

    def body(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "expires_in": ACCESS_SECONDS,
            "token_type": "bearer",
            "scope": self.scope,
            "refresh_token": self.refresh_token,
        }


@dataclass
class Faults:
    """Shares (0..1) of API requests answered with a fault, decided by a seeded RNG so runs repeat."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    latency_ms: int = 0
    drop_rate: float = 0.0
    retry_after: int | None = None
    seed: int = 1


@dataclass(frozen=True)
class Rule:
    """Requests to `method` `path` whose body has all of `match` fail with `status`/`code`/`message`."""

    method: str
    path: str
    match: dict[str, Any]
    status: int
    code: int
    message: str


@dataclass
class ArchiveFile:
    """A file in the Fortnox archive, rendered from `source` on its first download and then kept."""

    name: str
    source: Any
    content: bytes | None = None


@dataclass
class _Stats:
    requests: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    rate_limit_violations: int = 0
    injected_faults: int = 0
    max_requests_in_5s_window: int = 0
    arrivals: dict[str, deque[float]] = field(default_factory=dict)


def _opaque_jwt(scope: str, expires: float) -> str:
    """An access token shaped like Fortnox's JWTs, so a client that peeks inside finds `exp` and `scope`."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = {"iss": "fortnox-sandbox", "exp": int(expires), "scope": scope, "jti": secrets.token_hex(8)}
    payload = part(json.dumps(claims).encode())
    return f"{header}.{payload}.{part(secrets.token_bytes(32))}"


class SandboxState:
    """Everything the sandbox remembers. `clock` (seconds since the epoch) is injectable and can be advanced."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        rate_limit: int = 25,
        rate_window: float = 5.0,
        retry_after: int | None = None,
        project_editable_after_booking: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.rate_limit = rate_limit
        self.rate_window = rate_window  # 25 per any 5 s also caps any minute at 300, Fortnox's other figure
        self.retry_after = retry_after  # Retry-After on rate-limit 429s; Fortnox documents none
        self.project_editable_after_booking = project_editable_after_booking
        self.seed: int | None = None
        self.company_information: Record = {}  # GET /3/companyinformation: the company this database belongs to
        self.tables: dict[str, Table] = {}
        self.archive: dict[str, ArchiveFile] = {}
        self.counters: Counter[str] = Counter()
        self.faults = Faults()
        self.rules: list[Rule] = []
        self._clock = clock
        self._offset = 0.0
        self._codes: dict[str, tuple[str, str, float]] = {}  # code -> redirect_uri, scope, expiry
        self._access: dict[str, tuple[str, float]] = {}  # token -> scope, expiry
        self._refresh: dict[str, tuple[str, float]] = {}
        self._windows: dict[str, deque[float]] = {}
        self._fault_rng = random.Random(self.faults.seed)
        self._stats = _Stats()

    # clock

    def now(self) -> float:
        return self._clock() + self._offset

    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.now(), STOCKHOLM).date()

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._offset += seconds

    # records

    def table(self, name: str) -> Table:
        with self.lock:
            return self.tables.setdefault(name, Table())

    def get(self, name: str, ident: str) -> Record | None:
        with self.lock:
            return self.table(name).records.get(ident)

    def store(self, name: str, ident: str, record: Record, modified: float | None = None) -> None:
        """Keep `record` (never changed in place afterwards) as changed at `modified`, default now."""
        with self.lock:
            table = self.table(name)
            table.records[ident] = record
            table.modified[ident] = self.now() if modified is None else modified
            table.used.add(ident)
            if ident.isdigit():
                table.highest = max(table.highest, int(ident))

    def delete(self, name: str, ident: str) -> None:
        with self.lock:
            table = self.table(name)
            table.records.pop(ident, None)
            table.modified.pop(ident, None)

    def snapshot(self, name: str) -> list[tuple[Record, float]]:
        with self.lock:
            table = self.table(name)
            return [(record, table.modified[ident]) for ident, record in table.records.items()]

    def next_counter(self, key: str) -> int:
        """The next value of a running number that is not a record id (row ids, voucher numbers)."""
        with self.lock:
            self.counters[key] += 1
            return self.counters[key]

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(table.records) for name, table in sorted(self.tables.items())}

    def archive_content(self, file_id: str, render: Callable[[Any], bytes]) -> bytes | None:
        """The bytes of an archive file, rendered on first use (outside the lock: it takes milliseconds)."""
        with self.lock:
            entry = self.archive.get(file_id)
        if entry is None:
            return None
        if entry.content is None:
            entry.content = render(entry.source)
        return entry.content

    # OAuth

    def issue_code(self, redirect_uri: str, scope: str) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self._codes[code] = (redirect_uri, scope, self.now() + CODE_SECONDS)
        return code

    def redeem_code(self, code: str, redirect_uri: str) -> Grant | None:
        """Tokens for an unused, unexpired code issued for `redirect_uri`; a code is spent even when refused."""
        with self.lock:
            issued = self._codes.pop(code, None)
            if issued is None or issued[0] != redirect_uri or issued[2] < self.now():
                return None
            return self._grant(issued[1])

    def refresh(self, refresh_token: str) -> Grant | None:
        """New tokens for a refresh token, which is then spent (rotation): using it again fails."""
        with self.lock:
            issued = self._refresh.pop(refresh_token, None)
            if issued is None or issued[1] < self.now():
                return None
            return self._grant(issued[0])

    def _grant(self, scope: str) -> Grant:
        now = self.now()
        grant = Grant(_opaque_jwt(scope, now + ACCESS_SECONDS), secrets.token_urlsafe(32), scope)
        self._access[grant.access_token] = (scope, now + ACCESS_SECONDS)
        self._refresh[grant.refresh_token] = (scope, now + REFRESH_SECONDS)
        return grant

    def scope_of(self, access_token: str) -> str | None:
        """The scopes of a valid access token; None when it is unknown or expired."""
        with self.lock:
            issued = self._access.get(access_token)
            return issued[0] if issued and issued[1] >= self.now() else None

    # rate limit and statistics

    def arrive(self, token: str) -> None:
        """Note a request by `token` for the largest-window statistic (every request counts, refused or not)."""
        with self.lock:
            now = self.now()
            window = self._stats.arrivals.setdefault(token, deque())
            while window and window[0] <= now - self.rate_window:
                window.popleft()
            window.append(now)
            self._stats.max_requests_in_5s_window = max(self._stats.max_requests_in_5s_window, len(window))

    def admit(self, token: str) -> bool:
        """Whether `token` may make another request now: at most `rate_limit` admitted in any `rate_window`."""
        with self.lock:
            now = self.now()
            window = self._windows.setdefault(token, deque())
            while window and window[0] <= now - self.rate_window:
                window.popleft()
            if len(window) >= self.rate_limit:
                self._stats.rate_limit_violations += 1
                return False
            window.append(now)
            return True

    def record(self, method: str, route: str, status: str) -> None:
        with self.lock:
            self._stats.requests += 1
            self._stats.by_status[status] += 1
            self._stats.by_route[f"{method} {route}"] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            stats = self._stats
            return {
                "requests": stats.requests,
                "by_status": dict(sorted(stats.by_status.items())),
                "by_route": dict(sorted(stats.by_route.items())),
                "rate_limit_violations": stats.rate_limit_violations,
                "injected_faults": stats.injected_faults,
                "max_requests_in_5s_window": stats.max_requests_in_5s_window,
            }

    def reset_stats(self) -> None:
        with self.lock:
            self._stats = _Stats()

    # faults and rules

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self._fault_rng = random.Random(faults.seed)

    def draw_fault(self) -> str | None:
        """"drop", "429", "500", "503" or None for the next API request: one RNG draw per request."""
        with self.lock:
            faults = self.faults
            point = self._fault_rng.random()
            shares = {"drop": faults.drop_rate, "429": faults.rate_429, "500": faults.rate_500, "503": faults.rate_503}
            for kind, share in shares.items():
                if point < share:
                    self._stats.injected_faults += 1
                    return kind
                point -= share
            return None

    def faults_config(self) -> dict[str, Any]:
        with self.lock:
            return asdict(self.faults)

    def add_rule(self, rule: Rule) -> None:
        with self.lock:
            self.rules.append(rule)

    def clear_rules(self) -> None:
        with self.lock:
            self.rules.clear()

    def rule_for(self, method: str, paths: tuple[str, ...], fields: Record) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                matches = all(fields.get(name) == value for name, value in rule.match.items())
                if rule.method == method and rule.path in paths and matches:
                    return rule
            return None
