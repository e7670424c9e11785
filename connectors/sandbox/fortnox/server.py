"""Running the Fortnox sandbox: a real HTTP server on 127.0.0.1, in a background thread or in front."""

from __future__ import annotations

import time
from collections.abc import Callable

from connectors.sandbox.fortnox.app import create_app
from connectors.sandbox.fortnox.seed import populate
from connectors.sandbox.fortnox.state import SandboxState
from connectors.sandbox.local_server import LocalServer

DEFAULT_CLIENT_ID = "ledgerflow-sandbox"
DEFAULT_CLIENT_SECRET = "sandbox-secret"


class FortnoxSandbox(LocalServer):
    """The sandbox company of `seed` behind a Fortnox API on 127.0.0.1:`port`.

    Use it as a context manager (or `start()`/`stop()`). `state` is the live state, for tests
    that want to look behind the API.
    """

    name = "Fortnox sandbox"

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
        super().__init__(create_app(self.state), port)
        self.api_url = f"{self.url}/3"
        self.token_url = f"{self.url}/oauth-v1/token"
        self.authorize_url = f"{self.url}/oauth-v1/auth"

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret


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
