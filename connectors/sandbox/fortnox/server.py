"""Running the Fortnox sandbox: a real HTTP server on 127.0.0.1, in a background thread or in front.

The socket is bound when the sandbox is made, so `url` is known (port 0 picks a free port)
before the server runs; start-up then only waits for uvicorn's loop, a few milliseconds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from connectors.sandbox.fortnox.app import create_app
from connectors.sandbox.fortnox.seed import populate
from connectors.sandbox.fortnox.state import SandboxState

DEFAULT_CLIENT_ID = "ledgerflow-sandbox"
DEFAULT_CLIENT_SECRET = "sandbox-secret"


class FortnoxSandbox:
    """The sandbox company of `seed` behind a Fortnox API on 127.0.0.1:`port`.

    Use it as a context manager (or `start()`/`stop()`). `state` is the live state, for tests
    that want to look behind the API.
    """

    def __init__(
        self,
        port: int = 0,
        seed: int = 7,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        *,
        supplier_invoices: int = 60,
        customers: int = 25,
        suppliers: int = 20,
        invoices: int = 40,
        offers: int = 10,
        attendance_transactions: int = 50,
        salary_transactions: int = 50,
        clock: Callable[[], float] = time.time,
        retry_after: int | None = None,
        project_editable_after_booking: bool = False,
    ) -> None:
        self.state = SandboxState(
            client_id, client_secret, clock=clock, retry_after=retry_after,
            project_editable_after_booking=project_editable_after_booking,
        )
        populate(
            self.state, seed, suppliers=suppliers, customers=customers, invoices=invoices, offers=offers,
            supplier_invoices=supplier_invoices, attendance_transactions=attendance_transactions,
            salary_transactions=salary_transactions,
        )
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then, and without it every
        # keep-alive response waits ~40 ms for a delayed ACK
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/3"
        self.token_url = f"{self.url}/oauth-v1/token"
        self.authorize_url = f"{self.url}/oauth-v1/auth"
        self._server = uvicorn.Server(uvicorn.Config(
            create_app(self.state), log_level="warning", access_log=False, lifespan="off", proxy_headers=False,
            server_header=False, timeout_graceful_shutdown=1,
        ))
        self._thread: threading.Thread | None = None

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    def start(self) -> FortnoxSandbox:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
            self._thread.start()
            deadline = time.monotonic() + 10
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"the Fortnox sandbox did not start on {self.url}")
                time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()

    def serve(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        self._server.run(sockets=[self._socket])

    def __enter__(self) -> FortnoxSandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def serve_forever(port: int = 8765, seed: int = 7) -> None:
    """For `ledgerflow sandbox serve`: the sandbox in front, with what a client needs to reach it printed first."""
    sandbox = FortnoxSandbox(port=port, seed=seed)
    print(f"Fortnox sandbox (seed {seed}) on {sandbox.url}", flush=True)
    print(f"  API        {sandbox.api_url}", flush=True)
    print(f"  token      {sandbox.token_url}", flush=True)
    print(f"  authorize  {sandbox.authorize_url}", flush=True)
    print(f"  client     {sandbox.client_id} / {sandbox.client_secret}", flush=True)
    print(f"  admin      {sandbox.url}/_sandbox/info", flush=True)
    try:
        sandbox.serve()
    finally:
        sandbox.stop()
