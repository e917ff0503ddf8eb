"""`pinql operations register` and `list`: documents registered per client version; and
`explain` (server/cli/explain.py): what the engine makes of one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from server.app import connect_database, document_store, preparer
from server.cli.common import fail, load_settings
from server.cli.explain import operations_explain
from server.persisted.manifest import ManifestError, load_manifest
from server.persisted.policy import check_client_name, check_client_version
from server.persisted.store import DocumentStore, LocalStore, Registration, StoreUnavailable
from server.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="Documents registered per client version (persisted queries), and what the engine "
    "makes of one.",
    no_args_is_help=True,
)
app.command("explain")(operations_explain)


def _client_name(value: str | None) -> str | None:
    try:
        return None if value is None else check_client_name(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _client_version(value: str) -> str:
    try:
        return check_client_version(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("register")
def operations_register(
    source: Annotated[
        Path,
        typer.Argument(
            exists=True,
            metavar="FILE_OR_DIR",
            help="Apollo's persisted-query manifest, Relay's {id: text} map (JSON), or a "
            "directory of .graphql files (one operation each; id = SHA-256 of the text).",
        ),
    ],
    client: Annotated[str, typer.Option(callback=_client_name, help="The client, e.g. web.")],
    version: Annotated[
        str, typer.Option(callback=_client_version, help="The client's version, e.g. 1.4.0.")
    ],
) -> None:
    """Register a client version's operations, each validated against the current schema
    (all or nothing)."""
    settings = load_settings()
    try:
        documents = load_manifest(source, preparer(settings))
    except ManifestError as exc:
        raise fail(f"{exc}\nnothing was registered") from None
    try:
        _, where = with_store(settings, lambda store: store.register(client, version, documents))
    except StoreUnavailable as exc:
        raise fail(f"cannot register: {exc}") from None
    typer.echo(f"registered {_count(documents)} for {client} {version} ({where})")


@app.command("list")
def operations_list(
    client: Annotated[
        str | None, typer.Option(callback=_client_name, help="Only this client.")
    ] = None,
) -> None:
    """Show the registered operations per client and version."""
    settings = load_settings()
    try:
        found, where = with_store(settings, lambda store: store.registrations(client))
    except StoreUnavailable as exc:
        raise fail(f"cannot list: {exc}") from None
    registrations = [r for r in found if r.documents]
    if not registrations:
        whose = f" for client {client}" if client else ""
        typer.echo(f"no operations are registered{whose} ({where})")
        return
    for registration in registrations:
        typer.echo(_registration_table(registration))


def _registration_table(registration: Registration) -> str:
    documents = sorted(registration.documents, key=lambda d: (d.name or "", d.id))
    width = max(len(d.name or "(anonymous)") for d in documents)
    lines = [f"client {registration.client}, version {registration.version}: {_count(documents)}"]
    for d in documents:
        lines.append(f"  {d.id[:12]:<12}  {d.name or '(anonymous)':<{width}}  {d.type}")
    return "\n".join(lines)


def with_store(
    settings: Settings, action: Callable[[DocumentStore], Awaitable[T]]
) -> tuple[T, str]:
    """Runs `action` on the configured document store, closes it, and says which it was."""

    async def run() -> tuple[T, str]:
        database = None
        if settings.redis_url:  # registered documents live in PostgreSQL
            if settings.database_url is None:
                raise fail("with REDIS_URL set, set DATABASE_URL too: registrations live there")
            database = await connect_database(settings.database_url, settings)
        store = document_store(settings, database)
        where = f"file {store.path}" if isinstance(store, LocalStore) else "postgresql and redis"
        try:
            return await action(store), where
        finally:
            await store.close()
            if database is not None:
                await database.close()

    # The store logs an outage as the server sees it ("serving from local caches"); here the
    # command reports it instead.
    store_log = logging.getLogger("pinql.persisted")
    was_disabled, store_log.disabled = store_log.disabled, True
    try:
        return asyncio.run(run())
    finally:
        store_log.disabled = was_disabled


def _count(documents: Sequence[object]) -> str:
    return f"{len(documents)} operation{'' if len(documents) == 1 else 's'}"
