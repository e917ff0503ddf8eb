"""Clients prove their names with keys (server/client_keys.py), over HTTP against the real
PostgreSQL: who is refused and how, the anonymous client's policy per environment, rotation's
grace period, removal, and a directory that keeps working when PostgreSQL does not."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from db import clients as registry
from db.health import HealthConnection
from execution.documents import sha256_hex
from server.client_keys import (
    KEY_HEADER,
    ClientDirectory,
    ClientsUnavailable,
    UnauthenticatedClient,
    key_hash,
    new_key,
    reader,
)
from server.clients import Client
from server.persisted.policy import ClientPolicy, Mode
from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient, register_clients, serve
from tests.world import OLIVE, USERNAMES

QUERY = "query Viewer { viewer { username } }"
VIEWER = {"viewer": {"username": USERNAMES[OLIVE]}}
SCHEMA = "{ __schema { queryType { name } } }"


@pytest.fixture
async def database(make_database: MakeDatabase) -> str:
    """A database of this test's own: clients are registered in it."""
    return await new_database(make_database, with_world=True)


UNREACHABLE = "postgresql://postgres@127.0.0.1:1/pinql"
"""Nothing listens there: connecting is refused."""


@dataclass
class Switchable:
    """Opens connections to the test's database while `up`, else to nowhere."""

    url: str
    up: bool = True

    async def open(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.url if self.up else UNREACHABLE, timeout=2)


@pytest.fixture
async def postgresql(database: str) -> AsyncIterator[tuple[Switchable, HealthConnection]]:
    """The server's own connection (db/health.py) to the test's database, which the test
    can make unreachable."""
    switch = Switchable(database)
    connection = HealthConnection(switch.open)
    yield switch, connection
    await connection.close()


@pytest.fixture
async def pinql(database: str) -> AsyncIterator[GraphQLClient]:
    """pinql (dev) with `web` (open) and `locked` (safelist) registered."""
    async with serve(
        database, clients={"web": "open", "locked": "safelist"}, PINQL_CLIENTS_REFRESH_SECONDS=0.2
    ) as client:
        yield client


def refused(response: Any, status: int = 401) -> str:
    """The message of a refusal with `status` and code CLIENT_UNAUTHENTICATED."""
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "CLIENT_UNAUTHENTICATED"}
    assert "data" not in response.json()
    message: str = error["message"]
    return message


async def as_web(client: GraphQLClient, **headers: str) -> Any:
    return await client.post(QUERY, viewer=OLIVE, headers=headers)


async def test_a_registered_client_with_its_key_runs_under_its_policy(
    pinql: GraphQLClient,
) -> None:
    response = await pinql.post(QUERY, viewer=OLIVE, headers=pinql.client("web"))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == VIEWER
    locked = await pinql.post(QUERY, viewer=OLIVE, headers=pinql.client("locked"))
    assert locked.status_code == 403  # its policy: registered documents only
    assert locked.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}


async def test_no_name_and_no_key_is_the_anonymous_client(pinql: GraphQLClient) -> None:
    assert (await pinql.data(QUERY, viewer=OLIVE)) == VIEWER  # dev: anonymous is open


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"apollographql-client-name": "web"},
            f"client 'web' must prove its name with its key in an {KEY_HEADER} header",
        ),
        (
            {"graphql-client-name": "web2", KEY_HEADER: new_key()},
            "client 'web2' is not registered (pinql clients add)",
        ),
        (
            {"apollographql-client-name": "web", KEY_HEADER: new_key()},
            f"{KEY_HEADER} is not a valid key of client 'web'",
        ),
        (
            {KEY_HEADER: new_key()},
            f"an {KEY_HEADER} header needs apollographql-client-name naming its client",
        ),
        (
            {"apollographql-client-name": "web", KEY_HEADER: "hunter2"},
            f"{KEY_HEADER} is not a pinql client key",
        ),
    ],
    ids=["name-without-key", "unknown-name", "wrong-key", "key-without-name", "not-a-key"],
)
async def test_a_name_the_key_does_not_prove_is_401(
    pinql: GraphQLClient, headers: dict[str, str], message: str
) -> None:
    got = refused(await pinql.post(QUERY, viewer=OLIVE, headers=headers))
    assert message in got
    assert headers.get(KEY_HEADER, "hunter2") not in got  # the key is never echoed


async def test_one_clients_key_does_not_prove_another(pinql: GraphQLClient) -> None:
    headers = {"apollographql-client-name": "web", KEY_HEADER: pinql.keys["locked"]}
    assert "is not a valid key of client 'web'" in refused(await as_web(pinql, **headers))


async def test_in_prod_the_anonymous_client_runs_registered_documents_only(
    database: str,
) -> None:
    prod = {"PINQL_ENV": "prod", "PINQL_SECRET": "p" * 40}
    async with serve(database, clients={"studio": "open"}, **prod) as client:
        key = client.keys["studio"]
        text = await client.post(QUERY, viewer=OLIVE)
        assert text.status_code == 403
        [error] = text.json()["errors"]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
        assert "client 'anonymous' may only run registered operations" in error["message"]
        # introspection follows the authenticated client, never a bare name
        spoofed = await client.post(SCHEMA, headers={"graphql-client-name": "studio"})
        assert refused(spoofed).startswith("client 'studio' must prove its name")
    async with serve(
        database, PINQL_INTROSPECTION_CLIENTS="studio", PINQL_ANONYMOUS_POLICY="open", **prod
    ) as client:
        client.keys = {"studio": key}
        anonymous = await client.post(SCHEMA)
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        studio = await client.post(SCHEMA, headers=client.client("studio"))
        assert studio.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def rotate(database: str, name: str, grace_hours: float) -> str:
    """Rotates `name`'s key as `pinql clients rotate` does; the new key."""
    key = new_key()
    conn = await asyncpg.connect(database)
    try:
        assert await registry.rotate(conn, name, key_hash(key), grace_hours * 3600)
    finally:
        await conn.close()
    return key


async def test_a_rotated_key_works_until_its_grace_period_ends(
    pinql: GraphQLClient, database: str
) -> None:
    old = pinql.keys["web"]
    new = await rotate(database, "web", grace_hours=1)
    for key in (old, new):  # the new key is known at once: an unknown key makes a read
        response = await as_web(pinql, **{"apollographql-client-name": "web", KEY_HEADER: key})
        assert response.status_code == 200, response.text
    newest = await rotate(database, "web", grace_hours=0)
    await asyncio.sleep(0.3)  # the next read
    headers = {"apollographql-client-name": "web"}
    assert (await as_web(pinql, **headers, **{KEY_HEADER: newest})).status_code == 200
    for key in (old, new):  # grace over; and at most two keys are ever valid
        message = refused(await as_web(pinql, **headers, **{KEY_HEADER: key}))
        assert "is not a valid key of client 'web'" in message


async def test_a_removed_client_is_refused_within_a_refresh(
    pinql: GraphQLClient, database: str
) -> None:
    assert (await as_web(pinql, **pinql.client("web"))).status_code == 200
    conn = await asyncpg.connect(database)
    try:
        assert await registry.remove(conn, "web")
    finally:
        await conn.close()
    await asyncio.sleep(0.3)
    assert "client 'web' is not registered" in refused(await as_web(pinql, **pinql.client("web")))


async def test_a_client_added_while_serving_is_known_at_its_first_request(
    pinql: GraphQLClient, database: str
) -> None:
    key = new_key()
    policy = ClientPolicy(mode=Mode.APQ).model_dump_json()
    conn = await asyncpg.connect(database)
    try:
        assert await registry.add(conn, "ios", policy, key_hash(key))
    finally:
        await conn.close()
    headers = {"apollographql-client-name": "ios", KEY_HEADER: key}
    text = await pinql.post(QUERY, viewer=OLIVE, headers=headers)
    assert text.status_code == 400  # known, with its policy: persisted queries only
    assert "client 'ios' must send persisted queries (policy apq)" in text.text
    persisted = {"version": 1, "sha256Hash": sha256_hex(QUERY)}
    body = {"query": QUERY, "extensions": {"persistedQuery": persisted}}
    apq = await pinql.http.post("/graphql", json=body, headers={**headers, **pinql.headers(OLIVE)})
    assert apq.json()["data"] == VIEWER


async def test_unknown_names_make_at_most_one_read_a_second(
    postgresql: tuple[Switchable, HealthConnection],
) -> None:
    reads = 0
    load = reader(postgresql[1])

    async def counted() -> Any:
        nonlocal reads
        reads += 1
        return await load()

    directory = ClientDirectory(ClientPolicy(), refresh_seconds=60)
    try:
        await directory.start(counted)
        assert reads == 1
        for n in range(200):
            with pytest.raises(UnauthenticatedClient, match="is not registered"):
                await directory.authenticate(Client(f"spoof{n}"), new_key())
        assert reads == 2  # the first miss read them again; the others, under a second later, not
        await asyncio.sleep(1.05)
        misses = [directory.authenticate(Client(f"c{n}"), new_key()) for n in range(50)]
        results = await asyncio.gather(*misses, return_exceptions=True)
        assert all(isinstance(r, UnauthenticatedClient) for r in results)
        assert reads == 3  # fifty misses at once share one read
    finally:
        await directory.close()


async def test_a_worker_started_without_postgresql_serves_anonymous_and_503s_the_named(
    database: str, postgresql: tuple[Switchable, HealthConnection]
) -> None:
    key = (await register_clients(database, {"web": "open"}))["web"]
    switch, connection = postgresql
    switch.up = False
    directory = ClientDirectory(ClientPolicy(), refresh_seconds=0.05, miss_refresh_seconds=0.05)
    try:
        await directory.start(reader(connection))  # does not raise: the worker starts
        assert not directory.loaded
        await directory.authenticate(Client("anonymous"), None)
        with pytest.raises(ClientsUnavailable, match="client 'web' can be checked once"):
            await directory.authenticate(Client("web"), key)
        switch.up = True
        await asyncio.sleep(0.3)
        assert directory.loaded
        await directory.authenticate(Client("web"), key)
    finally:
        await directory.close()


async def test_the_directory_keeps_its_clients_while_postgresql_is_away(
    database: str,
    postgresql: tuple[Switchable, HealthConnection],
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = (await register_clients(database, {"web": "open"}))["web"]
    switch, connection = postgresql
    directory = ClientDirectory(ClientPolicy(), refresh_seconds=0.05)
    try:
        await directory.start(reader(connection))
        with caplog.at_level(logging.INFO, logger="pinql.clients"):
            switch.up = False
            await connection.close()  # every read fails from now on: refused
            await asyncio.sleep(0.3)
            await directory.authenticate(Client("web"), key)  # still known
            assert directory.failures >= 3
            assert directory.is_registered("web")
        [line] = caplog.records  # one line for the change of state, not one per read
        assert line.levelno == logging.WARNING
        assert line.getMessage().startswith("cannot read the registered clients")
        assert line.getMessage().endswith("using the 1 read before")
    finally:
        await directory.close()
