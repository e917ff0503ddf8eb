"""A field error makes graphql-core cancel its siblings. A cancelled sibling must not cancel
a loader result other fields share, and nothing may run on a request's session after it is
closed: otherwise the request dies with CancelledError and its pool connection leaks, and
after PINQL_DB_POOL_MAX such requests every request hangs."""

from __future__ import annotations

import asyncio

import pytest

from db.pool import Database, SessionClosed
from tests.support import GraphQLClient, serve

# `comments(first: 500)` is refused (BAD_USER_INPUT) while the sibling `a` still waits on
# loader results (users, counts) that other fields share.
QUERY = """{
  a: pins(first: 5) { nodes { id saveCount creator { username followerCount
      boards { totalCount nodes { pinCount } } } } }
  b: pins(first: 5) { nodes { id saveCount comments(first: 500) { totalCount } } }
}"""


async def test_a_refused_field_does_not_cancel_its_siblings(world_database: str) -> None:
    async with serve(world_database, PINQL_DB_POOL_MIN=1, PINQL_DB_POOL_MAX=2) as client:
        for _ in range(6):  # three times the pool: a leaked connection would hang the loop
            response = await asyncio.wait_for(client.post(QUERY), timeout=10)
            assert response.status_code == 200, response.text
            body = response.json()
            codes = {e["extensions"]["code"] for e in body["errors"]}
            assert codes == {"BAD_USER_INPUT"}, body["errors"]
        assert (await asyncio.wait_for(client.data("{ viewer { id } }"), timeout=10)) == {
            "viewer": None
        }


async def test_a_closed_session_refuses_statements(world_client: GraphQLClient) -> None:
    database = await Database.connect(world_client.settings.database_url or "", min_size=0)
    try:
        session = database.session()
        assert [tuple(row) for row in await session.fetch("select 1")] == [(1,)]
        await session.close()
        with pytest.raises(SessionClosed):
            await session.fetch("select 1")
        assert database.pool.get_size() - database.pool.get_idle_size() == 0
    finally:
        await database.close()
