"""Benchmark: what the rate limiter kept in the store costs per request (one acquire and its release).

Why: every request to Fortnox now takes a grant in the store and dates it by its answer (two short
transactions; ``connectors.http.StoreLimiter``), where the in-process limiter cost a lock. The
limit is set so high that nobody ever waits: what is timed is the bookkeeping alone.

Two shapes of the key's grants, on SQLite and on PostgreSQL:

few   the window is 10 ms, so the key holds only the last few grants (a quiet token);
300   the key always holds 300 answered grants of the last minute, which is what Fortnox's
      300 a minute keeps there at full speed (the oldest is deleted outside the timing after
      each pair, so every pair sees 300).

The in-process limiter's cost is printed beside them. Prints the median (and 90th percentile)
microseconds per acquire+release pair.

Usage::

    .venv/bin/python benchmarks/rate_limiter.py --pairs 2000 --database sqlite --database postgres
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from stores import scratch_store  # benchmarks/stores.py (run as a script, this folder is on the path)

from connectors.http import RateLimit, SlidingWindowLimiter, StoreLimiter
from models.store import open_store
from models.tables import rate_limit_grants

HIGH = 10**9


def _time_pairs(limiter: StoreLimiter | SlidingWindowLimiter, pairs: int,
                between: Callable[[], None] | None = None) -> list[float]:
    timings = []
    for _ in range(pairs):
        started = time.perf_counter()
        limiter.release(limiter.acquire())
        timings.append(time.perf_counter() - started)
        if between is not None:
            between()
    return timings


def _figure(label: str, timings: list[float]) -> str:
    micro = sorted(t * 1e6 for t in timings)
    return (f"{label:<32} median {statistics.median(micro):8.0f} µs   p90 {micro[int(len(micro) * 0.9)]:8.0f} µs"
            f"   ({len(micro)} pairs)")


def few(url: str, pairs: int) -> list[float]:
    limiter = StoreLimiter(open_store(url), "bench", "fortnox:few", [RateLimit(HIGH, 0.01)], in_flight_for=90)
    _time_pairs(limiter, 50)  # warm: connections, statements
    return _time_pairs(limiter, pairs)


def full_minute(url: str, pairs: int) -> list[float]:
    engine = open_store(url)
    key = "fortnox:minute"
    now = time.time()
    with engine.begin() as connection:
        connection.execute(rate_limit_grants.insert(), [
            {"id": str(uuid.uuid4()), "tenant_id": "bench", "key": key,
             "granted_at": now - 60 + n * 0.2, "answered_at": now - 60 + n * 0.2 + 0.05} for n in range(300)])
    limiter = StoreLimiter(engine, "bench", key, [RateLimit(HIGH, 3600.0)], in_flight_for=90)
    oldest = (sa.select(rate_limit_grants.c.id).where(rate_limit_grants.c.key == key)
              .order_by(rate_limit_grants.c.granted_at).limit(1).scalar_subquery())

    def keep_300() -> None:
        with engine.begin() as connection:
            connection.execute(rate_limit_grants.delete().where(rate_limit_grants.c.id == oldest))

    _time_pairs(limiter, 50, keep_300)
    return _time_pairs(limiter, pairs, keep_300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--database", action="append", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    print(_figure("in-process limiter", _time_pairs(SlidingWindowLimiter([RateLimit(HIGH, 0.01)]), args.pairs)))
    for database in args.database or ["sqlite", "postgres"]:
        with scratch_store(database) as url:
            print(_figure(f"{database}, few grants", few(url, args.pairs)))
            print(_figure(f"{database}, 300 grants in the minute", full_minute(url, args.pairs)))


if __name__ == "__main__":
    main()
