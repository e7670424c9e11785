"""Progress of long steps, reported to whoever listens: a Prefect progress artifact in the UI,
a progress bar in the terminal.

Tasks report rows done out of rows in a step; they do not know who shows it. A listener is
a plain callable registered for the duration of a `with listening(...)` block. The registry is
per process, not per context, because Prefect may run a task in a worker thread of the flow's
process and a context variable would not follow it there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int, int], None]
"""Called with the step's name (Swedish, shown as is), rows done and rows in the step."""

_listeners: list[Listener] = []
_lock = threading.Lock()


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def report(step: str, done: int, total: int) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(step, done, total)
