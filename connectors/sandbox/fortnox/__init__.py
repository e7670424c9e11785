"""A faithful local simulator of the Fortnox API v3 ("sandbox"), for tests, benchmarks and the demo."""

from connectors.sandbox.fortnox.server import FortnoxSandbox, serve_forever

__all__ = ["FortnoxSandbox", "serve_forever"]
