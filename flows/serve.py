"""``ledgerflow serve``: every flow with its schedule, in one process, from the entries of prefect.yaml.

The simple alternative to a work pool and a worker: one long-running process registers a
deployment per entry of ``prefect.yaml`` (schedules, parameters, tags, concurrency limit) and runs
each flow run in a subprocess of its own when it is due or triggered from the UI. The schedules
are defined once, in prefect.yaml; this module only reads them.

Served deployments are named apart from the work pool's: ``<entry>-serve`` (e.g.
``bank_import/bank-import-on-demand-serve``), with no work pool. Under the entry's own name they
replaced the deployment ``prefect deploy`` had made: the server kept its work pool but lost its
working-directory (pull) step, so a process worker later ran it in the worker's own directory
(``var/bank does not exist``). Now neither way touches the other's deployments, and a worker never
picks up a served deployment's runs. Because both would run the same schedules twice, ``serve``
refuses to start while a work-pool deployment of an entry it would schedule is active on the server.

A Prefect server must be running and ``PREFECT_API_URL`` point at it: Prefect's temporary
(ephemeral) server does not run the scheduler, so nothing would ever be due.

Ctrl-C or SIGTERM stops it and pauses the served deployments; on SIGTERM (a service manager's
stop) the flow runs still going are cancelled, as Prefect's runner means to do (see `_Runner`).
"""

from __future__ import annotations

import os

# As in flows/cli.py: no telemetry (and no telemetry writes on the server's SQLite).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import datetime as dt  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated, Any  # noqa: E402

import typer  # noqa: E402

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Schedule

ROOT = Path(__file__).resolve().parent.parent
SERVED_SUFFIX = "-serve"  # served deployments' names: <prefect.yaml entry>-serve
PREFECT_FILE = ROOT / "prefect.yaml"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeploymentEntry:
    """One entry of prefect.yaml's ``deployments``, as far as serving it needs."""

    name: str
    entrypoint: str  # path/to/file.py:function, relative to the file's folder
    parameters: dict[str, Any]
    schedules: list[dict[str, Any]]
    description: str | None
    tags: list[str]
    concurrency_limit: int | None

    def path(self, root: Path) -> Path:
        return root / self.entrypoint.rsplit(":", 1)[0]

    @property
    def module(self) -> str:
        """``flows/bank_import.py:bank_import`` -> ``flows.bank_import``."""
        file, _ = self.entrypoint.rsplit(":", 1)
        return file.removesuffix(".py").replace("/", ".")

    @property
    def function(self) -> str:
        return self.entrypoint.rsplit(":", 1)[1]


def read_entries(prefect_file: Path = PREFECT_FILE) -> list[DeploymentEntry]:
    """The deployments of a prefect.yaml (YAML anchors resolved)."""
    import yaml

    document = yaml.safe_load(prefect_file.read_text(encoding="utf-8")) or {}
    entries = []
    for raw in document.get("deployments") or []:
        limit = raw.get("concurrency_limit")
        if isinstance(limit, dict):
            limit = limit.get("limit")
        entries.append(DeploymentEntry(
            name=raw["name"],
            entrypoint=raw["entrypoint"],
            parameters=dict(raw.get("parameters") or {}),
            schedules=list(raw.get("schedules") or []),
            description=raw.get("description"),
            tags=list(raw.get("tags") or []),
            concurrency_limit=limit,
        ))
    return entries


def to_schedule(config: dict[str, Any]) -> Schedule:
    """A prefect.yaml schedule entry (cron, interval or rrule, with timezone etc.) as a Prefect schedule."""
    from prefect.schedules import Cron, Interval, RRule

    common: dict[str, Any] = {"timezone": config.get("timezone"), "active": config.get("active", True),
                              "parameters": config.get("parameters") or {}, "slug": config.get("slug")}
    if config.get("cron"):
        return Cron(config["cron"], day_or=config.get("day_or", True), **common)
    if config.get("interval"):
        anchor = config.get("anchor_date")
        if isinstance(anchor, str):
            anchor = dt.datetime.fromisoformat(anchor)
        interval = config["interval"]
        return Interval(interval if isinstance(interval, dt.timedelta) else float(interval), anchor_date=anchor,
                        **common)
    if config.get("rrule"):
        return RRule(config["rrule"], **common)
    raise ValueError(f"a schedule needs cron, interval or rrule: {config}")


def served_name(entry_name: str) -> str:
    """The name ``serve`` registers an entry under: never the name ``prefect deploy`` gives it."""
    return entry_name + SERVED_SUFFIX


def build_deployments(
    prefect_file: Path = PREFECT_FILE, names: list[str] | None = None,
) -> tuple[list[RunnerDeployment], list[DeploymentEntry]]:
    """The runner deployments of prefect.yaml's entries, and the entries skipped because their file is missing.

    Each is named ``<entry>-serve`` and has no work pool (see the module's docstring); `names` are
    the entries' names (or the served names). Builds without contacting a Prefect server (nothing
    is registered until ``serve``).
    """
    from prefect.types.entrypoint import EntrypointType

    wanted = {name.removesuffix(SERVED_SUFFIX) for name in names or []}
    root = prefect_file.resolve().parent
    deployments, missing = [], []
    for entry in read_entries(prefect_file):
        if wanted and entry.name not in wanted:
            continue
        if not entry.path(root).is_file():
            missing.append(entry)
            continue
        flow = getattr(importlib.import_module(entry.module), entry.function)
        deployment = flow.to_deployment(
            name=served_name(entry.name),
            schedules=[to_schedule(s) for s in entry.schedules] or None,
            parameters=entry.parameters,
            description=entry.description,
            tags=entry.tags,
            concurrency_limit=entry.concurrency_limit,
            # A module path runs the same from any working directory (the package is installed).
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        # Prefect would name the module of the flow's function (flows.bank_import.bank_import), where
        # the flow is declared lazily (tasks.runtime); the runner must load the Flow object itself.
        deployment.entrypoint = f"{entry.module}.{entry.function}"
        deployments.append(deployment)
    return deployments, missing


def active_work_pool_twins(deployments: list[RunnerDeployment]) -> list[str]:
    """The deployments of ``prefect deploy`` (same entry, in a work pool) that are active on the
    server with a schedule that serving would run as well: each due run would happen twice."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    twins = []
    with get_client(sync_client=True) as client:
        for deployment in deployments:
            if not deployment.schedules:
                continue
            name = f"{deployment.flow_name}/{deployment.name.removesuffix(SERVED_SUFFIX)}"
            try:
                twin = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
            if twin.work_pool_name and not twin.paused and any(s.active for s in twin.schedules):
                twins.append(name)
    return twins


def _runner(limit: int | None) -> Any:
    """A Prefect runner that stops properly on SIGTERM.

    Prefect 3.8's ``Runner.handle_sigterm`` calls ``self.stop()`` and then ``sys.exit(0)``. The
    signal handler runs in the main thread while the runner's event loop is running there, so
    ``stop()`` (an ``async_dispatch`` of ``astop``) returns the coroutine ``astop()`` instead of
    running it, and it is dropped: ``RuntimeWarning: coroutine 'Runner.astop' was never awaited``.
    So ``astop()``, which cancels the runs going on and ends the polling, never ran, and the
    ``SystemExit`` was raised into whatever the loop was doing. Here SIGTERM schedules ``astop()`` on
    the runner's loop instead:
    it cancels the runs going on and ends the polling, and ``start()`` returns through the runner's
    own exit, which pauses the served deployments (as Ctrl-C does). A second SIGTERM while it stops
    interrupts the stopping, like a second Ctrl-C.
    """
    import asyncio

    from prefect.runner import Runner

    class _Runner(Runner):
        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            if self.stopping or not self.started or self._loop is None:
                raise KeyboardInterrupt  # not running yet, or asked twice: as Ctrl-C
            self._logger.info("SIGTERM received, stopping: cancelling the runs going on, pausing the deployments")
            self.stopping = True
            self._loop.call_soon_threadsafe(self._stop_on_loop)

        def _stop_on_loop(self) -> None:
            task = asyncio.get_running_loop().create_task(self.astop())
            _stopping.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(_stopping.discard)

    _stopping: set[asyncio.Task[None]] = set()

    return _Runner(pause_on_shutdown=True, limit=limit)


def serve_all(prefect_file: Path = PREFECT_FILE, names: list[str] | None = None, limit: int | None = None) -> None:
    """Serve every deployment of prefect.yaml (or the ones named) in this process until interrupted."""
    import asyncio

    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise RuntimeError("PREFECT_API_URL is not set: start a Prefect server (`prefect server start`) and "
                           "export PREFECT_API_URL=http://127.0.0.1:4200/api; Prefect's temporary server does "
                           "not run schedules")
    deployments, missing = build_deployments(prefect_file, names)
    for entry in missing:
        logger.warning("not serving %s: %s does not exist", entry.name, entry.entrypoint)
    if names:
        known = {d.name.removesuffix(SERVED_SUFFIX) for d in deployments} | {e.name for e in missing}
        unknown = {name.removesuffix(SERVED_SUFFIX) for name in names} - known
        if unknown:
            raise ValueError(f"no deployment named {', '.join(sorted(unknown))} in {prefect_file}")
    if not deployments:
        raise ValueError(f"nothing to serve in {prefect_file}")
    if twins := active_work_pool_twins(deployments):
        raise ValueError(
            f"{', '.join(twins)}: deployed to a work pool (`prefect deploy`) and scheduled on this server, so a "
            "worker runs them; served too, every run would happen twice. Serve the others (-d), pause those "
            "deployments in the UI, or delete them (`prefect deployment delete 'flow/name'`).")
    runner = _runner(limit)
    for deployment in deployments:
        runner.add_deployment(deployment)
    typer.echo(f"serving {len(deployments)} deployments, no work pool: "
               f"{', '.join(f'{d.flow_name}/{d.name}' for d in deployments)}; Ctrl-C or SIGTERM stops", err=True)
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        logger.info("interrupted, stopped")


def serve_command(
    deployment: Annotated[list[str] | None, typer.Option(
        "--deployment", "-d", help="Only this deployment of prefect.yaml (repeatable; default: all).")] = None,
    prefect_file: Annotated[Path, typer.Option(help="The prefect.yaml to read.")] = PREFECT_FILE,
    limit: Annotated[int | None, typer.Option(help="At most this many flow runs at once.")] = None,
) -> None:
    """Run every flow on its prefect.yaml schedule in this process, as deployments named <entry>-serve
    without a work pool (needs PREFECT_API_URL); Ctrl-C or SIGTERM stops it."""
    try:
        serve_all(prefect_file, deployment, limit)
    except (RuntimeError, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    typer.run(serve_command)
