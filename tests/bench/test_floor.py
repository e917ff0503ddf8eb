"""The benchmark's floor (bench/floor/) answers each benchmarked operation with exactly
pinql's `data`, and runs exactly the SQL statements pinql runs for it: on the hand-made world
(every viewer, every subject, missing ones, pages cut short and resumed) and on the demo data
set with the variables the benchmark itself picks. If pinql's loaders change, this fails
until the floor follows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from bench.dataset import pick_subjects
from bench.floor import floor_app
from bench.operations import Operation, operations
from resolvers.cursors import encode_cursor
from resolvers.ids import encode_global_id
from tests import world
from tests.support import SECRET, GraphQLClient, StatementLog, in_process

Variables = dict[str, Any]
DOCUMENTS = {
    "feed": "HomeFeed.graphql",
    "board": "BoardPage.graphql",
    "profile": "ProfilePage.graphql",
    "pin": "PinCloseUp.graphql",
    "latest": "LatestPins.graphql",
    "nodes": "NodeLookup.graphql",
    "search": "SearchPage.graphql",
    "related": "RelatedPins.graphql",
}
MISSING = 99


@dataclass
class Floor:
    """An in-process client of the floor routes, with their statements logged."""

    http: httpx.AsyncClient
    log: StatementLog


async def _floor_client(database_url: str) -> AsyncIterator[Floor]:
    log = StatementLog()
    app = floor_app(database_url, SECRET, connection_init=log.attach)
    async with in_process(app, "http://floor.test") as (http, _):
        yield Floor(http, log)


@pytest.fixture(scope="module")
async def world_floor(world_database: str) -> AsyncIterator[Floor]:
    """The floor on the hand-made world."""
    async for floor in _floor_client(world_database):
        yield floor


@pytest.fixture(scope="module")
async def demo_floor(demo_database: str) -> AsyncIterator[Floor]:
    """The floor on the demo data set."""
    async for floor in _floor_client(demo_database):
        yield floor


async def assert_same(
    pinql: GraphQLClient, floor: Floor, key: str, variables: Variables, viewer: int | None
) -> dict[str, Any]:
    """The floor's data and statements equal pinql's for one request; the data."""
    text = Operation(key, DOCUMENTS[key], variables).text
    pinql.log.clear()
    expected = await pinql.data(text, variables, viewer=viewer)
    floor.log.clear()
    response = await floor.http.post(
        f"/floor/{key}",
        content=orjson.dumps({"variables": variables}),
        headers=pinql.headers(viewer),
    )
    assert response.status_code == 200, response.text
    body = orjson.loads(response.content)
    assert body == {"data": expected}, (key, variables, viewer)
    # byte for byte: the same keys in the same order, the same values spelled the same
    assert orjson.dumps(body["data"]) == orjson.dumps(expected), (key, variables, viewer)
    assert floor.log.count > 0
    assert sorted(floor.log.statements) == sorted(pinql.log.statements), (key, variables, viewer)
    return expected


def _board(board: int) -> str:
    return encode_global_id("Board", board)


def _pin(pin: int) -> str:
    return encode_global_id("Pin", pin)


def world_cases(key: str) -> list[Variables]:
    """Variables covering every subject of the world, a missing one, and short pages."""
    if key == "feed":
        return [{"first": 30}, {"first": 1}, {"first": 1, "after": encode_cursor(world.P4)}, {}]
    if key == "board":
        boards = [*world.BOARD_OWNER, MISSING]
        return [{"boardId": _board(b), "first": 30} for b in boards] + [
            {"boardId": _board(world.OTTO_PUBLIC), "first": 1},
            {"boardId": _board(world.OTTO_PUBLIC), "first": 1, "after": encode_cursor(world.P4)},
            {"boardId": _board(world.OLIVE_PUBLIC)},
        ]
    if key == "profile":
        names = [*world.USERNAMES.values(), "nobody"]
        return [{"username": n, "boardsFirst": 12} for n in names] + [
            {"username": "olive", "boardsFirst": 1},
            {"username": "otto"},
        ]
    if key == "latest":
        return [{"first": 30}, {"first": 2}, {"first": 2, "after": encode_cursor(world.P4)}, {}]
    if key == "nodes":
        return [{"ids": ids} for ids in NODE_LOOKUPS]
    if key == "search":
        queries = ["pin", "board", "olive", "pin or board or otto"]
        return [{"query": q, "first": 30} for q in queries] + [{"query": "pin", "first": 2}]
    if key == "related":
        pins = [*world.PIN_BOARD, MISSING]
        return [{"pinId": _pin(p), "first": 30} for p in pins] + [{"pinId": _pin(world.P1)}]
    pins = [*world.PIN_BOARD, MISSING]
    return [{"pinId": _pin(p), "commentsFirst": 10} for p in pins] + [
        {"pinId": _pin(world.P2), "commentsFirst": 1},
        {"pinId": _pin(world.P1)},
    ]


def _ids(*nodes: tuple[str, int]) -> list[str]:
    return [encode_global_id(type_name, id) for type_name, id in nodes]


EVERY_NODE = [
    *(("User", u) for u in [*world.USERNAMES, MISSING]),
    *(("Board", b) for b in [*world.BOARD_OWNER, MISSING]),
    *(("Pin", p) for p in [*world.PIN_BOARD, MISSING]),
    *(("Comment", c) for c in [*world.COMMENT_PIN, MISSING]),
]
NODE_LOOKUPS = [
    _ids(*EVERY_NODE),  # hidden and missing ones too; each type's first before the next's
    _ids(*reversed(EVERY_NODE)),
    _ids(("Comment", world.C1), ("Pin", world.P4), ("Board", world.OTTO_PUBLIC)),
    _ids(("Comment", world.C1), ("Pin", world.P1)),  # the comment's pin is looked up too
    _ids(("User", world.OLIVE), ("Board", world.OLIVE_PUBLIC), ("User", world.OLIVE)),
    _ids(("Pin", world.P3), ("Pin", world.P3), ("User", world.ADA)),
    _ids(("Comment", world.C2), ("Comment", world.C3)),  # on a secret pin
]
"""NodeLookup's `ids`: every kind of object, visible or not, in several orders and mixes."""


# HomeFeed needs a signed-in viewer: no anonymous case for it.
WORLD_CASES = [
    pytest.param(key, viewer, id=f"{key}-{'anon' if viewer is None else world.USERNAMES[viewer]}")
    for key in DOCUMENTS
    for viewer in world.VIEWERS
    if not (key == "feed" and viewer is None)
]


@pytest.mark.parametrize(("key", "viewer"), WORLD_CASES)
async def test_the_floor_answers_as_pinql_on_the_world(
    world_client: GraphQLClient, world_floor: Floor, key: str, viewer: int | None
) -> None:
    for variables in world_cases(key):
        await assert_same(world_client, world_floor, key, variables, viewer)


@pytest.mark.parametrize(
    ("key", "variables"),
    [
        ("search", {"query": "pin or board or olive", "first": 2}),
        ("related", {"pinId": encode_global_id("Pin", world.P1), "first": 2}),
    ],
)
async def test_the_floor_continues_ranked_pages_as_pinql(
    world_client: GraphQLClient, world_floor: Floor, key: str, variables: Variables
) -> None:
    for viewer in world.VIEWERS:
        after = None
        for _ in range(10):
            data = await assert_same(
                world_client, world_floor, key, {**variables, "after": after}, viewer
            )
            root = data["search"] if key == "search" else data["pin"]["related"]
            if not root["pageInfo"]["hasNextPage"]:
                break
            after = root["pageInfo"]["endCursor"]
        else:
            raise AssertionError(f"{key} did not end in 10 pages")


async def test_the_floor_answers_as_pinql_on_the_benchmark_requests(
    demo_database: str, demo_client: GraphQLClient, demo_floor: Floor
) -> None:
    """The subjects and variables the benchmark picks, on the demo data: full pages."""
    subjects = await pick_subjects(demo_database)
    answers: dict[tuple[str, int | None], dict[str, Any]] = {}
    round_trips: dict[tuple[str, int | None], int] = {}
    for key, operation in operations(subjects).items():
        for viewer in (subjects.viewer, None):
            if key == "feed" and viewer is None:
                continue
            data = await assert_same(demo_client, demo_floor, key, operation.variables, viewer)
            assert data[next(iter(data))] is not None, (key, viewer)
            answers[key, viewer] = data
            round_trips[key, viewer] = demo_floor.log.count
    nodes = answers["nodes", subjects.viewer]["nodes"]
    assert len(nodes) == 12
    assert None not in nodes  # every object is visible to anyone
    assert [n["__typename"] for n in nodes[:4]] == ["User", "Board", "Pin", "Comment"]
    assert len(answers["latest", subjects.viewer]["pins"]["edges"]) == 30
    # every wave has something to fetch: the latest pins' comments' authors (a third
    # wave), the looked-up objects' owners, creators, authors and comments' pins (a second)
    assert (round_trips["latest", subjects.viewer], round_trips["nodes", subjects.viewer]) == (3, 2)


async def test_the_feed_floor_refuses_an_anonymous_viewer(world_floor: Floor) -> None:
    response = await world_floor.http.post("/floor/feed", content=b'{"variables": {}}')
    assert response.status_code == 401
    assert "signed-in viewer" in response.json()["errors"][0]["message"]
