"""Writes when the connection to PostgreSQL fails at the worst moment, through a fault proxy
(tests/faults.py): a COMMIT that reached the server but whose answer was lost is answered
WRITE_OUTCOME_UNKNOWN, kept for the Idempotency-Key, and never run again by a retry."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from db.errors import CommitUnconfirmed
from db.pool import Database
from tests.conftest import MakeDatabase, new_database
from tests.faults import CommitCut
from tests.support import serve
from tests.world import OLIVE

CREATE = """mutation CreateBoard($i: CreateBoardInput!) {
  createBoard(input: $i) { board { id name } }
}"""


@pytest.fixture
async def database(make_database: MakeDatabase) -> str:
    """A fresh database holding the world (this module writes)."""
    return await new_database(make_database, with_world=True)


@pytest.fixture
async def proxied(database: str) -> AsyncIterator[tuple[CommitCut, str]]:
    """The fault proxy in front of the suite's PostgreSQL, and the database's URL through it."""
    parts = urlsplit(database)
    proxy = CommitCut((parts.hostname or "127.0.0.1", parts.port or 5432))
    port = await proxy.start()
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    yield proxy, parts._replace(netloc=netloc, query="sslmode=disable").geturl()
    await proxy.close()


async def boards_named(database: str, name: str) -> int:
    """How many boards have this name."""
    conn = await asyncpg.connect(database)
    try:
        count: int = await conn.fetchval("select count(*) from boards where name = $1", name)
        return count
    finally:
        await conn.close()


async def test_a_lost_commit_answer_is_unconfirmed_and_the_write_happened(
    database: str, proxied: tuple[CommitCut, str]
) -> None:
    proxy, url = proxied
    pool = await Database.connect(url, min_size=0, max_size=1)
    session = pool.session()
    try:
        proxy.armed = True
        with pytest.raises(CommitUnconfirmed):
            async with session.transaction() as conn:
                await conn.execute("insert into boards (owner_id, name) values ($1, 'Cut')", OLIVE)
        assert (proxy.cuts, session.commits, session.unconfirmed) == (1, 0, 1)
        assert session.may_have_written
    finally:
        await session.close()
        await pool.close()
    assert await boards_named(database, "Cut") == 1  # it did commit


async def test_a_keyed_write_whose_commit_answer_is_lost_never_runs_again(
    database: str, proxied: tuple[CommitCut, str]
) -> None:
    proxy, url = proxied
    name, key = f"Trips {secrets.token_hex(4)}", f"test-{secrets.token_hex(8)}"
    variables = {"i": {"name": name}}
    headers = {"Idempotency-Key": key}
    async with serve(url) as client:
        proxy.armed = True
        first = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert proxy.cuts == 1
        assert first.status_code == 200, first.text
        [error] = first.json()["errors"]
        assert error["extensions"]["code"] == "WRITE_OUTCOME_UNKNOWN"
        assert "may or may not have happened" in error["message"]
        retry = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.content == first.content
        # the pool goes on with a new connection
        assert (await client.data("{ viewer { id } }", viewer=OLIVE))["viewer"]
    assert await boards_named(database, name) == 1  # committed once, never run again


async def test_a_write_whose_payload_read_loses_its_connection_still_answers_its_data(
    database: str, proxied: tuple[CommitCut, str]
) -> None:
    proxy, url = proxied
    name, key = f"Trips {secrets.token_hex(4)}", f"test-{secrets.token_hex(8)}"
    variables = {"i": {"name": name}}
    headers = {"Idempotency-Key": key}
    async with serve(url) as client:
        proxy.armed_after = True
        first = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert proxy.cuts == 1  # the read after the commit lost its connection
        assert first.status_code == 200, first.text
        body = first.json()
        assert "errors" not in body, body
        board = body["data"]["createBoard"]["board"]
        assert board["name"] == name and board["id"]
        retry = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.content == first.content
    assert await boards_named(database, name) == 1
