"""Rate-limit grants in the store: one budget per external token for every process and machine.

Deployments run each flow run in its own process, and several flows call one tenant's token, so a
limiter that lives in one process cannot keep them under the server's limit together. Here each
request let through under a limiter key is a row of ``rate_limit_grants``: when it was granted and
when its answer arrived (null while in flight). :meth:`Grants.take` is one short transaction that is
serialised per key (PostgreSQL: an advisory lock on the key; SQLite: BEGIN IMMEDIATE, the database's
write lock): it reads the key's grants, asks the caller's window arithmetic how long the request
must wait, and inserts the grant only if it need not. Times come from one clock every caller
shares: PostgreSQL's ``clock_timestamp()``, so machines agree; on SQLite, which lives on one
machine, that machine's wall clock.

What the windows are is the caller's business (``connectors.http.wait_needed``); this module only
keeps the grants and deletes those no window can hold any more.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from models.store import is_postgres, serialises_writers
from models.tables import rate_limit_grants as grants

# (now, when each request still kept was answered, how many are in flight) -> seconds to wait; all in
# seconds of one clock (the Unix epoch), 0 or less when the request may go now.
WaitFor = Callable[[float, list[float], int], float]


# The statements, built once: building and keying them on every call cost more than running them.
_KEY = (grants.c.tenant_id == sa.bindparam("tenant_id")) & (grants.c.key == sa.bindparam("key"))
_FORGET = grants.delete().where(_KEY, sa.or_(
    grants.c.answered_at < sa.bindparam("forgotten"),
    grants.c.answered_at.is_(None) & (grants.c.granted_at < sa.bindparam("abandoned")),
))
_READ = sa.select(grants.c.granted_at, grants.c.answered_at).where(_KEY)
_GRANT = grants.insert()
_ANSWER = grants.update().where(grants.c.id == sa.bindparam("grant_id")).values(answered_at=sa.bindparam("now"))
# PostgreSQL: the commit need not wait for the disk (SET LOCAL synchronous_commit, see _transaction);
# the key's lock, and then (OFFSET 0 keeps the planner from merging the two) the clock, read once
# the lock is held: one round trip.
_NO_FLUSH = "set_config('synchronous_commit', 'off', true)"
_CLOCK = "extract(epoch FROM clock_timestamp())::float8"
_LOCK_THEN_NOW = sa.text(f"SELECT {_CLOCK} FROM (SELECT {_NO_FLUSH}, pg_advisory_xact_lock(hashtext(:lock)) "
                         "OFFSET 0) AS locked")
_ANSWER_NOW = sa.text(f"UPDATE {grants.name} SET answered_at = {_CLOCK} "
                      f"FROM (SELECT {_NO_FLUSH}) AS no_flush WHERE id = :grant_id")


class Grants:
    """The grants of one limiter key (a tenant's token at one system) in the store."""

    def __init__(self, engine: sa.Engine, tenant_id: str, key: str) -> None:
        if not serialises_writers(engine):
            raise ValueError("rate-limit grants need the store's engine (models.store.create_engine or open_store): "
                             "a plain SQLite engine lets two processes take the same place")
        self.engine, self.tenant_id, self.key = engine, tenant_id, key
        self._postgres = is_postgres(engine)
        self._lock = f"rate_limit:{tenant_id}:{key}"

    def take(self, wait_for: WaitFor, keep: float, in_flight_for: float) -> tuple[str | None, float]:
        """A new grant's id and 0 if `wait_for` lets the request go now; else None and the seconds to wait.

        `keep` is the longest window: grants answered longer ago are deleted. A grant still in flight
        after `in_flight_for` (its process died, or its machine) stops counting; it is deleted once
        `keep` more has passed, so an answer that does arrive still dates it.
        """
        mine = {"tenant_id": self.tenant_id, "key": self.key}
        with self._transaction() as connection:
            if self._postgres:
                now = connection.execute(_LOCK_THEN_NOW, {"lock": self._lock}).scalar_one()
            else:  # BEGIN IMMEDIATE (models.store) holds the write lock: no other taker runs until commit
                now = time.time()
            given_up = now - in_flight_for
            connection.execute(_FORGET, {**mine, "forgotten": now - keep, "abandoned": given_up - keep})
            answered, in_flight = [], 0
            for granted_at, answered_at in connection.execute(_READ, mine).all():  # fetchall: not row by row
                if answered_at is not None:
                    answered.append(answered_at)
                elif granted_at >= given_up:
                    in_flight += 1
            wait = wait_for(now, answered, in_flight)
            if wait > 0:
                return None, wait
            grant_id = str(uuid.uuid4())
            connection.execute(_GRANT, {**mine, "id": grant_id, "granted_at": now})
            return grant_id, 0.0

    def answer(self, grant_id: str) -> None:
        """Date a grant by its answer, which keeps its place in the windows from now on."""
        with self._transaction() as connection:
            if self._postgres:
                connection.execute(_ANSWER_NOW, {"grant_id": grant_id})
            else:
                connection.execute(_ANSWER, {"grant_id": grant_id, "now": time.time()})

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        """A transaction whose commit does not wait for the disk.

        Every request commits twice here, and waiting for the write-ahead log to reach the disk was
        most of what that cost (a few milliseconds per commit on a busy machine, on both databases).
        A grant is worth keeping only for one window, so what a crash of the database's machine can
        lose (the last moments' grants; never consistency) is a few requests counted too few in
        one window, once. PostgreSQL: synchronous_commit off for these transactions (set in their
        first statement). SQLite: synchronous NORMAL, which it lets change only between
        transactions, for this transaction and back to the store's setting after it.
        """
        with self.engine.connect() as connection:
            if self._postgres:
                with connection.begin():
                    yield connection
                return
            sqlite = connection.connection.driver_connection  # outside any transaction: autocommit (models.store)
            level = sqlite.execute("PRAGMA synchronous").fetchone()[0]
            sqlite.execute("PRAGMA synchronous=NORMAL")
            try:
                with connection.begin():
                    yield connection
            finally:
                sqlite.execute(f"PRAGMA synchronous={int(level)}")
