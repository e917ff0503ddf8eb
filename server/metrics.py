"""Prometheus metrics of one process, served at GET /metrics (PINQL_METRICS).

Under `pinql serve --workers N` every worker writes its samples to PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode, chosen when the variable is set before the workers
start) and /metrics, whichever worker answers it, adds up every worker's. Label values are
bounded: an operation's name is a label only for persisted or registered documents (any
other is "-"), and past MAX_LABEL_VALUES distinct operations a process counts new ones as
"-"; a client is a label only when it is registered (`pinql clients add`; requests prove
the name with its key, server/client_keys.py) or it is `anonymous`: any other name is
"other".

The endpoint fills a RequestRecord as a request goes; `Metrics.observe` reads it once, after
the response is sent: a few dictionary lookups and counter updates, nothing per field.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response

from db.pool import Session, StatementHook
from server.gauges import (
    CACHE_BYTES,
    CACHE_ENTRIES,
    GaugesCollector,
    Weighed,
    cache_families,
    one,
    pool_family,
    sample_caches,
    sample_every_second,
    sample_pool,
)
from server.persisted.policy import ANONYMOUS
from server.tallies import BatchSizes, Tallied

log = logging.getLogger("pinql.metrics")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
NONE = "-"
OTHER = "other"
"""The client label of a client the deployment does not name."""
"""The label value of an unnamed or unknown operation, and of an unknown client."""
MAX_LABEL_VALUES = 200

SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SQL_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
STATEMENTS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50)
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(slots=True)
class RequestRecord:
    """What one /graphql request did. The endpoint fills it in as the request goes; the
    metrics, the access line and the request span read it once the response is sent."""

    request_id: str
    status: int = 500
    seconds: float = 0.0
    client: str | None = None
    client_version: str | None = None
    operation: str | None = None
    known: bool = False
    """The document is persisted (APQ, registered) or the client may only send registered
    ones: its operation name is a bounded label value."""
    document_hash: str | None = None
    cost: int | None = None
    """The requested cost, once computed."""
    throttled: bool = False
    execution: str | None = None
    """How the operation ran (execution.run.EXECUTIONS); None when it did not run."""
    execution_reason: str | None = None
    """Why it ran there (execution.run.REASONS)."""
    session: Session | None = None
    on_statement: StatementHook | None = None
    """What the session reports each statement to (the request's tracing)."""

    @property
    def statements(self) -> int:
        """SQL statements the request ran."""
        return self.session.statements if self.session is not None else 0

    @property
    def sql_seconds(self) -> float:
        """Their time."""
        return self.session.sql_seconds if self.session is not None else 0.0

    def access_fields(self) -> dict[str, Any]:
        """The fields of the request's access line (never variables or headers)."""
        return {
            "client": self.client,
            "client_version": self.client_version,
            "operation": self.operation,
            "document_hash": self.document_hash,
            "status": self.status,
            "duration_ms": round(self.seconds * 1000, 2),
            "statements": self.statements,
            "sql_ms": round(self.sql_seconds * 1000, 2),
            "cost": self.cost,
            "execution": self.execution,
            "execution_reason": self.execution_reason,
        }


class _Bounded:
    """Label values as they come, up to `limit` distinct ones; later ones are NONE."""

    def __init__(self, what: str, limit: int = MAX_LABEL_VALUES) -> None:
        self.what = what
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit:
            if len(self.seen) == self.limit:
                self.seen.add(NONE)  # warn once
                log.warning("more than %d %s: counting new ones as %r", self.limit, self.what, NONE)
            return NONE
        self.seen.add(value)
        return value


def multiprocess_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR when set (multiprocess mode), else None; RuntimeError when
    prometheus-client was imported before it was set (it would not write there)."""
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return None
    if values.ValueClass is values.MutexValue:
        raise RuntimeError(
            f"{MULTIPROCESS_DIR} was set after prometheus_client was imported: set it before "
            "the process starts"
        )
    if not os.path.isdir(directory):
        raise RuntimeError(f"{MULTIPROCESS_DIR}={directory!r} is not a directory")
    return directory


def _nobody(name: str) -> bool:
    return False


class Metrics:
    """The process's metrics (one per app, created with it) and their /metrics endpoint."""

    def __init__(
        self, multiprocess: str | None = None, registered: Callable[[str], bool] = _nobody
    ) -> None:
        self.multiprocess = multiprocess
        """The multiprocess directory, or None: this process's samples only."""
        own = CollectorRegistry() if multiprocess is None else None
        self.requests = Counter(
            "pinql_requests",
            "GraphQL requests answered, by operation, client and HTTP status",
            ("operation", "client", "status"),
            registry=own,
        )
        self.duration = Histogram(
            "pinql_request_duration_seconds",
            "Time from a request's arrival to its response's last byte",
            ("operation", "client"),
            buckets=SECONDS,
            registry=own,
        )
        self.statements = Histogram(
            "pinql_sql_statements_per_request",
            "SQL statements an executed operation ran",
            buckets=STATEMENTS,
            registry=own,
        )
        self.sql_seconds = Histogram(
            "pinql_sql_seconds_per_request",
            "Time an executed operation spent in SQL statements",
            buckets=SQL_SECONDS,
            registry=own,
        )
        self.batch_size = Histogram(
            "pinql_loader_batch_size",
            "Keys per DataLoader batch (one SQL statement each)",
            ("loader",),
            buckets=BATCH_SIZES,
            registry=own,
        )
        self.persisted = Counter(
            "pinql_persisted_queries",
            "Persisted query events by client: hit_local, hit_store, miss, apq_stored, "
            "refused, store_unavailable, unknown_operation",
            ("client", "event"),
            registry=own,
        )
        self.refusals = Counter(
            "pinql_rate_limit_refusals",
            "Requests refused by the rate limit (429), by client",
            ("client",),
            registry=own,
        )
        self.unclaimed = Counter(
            "pinql_idempotency_unclaimed",
            "Keyed mutations run without their Idempotency-Key claimed (Redis unreachable): "
            "their write records in PostgreSQL alone keep retries from writing twice",
            registry=own,
        )
        self.viewer_checks = Counter(
            "pinql_viewer_checks",
            "Signed-in viewers read from PostgreSQL to check that their user still exists, by "
            "outcome: exists, gone (the token is refused), unavailable (503)",
            ("outcome",),
            registry=own,
        )
        self.bulkhead = Counter(
            "pinql_statement_bulkhead",
            "What the pool's bulkhead did to reads (db/bulkhead.py), by outcome: queued (waited "
            "for one of its statement's slots), refused (its statement's breaker is open after "
            "a lock timeout), tripped (a breaker opened), recovered (a breaker closed)",
            ("outcome",),
            registry=own,
        )
        self.executions = Counter(
            "pinql_executions",
            "Operations executed, by where they ran (fast: the engine; graphql: graphql-core "
            "by design; fallback: graphql-core for a query the engine did not run) and why",
            ("execution", "reason"),
            registry=own,
        )
        if own is not None:
            self.registry = own
        else:
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry, path=multiprocess)  # type: ignore[no-untyped-call]
        self._operation = _Bounded("operation names")
        self._client: Callable[[str], str] = lambda name: (
            name if name == ANONYMOUS or registered(name) else OTHER
        )
        self.loader_batch = BatchSizes(self.batch_size, BATCH_SIZES)
        """Counts one loader batch (loaders.base.batch_observer): `(loader, size)`."""
        self._requests = Tallied(self.requests)
        self._durations = Tallied(self.duration, SECONDS)
        self._statements = Tallied(self.statements, STATEMENTS)
        self._sql_seconds = Tallied(self.sql_seconds, SQL_SECONDS)
        self._executions = Tallied(self.executions)
        self._tallied = (
            self._requests,
            self._durations,
            self._statements,
            self._sql_seconds,
            self._executions,
            self.loader_batch,
        )
        self._events: dict[tuple[str, str], Counter] = {}
        self._collectors: list[GaugesCollector] = []
        self._samples: list[Callable[[], None]] = []
        """Multiprocess mode: what writes the gauges (every SAMPLE_SECONDS, and when
        scraped)."""
        self._sampler: asyncio.Task[None] | None = None

    @classmethod
    def for_process(cls, registered: Callable[[str], bool] = _nobody) -> Metrics:
        """Metrics in multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set, else plain;
        `registered`: whether a client name is a registered client (a label)."""
        return cls(multiprocess_dir(), registered)

    def observe(self, record: RequestRecord) -> None:
        """Counts one answered request (tallied: `Tallied`)."""
        name = record.operation
        operation = self._operation(name) if name is not None and record.known else NONE
        client = self._client(record.client) if record.client is not None else NONE
        self._requests.inc((operation, client, str(record.status)))
        self._durations.observe((operation, client), record.seconds)
        if record.execution is not None:
            self._executions.inc((record.execution, record.execution_reason or NONE))
            self._statements.observe((), record.statements)
            self._sql_seconds.observe((), record.sql_seconds)
        if record.throttled:
            self.refusals.labels(client).inc()

    def flush(self) -> None:
        """Adds the observations tallied so far to the metrics."""
        for tallied in self._tallied:
            tallied.flush()

    def viewer_checked(self, outcome: str, n: int) -> None:
        """Counts `n` viewers read with `outcome` (LiveViewers' sink)."""
        self.viewer_checks.labels(outcome).inc(n)

    def bulkhead_outcome(self, outcome: str) -> None:
        """Counts one outcome of the pool's bulkhead (its `report`)."""
        self.bulkhead.labels(outcome).inc()

    def persisted_event(self, client: str, event: str) -> None:
        """Counts one persisted-query event (PersistedQueryStats' sink)."""
        key = (client, event)
        counter = self._events.get(key)
        if counter is None:
            counter = self._events[key] = self.persisted.labels(self._client(client), event)
        counter.inc()

    def watch_pool(self, pool: asyncpg.Pool) -> None:
        """Reports the pool's connections: read when scraped, or, in multiprocess mode,
        sampled every second into a gauge summed over the live workers."""
        if self.multiprocess is None:
            self._collect(partial(one, pool_family, pool))
            return
        gauge = Gauge(
            "pinql_db_pool_connections",
            "Open PostgreSQL connections of the pools",
            ("state",),
            registry=None,
            multiprocess_mode="livesum",
        )
        self._sample(partial(sample_pool, pool, gauge))

    def watch_caches(self, caches: Mapping[str, Weighed]) -> None:
        """Reports what the in-process caches hold (`pinql_cache_bytes`,
        `pinql_cache_entries`, by cache name): read when scraped, or, in multiprocess mode,
        sampled every second into gauges summed over the live workers."""
        if self.multiprocess is None:
            self._collect(partial(cache_families, caches))
            return
        weights, entries = (
            Gauge(*about, ("cache",), registry=None, multiprocess_mode="livesum")
            for about in (CACHE_BYTES, CACHE_ENTRIES)
        )
        self._sample(partial(sample_caches, caches, weights, entries))

    def _collect(self, read: Callable[[], Iterable[Metric]]) -> None:
        collector = GaugesCollector(read)
        self.registry.register(collector)
        self._collectors.append(collector)

    def _sample(self, sample: Callable[[], None]) -> None:
        self._samples.append(sample)
        if self._sampler is None:
            self._sampler = asyncio.create_task(sample_every_second(self._samples, self.flush))

    async def close(self) -> None:
        """Stops watching the pool and caches; in multiprocess mode, drops this worker's live
        gauges."""
        for collector in self._collectors:
            self.registry.unregister(collector)
        self._collectors.clear()
        if self._sampler is not None:
            self._sampler.cancel()
            with suppress(asyncio.CancelledError):
                await self._sampler
            self._sampler = None
        self._samples.clear()
        self.flush()
        if self.multiprocess is not None:
            mark_process_dead(os.getpid(), self.multiprocess)  # type: ignore[no-untyped-call]

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format (all workers' in multiprocess mode, this
        worker's pool and caches as they are now)."""
        for sample in self._samples:
            sample()
        self.flush()
        return generate_latest(self.registry)

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics."""
        return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
