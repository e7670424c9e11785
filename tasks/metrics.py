"""The metrics of seed 003 §6.3 in Prometheus form, read from the store on every scrape.

The store already records what the metrics count: a sync log line per dataset run (its status,
records loaded, records held back or dead-lettered, duration) and the dead letters. A collector
that queries it is exact, survives restarts and serves the same numbers from any process, so
``ledgerflow metrics serve`` need not be the process that ran the flows.

API calls are the exception: they leave no row. :class:`ApiUsage` counts them in the process that
makes them (an observer of ``connectors.http``'s requests), and the flow hands :meth:`ApiUsage.take` to the sync
log line of the work they served (``details["api"]``), so they persist with it, per tenant, and
are kept and removed with the logs. We chose that over a table of their own: the counts then
need no writes of their own, and a request is counted once, in whichever line takes it first.

Every counter here is a count of rows, so it goes down when retention removes old logs; Prometheus
takes that for a counter reset (see docs/runbook.md).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from connectors.http import request_observers
from models.tables import dead_letters, sync_logs

SYNC_DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
API_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
INF = "+Inf"

# Records of a sync log line that did not load: held back in quarantine, or dead-lettered.
FAILED_RECORDS = (sa.func.coalesce(sync_logs.c.details["quarantined"].as_integer(), 0)
                  + sa.func.coalesce(sync_logs.c.details["dead_letters"].as_integer(), 0))


# --------------------------------------------------------------------------- API calls, in-process
class ApiUsage:
    """Counts this process's API requests (every ``connectors.http.ApiClient`` call) until they are taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, Counter[str]] = defaultdict(Counter)
        self._seconds: Counter[str] = Counter()
        self._latency: dict[str, Counter[str]] = defaultdict(Counter)

    def count(self, system: str, status: int | None, seconds: float) -> None:
        bucket = next((str(b) for b in API_LATENCY_BUCKETS if seconds <= b), INF)
        with self._lock:
            self._requests[system][str(status) if status is not None else "error"] += 1
            self._seconds[system] += seconds
            self._latency[system][bucket] += 1

    def take(self) -> dict[str, Any]:
        """The counts since the last take, per system, for a sync log line's ``details["api"]``:
        requests per HTTP status ("error" for no answer), total seconds, and requests per latency
        bucket (not cumulative, keyed by upper bound)."""
        with self._lock:
            taken = {system: {"requests": dict(self._requests[system]), "seconds": round(self._seconds[system], 6),
                              "latency": dict(self._latency[system])} for system in self._requests}
            self._requests.clear()
            self._seconds.clear()
            self._latency.clear()
        return taken


_usage: ApiUsage | None = None
_usage_lock = threading.Lock()


def api_usage() -> ApiUsage:
    """This process's :class:`ApiUsage`, observing every request from its first use on (call it
    when a flow starts, and take its counts with each sync log line)."""
    global _usage
    with _usage_lock:
        if _usage is None:
            _usage = ApiUsage()
            request_observers.append(_usage.count)
        return _usage


# --------------------------------------------------------------------------- the collector
def _cumulative(counts: Sequence[float], total: float, bounds: Sequence[float]) -> list[tuple[str, float]]:
    return [(str(b), c) for b, c in zip(bounds, counts, strict=True)] + [(INF, total)]


def sync_metrics(connection: sa.Connection) -> Iterator[Metric]:
    """sync_jobs_total, sync_records_total and sync_duration_seconds from the sync log lines."""
    key = (sync_logs.c.tenant_id, sync_logs.c.system, sync_logs.c.data_type)
    rows = connection.execute(
        sa.select(*key, sync_logs.c.status, sa.func.count(), sa.func.sum(sync_logs.c.record_count),
                  sa.func.sum(FAILED_RECORDS), sa.func.count(sync_logs.c.duration_ms),
                  sa.func.sum(sync_logs.c.duration_ms),
                  *(sa.func.sum(sa.case((sync_logs.c.duration_ms <= b * 1000, 1), else_=0))
                    for b in SYNC_DURATION_BUCKETS))
        .group_by(*key, sync_logs.c.status)
    ).all()
    jobs = CounterMetricFamily("sync_jobs", "Sync runs (one per dataset and run) by outcome",
                               labels=["tenant", "system", "data_type", "status"])
    records = CounterMetricFamily("sync_records", "Records synced: succeeded (loaded) or failed (held back in "
                                  "quarantine or dead-lettered)", labels=["tenant", "system", "data_type", "status"])
    loaded: Counter[tuple[str, ...]] = Counter()
    failed: Counter[tuple[str, ...]] = Counter()
    timed: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0] * (len(SYNC_DURATION_BUCKETS) + 2))
    for tenant, system, data_type, status, count, succeeded, not_loaded, with_time, milliseconds, *buckets in rows:
        labels = (tenant, system, data_type)
        jobs.add_metric([*labels, status], count)
        loaded[labels] += succeeded or 0
        failed[labels] += not_loaded or 0
        totals = timed[labels]
        for i, value in enumerate([with_time, (milliseconds or 0) / 1000, *buckets]):
            totals[i] += value or 0
    for labels in loaded:
        records.add_metric([*labels, "succeeded"], loaded[labels])
        records.add_metric([*labels, "failed"], failed[labels])
    duration = HistogramMetricFamily("sync_duration_seconds", "Duration of one dataset's sync",
                                     labels=["tenant", "system", "data_type"])
    for labels, (count, seconds, *buckets) in timed.items():
        if count:
            duration.add_metric(list(labels), _cumulative(buckets, count, SYNC_DURATION_BUCKETS), seconds)
    yield from (jobs, records, duration)


def api_metrics(connection: sa.Connection) -> Iterator[Metric]:
    """api_requests_total and api_latency_seconds from the API counts the sync log lines carry."""
    requests: Counter[tuple[str, str, str]] = Counter()
    seconds: Counter[tuple[str, str]] = Counter()
    latency: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    rows = connection.execute(
        sa.select(sync_logs.c.tenant_id, sync_logs.c.details)
        .where(sync_logs.c.details["api"].as_string().is_not(None))
    )
    for tenant, details in rows:
        for system, usage in details["api"].items():
            for status, count in usage["requests"].items():
                requests[tenant, system, status] += count
            seconds[tenant, system] += usage["seconds"]
            latency[tenant, system].update(usage["latency"])
    total = CounterMetricFamily("api_requests", "Requests to external systems by HTTP status ('error': no answer)",
                                labels=["tenant", "system", "status"])
    for labels, count in requests.items():
        total.add_metric(list(labels), count)
    histogram = HistogramMetricFamily("api_latency_seconds", "Time from sending a request to its answer",
                                      labels=["tenant", "system"])
    for labels, per_bucket in latency.items():
        running, counts = 0, []
        for bound in API_LATENCY_BUCKETS:
            running += per_bucket[str(bound)]
            counts.append(running)
        histogram.add_metric(list(labels), _cumulative(counts, running + per_bucket[INF], API_LATENCY_BUCKETS),
                             seconds[labels])
    yield from (total, histogram)


def dlq_metric(connection: sa.Connection) -> Metric:
    """dlq_size: the pending dead letters."""
    gauge = GaugeMetricFamily("dlq_size", "Dead letters waiting for repair (seed 003 §6.2)",
                              labels=["tenant", "system", "error_category"])
    for tenant, system, category, count in connection.execute(
        sa.select(dead_letters.c.tenant_id, dead_letters.c.system, dead_letters.c.error_category, sa.func.count())
        .where(dead_letters.c.status == "pending")
        .group_by(dead_letters.c.tenant_id, dead_letters.c.system, dead_letters.c.error_category)
    ):
        gauge.add_metric([tenant, system, category], count)
    return gauge


class StoreCollector(Collector):
    """Seed 003 §6.3's metrics, queried from the store at each collection."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        with self.engine.connect() as connection:
            metrics = [*sync_metrics(connection), *api_metrics(connection), dlq_metric(connection)]
        return metrics


def store_registry(engine: sa.Engine) -> CollectorRegistry:
    """A registry holding only the store's metrics (no process or platform metrics of this process)."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine))
    return registry


def write_metrics(engine: sa.Engine, path: Path) -> None:
    """Write the metrics for node_exporter's textfile collector (atomically: a scrape never sees half a file)."""
    write_to_textfile(str(path), store_registry(engine))


def serve_metrics(engine: sa.Engine, port: int, host: str) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` on `host`:`port` in a background thread; returns the server and its thread."""
    return start_http_server(port, host, registry=store_registry(engine))
