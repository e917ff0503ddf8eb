"""Compiled operations (schema/fast/compiled.py): which field trees compile, and the checks
their functions make before they take a batch. tests/schema/test_fast_path.py runs them
against the normal path (answers, statements, faults, odd rows)."""

from __future__ import annotations

import asyncio
import gc
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest

from loaders.rows import UserRow
from loaders.waves import Pending
from schema.build import build_schema
from schema.execution import prepare
from schema.fast.compiled import Deopt, learn, resolved
from schema.fast.plan import Plan, plan
from tests.schema.demo import operation, query_files

SCHEMA = build_schema()._schema


def planned(text: str) -> Plan:
    prepared = prepare(text)
    definition = prepared.operation(None)
    assert prepared.document is not None and not isinstance(definition, Exception)
    found = plan(SCHEMA, prepared.document, definition)
    assert found is not None
    return found


@pytest.mark.parametrize("name", sorted(query_files()))
def test_the_queries_of_operations_compile_but_those_on_interfaces(name: str) -> None:
    found = planned(operation(name))
    assert len(found.compiled) == (0 if name == "NodeLookup.graphql" else len(found.trees))


def test_each_tree_of_conditions_compiles_on_its_own() -> None:
    found = planned(
        "query($more: Boolean!) { pins(first: 2) { nodes { id title @include(if: $more) } } }"
    )
    sources = {found.compiled[id(tree)].source for tree in found.trees.values()}
    assert len(sources) == 2  # one with the title, one without
    assert all("'title'" in source for source in sources) is False


@pytest.mark.parametrize(
    "query",
    [
        '{ node(id: "UGluOjE") { id } }',  # an interface
        '{ pin(id: "UGluOjE") { title savedFrom { ... on Pin { id } } } viewer { id } }',
    ],
    ids=["interface", "fragment on an object"],
)
def test_what_compiles(query: str) -> None:
    found = planned(query)
    assert bool(found.compiled) is ("node(" not in query)


def test_the_generated_code_holds_no_value_of_a_request() -> None:
    """Arguments written in the document are bound by name, never pasted into the source."""
    found = planned('{ user(username: "x\\"); import os; os.system(\\"true") { id } }')
    [compiled] = found.compiled.values()
    assert "import os" not in compiled.source and "os.system" not in compiled.source


def test_resolved_waits_takes_or_refuses() -> None:
    waiting, known, failed = Pending(), Pending(3), Pending()
    failed.error, failed.done = RuntimeError("batch"), True
    assert resolved([Pending(), waiting]) is None
    assert resolved([known, Pending(4)]) == [3, 4]
    assert resolved([None, None]) == [None, None]  # nothing to load (an anonymous viewer)
    for mixed in ([known, waiting], [failed], [known, None]):
        with pytest.raises(Deopt):
            resolved(list(mixed))


def test_resolved_closes_the_coroutines_it_refuses() -> None:
    async def node() -> int:
        return 1

    called: list[Any] = [node(), node()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited"
        with pytest.raises(Deopt):
            resolved(called)
        del called
        gc.collect()
    assert asyncio.iscoroutinefunction(node)


def test_learn_takes_a_class_once_and_refuses_another() -> None:
    user = UserRow(1, "u", "U", None, "", None, datetime(2026, 11, 26, tzinfo=UTC))
    known: set[type] = {type(None)}
    seen: list[Any] = []

    def is_user(value: Any, _info: Any) -> bool:
        seen.append(value)
        return isinstance(value, UserRow)

    learn(known, is_user, [user, None, user])
    assert UserRow in known and seen == [user]
    with pytest.raises(Deopt):
        learn(known, is_user, [user, "not a row"])
    assert known == {type(None), UserRow}
