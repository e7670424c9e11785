"""``ledgerflow server start|stop|status``: a Prefect server in the background that commands record their runs on.

Without a Prefect API a command runs its flow locally (``tasks.runtime``): no Prefect import, no
server start-up, nothing that can time out. A person who wants ad hoc runs in a Prefect UI
starts this server once; while it is up, every ``ledgerflow`` command started from the same
folder records its runs there (it sets ``PREFECT_API_URL`` for itself), and the UI is at the
address ``status`` prints. A ``PREFECT_API_URL`` already in the environment wins: it names the
user's own server.

The server is Prefect's own (``prefect server start``) with its database in ``var/prefect``
(``PREFECT_HOME``), its log in ``var/prefect/server.log`` and its address and process id in
``var/prefect/server.json``. ``start`` waits until the server answers, however long a busy
machine makes that take, and says how long it is taking; a command never waits for it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

HOME = Path("var/prefect")
STATE = "server.json"
LOG = "server.log"
DEFAULT_PORT = 4200


@dataclass(frozen=True)
class ServerState:
    pid: int
    host: str
    port: int
    home: str
    started_at: float

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def read_state(home: Path = HOME) -> ServerState | None:
    """The server this folder started, if its process is still alive."""
    try:
        state = ServerState(**json.loads((home / STATE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return state if _alive(state.pid) else None


def listening(state: ServerState, timeout: float = 0.5) -> bool:
    """Whether the server's port takes connections (cheap: no HTTP, no imports)."""
    try:
        with socket.create_connection((state.host, state.port), timeout=timeout):
            return True
    except OSError:
        return False


def healthy(state: ServerState, timeout: float = 5.0) -> bool:
    """Whether the API answers its health check."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{state.api_url}/health", timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def api_url_if_up(home: Path = HOME) -> str | None:
    """The API of the server this folder started, if it takes connections now."""
    state = read_state(home)
    return state.api_url if state is not None and listening(state) else None


class ServerError(RuntimeError):
    """The server could not be started or stopped; the message says why in one line."""


def start(home: Path = HOME, port: int = DEFAULT_PORT, timeout: float = 600.0,
          on_wait: Callable[[float], None] | None = None) -> ServerState:
    """Start the server in the background and wait until it answers (at most `timeout` seconds).

    `on_wait` is told the seconds waited so far, every couple of seconds. A server that is up
    already is returned as it is.
    """
    running = read_state(home)
    if running is not None:
        return running
    if _port_taken(port):
        raise ServerError(f"port {port} on 127.0.0.1 is taken by another program; choose another with --port")
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home.resolve()), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port)}
    env.pop("PREFECT_API_URL", None)
    with open(home / LOG, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # the server outlives this command and its terminal's Ctrl-C
        )
    state = ServerState(process.pid, "127.0.0.1", port, str(home.resolve()), time.time())
    (home / STATE).write_text(json.dumps(asdict(state)))
    began = last_told = time.monotonic()
    while not healthy(state, timeout=5.0):
        if process.poll() is not None:
            (home / STATE).unlink(missing_ok=True)
            raise ServerError(f"the Prefect server exited with status {process.returncode} before answering; "
                              f"see {home / LOG}: {_last_line(home / LOG)}")
        waited = time.monotonic() - began
        if waited > timeout:
            stop(home)
            raise ServerError(f"the Prefect server did not answer within {timeout:.0f} s and was stopped; "
                              f"see {home / LOG}")
        if on_wait and time.monotonic() - last_told >= 2:
            on_wait(waited)
            last_told = time.monotonic()
        time.sleep(0.25)
    return state


def stop(home: Path = HOME, grace: float = 20.0) -> ServerState | None:
    """Stop the server this folder started (its whole process group); None if none was running."""
    state = read_state(home)
    if state is None:
        (home / STATE).unlink(missing_ok=True)  # left by a server that died
        return None
    try:
        os.killpg(state.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while _alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(state.pid):
        os.killpg(state.pid, signal.SIGKILL)
    (home / STATE).unlink(missing_ok=True)
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this very process counts as gone
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""
