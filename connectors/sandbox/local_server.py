"""A sandbox's real HTTP server on 127.0.0.1, in a background thread or in front.

The socket is bound when the sandbox is made, so `url` is known (port 0 picks a free port)
before the server runs; start-up then only waits for uvicorn's loop, a few milliseconds.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp


async def json_object(request: Request) -> dict[str, Any]:
    """An admin request's body: a JSON object (empty means {}), else ValueError (answered as 400)."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


class LocalServer:
    """Serves `app` on 127.0.0.1:`port`; a context manager (or `start()`/`stop()`)."""

    name = "sandbox"

    def __init__(self, app: ASGIApp, port: int = 0) -> None:
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then, and without it every
        # keep-alive response waits ~40 ms for a delayed ACK
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", proxy_headers=False,
            server_header=False, timeout_graceful_shutdown=1,
        ))
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
            self._thread.start()
            deadline = time.monotonic() + 10
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"the {self.name} did not start on {self.url}")
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
