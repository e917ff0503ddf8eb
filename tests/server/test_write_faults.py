"""Writes when the connection to PostgreSQL fails at the worst moment, through a fault proxy
(tests/faults.py): a COMMIT that reached the server but whose answer was lost is answered
WRITE_OUTCOME_UNKNOWN, and its retry with the Idempotency-Key is answered from the write's
record, never writing again; a property test of random cuts during keyed writes and their
retries; a connection cut as it opens."""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from db.errors import CommitUnconfirmed
from db.pool import Database
from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, new_database
from tests.faults import CommitCut, ReplyCut, proxied_redis
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
    return len(await board_ids_named(database, name))


async def board_ids_named(database: str, name: str) -> list[str]:
    """The global ids of the boards with this name."""
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch("select id from boards where name = $1 order by id", name)
        return [encode_global_id("Board", row["id"]) for row in rows]
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


async def test_a_keyed_write_whose_commit_answer_is_lost_is_answered_on_retry(
    database: str, proxied: tuple[CommitCut, str]
) -> None:
    """The write and its key's record commit together: the retry finds the record and
    answers with the board the first attempt created, writing nothing."""
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
        assert retry.status_code == 200, retry.text
        assert retry.headers["idempotent-replayed"] == "true"  # answered from the record
        board = retry.json()["data"]["createBoard"]["board"]
        assert board["name"] == name
        again = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert again.content == retry.content  # now kept whole, as any final answer
        # the pool goes on with a new connection
        assert (await client.data("{ viewer { id } }", viewer=OLIVE))["viewer"]
    assert await board_ids_named(database, name) == [board["id"]]  # committed once


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


FAULTS = ("none", "at commit", "after commit", "before a message")
"""What the proxy does during one attempt: nothing; lose COMMIT's answer; cut the read after
COMMIT; cut the connection before the n-th message from now (n drawn: anywhere from the
first statement to the payload's reads)."""
WRITES = 40
ATTEMPTS = 6


async def test_random_cuts_during_keyed_writes_never_lose_or_double_a_write(
    database: str, proxied: tuple[CommitCut, str]
) -> None:
    """Keyed createBoard writes, each attempt with a fault drawn (derandomized), each
    retried with its key while the answer is not final (503, or WRITE_OUTCOME_UNKNOWN): every
    write ends acknowledged, exists exactly once with the id it was answered with, and none
    exists twice."""
    proxy, url = proxied
    rng = random.Random(20261207)
    acknowledged: dict[str, str] = {}  # board name: the id answered
    tally: Counter[str] = Counter()
    async with serve(url) as client:
        for n in range(WRITES):
            name, key = f"Prop {n} {secrets.token_hex(3)}", f"prop-{n}-{secrets.token_hex(6)}"
            headers = {"Idempotency-Key": key}
            for attempt in range(ATTEMPTS):
                fault = rng.choice(FAULTS) if attempt < ATTEMPTS - 1 else "none"
                tally[fault] += 1
                proxy.armed = fault == "at commit"
                proxy.armed_after = fault == "after commit"
                proxy.cut_before = rng.randint(1, 10) if fault == "before a message" else None
                response = await client.post(
                    CREATE, {"i": {"name": name}}, viewer=OLIVE, headers=headers
                )
                proxy.armed = proxy.armed_after = False
                proxy.cut_before = None
                tally["retries"] += attempt > 0
                if response.status_code == 503:
                    tally["503"] += 1
                    assert response.headers["Retry-After"] == "1"
                    continue  # nothing committed: the key was released, the retry runs it
                assert response.status_code == 200, response.text
                body = response.json()
                board = (body.get("data") or {}).get("createBoard")
                if board is None:
                    [error] = body["errors"]
                    assert error["extensions"]["code"] == "WRITE_OUTCOME_UNKNOWN", body
                    tally["unknown"] += 1
                    continue  # not kept: the retry answers from what was recorded
                assert "errors" not in body, body
                acknowledged[name] = board["board"]["id"]
                tally["acknowledged"] += 1
                tally["from the record"] += response.headers.get("idempotent-replayed") == "true"
                break
            else:
                pytest.fail(f"write {n} was not acknowledged in {ATTEMPTS} attempts")
    assert len(acknowledged) == WRITES
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch("select id, name from boards where name like 'Prop %'")
    finally:
        await conn.close()
    found = Counter(row["name"] for row in rows)
    assert [name for name, count in found.items() if count > 1] == []  # never doubled
    for name, board_id in acknowledged.items():
        [row] = [row for row in rows if row["name"] == name]  # acknowledged: exactly once
        assert encode_global_id("Board", row["id"]) == board_id
    assert set(found) == set(acknowledged)
    print(f"\nwrite faults: {WRITES} writes; attempts by fault {dict(tally)}; cuts {proxy.cuts}")
    # it did cut, at every kind of point: some writes were refused (503) and retried, some
    # lost their COMMIT's answer and were answered from their record on retry
    assert proxy.cuts > WRITES // 4
    assert tally["503"] > 0 and tally["retries"] > 0 and tally["unknown"] > 0
    assert tally["from the record"] > 0


REDIS_DB = 5


@pytest.fixture
async def redis_proxied() -> AsyncIterator[tuple[ReplyCut, str]]:
    """The reply-losing proxy in front of the suite's Redis (this module's database, emptied
    first), and the Redis URL through it."""
    async with proxied_redis(REDIS_DB) as proxied:
        yield proxied


async def test_a_keyed_write_whose_claim_reply_is_lost_still_runs_once(
    database: str, redis_proxied: tuple[ReplyCut, str]
) -> None:
    """Redis sets the claim, its reply is lost, the client sends SET NX GET again and gets
    its own claim back: that is its claim, not another request's (no 409 for the claim's
    lease), and the write runs once."""
    proxy, url = redis_proxied
    name, key = f"Claim {secrets.token_hex(4)}", f"test-{secrets.token_hex(8)}"
    variables = {"i": {"name": name}}
    headers = {"Idempotency-Key": key}
    async with serve(database, REDIS_URL=url, PINQL_RATE_LIMIT=False) as client:
        # a keyed write first: the idempotency store's connection to Redis is then open
        warm = {"i": {"name": f"Warm {secrets.token_hex(4)}"}}
        warm_key = {"Idempotency-Key": f"test-{secrets.token_hex(8)}"}
        assert (await client.post(CREATE, warm, viewer=OLIVE, headers=warm_key)).status_code == 200
        proxy.armed = True  # the next Redis command is the claim
        first = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        [lost] = proxy.lost
        assert lost.startswith(b"*7\r\n$3\r\nSET\r\n"), lost  # SET key claim NX GET EX s
        assert first.status_code == 200, first.text
        assert first.json()["data"]["createBoard"]["board"]["name"] == name
        retry = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.content == first.content
    assert await boards_named(database, name) == 1


async def test_connections_cut_as_they_open_are_503_until_they_are_not(
    proxied: tuple[CommitCut, str],
) -> None:
    """PostgreSQL's connections cut as they open (the proxy accepts, then closes): the pool
    starts empty, requests answer 503 with Retry-After, and are served once connections
    open again."""
    proxy, url = proxied
    proxy.refuse = 1_000
    query = "{ pins(first: 1) { totalCount } }"
    async with serve(url) as client:
        refused = await client.post(query)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert proxy.cuts > 0
        proxy.refuse = 0
        assert (await client.data(query))["pins"]["totalCount"] > 0
