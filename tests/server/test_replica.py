"""PINQL_DATABASE_REPLICA_URL: queries read from the replica, mutations write and read their
payload on the primary, and /readyz checks both. The "replica" here is a second database
that holds one user the primary does not, so each answer shows where it was read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient, serve
from tests.world import OLIVE

REPLICA_ONLY = "replica.only"
LOOKUP = "query Who($name: String!) { user(username: $name) { username } }"
CREATE = """mutation New($name: String!) {
  createBoard(input: {name: $name}) { board { name owner { username boards { totalCount } } } }
}"""


@pytest.fixture(scope="module")
async def primary(make_database: MakeDatabase) -> str:
    """The primary: the hand-made world."""
    return await new_database(make_database, with_world=True)


@pytest.fixture(scope="module")
async def replica(make_database: MakeDatabase) -> str:
    """The replica: the same world plus one user only it has."""
    url = await new_database(make_database, with_world=True)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "insert into users (username, display_name, email) values ($1, 'R', 'r@example.com')",
            REPLICA_ONLY,
        )
    finally:
        await conn.close()
    return url


@pytest.fixture(scope="module")
async def client(primary: str, replica: str) -> AsyncIterator[GraphQLClient]:
    """pinql with both."""
    async with serve(primary, PINQL_DATABASE_REPLICA_URL=replica) as client:
        yield client


async def boards_named(url: str, name: str) -> int:
    """Boards called `name` in the database at `url`."""
    conn = await asyncpg.connect(url)
    try:
        count: int = await conn.fetchval("select count(*) from boards where name = $1", name)
        return count
    finally:
        await conn.close()


async def test_queries_read_the_replica(client: GraphQLClient) -> None:
    data = await client.data(LOOKUP, {"name": REPLICA_ONLY})
    assert data == {"user": {"username": REPLICA_ONLY}}
    response = await client.http.get(
        "/graphql", params={"query": LOOKUP, "variables": f'{{"name": "{REPLICA_ONLY}"}}'}
    )
    assert response.json()["data"] == {"user": {"username": REPLICA_ONLY}}


async def test_mutations_write_and_read_on_the_primary(
    client: GraphQLClient, primary: str, replica: str
) -> None:
    before = await client.data(
        '{ user(username: "olive") { boards { totalCount } } }', viewer=OLIVE
    )
    data = await client.data(CREATE, {"name": "Primary only"}, viewer=OLIVE)
    board = data["createBoard"]["board"]
    assert board["name"] == "Primary only"
    # the payload was read where the write happened: the new board is counted
    replica_count = before["user"]["boards"]["totalCount"]
    assert board["owner"]["boards"]["totalCount"] == replica_count + 1
    assert await boards_named(primary, "Primary only") == 1
    assert await boards_named(replica, "Primary only") == 0


async def test_without_a_replica_queries_read_the_primary(primary: str) -> None:
    async with serve(primary) as client:
        assert await client.data(LOOKUP, {"name": REPLICA_ONLY}) == {"user": None}


async def test_readyz_checks_the_replica(client: GraphQLClient) -> None:
    response = await client.http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["postgresql_replica"] == "ok"
