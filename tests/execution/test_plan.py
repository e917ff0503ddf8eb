"""Planning (execution/plan.py, collect.py, conditions.py, budget.py) and the plan cache
(execution/cache.py): a document plans once whatever its @include/@skip variables, in a
budget of nodes and time; what is not planned is remembered, with its reason, and logged
once; the cache is bounded by what its plans weigh."""

from __future__ import annotations

import gc
import logging
import time

import graphql
import pytest

from execution.budget import MAX_PLAN_NODES, Budget, Unplannable
from execution.cache import TOKEN_BYTES, PlanCache, Unplanned, document_weight, weight
from execution.conditions import holds
from execution.documents import PreparedDocument, prepare
from execution.plan import Plan, plan
from execution.run import REASONS
from schema.build import build_schema
from tests.schema.demo import operation, query_files
from tests.server.condition_documents import condition_document

SCHEMA = build_schema()._schema


def prepared(text: str) -> tuple[PreparedDocument, graphql.OperationDefinitionNode]:
    document = prepare(text)
    assert document.valid, document.errors
    definition = document.operation(None)
    assert not isinstance(definition, graphql.GraphQLError)
    return document, definition


def planned(text: str, budget: Budget | None = None) -> Plan:
    document, definition = prepared(text)
    assert document.document is not None
    return plan(SCHEMA, document.document, definition, budget)


def keys(found: Plan, values: dict[str, bool]) -> list[str]:
    fields, chosen = found.root.chosen(values)
    assert [f.key for f in fields] == list(chosen)
    return list(chosen)


def test_a_document_plans_once_whatever_its_conditions() -> None:
    """Every field is in the plan once with its conditions, not once per combination of
    their values: 12 condition variables cost about what the same document costs without
    them (a fragment spread again under another condition is walked again)."""
    conditional = condition_document(12, roots=3)
    with_conditions = planned(conditional.text, Budget(100_000, 10))
    without = planned(_without_conditions(conditional.text, conditional.names), Budget(100_000, 10))
    assert with_conditions.conditions == frozenset(conditional.names)
    assert without.conditions == frozenset()
    assert without.size <= with_conditions.size <= 2 * without.size


def _without_conditions(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(f" @include(if: ${name})", "").replace(f" @skip(if: ${name})", "")
        text = text.replace(f"${name}: Boolean!, ", "").replace(f", ${name}: Boolean!", "")
    return text


def test_keys_come_in_the_order_of_their_first_occurrence_taken() -> None:
    found = planned(
        "query($a: Boolean!) { viewer { id } u: viewer @include(if: $a) { id }"
        " t: __typename u: viewer { username } }"
    )
    assert keys(found, {"a": True}) == ["viewer", "u", "t"]
    assert keys(found, {"a": False}) == ["viewer", "t", "u"]


def test_a_selection_can_be_empty() -> None:
    found = planned("query($c: Boolean!) { viewer { id @include(if: $c) } }")
    [viewer] = found.root.fields
    assert viewer.selection is not None
    assert viewer.selection.chosen({"c": False}) == ((), ())
    assert [f.key for f in viewer.selection.chosen({"c": True})[0]] == ["id"]
    never = planned("{ viewer { id @skip(if: true) } }")
    assert never.root.fields[0].selection is not None
    assert never.root.fields[0].selection.fields == ()


def test_contradicting_conditions_leave_a_field_out() -> None:
    found = planned("query($c: Boolean!) { viewer { id @include(if: $c) @skip(if: $c) bio } }")
    viewer = found.root.fields[0].selection
    assert viewer is not None and [f.key for f in viewer.fields] == ["bio"]


def test_a_fragment_spread_again_under_a_weaker_condition_is_walked_once() -> None:
    text = (
        "query($a: Boolean!) { viewer { ...U ...U @include(if: $a) ...U } }"
        " fragment U on User { id username }"
    )
    viewer = planned(text).root.fields[0]
    assert [len(f.occurrences) for f in viewer.selection.fields] == [1, 1]  # type: ignore[union-attr]


def test_conditions_hold_as_their_literals_say() -> None:
    assert holds(frozenset(), {})
    assert holds(frozenset({("a", True), ("b", False)}), {"a": True, "b": False})
    assert not holds(frozenset({("a", True)}), {"a": False})


def test_every_operation_plans_in_a_fraction_of_the_budget() -> None:
    for name in query_files():
        found = planned(operation(name))
        assert 40 <= found.size <= MAX_PLAN_NODES // 10, (name, found.size)


def test_a_document_past_the_node_budget_is_not_planned_and_stops_early() -> None:
    text = condition_document(4, roots=10).text
    document, definition = prepared(text)  # parsing and validating are not planning
    assert document.document is not None
    gc.disable()  # (a collection of the test process's garbage is not planning's time)
    try:
        started = time.thread_time()
        with pytest.raises(Unplannable) as refused:
            # the node budget alone: the time budget (a backstop) must not decide this
            plan(SCHEMA, document.document, definition, Budget(MAX_PLAN_NODES, 10.0))
        spent = time.thread_time() - started
    finally:
        gc.enable()
    assert refused.value.reason == "size"
    assert refused.value.detail == f"more than {MAX_PLAN_NODES} plan nodes"
    assert spent < 0.05  # (it plans 6,985 nodes when let)
    assert planned(text, Budget(100_000, 10)).size > MAX_PLAN_NODES


def test_a_document_past_the_time_budget_is_not_planned() -> None:
    with pytest.raises(Unplannable) as refused:
        planned(condition_document(4, roots=10).text, Budget(100_000, 0.000_001))
    assert refused.value.reason == "time"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{ __schema { queryType { name } } }", "introspection"),
        (operation("FollowUser.graphql"), "mutation"),
        (condition_document(4, roots=10).text, "size"),
    ],
)
def test_what_is_not_planned_is_remembered_with_its_reason_and_logged_once(
    text: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = PlanCache(SCHEMA, max_plan_seconds=10.0)  # (the node budget decides "size")
    document, definition = prepared(text)
    with caplog.at_level(logging.INFO, logger="pinql.execution"):
        first = cache.get(document, definition)
        again = cache.get(document, definition)
    assert isinstance(first, Unplanned) and first.reason == reason and reason in REASONS
    assert again is first and (cache.misses, cache.hits) == (1, 1)
    [line] = [r for r in caplog.records if r.name == "pinql.execution"]
    assert line.getMessage().startswith(f"not planned ({reason}): document {document.sha256}")


def test_a_comment_weighs_its_text_and_no_more() -> None:
    plain = prepare("{ viewer { id } }")
    padded = prepare("# " + "x" * 10_000 + "\n{ viewer { id } }")
    assert plain.tokens == padded.tokens == 6  # { viewer { id } }: comments are no tokens
    assert document_weight(padded) - document_weight(plain) == 10_003


def test_the_cache_keeps_the_most_recently_used_within_its_weight() -> None:
    documents = [prepared(f"{{ a{i:02}: viewer {{ id }} }}") for i in range(40)]
    found = planned(documents[0][0].text)
    one = weight(found, documents[0][0])
    text, tokens = documents[0][0].text, documents[0][0].tokens
    assert tokens == 8  # { a00 : viewer { id } }
    assert one == len(text) + tokens * TOKEN_BYTES + found.size * 256
    cache = PlanCache(SCHEMA, max_bytes=10 * one)
    got = [[cache.get(d, o) for _ in range(2)][-1] for d, o in documents]  # kept: 2nd sight
    assert all(isinstance(p, Plan) for p in got)
    assert len(cache) == 10 and cache.weight <= 10 * one
    assert cache.get(*documents[-1]) is got[-1]
    assert cache.get(*documents[0]) is not got[0]  # planned again: it had gone


def test_a_plan_is_kept_from_its_second_sighting_so_one_off_texts_never_evict() -> None:
    hot = prepared("query Hot { viewer { id } }")
    cache = PlanCache(SCHEMA, max_bytes=3 * weight(planned(hot[0].text), hot[0]))
    first = cache.get(*hot)
    second = cache.get(*hot)
    assert second is not first and len(cache) == 1  # planned twice, kept the second time
    for i in range(200):
        assert isinstance(cache.get(*prepared(f"{{ a{i}: viewer {{ id }} }}")), Plan)
    assert len(cache) == 1 and cache.get(*hot) is second
    assert (cache.hits, cache.misses) == (1, 202)
