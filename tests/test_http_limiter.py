"""The client-side rate limiter: never more than the limit in any window, no slower than needed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.http import RateLimit, SlidingWindowLimiter, StoreLimiter, shared_limiter, wait_needed
from connectors.sandbox.fortnox import FortnoxSandbox
from flows.connections import connect_fortnox, sandbox_code, sandbox_endpoints
from flows.settings import Settings
from models.secrets import SecretCipher
from models.store import create_engine, open_store
from models.tables import rate_limit_grants

ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_26th_request_waits_for_the_first_to_leave_the_5_second_window() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter([RateLimit(25, 5.0)], clock, clock.sleep)
    times = []
    for _ in range(60):
        limiter.release(limiter.acquire())
        times.append(clock.now)
    assert times[:25] == [0.0] * 25
    assert times[25] == 5.0
    assert times[50] == 10.0
    # Exact property: no 5-second window holds more than 25 requests.
    assert max(sum(1 for t in times if start <= t < start + 5.0) for start in times) == 25


def test_the_minute_limit_applies_as_well() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter([RateLimit(25, 5.0), RateLimit(30, 60.0)], clock, clock.sleep)
    times = []
    for _ in range(31):
        limiter.release(limiter.acquire())
        times.append(clock.now)
    assert times[29] == 5.0
    assert times[30] == 60.0


def test_threads_sharing_a_limiter_stay_within_it() -> None:
    limiter = SlidingWindowLimiter([RateLimit(20, 0.5)])
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(15):
            slot = limiter.acquire()
            with lock:
                stamps.append(time.monotonic())
            limiter.release(slot)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    assert len(stamps) == 60
    assert max(sum(1 for t in stamps if s <= t < s + 0.5) for s in stamps) <= 20


def test_a_request_still_in_flight_keeps_its_place_until_its_answer_arrives() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter([RateLimit(2, 5.0)], clock, clock.sleep)
    slow = limiter.acquire()  # sent at 0, answered only at 7
    limiter.release(limiter.acquire())  # sent and answered at 0
    clock.now = 7.0
    limiter.release(slow)
    limiter.release(limiter.acquire())  # the fast one left the window at 5: a place is free at 7
    assert clock.now == 7.0
    limiter.release(limiter.acquire())  # the slow one is dated 7, so the next place opens at 12
    assert clock.now == 12.0


def test_one_limiter_per_key_and_limits() -> None:
    """A sandbox on a port an earlier one freed, with another limit, must not inherit the old limiter."""
    key = "fortnox:acme:http://127.0.0.1:40123"
    fast = shared_limiter(key, [RateLimit(250, 5)])
    assert shared_limiter(key, [RateLimit(250, 5)]) is fast
    real = shared_limiter(key, [RateLimit(25, 5)])
    assert real is not fast and real.limits == (RateLimit(25, 5),)
    assert shared_limiter("fortnox:globex:http://127.0.0.1:40123", [RateLimit(25, 5)]) is not real


# --------------------------------------------------------------------------- the arithmetic
def test_a_window_full_of_requests_in_flight_is_looked_at_again_after_the_poll() -> None:
    limits = [RateLimit(2, 5.0)]
    assert wait_needed(limits, 10.0, [9.0], 0, 0.05) == 0.0
    assert wait_needed(limits, 10.0, [9.0], 1, 0.05) == 4.0  # the answered one leaves first, at 14
    assert wait_needed(limits, 10.0, [], 2, 0.05) == 0.05  # nobody knows when an answer will come
    assert wait_needed(limits, 10.0, [4.0, 9.5], 0, 0.05) == 0.0  # 4.0 left the window at 9.0


# --------------------------------------------------------------------------- in the store
def _grants(url: str) -> list[tuple[str, float, float | None]]:
    with open_store(url).connect() as connection:
        return [row._tuple() for row in connection.execute(
            sa.select(rate_limit_grants.c.key, rate_limit_grants.c.granted_at, rate_limit_grants.c.answered_at)
            .order_by(rate_limit_grants.c.granted_at))]


def test_the_store_limiter_fills_its_window_exactly_and_the_6th_waits_for_the_1st_to_leave(database_url: str) -> None:
    limits = [RateLimit(5, 1.0), RateLimit(100, 60.0)]  # the minute keeps every grant in the table
    limiter = StoreLimiter(open_store(database_url), "acme", "fortnox:test", limits, in_flight_for=30)
    started = time.monotonic()
    moments = []
    for _ in range(6):
        limiter.release(limiter.acquire())
        moments.append(time.monotonic() - started)
    assert moments[4] < 0.5  # the first five go at once
    assert 0.9 < moments[5] < 1.6  # the 6th waits about one window: no longer than needed
    rows = _grants(database_url)
    assert len(rows) == 6
    # On the store's own clock: the 6th was granted only once the 1st answer had left the window.
    first_answer, sixth_granted = rows[0][2], rows[5][1]
    assert sixth_granted - first_answer >= 1.0


def test_grants_in_flight_in_another_process_block_until_answered_and_a_window_after(database_url: str) -> None:
    elsewhere = create_engine(database_url)  # connections of their own, as another process has
    other = StoreLimiter(elsewhere, "acme", "fortnox:test", [RateLimit(2, 1.0)], in_flight_for=30)
    mine = StoreLimiter(open_store(database_url), "acme", "fortnox:test", [RateLimit(2, 1.0)], in_flight_for=30)
    slow = [other.acquire(), other.acquire()]  # two requests in flight elsewhere fill the window
    granted = threading.Event()
    waiter = threading.Thread(target=lambda: (mine.release(mine.acquire()), granted.set()), daemon=True)
    waiter.start()
    assert not granted.wait(1.5)  # longer than the window: requests in flight keep their places
    answered = time.monotonic()
    other.release(slow[0])  # dated now: it holds its place for one more window
    assert granted.wait(5.0)
    assert 0.9 < time.monotonic() - answered < 1.6
    waiter.join(5.0)
    other.release(slow[1])
    elsewhere.dispose()


def test_a_grant_left_in_flight_by_a_dead_process_stops_blocking_after_the_bound(database_url: str) -> None:
    elsewhere = create_engine(database_url)
    crashed = StoreLimiter(elsewhere, "acme", "fortnox:test", [RateLimit(2, 10.0)], in_flight_for=0.5)
    started = time.monotonic()
    crashed.acquire(), crashed.acquire()  # never answered
    limiter = StoreLimiter(open_store(database_url), "acme", "fortnox:test", [RateLimit(2, 10.0)], in_flight_for=0.5)
    limiter.release(limiter.acquire())
    assert 0.45 < time.monotonic() - started < 1.2  # not the 10 s window: the dead grants were given up
    elsewhere.dispose()


def test_other_keys_and_tenants_have_budgets_of_their_own_and_old_grants_are_deleted(database_url: str) -> None:
    engine = open_store(database_url)
    limits = [RateLimit(3, 0.3)]
    budgets = [("acme", "fortnox:a"), ("acme", "fortnox:b"), ("globex", "fortnox:a")]
    for tenant, key in budgets:
        limiter = StoreLimiter(engine, tenant, key, limits, in_flight_for=30)
        started = time.monotonic()
        for _ in range(3):
            limiter.release(limiter.acquire())
        assert time.monotonic() - started < 0.25  # nobody else's requests counted
    time.sleep(0.35)
    limiter = StoreLimiter(engine, "acme", "fortnox:a", limits, in_flight_for=30)
    limiter.release(limiter.acquire())  # deletes the key's grants that left its longest window
    with engine.connect() as connection:
        kept = dict(connection.execute(
            sa.select(rate_limit_grants.c.tenant_id + "/" + rate_limit_grants.c.key, sa.func.count())
            .group_by(rate_limit_grants.c.tenant_id, rate_limit_grants.c.key)).all())
    assert kept == {"acme/fortnox:a": 1, "acme/fortnox:b": 3, "globex/fortnox:a": 3}


# --------------------------------------------------------------------------- across processes
# One flow run's process: the tenant's real Fortnox client from the store (or, with "local", one
# with only this process's limiter), told to go on a line of stdin, then a fixed number of requests.
CALLER = """
import sys
from connectors import fortnox as fx
from connectors.http import RetryPolicy, TransientError
from flows.connections import fortnox_client
from flows.settings import Settings
from models.store import open_store

limiter, count = sys.argv[1], int(sys.argv[2])
settings = Settings()
client = fortnox_client(settings, open_store(settings.database_url), "acme")
if limiter == "local":  # the limiter before the store kept it; one try, so a 429 shows at once
    client = fx.FortnoxClient.for_tenant("acme", client.api.tokens, client.api.base_url, RetryPolicy(attempts=1),
                                         client.api.limits)
print("ready", flush=True)
sys.stdin.readline()
refused = 0
for number in range(count):
    try:
        client.supplier_invoice(str(number % 20 + 1))
    except TransientError:
        refused += 1
print(refused, flush=True)
"""


def _two_flow_runs(database_url: str, limiter: str, each: int, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Two OS processes calling one tenant's token on a sandbox at Fortnox's real 25 per 5 s; the
    sandbox's own statistics of what it received."""
    key = SecretCipher.new_key()
    monkeypatch.setenv("LEDGERFLOW_ENCRYPTION_KEY", key)
    settings = Settings()
    with FortnoxSandbox(seed=7, supplier_invoices=20, customers=5, suppliers=5, invoices=5) as sandbox:
        sandbox.state.rate_limit = 25  # Fortnox's real limit
        connect_fortnox(settings, open_store(database_url), "acme",
                        sandbox_code(sandbox.url, settings.fortnox_redirect_uri), sandbox_endpoints(sandbox.url))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LEDGERFLOW_DATABASE_URL": database_url,
               "LEDGERFLOW_ENCRYPTION_KEY": key}
        runs = [subprocess.Popen([sys.executable, "-c", CALLER, limiter, str(each)], cwd=ROOT, env=env, text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(2)]
        try:
            for run in runs:
                assert run.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
            sandbox.state.reset_stats()
            for run in runs:  # both start at once
                run.stdin.write("go\n")  # type: ignore[union-attr]
                run.stdin.flush()  # type: ignore[union-attr]
            outputs = [run.communicate(timeout=60)[0] for run in runs]
        finally:
            for run in runs:
                run.kill()
        assert [run.returncode for run in runs] == [0, 0], outputs
        return sandbox.state.stats() | {"refused_by_caller": sum(int(out.split()[-1]) for out in outputs)}


def test_two_processes_on_one_token_at_fortnox_real_limit_meet_no_429(database_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    stats = _two_flow_runs(database_url, "store", 35, monkeypatch)
    assert stats["requests"] == 70, stats  # not one retried
    assert stats["rate_limit_violations"] == 0, stats
    assert stats["by_status"] == {"200": 70}, stats
    assert stats["max_requests_in_5s_window"] <= 25
    # 70 requests at 25 per 5.25 s: the third window opens after 10.5 s, and nothing waits longer.
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_only_a_limiter_per_process_the_same_two_processes_exceed_the_limit(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stats = _two_flow_runs(database_url, "local", 25, monkeypatch)
    assert stats["requests"] == 50, stats
    assert stats["rate_limit_violations"] > 0, stats
    assert stats["refused_by_caller"] == stats["rate_limit_violations"]
