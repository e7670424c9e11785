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

import datetime as dt
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from models.store import is_postgres, serialises_writers
from models.tables import rate_limit_grants as grants

# (now, when each request still kept was answered, how many are in flight) -> seconds to wait; all in
# seconds of one clock (the Unix epoch), 0 or less when the request may go now.
WaitFor = Callable[[float, list[float], int], float]


def _seconds(moment: dt.datetime) -> float:
    """Seconds since the epoch; SQLite hands back the UTC time it was given without its zone."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


class Grants:
    """The grants of one limiter key (a tenant's token at one system) in the store."""

    def __init__(self, engine: sa.Engine, tenant_id: str, key: str) -> None:
        if not serialises_writers(engine):
            raise ValueError("rate-limit grants need the store's engine (models.store.create_engine or open_store): "
                             "a plain SQLite engine lets two processes take the same place")
        self.engine, self.tenant_id, self.key = engine, tenant_id, key
        self._postgres = is_postgres(engine)
        self._mine = (grants.c.tenant_id == tenant_id) & (grants.c.key == key)

    def take(self, wait_for: WaitFor, keep: float, in_flight_for: float) -> tuple[str | None, float]:
        """A new grant's id and 0 if `wait_for` lets the request go now; else None and the seconds to wait.

        `keep` is the longest window: grants answered longer ago are deleted. A grant still in flight
        after `in_flight_for` (its process died, or its machine) stops counting; it is deleted once
        `keep` more has passed, so an answer that does arrive still dates it.
        """
        with self.engine.begin() as connection:
            if self._postgres:
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                   {"key": f"rate_limit:{self.tenant_id}:{self.key}"})
                now = connection.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
            else:  # BEGIN IMMEDIATE (models.store) holds the write lock: no other taker runs until commit
                now = dt.datetime.now(dt.UTC)
            forgotten = now - dt.timedelta(seconds=keep)
            given_up = now - dt.timedelta(seconds=in_flight_for)
            connection.execute(grants.delete().where(self._mine, sa.or_(
                grants.c.answered_at < forgotten,
                grants.c.answered_at.is_(None) & (grants.c.granted_at < given_up - dt.timedelta(seconds=keep)),
            )))
            answered, in_flight = [], 0
            for granted_at, answered_at in connection.execute(
                    sa.select(grants.c.granted_at, grants.c.answered_at).where(self._mine)):
                if answered_at is not None:
                    answered.append(_seconds(answered_at))
                elif _seconds(granted_at) >= given_up.timestamp():
                    in_flight += 1
            wait = wait_for(now.timestamp(), answered, in_flight)
            if wait > 0:
                return None, wait
            grant_id = str(uuid.uuid4())
            connection.execute(grants.insert().values(id=grant_id, tenant_id=self.tenant_id, key=self.key,
                                                      granted_at=now))
            return grant_id, 0.0

    def answer(self, grant_id: str) -> None:
        """Date a grant by its answer, which keeps its place in the windows from now on."""
        with self.engine.begin() as connection:
            now = sa.func.clock_timestamp() if self._postgres else dt.datetime.now(dt.UTC)
            connection.execute(grants.update().where(grants.c.id == grant_id).values(answered_at=now))
