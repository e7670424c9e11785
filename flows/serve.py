"""``ledgerflow serve``: every flow with its schedule, in one process, from the entries of prefect.yaml.

The simple alternative to a work pool and a worker: one long-running process registers a
deployment per entry of ``prefect.yaml`` (same name, schedules, parameters, tags, concurrency
limit) and runs each flow run in a subprocess of its own when it is due or triggered from the UI.
The schedules are defined once, in prefect.yaml; this module only reads them.

A Prefect server must be running and ``PREFECT_API_URL`` point at it: Prefect's temporary
(ephemeral) server does not run the scheduler, so nothing would ever be due.
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


def build_deployments(
    prefect_file: Path = PREFECT_FILE, names: list[str] | None = None,
) -> tuple[list[RunnerDeployment], list[DeploymentEntry]]:
    """The runner deployments of prefect.yaml's entries, and the entries skipped because their file is missing.

    Builds without contacting a Prefect server (nothing is registered until ``serve``).
    """
    from prefect.types.entrypoint import EntrypointType

    root = prefect_file.resolve().parent
    deployments, missing = [], []
    for entry in read_entries(prefect_file):
        if names and entry.name not in names:
            continue
        if not entry.path(root).is_file():
            missing.append(entry)
            continue
        flow = getattr(importlib.import_module(entry.module), entry.function)
        deployment = flow.to_deployment(
            name=entry.name,
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


def serve_all(prefect_file: Path = PREFECT_FILE, names: list[str] | None = None, limit: int | None = None) -> None:
    """Serve every deployment of prefect.yaml (or the ones named) in this process until interrupted."""
    from prefect import serve
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise RuntimeError("PREFECT_API_URL is not set: start a Prefect server (`prefect server start`) and "
                           "export PREFECT_API_URL=http://127.0.0.1:4200/api; Prefect's temporary server does "
                           "not run schedules")
    deployments, missing = build_deployments(prefect_file, names)
    for entry in missing:
        logger.warning("not serving %s: %s does not exist", entry.name, entry.entrypoint)
    if names:
        unknown = set(names) - {d.name for d in deployments} - {e.name for e in missing}
        if unknown:
            raise ValueError(f"no deployment named {', '.join(sorted(unknown))} in {prefect_file}")
    if not deployments:
        raise ValueError(f"nothing to serve in {prefect_file}")
    serve(*deployments, limit=limit)


def serve_command(
    deployment: Annotated[list[str] | None, typer.Option(
        "--deployment", "-d", help="Only this deployment of prefect.yaml (repeatable; default: all).")] = None,
    prefect_file: Annotated[Path, typer.Option(help="The prefect.yaml to read.")] = PREFECT_FILE,
    limit: Annotated[int | None, typer.Option(help="At most this many flow runs at once.")] = None,
) -> None:
    """Run every flow on its prefect.yaml schedule in this process (needs PREFECT_API_URL); Ctrl-C stops it."""
    try:
        serve_all(prefect_file, deployment, limit)
    except (RuntimeError, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    typer.run(serve_command)
