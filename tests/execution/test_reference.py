"""graphql-core's path (execution/reference.py) reports field errors by the rule of
execution/propagation.py, whatever order its fields fail in: on the app's schema and world,
and on a small schema whose resolvers fail in an order each test sets (event-loop turns).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import graphql
import pytest
from graphql import GraphQLResolveInfo

from db.pool import Database
from execution.documents import prepare
from execution.errors import formatted
from execution.reference import ReferenceExecutor, run
from loaders import Loaders
from loaders.base import SqlLoader
from resolvers.context import Context
from resolvers.ids import encode_global_id
from tests import world

RUNS = 20

# ---- the app's schema, on the world ------------------------------------------------------------

EXAMPLE = '{ homeFeed { totalCount } board(id: "Qm9hcmQ6MzIy") { pins(first: -1) { totalCount } } }'
UNAUTHENTICATED = {
    "message": "homeFeed needs a signed-in viewer: send a bearer token",
    "locations": [{"line": 1, "column": 3}],
    "path": ["homeFeed"],
    "extensions": {"code": "UNAUTHENTICATED"},
}
PUBLIC_BOARD = encode_global_id("Board", world.OLIVE_PUBLIC)


@pytest.fixture(scope="module")
async def world_db(world_database: str) -> AsyncIterator[Database]:
    """A pool on the world, for graphql-core's path (`execution.reference.run`)."""
    database = await Database.connect(world_database, min_size=1, max_size=2)
    yield database
    await database.close()


@pytest.fixture
def jittered(monkeypatch: pytest.MonkeyPatch) -> random.Random:
    """Every loader batch waits 0-3 event-loop turns first (seeded), so fields of the same
    request fail in shifting orders."""
    turns = random.Random(7)
    batch_load_fn = SqlLoader.batch_load_fn

    async def jittered_batch(self: SqlLoader[Any, Any], keys: list[Any]) -> list[Any]:
        for _ in range(turns.randint(0, 3)):
            await asyncio.sleep(0)
        return await batch_load_fn(self, keys)

    monkeypatch.setattr(SqlLoader, "batch_load_fn", jittered_batch)
    return turns


async def run_anonymously(database: Database, text: str) -> dict[str, Any]:
    """The document's answer for an anonymous viewer, on graphql-core's path."""
    prepared = prepare(text)
    operation = prepared.operation(None)
    assert prepared.valid and not isinstance(operation, graphql.GraphQLError), prepared.errors
    session = database.session()
    try:
        context = Context(loaders=Loaders.build(session, None), session=session)
        result = await run(prepared, operation, None, context)
    finally:
        await session.close()
    return {"data": result.data, "errors": formatted(result.errors or [])}


async def test_the_example_answers_alike_every_time(world_db: Database, jittered: object) -> None:
    # homeFeed (PinConnection!) nulls `data` itself, which covers the board's error. The
    # example's Board:322 is not in the world (board is null, its pins never run); with a
    # public board, graphql-core alone also reported pins' error when it came first.
    for text in [EXAMPLE, EXAMPLE.replace("Qm9hcmQ6MzIy", PUBLIC_BOARD)]:
        answers = [await run_anonymously(world_db, text) for _ in range(30)]
        assert answers == [{"data": None, "errors": [UNAUTHENTICATED]}] * 30, text


async def test_the_first_error_in_selection_order_wins_not_the_first_in_time(
    world_db: Database, jittered: object
) -> None:
    # pins(first: -1) fails before any SQL; owner.boards(first: -1) only once the owner is
    # loaded. Both null the board (owner: User!, pins: PinConnection!): owner's error comes
    # first in the selection, so it is the one reported.
    text = (
        f'{{ board(id: "{PUBLIC_BOARD}") {{ owner {{ boards(first: -1) {{ totalCount }} }} '
        "pins(first: -1) { totalCount } } }"
    )
    expected = {
        "data": {"board": None},
        "errors": [
            {
                "message": "first must be between 1 and 100, got -1",
                "locations": [{"line": 1, "column": 37}],
                "path": ["board", "owner", "boards"],
                "extensions": {"code": "BAD_USER_INPUT", "argument": "first"},
            }
        ],
    }
    for _ in range(30):
        assert await run_anonymously(world_db, text) == expected


# ---- a small schema, failures in a set order -----------------------------------------------------

SDL = """
type Query { parent: Parent, other: Parent, sync: String!, items: [Item!], maybe: [Item] }
type Parent { a: String!, b: String!, s: String!, c: String, child: Parent }
type Item { name: String! }
"""
SCHEMA = graphql.build_schema(SDL)

Resolver = Callable[..., Any]
Answer = tuple[Any, list[str]]
"""The data, and the paths of the errors, dotted ("parent.a")."""


def dotted(path: list[str | int]) -> str:
    return ".".join(map(str, path))


def fails(turns: int, message: str | None = None) -> Resolver:
    """A resolver failing after `turns` event-loop turns, with `message` (else its path)."""

    async def resolve(info: GraphQLResolveInfo[Any]) -> Any:
        for _ in range(turns):
            await asyncio.sleep(0)
        raise RuntimeError(message or dotted(info.path.as_list()))

    return resolve


def succeeds(turns: int, value: Any = "ok") -> Resolver:
    """A resolver answering `value` after `turns` event-loop turns."""

    async def resolve(_info: GraphQLResolveInfo[Any]) -> Any:
        for _ in range(turns):
            await asyncio.sleep(0)
        return value

    return resolve


def fails_at_once(info: GraphQLResolveInfo[Any]) -> Any:
    """A synchronous resolver that raises."""
    raise RuntimeError(dotted(info.path.as_list()))


async def answer(text: str, root: dict[str, Any], executor: Any = ReferenceExecutor) -> Answer:
    """The document's data and error paths, executed with `executor` (a class)."""
    result = graphql.execute(SCHEMA, graphql.parse(text), root, executor_class=executor)
    if not isinstance(result, graphql.ExecutionResult):
        result = await result
    errors = result.errors or []
    for error in errors:  # each error is the resolver's own, at the path it names
        assert error.path is not None and error.message == dotted(error.path)
    return result.data, [error.message for error in errors]


def shuffled(seed: int) -> Callable[[], int]:
    """Random turn counts (0-6), the same for the same seed."""
    turns = random.Random(seed)
    return lambda: turns.randint(0, 6)


async def test_of_two_failing_non_null_siblings_the_first_selected_is_reported() -> None:
    root = {"parent": {"a": fails(5), "b": fails(1)}}
    assert await answer("{ parent { a b } }", root) == ({"parent": None}, ["parent.a"])
    # graphql-core's own executor reports whichever failed first
    assert await answer("{ parent { a b } }", root, None) == ({"parent": None}, ["parent.b"])
    turns = shuffled(1)
    for _ in range(RUNS):
        root = {"parent": {"a": fails(turns()), "b": fails(turns())}}
        assert await answer("{ parent { b a } }", root) == ({"parent": None}, ["parent.b"])


async def test_a_nullable_sibling_failing_inside_the_nulled_parent_is_not_reported() -> None:
    for a_turns, c_turns in [(1, 5), (5, 1)]:  # c fails after the null, then before it
        root = {"parent": {"a": fails(a_turns), "c": fails(c_turns)}}
        assert await answer("{ parent { c a } }", root) == ({"parent": None}, ["parent.a"])
    turns = shuffled(2)
    for _ in range(RUNS):
        parent = {"a": fails(turns()), "c": fails(turns()), "child": {"c": fails(0)}}
        text = "{ parent { child { c } c a } }"
        assert await answer(text, {"parent": parent}) == ({"parent": None}, ["parent.a"])


async def test_non_null_items_report_the_first_failing_index() -> None:
    items = [{"name": succeeds(0)}, {"name": fails(6)}, {"name": fails(3)}, {"name": fails(0)}]
    expected = ({"items": None}, ["items.1.name"])
    assert await answer("{ items { name } }", {"items": items}) == expected
    turns = shuffled(3)
    for _ in range(RUNS):
        items = [{"name": fails(turns())} for _ in range(4)]
        assert await answer("{ items { name } }", {"items": items}) == (
            {"items": None},
            ["items.0.name"],
        )


async def test_awaitable_non_null_items_report_the_first_failing_index() -> None:
    turns = shuffled(4)
    for _ in range(RUNS):

        def items(info: GraphQLResolveInfo[Any]) -> list[Awaitable[Any]]:
            made = [succeeds(turns(), {"name": "ok"})(info) for _ in range(2)]
            return [*made, fails(turns(), "items.2")(info), fails(turns(), "items.3")(info)]

        expected = ({"items": None}, ["items.2"])
        assert await answer("{ items { name } }", {"items": items}) == expected


async def test_nullable_items_are_each_reported_in_index_order() -> None:
    turns = shuffled(5)
    for _ in range(RUNS):
        maybe = [{"name": fails(turns())}, {"name": succeeds(turns())}, {"name": fails(turns())}]
        assert await answer("{ maybe { name } }", {"maybe": maybe}) == (
            {"maybe": [None, {"name": "ok"}, None]},
            ["maybe.0.name", "maybe.2.name"],
        )


async def test_a_synchronous_failure_before_or_after_asynchronous_ones() -> None:
    turns = shuffled(6)
    for _ in range(RUNS):
        root = {"parent": {"s": fails_at_once, "a": fails(turns()), "b": succeeds(turns())}}
        assert await answer("{ parent { s a b } }", root) == ({"parent": None}, ["parent.s"])
        root = {"parent": {"s": fails_at_once, "a": fails(turns()), "b": succeeds(turns())}}
        assert await answer("{ parent { b a s } }", root) == ({"parent": None}, ["parent.a"])
        root = {"parent": {"s": fails_at_once, "a": succeeds(turns())}}
        assert await answer("{ parent { a s } }", root) == ({"parent": None}, ["parent.s"])


async def test_nullable_failures_in_different_subtrees_are_all_reported_in_order() -> None:
    turns = shuffled(7)
    for _ in range(RUNS):
        root = {
            "parent": {"c": fails(turns()), "child": {"a": fails(turns()), "c": succeeds(0)}},
            "other": {"c": fails(turns()), "b": succeeds(turns())},
        }
        text = "{ other { b c } parent { child { c a } c } }"
        assert await answer(text, root) == (
            {"other": {"b": "ok", "c": None}, "parent": {"child": None, "c": None}},
            ["other.c", "parent.child.a", "parent.c"],
        )


async def test_a_null_root_reports_only_its_first_error() -> None:
    turns = shuffled(8)
    for _ in range(RUNS):
        root = {"parent": {"a": fails(turns()), "c": fails(turns())}, "sync": fails(turns())}
        text = "{ parent { c a } sync z: sync }"
        assert await answer(text, root) == (None, ["sync"])


async def test_one_error_answers_as_graphql_core_does() -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("{ parent { a b } }", {"parent": {"a": succeeds(2), "b": fails(1)}}),
        ("{ parent { c b } other { c } }", {"parent": {"c": fails(1), "b": succeeds(0)}}),
        ("{ items { name } }", {"items": [{"name": succeeds(1)}, {"name": fails(0)}]}),
        ("{ parent { s } sync }", {"parent": {"s": fails_at_once}, "sync": "ok"}),
        ("{ sync }", {"sync": fails_at_once}),
    ]
    for text, root in cases:
        assert await answer(text, root) == await answer(text, root, None), text


async def test_a_cancellation_is_raised_at_once_and_cancels_the_rest() -> None:
    never = asyncio.Event()
    cancelled: list[str] = []

    async def waits(info: GraphQLResolveInfo[Any]) -> Any:
        try:
            await never.wait()
        finally:
            cancelled.append(dotted(info.path.as_list()))

    async def cancelled_itself(_info: GraphQLResolveInfo[Any]) -> Any:
        raise asyncio.CancelledError

    root = {"parent": {"a": waits, "b": cancelled_itself, "c": waits}}
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(answer("{ parent { a b c } }", root), timeout=5)
    await spin(3)
    assert sorted(cancelled) == ["parent.a", "parent.c"]

    cancelled.clear()
    execution = asyncio.ensure_future(answer("{ parent { a c } }", root))
    await spin(5)  # both wait on `never`
    execution.cancel()  # the request's deadline
    with pytest.raises(asyncio.CancelledError):
        await execution
    await spin(3)
    assert sorted(cancelled) == ["parent.a", "parent.c"]


async def spin(count: int) -> None:
    """Lets the event loop turn `count` times."""
    for _ in range(count):
        await asyncio.sleep(0)
