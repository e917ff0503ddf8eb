"""The benchmark's peer (bench/postgraphile/): PostGraphile, installed from its lock and served
as the benchmark serves it on a small seeded data set, answers each operation's peer query
with the objects pinql's operation answers for the same viewer and subjects (so a peer query
that drifts from its operation fails here), and its processes count what the meter reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from bench.counters import read_counters, total
from bench.dataset import Subjects, pick_subjects
from bench.meters import Meter
from bench.operations import ROOT_FIELDS, Operation, operations
from bench.postgraphile.answers import difference
from bench.postgraphile.install import ensure_installed
from bench.postgraphile.peer import VIEWER_USERNAME
from bench.postgraphile.requests import has_peer_query, peer_request
from bench.postgraphile.serving import create_objects, serving_peer
from bench.processes import Server
from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, seeded_database
from tests.support import GraphQLClient, serve

SCALE = 0.01


@dataclass(frozen=True)
class Served:
    """The peer serving the module's data set, and what the requests are about."""

    server: Server
    counters: Path
    database_url: str
    subjects: Subjects
    username: str
    """The viewer's."""

    def request(self, operation: Operation) -> tuple[str, bytes]:
        """The peer's request for `operation`: its URL and body."""
        sent = peer_request(operation, self.subjects.viewer, self.username)
        assert sent.body is not None
        return self.server.base + sent.path, sent.body


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    """The smallest demo data set, with the peer's objects (peer.sql)."""
    url = await seeded_database(make_database, SCALE)
    conn = await asyncpg.connect(url)
    try:
        await create_objects(conn)
        await create_objects(conn)  # again: the harness runs it on every benchmark run
    finally:
        await conn.close()
    return url


@pytest.fixture(scope="module")
def peer(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """PostGraphile serving `database` as the benchmark does (one process, a pool of 4)."""
    node = ensure_installed()
    directory = tmp_path_factory.mktemp("peer")
    counters = directory / "counters"
    counters.mkdir()
    subjects = asyncio.run(pick_subjects(database))
    username = asyncio.run(_fetchval(database, VIEWER_USERNAME, subjects.viewer))
    with serving_peer(
        node, database, workers=1, pool_size=4, counters=counters, log_path=directory / "log"
    ) as server:
        yield Served(server, counters, database, subjects, str(username))


async def _fetchval(url: str, query: str, *args: object) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def pinql(database: str) -> AsyncIterator[GraphQLClient]:
    """pinql, in process, on the same data set."""
    async with serve(database) as client:
        yield client


async def _peer_data(peer: Served, operation: Operation) -> dict[str, Any]:
    url, body = peer.request(operation)
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(url, content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = orjson.loads(response.content)
    assert "errors" not in answer, answer["errors"]
    data: dict[str, Any] = answer["data"]
    return data


PEERLESS = {"search", "related"}
"""Operations PostGraphile has no equivalent of (no full-text search or related pins)."""


def test_every_operation_but_search_and_related_has_a_peer_query() -> None:
    known = operations(Subjects(viewer=1, followees=0, board=1, username="ada", repin=1, nodes=()))
    assert {key for key, op in known.items() if not has_peer_query(op)} == PEERLESS


@pytest.mark.parametrize("key", [key for key in ROOT_FIELDS if key not in PEERLESS])
async def test_each_peer_query_answers_the_objects_pinql_answers(
    key: str, peer: Served, pinql: GraphQLClient
) -> None:
    operation = operations(peer.subjects)[key]
    expected = await pinql.data(operation.text, operation.variables, viewer=peer.subjects.viewer)

    answered = await _peer_data(peer, operation)

    assert expected[ROOT_FIELDS[key]], "pinql's answer is empty: the data set is too small"
    assert difference(expected, answered) is None


async def test_a_peer_answer_holding_other_objects_is_told_apart(
    peer: Served, pinql: GraphQLClient
) -> None:
    operation = operations(peer.subjects)["board"]
    expected = await pinql.data(operation.text, operation.variables, viewer=peer.subjects.viewer)
    answered = await _peer_data(peer, operation)

    answered["board"]["pins"]["edges"].pop()
    assert difference(expected, answered) == (
        f"data.board.pins.edges: pinql has {len(expected['board']['pins']['edges'])} items, "
        f"the peer {len(answered['board']['pins']['edges'])}"
    )


# Statements one request of each operation sends: one per root field (PostGraphile compiles
# each into one statement), HomeFeed's two.
STATEMENTS = {"feed": 2, "board": 1, "profile": 1, "pin": 1, "latest": 1, "nodes": 12}


@pytest.mark.parametrize("key", list(STATEMENTS))
async def test_the_peer_counts_its_requests_and_statements(key: str, peer: Served) -> None:
    operation = operations(peer.subjects)[key]
    before = total(read_counters(peer.counters))

    for _ in range(3):
        await _peer_data(peer, operation)

    counted = total(read_counters(peer.counters)) - before
    assert (counted.requests, counted.statements) == (3, 3 * STATEMENTS[key])


def test_the_meter_finds_the_peers_process_and_backends(peer: Served) -> None:
    asyncio.run(_peer_data(peer, operations(peer.subjects)["latest"]))
    with asyncio.Runner() as runner:
        conn: asyncpg.Connection = runner.run(asyncpg.connect(peer.database_url))
        try:
            meter = Meter(peer.counters, peer.database_url.rsplit("/", 1)[1], runner, conn)

            assert meter.workers() == {peer.server.pid}
            assert meter.backends()  # its pool's connections, matched by port
            assert meter.settle() < 1
        finally:
            runner.run(conn.close())


def test_the_peers_aliases_unfold_into_pinqls_shape() -> None:
    peer = {
        "pin": {
            "_type": "Pin",
            "id": "13",
            "image__url": "u",
            "image__width": 2,
            "_counts": {"saveCount": "4", "commentCount": "0"},
            "pinCount": {"_value": "7"},
            "viewerIsFollowing": {"_exists": 1},
            "createdAt": "2026-01-01T10:00:00.5+00:00",
            "comments": {"edges": [{"cursor": "WyJuYXR1cmFsIiwxXQ==", "node": None}]},
        },
        "nodes__1": {"__typename": "Board", "id": "11"},
        "nodes__0": None,
    }
    pinql = {
        "pin": {
            "id": encode_global_id("Pin", 13),
            "image": {"url": "u", "width": 2},
            "saveCount": 4,
            "commentCount": 0,
            "pinCount": 7,
            "viewerIsFollowing": True,
            "createdAt": "2026-01-01T10:00:00.500000Z",
            "email": None,
            "comments": {"edges": [{"cursor": "MTM", "node": None}]},
        },
        "nodes": [None, {"__typename": "Board", "id": encode_global_id("Board", 11)}],
    }

    assert difference(pinql, peer) is None
    assert difference(pinql, {**peer, "nodes__0": {"__typename": "User", "id": "2"}}) == (
        f"data.nodes[0]: pinql None, the peer {{'__typename': 'User', 'id': "
        f"'{encode_global_id('User', 2)}'}}"
    )
