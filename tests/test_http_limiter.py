"""The client-side rate limiter: never more than the limit in any window, no slower than needed."""

from __future__ import annotations

import threading
import time

from connectors.http import RateLimit, SlidingWindowLimiter, shared_limiter


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
