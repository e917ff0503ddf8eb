"""The Starlette app: its lifespan (the pool and the stores, created once) and its routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from db.pool import ConnectionInit, Database
from server.graphiql import STATIC_PREFIX, graphiql_static_files
from server.graphql_view import GraphQLEndpoint
from server.idempotency import EntryStore, Idempotency, LocalEntries, RedisEntries
from server.persisted.queries import PersistedQueries
from server.persisted.store import DocumentStore, LocalStore, RedisStore
from server.redis_link import connect
from server.runtime import tune_garbage_collector
from server.settings import Settings


class State(TypedDict):
    """What the lifespan hands to every request."""

    database: Database
    redis: Redis | None
    persisted: PersistedQueries
    idempotency: Idempotency


def document_store(settings: Settings) -> DocumentStore:
    """Redis when REDIS_URL is set, else this process and a file under PINQL_DATA_DIR."""
    if settings.redis_url:
        return RedisStore.from_url(settings.redis_url, settings.apq_ttl_seconds)
    return LocalStore(settings.data_dir, settings.apq_ttl_seconds)


def idempotency_entries(settings: Settings) -> EntryStore:
    """Redis when REDIS_URL is set, else this process (one worker's requests only)."""
    if settings.redis_url:
        return RedisEntries.from_url(settings.redis_url)
    return LocalEntries()


def create_app(
    settings: Settings | None = None, *, connection_init: ConnectionInit | None = None
) -> Starlette:
    """The ASGI app; `settings` default to the environment. Needs DATABASE_URL set."""
    settings = settings or Settings()
    if settings.database_url is None:
        raise RuntimeError(
            "DATABASE_URL is not set: `pinql serve` starts an embedded PostgreSQL for you"
        )
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        database = await Database.connect(
            database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            init=connection_init,
        )
        store = document_store(settings)
        persisted = PersistedQueries(store, settings.policy_for, settings.pq_cache_size)
        idempotency = Idempotency(idempotency_entries(settings), settings.idempotency_ttl_seconds)
        redis = connect(settings.redis_url) if settings.redis_url else None
        if settings.gc_tuning:
            tune_garbage_collector()
        try:
            yield {
                "database": database,
                "redis": redis,
                "persisted": persisted,
                "idempotency": idempotency,
            }
        finally:
            if redis is not None:
                await redis.aclose()
            await idempotency.close()
            await store.close()
            await database.close()

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    return Starlette(
        routes=[
            Route("/", home),
            Route("/graphql", GraphQLEndpoint(settings)),
            Mount(STATIC_PREFIX, app=graphiql_static_files()),
        ],
        lifespan=lifespan,
    )
