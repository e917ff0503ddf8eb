"""A signed token whose user no longer exists is refused at the edge (server/live_viewers.py),
over HTTP against the real PostgreSQL: 401 at first sight and after the recheck interval, one
statement for viewers first seen together, none for viewers already checked, and 503 (never
a run as nobody) when the check cannot be made."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from db.pool import Database
from server.auth import Viewers
from server.live_viewers import LiveViewers, ViewerGone, ViewersUnavailable
from tests.conftest import MakeDatabase, new_database
from tests.schema.test_mutations_follows import new_users
from tests.server.test_client_keys import UNREACHABLE
from tests.support import SECRET, GraphQLClient, serve

VIEWER = "{ viewer { username } }"
RECHECK = 0.3
"""PINQL_VIEWER_RECHECK_SECONDS of the tests' server."""


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    """This module's own database, migrated and empty: its users are deleted."""
    return await new_database(make_database, with_world=False)


@pytest.fixture
async def pinql(database: str) -> AsyncIterator[GraphQLClient]:
    """pinql rechecking viewers every RECHECK seconds (a fresh server: nothing checked yet)."""
    async with serve(database, PINQL_VIEWER_RECHECK_SECONDS=RECHECK) as client:
        yield client


def gone(response: httpx.Response) -> None:
    """Asserts `response` refuses a deleted user's token."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert error["message"] == "bearer token names a user who no longer exists: sign in again"


async def test_a_deleted_users_token_is_refused_at_first_sight(
    pinql: GraphQLClient, sql: asyncpg.Connection
) -> None:
    [user] = await new_users(sql, 1)
    await sql.execute("delete from users where id = $1", user)
    for query in (VIEWER, 'mutation { createBoard(input: { name: "x" }) { board { id } } }'):
        gone(await pinql.post(query, viewer=user))
    assert pinql.log.statements == []  # nothing ran
    assert len(pinql.log.viewer_checks) == 1  # the refusal is remembered


async def test_a_user_deleted_after_being_checked_is_refused_after_the_recheck(
    pinql: GraphQLClient, sql: asyncpg.Connection
) -> None:
    [user] = await new_users(sql, 1)
    assert (await pinql.data(VIEWER, viewer=user))["viewer"] is not None
    await sql.execute("delete from users where id = $1", user)
    # Within the interval the worker trusts its last read: the request runs, as nobody.
    assert (await pinql.data(VIEWER, viewer=user))["viewer"] is None
    await asyncio.sleep(RECHECK * 1.5)
    gone(await pinql.post(VIEWER, viewer=user))
    assert len(pinql.log.viewer_checks) == 2


async def test_viewers_first_seen_together_are_checked_with_one_statement(
    pinql: GraphQLClient, sql: asyncpg.Connection
) -> None:
    users = await new_users(sql, 20)
    await sql.execute("delete from users where id = any($1::bigint[])", users[:5])
    pinql.log.clear()
    answers = await asyncio.gather(*(pinql.post(VIEWER, viewer=u) for u in users))
    assert [a.status_code for a in answers] == [401] * 5 + [200] * 15
    assert len(pinql.log.viewer_checks) == 1
    # Checked: no further read until the interval has passed.
    again = await asyncio.gather(*(pinql.post(VIEWER, viewer=u) for u in users))
    assert [a.status_code for a in again] == [401] * 5 + [200] * 15
    assert len(pinql.log.viewer_checks) == 1
    metrics = (await pinql.http.get("/metrics")).text
    assert 'pinql_viewer_checks_total{outcome="exists"} 15.0' in metrics
    assert 'pinql_viewer_checks_total{outcome="gone"} 5.0' in metrics


async def test_anonymous_requests_check_nothing(pinql: GraphQLClient) -> None:
    assert (await pinql.data(VIEWER))["viewer"] is None
    assert pinql.log.viewer_checks == []


async def test_a_check_that_cannot_be_made_is_unavailable_not_nobody(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = await Database.connect(UNREACHABLE, min_size=0, connect_timeout=1)
    counted: list[tuple[str, int]] = []
    try:
        viewers = LiveViewers(
            database, Viewers(SECRET), checked=lambda outcome, n: counted.append((outcome, n))
        )
        caplog.set_level(logging.WARNING)
        with pytest.raises(ViewersUnavailable) as refused:
            await viewers.check(1)
        assert refused.value.status == 503
        assert refused.value.headers == {"Retry-After": "1"}
        assert refused.value.message.startswith("could not check that the signed-in user")
        assert counted == [("unavailable", 1)]
        with pytest.raises(ViewersUnavailable):  # an unanswered check is not remembered
            await viewers.check(1)
    finally:
        await database.close()


async def test_a_check_answers_from_what_it_read(database: str, sql: asyncpg.Connection) -> None:
    kept, deleted = await new_users(sql, 2)
    await sql.execute("delete from users where id = $1", deleted)
    pool = await Database.connect(database, min_size=0)
    try:
        viewers = LiveViewers(pool, Viewers(SECRET), recheck_seconds=60)
        await viewers.check(kept)
        with pytest.raises(ViewerGone):
            await viewers.check(deleted)
        await sql.execute("delete from users where id = $1", kept)
        await viewers.check(kept)  # trusted until the recheck
    finally:
        await pool.close()
