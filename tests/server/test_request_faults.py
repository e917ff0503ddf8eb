"""Faults a request can meet at /graphql: its id on every response and in masked errors, the
execution deadline (504), PostgreSQL's statement_timeout, and what prod exposes (GraphiQL,
CORS)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from loaders.users import UserByIdLoader
from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, new_database
from tests.support import pins_locked, serve
from tests.world import OLIVE, OTTO

PINS = "{ pins(first: 2) { nodes { id } } }"
VIEWER = "{ viewer { username } }"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
async def own_database(make_database: MakeDatabase) -> str:
    """A world database of this test's own (tests here lock its tables)."""
    return await new_database(make_database, with_world=True)


@pytest.fixture
async def locked_pins(own_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection holding an ACCESS EXCLUSIVE lock on pins: every read of pins waits."""
    async with pins_locked(own_database) as conn:
        yield conn


async def test_every_response_has_a_request_id(world_database: str) -> None:
    async with serve(world_database) as client:
        ok = await client.post(PINS)
        refused = await client.http.post(
            "/graphql", content=b"{", headers={"Content-Type": "application/json"}
        )
        ids = {ok.headers["X-Request-Id"], refused.headers["X-Request-Id"]}
        assert len(ids) == 2
        assert all(re.fullmatch(r"[0-9a-f]{16,32}", rid) for rid in ids), ids
        kept = await client.post(PINS, headers={"X-Request-Id": "lb-1234.abcd"})
        assert kept.headers["X-Request-Id"] == "lb-1234.abcd"
        replaced = await client.post(PINS, headers={"X-Request-Id": "bad id!"})
        assert replaced.headers["X-Request-Id"] != "bad id!"


async def test_a_masked_error_carries_the_request_id_the_log_has(
    world_database: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: UserByIdLoader, keys: list[int], rows: object) -> list[object]:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(UserByIdLoader, "values", broken)  # on either path
    async with serve(world_database) as client:
        with caplog.at_level(logging.ERROR):
            response = await client.post("{ pins(first: 1) { nodes { creator { id } } } }")
    [error] = response.json()["errors"]
    rid = response.headers["X-Request-Id"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": rid}
    assert "secret detail" not in response.text
    [record] = [r for r in caplog.records if r.name == "pinql.execution"]
    assert rid in record.getMessage()


async def test_an_unhandled_error_is_a_500_with_the_request_id(
    world_database: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(headers: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr("server.graphql_view.client_from_headers", broken)
    async with serve(world_database) as client:
        with caplog.at_level(logging.ERROR):
            response = await client.post(PINS)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    rid = response.headers["X-Request-Id"]
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": rid},
            }
        ]
    }
    assert "secret detail" in caplog.text
    assert "secret detail" not in response.text


async def test_the_deadline_stops_a_request_and_frees_its_connection(
    own_database: str, locked_pins: asyncpg.Connection
) -> None:
    settings = {
        "PINQL_REQUEST_TIMEOUT_SECONDS": 0.3,
        "PINQL_DB_POOL_MIN": 1,
        "PINQL_DB_POOL_MAX": 1,
    }
    async with serve(own_database, **settings) as client:
        started = time.monotonic()
        response = await client.post(PINS)
        assert time.monotonic() - started < 2
        assert response.status_code == 504, response.text
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
        assert "PINQL_REQUEST_TIMEOUT_SECONDS" in body["errors"][0]["message"]
        assert "data" not in body
        # the only connection went back clean: it serves the next request
        assert (await client.data('{ user(username: "olive") { id } }'))["user"]
        assert await _statements_on_pins(locked_pins) == 0  # cancelled, not left waiting


async def _statements_on_pins(conn: asyncpg.Connection, within: float = 2.0) -> int:
    """Statements still waiting on the pins lock, polled until none is or `within` passes
    (PostgreSQL processes a cancel request asynchronously)."""
    deadline = time.monotonic() + within
    while True:
        waiting: int = await conn.fetchval(
            "select count(*) from pg_stat_activity where query like '%from pins%' "
            "and state = 'active' and pid <> pg_backend_pid()"
        )
        if waiting == 0 or time.monotonic() > deadline:
            return waiting
        await asyncio.sleep(0.05)


async def test_statement_timeout_is_a_coded_error_and_the_connection_recovers(
    own_database: str, locked_pins: asyncpg.Connection
) -> None:
    settings = {"PINQL_STATEMENT_TIMEOUT_MS": 200, "PINQL_DB_POOL_MIN": 1, "PINQL_DB_POOL_MAX": 1}
    settings["PINQL_LOCK_TIMEOUT_MS"] = 0  # (else the lock's wait ends at lock_timeout first)
    async with serve(own_database, **settings) as client:
        body = await client.execute(PINS)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "STATEMENT_TIMEOUT"
        assert "200" in error["message"]
        assert body["data"] is None
        assert (await client.data('{ user(username: "olive") { id } }'))["user"]


async def test_a_statement_waiting_on_a_lock_is_a_lock_timeout_and_others_go_on(
    own_database: str, locked_pins: asyncpg.Connection
) -> None:
    """A locked table costs its readers lock_timeout (default 1 s) and a LOCK_TIMEOUT field
    error, not the statement timeout; a request that reads no locked table meanwhile is
    answered, as soon as a waiter gives its connection back (a pool of 2, both waiting)."""
    async with serve(own_database, PINQL_DB_POOL_MIN=1, PINQL_DB_POOL_MAX=2) as client:
        started = time.monotonic()
        waiting = [asyncio.create_task(client.execute(PINS)) for _ in range(2)]
        unrelated = await client.data('{ user(username: "olive") { id } }')
        assert unrelated["user"]
        for body in await asyncio.gather(*waiting):
            [error] = body["errors"]
            assert error["extensions"]["code"] == "LOCK_TIMEOUT", body
            assert "lock_timeout (1000 ms)" in error["message"]
            assert body["data"] is None
        assert time.monotonic() - started < 3.0  # not the statement timeout's 5 s, twice
        assert await _statements_on_pins(locked_pins) == 0


READERS = 20
"""Clients reading the locked table at once: twice the default pool."""


async def test_unrelated_requests_keep_their_latency_while_a_table_is_locked(
    own_database: str,
) -> None:
    """Twenty clients keep reading pins (twice the pool's 10 connections); `{ viewer {
    username } }` is timed 60 times with pins free, then 60 times with pins locked (ACCESS
    EXCLUSIVE), from the lock's first moment: its p99 with the lock stays under 3x its p99
    without. The pins readers hold at most half the pool while they wait on the lock (the
    bulkhead's slots), and are refused at once after the first lock timeout (its breaker),
    so neither their connections nor the pool's queue delay it."""
    async with serve(own_database) as client:
        assert (await client.data(VIEWER, viewer=OLIVE))["viewer"]  # viewer checked once

        async def p99_under_load() -> float:
            stop = asyncio.Event()

            async def reader() -> None:
                while not stop.is_set():
                    await client.post(PINS)

            readers = [asyncio.create_task(reader()) for _ in range(READERS)]
            await asyncio.sleep(0.2)
            times = []
            for _ in range(60):
                started = time.perf_counter()
                assert (await client.data(VIEWER, viewer=OLIVE))["viewer"]
                times.append(time.perf_counter() - started)
            stop.set()
            await asyncio.gather(*readers)
            return sorted(times)[-2]  # the 99th percentile of 60

        normal = await p99_under_load()
        async with pins_locked(own_database):
            locked = await p99_under_load()
        metrics = (await client.http.get("/metrics")).text
    assert locked < 3 * normal, (locked, normal)
    # The readers past the statement's 5 slots queued, and were refused once the first
    # waiters' lock_timeout opened its breaker.
    assert _bulkhead(metrics, "tripped") >= 1
    assert _bulkhead(metrics, "queued") >= READERS - 5
    assert _bulkhead(metrics, "refused") >= READERS - 5


def _bulkhead(metrics: str, outcome: str) -> float:
    """pinql_statement_bulkhead_total of `outcome` in a /metrics text."""
    series = f'pinql_statement_bulkhead_total{{outcome="{outcome}"}} '
    [line] = [line for line in metrics.splitlines() if line.startswith(series)]
    return float(line.split()[-1])


async def test_graphiql_is_off_in_prod_unless_configured(world_database: str) -> None:
    prod = {"PINQL_ENV": "prod", "PINQL_SECRET": "p" * 40}
    async with serve(world_database, **prod) as client:
        response = await client.http.get("/graphql", headers=BROWSER)
        assert response.status_code == 400
        assert "text/html" not in response.headers["content-type"]
    async with serve(world_database, **prod, PINQL_GRAPHIQL=True) as client:
        response = await client.http.get("/graphql", headers=BROWSER)
        assert response.headers["content-type"].startswith("text/html")


async def test_cors_allows_only_listed_origins_in_prod(world_database: str) -> None:
    prod = {"PINQL_ENV": "prod", "PINQL_SECRET": "p" * 40}
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with serve(
        world_database, **prod, PINQL_CORS_ORIGINS="https://app.example.com"
    ) as client:
        allowed = await client.http.options(
            "/graphql", headers={**preflight, "Origin": "https://app.example.com"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        other = await client.http.options(
            "/graphql", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        simple = await client.post(PINS, headers={"Origin": "https://app.example.com"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    async with serve(world_database, **prod) as client:  # no allowlist: no CORS at all
        response = await client.post(PINS, headers={"Origin": "https://app.example.com"})
        assert "access-control-allow-origin" not in response.headers
    async with serve(world_database) as client:  # dev: any origin
        response = await client.post(PINS, headers={"Origin": "http://localhost:5173"})
        assert response.headers["access-control-allow-origin"] == "*"


TWO_WRITES = """mutation Two($otto: ID!) {
  a: createBoard(input: {name: "before the deadline"}) { board { id } }
  b: followUser(input: {userId: $otto}) { user { id } }
}"""


@pytest.mark.parametrize("committed", [True, False])
async def test_a_deadline_after_a_commit_is_completed_by_the_retry(
    own_database: str, committed: bool
) -> None:
    """A retry must not write twice: the 504 is not kept for the key, and the retry answers
    the field that committed from its record and runs the one that did not."""
    blocker = await asyncpg.connect(own_database)
    transaction = blocker.transaction()
    await transaction.start()
    # follows locked: createBoard commits, followUser waits; boards locked: nothing commits
    await blocker.execute(f"lock table {'follows' if committed else 'boards'} in exclusive mode")
    settings = {"PINQL_REQUEST_TIMEOUT_SECONDS": 0.5}
    released = False
    try:
        async with serve(own_database, **settings) as client:
            headers = {"Idempotency-Key": f"deadline-{committed}"}
            variables = {"otto": encode_global_id("User", OTTO)}
            first = await client.post(TWO_WRITES, variables, viewer=OLIVE, headers=headers)
            assert first.status_code == 504, first.text
            assert ("committed" in first.text) is committed, first.text
            await transaction.rollback()
            released = True
            retry = await client.post(TWO_WRITES, variables, viewer=OLIVE, headers=headers)
            assert retry.status_code == 200, retry.text
            assert retry.json()["data"]["b"]["user"]["id"] == encode_global_id("User", OTTO)
            # the board's field answered from its record: nothing written twice
            assert ("Idempotent-Replayed" in retry.headers) is committed
            boards = await blocker.fetchval(
                "select count(*) from boards where name = 'before the deadline'"
            )
            assert boards == 1, (first.text, retry.text)
            follows = await blocker.fetchval(
                "select count(*) from follows where follower_id = $1 and followee_id = $2",
                OLIVE,
                OTTO,
            )
            assert follows == 1
    finally:
        if not released:
            await transaction.rollback()
        await blocker.close()
