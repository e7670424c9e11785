"""How flows and their steps run: on Prefect when the run is recorded, as plain calls when not.

Importing Prefect costs 2-3 s and a flow run on it needs a Prefect API, which without
``PREFECT_API_URL`` Prefect starts as a temporary server (4-20 s, and on a busy machine it
timed out). A person running a command from the shell should pay neither when no Prefect UI
will show the run. So flows and steps are declared with this module's :func:`flow` and
:func:`task`, and the Prefect objects are built the first time they are needed:

- **recorded**: inside a Prefect flow run (a deployment on a worker, ``ledgerflow serve``) or when
  a Prefect API is configured (``PREFECT_API_URL``, which the CLI sets when ``ledgerflow server``
  is up), a flow is a Prefect flow run, every step a Prefect task run, artifacts are published
  and the failure hook is a Prefect state hook;
- **local**: otherwise a flow is a plain call with a run id of its own, steps are plain calls, run
  logs go to the standard ``logging`` tree (``ledgerflow.flows.<name>``), artifacts are not made
  (the command prints the same summary) and the failure hook still runs.

The body of a flow is the same code either way. Prefect's runner needs real ``Flow`` objects:
:mod:`flows.deployments` holds them for ``prefect.yaml`` and ``ledgerflow serve``.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from models.store import new_ids

if TYPE_CHECKING:
    from prefect import Flow, Task

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class RunEnd:
    """How a flow run ended badly, as a failure hook receives it."""

    flow_name: str
    run_id: str
    run_name: str
    parameters: Mapping[str, Any]
    state: str  # Failed or Crashed
    message: str | None


FailureHook = Callable[[RunEnd], None]


@dataclass
class _LocalRun:
    flow_name: str
    run_id: str = field(default_factory=lambda: new_ids(1)[0])  # the project's ids: UUID v7, ordered by time


_local_run: contextvars.ContextVar[_LocalRun | None] = contextvars.ContextVar("ledgerflow_local_run", default=None)


def _in_prefect_run() -> bool:
    """Whether this code runs inside a Prefect flow or task run (never true before Prefect is imported)."""
    if "prefect.context" not in sys.modules:
        return False
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def recording() -> bool:
    """Whether a flow called now runs on Prefect (see the module docstring)."""
    if _in_prefect_run():
        return True
    if "prefect.settings" in sys.modules:  # e.g. a test harness that set the API in Prefect's settings
        from prefect.settings import get_current_settings

        return bool(get_current_settings().api.url)
    return bool(os.environ.get("PREFECT_API_URL"))


_ad_hoc = False


def record_ad_hoc_runs(api_url: str) -> None:
    """Record this process's flows on the Prefect API at `api_url` (``ledgerflow server``), as the
    ad hoc runs of a command: without heartbeats."""
    global _ad_hoc
    os.environ["PREFECT_API_URL"] = api_url
    _ad_hoc = True



class Step(Generic[P, R]):
    """A step of a flow: a Prefect task inside a Prefect flow run, a plain call outside one."""

    def __init__(self, fn: Callable[P, R], name: str) -> None:
        self.fn, self.name = fn, name
        functools.update_wrapper(self, fn)

    @functools.cached_property
    def prefect_task(self) -> Task[P, R]:
        from prefect import task as prefect_task
        from prefect.cache_policies import NO_CACHE

        return prefect_task(self.fn, name=self.name, cache_policy=NO_CACHE)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if not _in_prefect_run():
            return self.fn(*args, **kwargs)
        from prefect.utilities.annotations import quote

        # Prefect walks every task argument, element by element, looking for futures to wait on;
        # for a 100,000-row frame that takes longer than the step. Steps are never given futures:
        # quote() says so, and the task receives the plain values.
        return self.prefect_task(*(quote(a) for a in args), **{k: quote(v) for k, v in kwargs.items()})  # type: ignore[arg-type]


def task(*, name: str) -> Callable[[Callable[P, R]], Step[P, R]]:
    """Declare a step (one task run per batch, never cached: every step reads or writes the store)."""
    return lambda fn: Step(fn, name)


class Pipeline(Generic[P, R]):
    """A flow: a Prefect flow run when recorded, a plain call with a run id otherwise."""

    def __init__(self, fn: Callable[P, R], name: str, on_failure: FailureHook | None) -> None:
        self.fn, self.name, self.on_failure = fn, name, on_failure
        functools.update_wrapper(self, fn)

    @functools.cached_property
    def prefect_flow(self) -> Flow[P, R]:
        """The Prefect flow (built on first use: it imports Prefect)."""
        from prefect import flow as prefect_flow

        hooks = [_prefect_hook(self.on_failure)] if self.on_failure else []
        return prefect_flow(self.fn, name=self.name, log_prints=True, on_failure=hooks, on_crashed=hooks)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if recording():
            return self._recorded(*args, **kwargs)
        run = _LocalRun(self.name)
        token = _local_run.set(run)
        try:
            return self.fn(*args, **kwargs)
        except BaseException as error:
            if self.on_failure:
                crashed = not isinstance(error, Exception)
                parameters = _bound(self.fn, args, kwargs)
                self.on_failure(RunEnd(self.name, run.run_id, f"local-{run.run_id[:8]}", parameters,
                                       "Crashed" if crashed else "Failed", f"{type(error).__name__}: {error}"))
            raise
        finally:
            _local_run.reset(token)

    def _recorded(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if not _ad_hoc:
            return self.prefect_flow(*args, **kwargs)
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        # Prefect 3.8 joins its heartbeat thread, which sleeps in one-second steps, at the end of
        # every flow run; heartbeats let a server mark a deployment's crashed run, and nobody
        # watches them for a command's run on the local server: it would wait up to a second for nothing.
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            return self.prefect_flow(*args, **kwargs)


def flow(*, name: str, on_failure: FailureHook | None = None) -> Callable[[Callable[P, R]], Pipeline[P, R]]:
    """Declare a flow; `on_failure` runs when it fails or crashes, recorded or not."""
    return lambda fn: Pipeline(fn, name, on_failure)


def _bound(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    import inspect

    try:
        return dict(inspect.signature(fn).bind(*args, **kwargs).arguments)
    except TypeError:
        return dict(kwargs)


def _prefect_hook(hook: FailureHook) -> Callable[..., None]:
    def on_state(flow: Any, flow_run: Any, state: Any) -> None:
        hook(RunEnd(flow.name, str(flow_run.id), flow_run.name, flow_run.parameters or {}, state.name, state.message))

    return on_state


# --------------------------------------------------------------------------- inside a run
def run_id() -> str | None:
    """The Prefect flow run's id, or the local run's; None outside any flow."""
    if _in_prefect_run():
        from prefect import runtime

        return runtime.flow_run.id
    run = _local_run.get()
    return run.run_id if run else None


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Prefect's run logger in a Prefect run (its lines reach the UI), else ``ledgerflow.flows.<flow>``."""
    if _in_prefect_run():
        from prefect import get_run_logger

        return get_run_logger()
    run = _local_run.get()
    return logging.getLogger(f"ledgerflow.flows.{run.flow_name if run else 'adhoc'}")


def publish_table(key: str, table: list[dict[str, Any]], description: str) -> None:
    """A table artifact in the Prefect UI (nothing in a local run: the command prints it)."""
    if _in_prefect_run():
        from prefect.artifacts import create_table_artifact

        create_table_artifact(key=key, table=table, description=description)


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """A markdown artifact in the Prefect UI (nothing in a local run)."""
    if _in_prefect_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(key=key, markdown=markdown, description=description)


class Progress:
    """A progress artifact in the Prefect UI, or nothing in a local run (the CLI draws its own bar)."""

    def __init__(self, description: str) -> None:
        self._id: Any = None
        if _in_prefect_run():
            from prefect.artifacts import create_progress_artifact

            self._id = create_progress_artifact(0.0, description=description)

    def update(self, percent: float) -> None:
        if self._id is not None:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(self._id, percent)
