"""Cached documents and plans are out of the garbage collector's scans, and untracking them
loses nothing: an entry holds no reference cycle, so reference counting frees it.

Each operation in operations/ runs through the app often enough that its text is kept
prepared (second sighting), planned, and its selections' builders compiled; then its syntax
tree and plan must be untracked while the schema stays tracked, and (with untracking off, so
that the collector would see a cycle) an app's caches dropped with the app must leave no
syntax node, token or plan object for the collector.
"""

from __future__ import annotations

import gc

import pytest
from graphql import DocumentNode, OperationDefinitionNode, Token
from graphql.language import Location, Node, Visitor, visit

import execution.untracked
from execution.documents import prepare
from execution.plan import Compiled, Field, Plan, Selection
from execution.runner import COMPILE_AFTER
from schema.build import build_schema
from tests.schema.demo import SIZES, Picks, operation, query_files
from tests.support import GraphQLClient, saving_garbage, served

RUNS = COMPILE_AFTER + 2
"""Sends of each operation: its text is kept from the second on, its builders compiled."""
ENTRY_TYPES = (Node, Location, Token, Plan, Selection, Field, Compiled)
QUERIES = sorted(query_files())
"""(Read at import: `query_files` parses, and its garbage must not count in a test.)"""
TEXTS_BY_NAME = {name: operation(name) for name in QUERIES}
TEXTS = set(TEXTS_BY_NAME.values())
PLAN_CACHE_MIB = 2**20


async def run_every_operation(client: GraphQLClient, picks: Picks) -> None:
    """Each query of operations/, RUNS times, as the feed viewer."""
    for name in QUERIES:
        _, variables = SIZES[name](picks)
        for _ in range(RUNS):
            assert await client.data(operation(name), variables, viewer=picks.subjects.feed_viewer)


def of_operations(garbage: list[object], filler: set[str | None]) -> list[str]:
    """The classes of the syntax nodes, locations and tokens in `garbage` that belong to one
    of the operations' documents (a token: its value is not one of the `filler`'s)."""
    return sorted(
        {
            type(o).__name__
            for o in garbage
            if (isinstance(o, Location) and o.source.body in TEXTS)
            or (isinstance(o, Node) and o.loc is not None and o.loc.source.body in TEXTS)
            or (isinstance(o, Token) and o.value not in filler)
        }
    )


def syntax_nodes(document: DocumentNode) -> list[Node]:
    """Every node of `document`."""
    found: list[Node] = []

    class Collect(Visitor):
        def enter(self, node: Node, *_: object) -> None:
            found.append(node)

    visit(document, Collect())
    return found


def plan_objects(selection: Selection) -> list[object]:
    """A selection, its fields and every selection below them."""
    found: list[object] = [selection]
    for field in selection.fields:
        found.append(field)
        below = [field.selection] if field.selection else []
        for child in below + list((field.selections or {}).values()):
            found += plan_objects(child)
    return found


async def test_cached_documents_and_plans_are_untracked_and_the_schema_is_not(
    demo_database: str, picks: Picks
) -> None:
    async with served(demo_database) as (client, state):
        await run_every_operation(client, picks)
        for name, text in TEXTS_BY_NAME.items():
            prepared = await state["persisted"].documents.get(text, persisted=False)
            assert prepared.document is not None
            nodes = syntax_nodes(prepared.document)
            assert len(nodes) > 20
            tracked = [n for n in [prepared, *nodes] if gc.is_tracked(n)]
            assert tracked == [], name
            operation = prepared.operation(None)
            assert isinstance(operation, OperationDefinitionNode)
            plans = state["runs"].plans
            assert plans is not None
            plan = plans.get(prepared, operation)
            assert isinstance(plan, Plan), name
            tracked = [o for o in [plan, *plan_objects(plan.root)] if gc.is_tracked(o)]
            assert tracked == [], name
    schema = build_schema()._schema
    assert schema.query_type is not None
    assert gc.is_tracked(schema.query_type)
    assert gc.is_tracked(schema.query_type.fields)


def test_a_prepared_document_holds_no_cycle() -> None:
    prepared = prepare(TEXTS_BY_NAME["PinCloseUp.graphql"])
    assert prepared.valid
    with saving_garbage() as garbage:  # (after validation's own cycles are freed)
        del prepared
        gc.collect()
        assert [type(o).__name__ for o in garbage if isinstance(o, (Node, Location, Token))] == []


async def test_evicted_documents_and_plans_leave_nothing_for_the_collector(
    demo_database: str, picks: Picks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execution.untracked, "_UNTRACK", None)  # a cycle would show
    # Caches of one MiB, which the filler alone fills: its text (a comment) weighs just
    # under a MiB.
    comment = "# " + "x" * (PLAN_CACHE_MIB - 8192)
    filler = comment + "\n{ __typename }"
    async with served(
        demo_database, PINQL_DOCUMENT_CACHE_MB=1, PINQL_PLAN_CACHE_MB=1, PINQL_MAX_BODY_BYTES=2**21
    ) as (client, state):
        plans = state["runs"].plans
        assert plans is not None
        await run_every_operation(client, picks)
        assert len(plans) == len(QUERIES)
        gc.collect()
        with saving_garbage() as garbage:
            for _ in range(2):  # evicts every operation's document and plan
                assert await client.data(filler) == {"__typename": "Query"}
            assert len(plans) == len(state["persisted"].documents) == 1
            gc.collect()
            assert of_operations(garbage, {None, comment[1:], "__typename"}) == []
