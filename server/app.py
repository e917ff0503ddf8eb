"""The Starlette app: its lifespan (the pool and the stores, created once) and its routes;
metrics (/metrics) and tracing when the settings turn them on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, TypedDict

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from db.health import HealthConnection
from db.pool import Database
from db.pool_setup import ConnectionInit
from execution.cache import PlanCache
from execution.documents import Preparer, prepare
from execution.run import Runs
from schema.build import build_schema
from server.admission import Admission
from server.auth import Viewers
from server.client_keys import ClientDirectory, reader
from server.gauges import Weighed
from server.graphiql import STATIC_PREFIX, graphiql_static_files
from server.graphql_view import GraphQLEndpoint
from server.health import healthz, readyz
from server.idempotency import (
    EntryStore,
    Idempotency,
    LocalEntries,
    RedisEntries,
    WriteKeyPruner,
)
from server.limits import Limits, check_document
from server.live_viewers import LiveViewers
from server.metrics import Metrics
from server.metrics_port import listen
from server.offload import Offload
from server.persisted.durable import DurableStore
from server.persisted.queries import PersistedQueries
from server.persisted.store import DocumentStore, LocalStore, RedisStore
from server.rate_limit import LocalBuckets, RateLimiter, RedisBuckets
from server.redis_link import connect
from server.runtime import tune_garbage_collector
from server.settings import Settings
from server.tracing import setup_tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter


class State(TypedDict):
    """What the lifespan hands to every request."""

    database: Database
    replica: Database | None
    """PINQL_DATABASE_REPLICA_URL's pool: queries read there, mutations use `database`."""
    clients: ClientDirectory
    """The registered clients and their policies (server/client_keys.py)."""
    live_viewers: LiveViewers
    """Who a bearer token signs in as, once their user is known to exist
    (server/live_viewers.py)."""
    health: HealthConnection
    """PostgreSQL's readiness check, on a connection of its own (server/health.py)."""
    replica_health: HealthConnection | None
    redis: Redis | None
    redis_required: bool
    """Whether requests are refused without Redis (rate limits on, failing closed): then
    Redis down makes this worker not ready (server/health.py)."""
    persisted: PersistedQueries
    idempotency: Idempotency
    admission: Admission
    runs: Runs
    """Where each operation runs: its plans for the engine (none when PINQL_FAST_PATH is
    off)."""


# Request headers a cross-origin client may send, and response headers it may read.
CORS_REQUEST_HEADERS = (
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Idempotency-Key",
    "X-Request-Id",
    "apollographql-client-name",
    "apollographql-client-version",
    "graphql-client-name",
    "graphql-client-version",
)
CORS_RESPONSE_HEADERS = (
    "Retry-After",
    "X-Request-Id",
    "Idempotent-Replayed",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


def document_store(settings: Settings, database: Database | None) -> DocumentStore:
    """With REDIS_URL: registered documents in PostgreSQL (`database`) with Redis in front,
    APQ documents in Redis. Else this process, and a file under PINQL_DATA_DIR."""
    if settings.redis_url:
        if database is None:
            raise ValueError("with REDIS_URL, registered documents are kept in PostgreSQL")
        front = RedisStore.from_url(settings.redis_url, settings.apq_ttl_seconds)
        return DurableStore(front, database)
    return LocalStore(settings.data_dir, settings.apq_ttl_seconds)


def idempotency_entries(settings: Settings) -> EntryStore:
    """Redis when REDIS_URL is set, else this process (one worker's requests only)."""
    if settings.redis_url:
        return RedisEntries.from_url(settings.redis_url)
    return LocalEntries()


def preparer(settings: Settings) -> Preparer:
    """Parses and validates documents with the configured limits."""
    limits = Limits.from_settings(settings)
    return partial(
        prepare, max_tokens=settings.max_tokens, check=partial(check_document, limits=limits)
    )


def plan_cache(settings: Settings) -> PlanCache | None:
    """The process's plans with the configured budgets; None when the engine is off
    (PINQL_FAST_PATH=false)."""
    if not settings.fast_path:
        return None
    return PlanCache(
        build_schema()._schema,
        settings.plan_cache_mb * 2**20,
        settings.max_plan_nodes,
        settings.max_plan_ms / 1000,
    )


def rate_limiter(settings: Settings, redis: Redis | None) -> RateLimiter | None:
    """Buckets in Redis (shared by every worker) when REDIS_URL is set, else in this process;
    None when rate limiting is off."""
    if not settings.rate_limit:
        return None
    buckets = RedisBuckets(redis) if redis is not None else LocalBuckets()
    return RateLimiter(
        buckets,
        maximum=settings.rate_limit_maximum,
        restore_rate=settings.rate_limit_restore_rate,
        fail_open=settings.rate_limit_fail_open,
    )


def cors(settings: Settings) -> list[Middleware]:
    """CORS for the allowed origins (none: no CORS headers, browsers refuse cross-origin)."""
    if not settings.allowed_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=list(CORS_REQUEST_HEADERS),
            expose_headers=list(CORS_RESPONSE_HEADERS),
            max_age=600,
        )
    ]


async def connect_database(
    url: str,
    settings: Settings,
    init: ConnectionInit | None = None,
    metrics: Metrics | None = None,
) -> Database:
    """A pool on `url` (the primary or the read replica) with the configured sizes and
    timeouts; its bulkhead's outcomes counted in `metrics`."""
    return await Database.connect(
        url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=init,
        statement_timeout_ms=settings.statement_timeout_ms,
        lock_timeout_ms=settings.pool_lock_timeout_ms,
        connect_timeout=settings.db_connect_timeout_seconds,
        acquire_timeout=settings.db_acquire_timeout_seconds,
        on_bulkhead=None if metrics is None else metrics.bulkhead_outcome,
    )


def create_app(
    settings: Settings | None = None,
    *,
    connection_init: ConnectionInit | None = None,
    span_exporter: SpanExporter | None = None,
) -> Starlette:
    """The ASGI app; `settings` default to the environment. Needs DATABASE_URL set.
    `span_exporter` replaces the OTLP exporter when PINQL_OTEL is on (tests)."""
    settings = settings or Settings()
    if settings.database_url is None:
        raise RuntimeError(
            "DATABASE_URL is not set: `pinql serve` starts an embedded PostgreSQL for you"
        )
    database_url = settings.database_url
    clients = ClientDirectory(settings.anonymous_client_policy, settings.clients_refresh_seconds)
    metrics = Metrics.for_process(clients.is_registered) if settings.metrics else None
    tracing = setup_tracing(span_exporter) if settings.otel else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        database = await connect_database(database_url, settings, connection_init, metrics)
        replica = None
        if settings.database_replica_url is not None:
            replica = await connect_database(
                settings.database_replica_url, settings, connection_init, metrics
            )
        store = document_store(settings, database)
        offload = Offload()
        persisted = PersistedQueries(
            store,
            clients.policy_for,
            settings.document_cache_mb * 2**20,
            offload,
            preparer(settings),
            apq_max_bytes=settings.apq_max_bytes,
        )
        idempotency = Idempotency(idempotency_entries(settings), settings.idempotency_ttl_seconds)
        pruner = WriteKeyPruner(database, settings.idempotency_ttl_seconds)
        pruner.start()
        redis = connect(settings.redis_url) if settings.redis_url else None
        admission = Admission(settings, rate_limiter(settings, redis), offload)
        plans = plan_cache(settings)
        if metrics is not None:
            persisted.stats.sink = metrics.persisted_event
            idempotency.on_unclaimed = metrics.unclaimed.inc
            metrics.watch_pool(database.pool)
            caches: dict[str, Weighed] = {"documents": persisted.documents}
            if plans is not None:
                caches["plans"] = plans
            metrics.watch_caches(caches)
        live_viewers = LiveViewers(
            database,
            Viewers(settings.secret),
            settings.viewer_recheck_seconds,
            checked=metrics.viewer_checked if metrics is not None else None,
        )
        health = HealthConnection.of(database)
        await clients.start(reader(health))
        replica_health = HealthConnection.of(replica) if replica is not None else None
        if settings.gc_tuning:
            tune_garbage_collector()
        listener = None
        try:
            if metrics is not None and settings.metrics_listen_port and not metrics.multiprocess:
                # One worker serves its own metrics (several: `pinql serve` sums them).
                listener = await listen(metrics.exposition, settings.metrics_listen_port)
            yield {
                "database": database,
                "replica": replica,
                "clients": clients,
                "live_viewers": live_viewers,
                "health": health,
                "replica_health": replica_health,
                "redis": redis,
                "redis_required": settings.rate_limit and not settings.rate_limit_fail_open,
                "persisted": persisted,
                "idempotency": idempotency,
                "admission": admission,
                "runs": Runs(plans, settings.search_ranking),
            }
        finally:
            if listener is not None:
                listener.close()
                await listener.wait_closed()
            if metrics is not None:
                await metrics.close()
            await admission.close()
            await clients.close()
            if redis is not None:
                await redis.aclose()
            await idempotency.close()
            await pruner.close()
            offload.close()
            await store.close()
            for checks in (health, replica_health):
                if checks is not None:
                    await checks.close()
            if replica is not None:
                await replica.close()
            await database.close()
            if tracing is not None:
                tracing.shutdown()

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    routes = [
        Route("/", home),
        Route("/graphql", GraphQLEndpoint(settings, metrics, tracing)),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Mount(STATIC_PREFIX, app=graphiql_static_files()),
    ]
    if metrics is not None and not settings.metrics_listen_port:
        routes.append(Route("/metrics", metrics.endpoint, methods=["GET"]))
    return Starlette(
        routes=routes,
        middleware=cors(settings),
        lifespan=lifespan,
    )
