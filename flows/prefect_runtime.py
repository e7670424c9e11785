"""How an ad hoc command runs its flows on Prefect.

Prefect 3.8 sends a heartbeat event for each flow run (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``,
default every 180 s) from a thread that sleeps in one-second steps, and the flow run joins that
thread when it ends: every run waits up to a second for nothing. The heartbeats let a real
Prefect server notice a crashed deployment run; a command run without ``PREFECT_API_URL`` talks
to a temporary server that lives as long as the command, where nobody watches for them. So
there, and only there, they are turned off. A deployment, or a command pointed at a server,
keeps Prefect's setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ad_hoc_runs() -> Iterator[bool]:
    """Within the block, flow runs send no heartbeats if no Prefect server is configured.

    Yields whether they were turned off.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    if get_current_settings().api.url:
        yield False
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield True
