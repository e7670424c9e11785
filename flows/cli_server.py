"""``ledgerflow server``: the local Prefect server that ad hoc runs are recorded on (flows/local_server.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.console import console

server_app = typer.Typer(
    help="A Prefect server in the background: while it is up, commands record their runs there for its UI.",
    no_args_is_help=True,
)


@server_app.command("start")
def server_start(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 4200,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds without an answer.")] = 600,
) -> None:
    """Start the server (database in var/prefect) and wait until it answers."""
    from flows import local_server

    if (running := local_server.read_state()) is not None:
        console.print(f"already running: UI {running.ui_url}, API {running.api_url} (pid {running.pid})")
        return
    try:
        state = local_server.start(port=port, timeout=timeout,
                                   on_wait=lambda s: console.print(f"starting the Prefect server… {s:.0f} s"))
    except local_server.ServerError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]Prefect server up[/]: UI {state.ui_url}, API {state.api_url} (pid {state.pid}). "
                  "ledgerflow commands run from this folder now record their runs there.")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the server; commands then run their flows locally again."""
    from flows import local_server

    state = local_server.stop()
    console.print(f"stopped the Prefect server (pid {state.pid})" if state else "no Prefect server was running")


@server_app.command("status")
def server_status() -> None:
    """Say whether the server is up and where its UI is; exit 1 if it is not."""
    import os

    from flows import local_server

    state = local_server.read_state()
    if state is None:
        console.print("no Prefect server is running: commands run their flows locally "
                      "(`ledgerflow server start` to record them for the Prefect UI)")
        if os.environ.get("PREFECT_API_URL"):
            console.print(f"PREFECT_API_URL={os.environ['PREFECT_API_URL']} is set: runs are recorded there")
        raise typer.Exit(1)
    answering = local_server.healthy(state)
    console.print(f"Prefect server {'up' if answering else 'started but not answering yet'}: UI {state.ui_url}, "
                  f"API {state.api_url}, pid {state.pid}, database {state.home}")
    if not answering:
        raise typer.Exit(1)
