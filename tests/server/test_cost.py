"""Query cost: the requested cost of hand-written documents and of every app operation, the
actual cost of responses, and actual <= requested on random responses to one query."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.search import RELATED_COST, SEARCH_COST
from schema.build import build_schema
from server.cost import (
    MUTATION_FIELD_COST,
    actual_cost,
    cost_error,
    requested_cost,
    surcharges,
)
from server.cost_memo import RequestedCosts
from server.offload import Offload
from server.persisted.folder import document_of, read_folder

OPERATIONS = Path(__file__).resolve().parents[2] / "operations"


def cost(text: str, variables: dict[str, Any] | None = None) -> int:
    """The requested cost of the only operation of `text`, valid against the schema."""
    schema = build_schema()._schema
    document = parse(text)
    assert validate(schema, document) == []
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return requested_cost(schema, document, operation, variables)


def test_scalar_fields_cost_nothing_and_objects_one_each() -> None:
    assert cost("{ __typename }") == 0
    assert cost('{ pin(id: "1") { id title } }') == 1
    assert cost('{ pin(id: "1") { image { url } creator { id } board { owner { id } } } }') == 5


def test_a_connection_costs_first_per_edge_and_per_node() -> None:
    # pins 1, each of 5 edges 1 + its node 1, pageInfo 1
    text = "{ pins(first: 5) { totalCount edges { cursor node { id } } pageInfo { endCursor } } }"
    assert cost(text) == 1 + 5 * 2 + 1
    assert cost("{ pins(first: 5) { nodes { id } edges { node { id } } } }") == 1 + 5 + 5 * 2
    assert cost("{ pins(first: 5) { totalCount } }") == 1


def test_first_comes_from_the_variable_its_default_or_the_schema() -> None:
    text = "query ($n: Int) { pins(first: $n) { nodes { id } } }"
    assert cost(text, {"n": 7}) == 1 + 7
    assert cost(text, {}) == 1 + 20  # unset, no default: the schema's 20
    assert cost(text, None) == 1 + 20
    assert cost(text, {"n": None}) == 1 + 20  # null: the schema's 20, as the resolver does
    assert cost(text, {"n": "7"}) == 1 + 20  # not an int: the schema's default
    with_default = "query ($n: Int = 3) { pins(first: $n) { nodes { id } } }"
    assert cost(with_default, {}) == 1 + 3
    assert cost(with_default, {"n": 9}) == 1 + 9
    assert cost("{ pins { nodes { id } } }") == 1 + 20
    assert cost("{ pins(first: null) { nodes { id } } }") == 1 + 20


def test_variables_are_read_as_graphql_core_coerces_them() -> None:
    text = "query ($n: Int) { pins(first: $n) { nodes { id } } }"
    assert cost(text, {"n": 100.0}) == cost(text, {"n": 100}) == 1 + 100  # graphql-core: 100
    assert cost(text, {"n": 7.5}) == 1 + 20  # refused by graphql-core: nothing runs
    assert cost(text, {"n": True}) == 1 + 20  # refused too
    nested = """query ($a: Int!, $b: Int!, $c: Int!) {
  users: pins(first: $a) { nodes { creator {
    following(first: $b) { nodes { pins(first: $c) { nodes { id } } } }
  } } }
}"""
    spelled = {"a": 100.0, "b": 100.0, "c": 100.0}
    assert cost(nested, spelled) == cost(nested, {"a": 100, "b": 100, "c": 100})
    assert cost(nested, spelled) > 100**3
    listed = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert cost(listed, {"ids": "a"}) == 1  # one ID is a list of one, as graphql-core takes it
    condition = "query ($c: Boolean!) { viewer @include(if: $c) { id } }"
    assert cost(condition, {"c": "false"}) == 1  # refused by graphql-core: counted


def test_nested_lists_multiply() -> None:
    text = """{
  user(username: "a") {
    boards(first: 3) {
      nodes {
        pins(first: 4) { edges { node { id } } }
      }
    }
  }
}"""
    # user 1, boards 1, 3 boards each: itself 1, pins 1, 4 edges of 2
    assert cost(text) == 1 + 1 + 3 * (1 + 1 + 4 * 2)


def test_skip_and_include_follow_the_variables() -> None:
    text = """query ($skip: Boolean!, $more: Boolean = true) {
  viewer @skip(if: $skip) { id }
  pins(first: 2) @include(if: false) { nodes { id } }
  homeFeed(first: 3) {
    nodes {
      ... on Pin @include(if: $more) { creator { id } }
      ...Board @skip(if: $skip)
    }
  }
}
fragment Board on Pin { board { id } }"""
    feed = 1 + 3 * 1
    assert cost(text, {"skip": True}) == feed + 3 * 1
    assert cost(text, {"skip": False}) == 1 + feed + 3 * 2
    assert cost(text, {"skip": False, "more": False}) == 1 + feed + 3 * 1
    assert cost(text, {}) == 1 + feed + 3 * 2  # unknown: counted


def test_fields_merge_as_execution_merges_them() -> None:
    text = """{
  pin(id: "1") {
    board { id }
    board { owner { id } }
    ...Card
    ... on Pin { board { owner { username } } }
  }
}
fragment Card on Pin { board { owner { id } } creator { id } }"""
    assert cost(text) == 4  # pin, board, owner, creator: one each
    aliased = '{ a: pin(id: "1") { board { id } } b: pin(id: "2") { board { id } } }'
    assert cost(aliased) == 4


def test_fragments_count_where_they_apply() -> None:
    text = """{
  node(id: "1") { ...Ids ...PinParts ...UserParts }
}
fragment Ids on Node { id }
fragment PinParts on Pin { image { url } creator { id } board { id } }
fragment UserParts on User { boards(first: 5) { nodes { id } } }"""
    # an interface costs its costliest type: a User (1 + boards 1 + 5), not a Pin (1 + 3)
    assert cost(text) == 1 + 1 + 5
    pins_only = '{ node(id: "1") { ... on Pin { image { url } creator { id } } } }'
    assert cost(pins_only) == 3


def test_nodes_costs_one_per_id() -> None:
    text = "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Pin { creator { id } } } }"
    assert cost(text, {"ids": ["a", "b", "c", "d", "e"]}) == 5 * 2
    assert cost(text, {"ids": "a"}) == 2  # a single ID is a list of one
    assert cost(text, {}) == 0
    assert cost('{ nodes(ids: ["a", "b", "c"]) { id } }') == 3
    assert cost('query ($a: ID!) { nodes(ids: [$a, "b"]) { id } }', {"a": "x"}) == 2
    assert cost('{ nodes(ids: "a") { id } }') == 1


def test_other_lists_of_objects_count_one_element() -> None:
    text = 'mutation { followUser(input: {userId: "1"}) { userErrors { code } } }'
    assert cost(text) == MUTATION_FIELD_COST + 1 + 1
    assert cost("{ __schema { types { name fields { name type { name } } } } }") == 4
    assert cost('{ __type(name: "Pin") { fields { name } } }') == 2


def test_mutations_cost_ten_per_root_field() -> None:
    text = """mutation {
  a: followUser(input: {userId: "1"}) { user { id } }
  b: unfollowUser(input: {userId: "1"}) { userErrors { code } }
  __typename
}"""
    assert cost(text) == 3 * MUTATION_FIELD_COST + (1 + 1) + (1 + 1)


def test_search_fields_cost_their_surcharge_each_time_they_run() -> None:
    text = (
        'query ($in: Boolean!) { searchPins(query: "sofa", first: 4) { nodes { id } } '
        'u: searchUsers(query: "ann") @include(if: $in) { nodes { id } } }'
    )
    assert cost(text, {"in": False}) == SEARCH_COST + 1 + 4
    assert cost(text, {"in": True}) == 2 * SEARCH_COST + (1 + 4) + (1 + 20)
    schema = build_schema()._schema
    document = parse(text)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    assert surcharges(schema, document, operation, {"in": True}) == {
        "searchPins": SEARCH_COST,
        "u": SEARCH_COST,
    }
    assert surcharges(schema, document, operation, {"in": False}) == {"searchPins": SEARCH_COST}


def test_a_nested_surcharge_counts_once_per_parent() -> None:
    text = "{ pins(first: 3) { nodes { related(first: 2) { nodes { id } } } } }"
    assert cost(text) == 1 + 3 + 3 * (RELATED_COST + 1 + 2)


def test_each_operation_of_a_document_is_costed_alone() -> None:
    schema = build_schema()._schema
    document = parse("query A { viewer { id } } query B { pins(first: 2) { nodes { id } } }")
    a, b = document.definitions
    assert isinstance(a, OperationDefinitionNode) and isinstance(b, OperationDefinitionNode)
    assert requested_cost(schema, document, a, None) == 1
    assert requested_cost(schema, document, b, None) == 3


TYPICAL_VARIABLES: dict[str, dict[str, Any]] = {
    "BoardPage": {"boardId": "Qm9hcmQ6MQ=="},
    "ProfilePage": {"username": "ada"},
    "PinCloseUp": {"pinId": "UGluOjE="},
    "NodeLookup": {"ids": ["VXNlcjox", "Qm9hcmQ6MQ==", "UGluOjE=", "Q29tbWVudDox"]},
    "SearchPage": {"query": "sofa"},
    "RelatedPins": {"pinId": "UGluOjE="},
}
OPERATION_COSTS = {
    "HomeFeed": 103,  # viewer, homeFeed, pageInfo + 20 x (edge, pin, image, creator, board)
    "BoardPage": 154,  # board, owner, pins, pageInfo + 30 x (edge, pin + 3)
    "ProfilePage": 171,  # user, boards, pins + 12 x (board, pins, 4 x 2) + 12 x (pin + 3)
    "PinCloseUp": 39,  # 8 objects + 10 x (edge, comment, author)
    "LatestPins": 392,  # pins, pageInfo + 30 x (edge, pin + 5, comments, 3 x 2)
    "NodeLookup": 12,  # 4 x the costliest type (Pin: image, creator; Comment: author, pin)
    "SearchPage": 332,  # 150 + search, pageInfo + 30 x (edge, highlight, pin + 3)
    "RelatedPins": 163,  # pin, 10 + related, pageInfo + 30 x (edge, pin + 4)
    "AddComment": 15,
    "CreateBoard": 15,
    "CreatePin": 15,
    "DeleteBoard": 15,
    "DeleteComment": 13,
    "DeletePin": 13,
    "FollowUser": 14,
    "MovePin": 15,
    "SavePin": 15,
    "UnfollowUser": 14,
    "UpdateBoard": 13,
    "UpdatePin": 13,
}


@pytest.mark.parametrize("name", sorted(OPERATION_COSTS))
def test_the_requested_cost_of_each_app_operation(name: str) -> None:
    text = document_of(OPERATIONS / f"{name}.graphql")
    assert cost(text, TYPICAL_VARIABLES.get(name, {"input": {}})) == OPERATION_COSTS[name]


def test_every_app_operation_has_a_pinned_cost() -> None:
    assert {d.path.stem for d in read_folder(OPERATIONS)} == set(OPERATION_COSTS)


def test_the_app_operations_scale_with_their_variables() -> None:
    home_feed = document_of(OPERATIONS / "HomeFeed.graphql")
    assert cost(home_feed, {"first": 100}) == 3 + 100 * 5
    profile = document_of(OPERATIONS / "ProfilePage.graphql")
    assert cost(profile, {"username": "ada", "boardsFirst": 100}) == 3 + 100 * 10 + 12 * 4


def test_a_fragment_spread_in_many_places_is_costed_once() -> None:
    fragments = ["fragment F0 on Pin { a: id creator { id } }"]
    fragments += [
        f"fragment F{i} on Pin {{ savedFrom {{ ...F{i - 1} }} board {{ pins(first: 2) "
        f"{{ nodes {{ ...F{i - 1} }} }} }} }}"
        for i in range(1, 25)
    ]
    text = '{ pin(id: "1") { ...F24 } }\n' + "\n".join(fragments)
    schema = build_schema()._schema
    document = parse(text)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    started = time.perf_counter()
    requested = requested_cost(schema, document, operation, None)
    assert time.perf_counter() - started < 0.1
    # c(0) = 1 (creator); c(i) = savedFrom (1 + c) + board (1 + pins (1 + 2 (1 + c)))
    per_pin = 1
    for _ in range(24):
        per_pin = (1 + per_pin) + (1 + 1 + 2 * (1 + per_pin))
    assert requested == 1 + per_pin


def test_a_deep_fragment_chain_is_costed_without_recursion() -> None:
    fragments = ["fragment F0 on Pin { id }"]
    fragments += [f"fragment F{i} on Pin {{ savedFrom {{ ...F{i - 1} }} }}" for i in range(1, 3000)]
    document = parse('{ pin(id: "1") { ...F2999 } }\n' + "\n".join(fragments))
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    assert requested_cost(build_schema()._schema, document, operation, None) == 3000


def test_requested_costs_saturate() -> None:
    level = "boards(first: 2000000000) { nodes { pins(first: 2000000000) { nodes { creator { "
    text = '{ user(username: "a") { ' + level * 4 + "id" + " } } } } }" * 4 + " } }"
    assert cost(text) == 2**53 - 1  # (2e9)^8 objects: past what JSON numbers hold exactly


def test_actual_cost_counts_the_objects_in_the_data() -> None:
    data = {
        "viewer": {"id": "1", "avatarUrl": None},
        "homeFeed": {
            "edges": [{"cursor": "a", "node": {"id": "2", "board": None}}] * 3,
            "pageInfo": {"hasNextPage": False},
        },
        "nodes": [None, {"id": "3"}, {"id": "4", "image": {"url": "u"}}],
    }
    assert actual_cost(data, mutation=False) == 1 + 1 + 3 * 2 + 1 + 3
    assert actual_cost({"pins": {"edges": []}}, mutation=False) == 1
    assert actual_cost(None, mutation=False) == 0
    assert actual_cost({}, mutation=False) == 0
    assert actual_cost({"viewer": None}, mutation=False) == 0


def test_actual_cost_of_a_mutation_adds_ten_per_root_field() -> None:
    data = {
        "a": {"user": {"id": "1"}, "userErrors": []},
        "b": None,
        "__typename": "Mutation",
    }
    assert actual_cost(data, mutation=True) == 3 * MUTATION_FIELD_COST + 2
    assert actual_cost(None, mutation=True) == 0


def test_actual_cost_is_fast() -> None:
    pin = {
        "id": "P",
        "title": "t",
        "image": {"url": "u", "width": 1, "height": 2, "dominantColor": "#fff"},
        "creator": {"id": "U", "username": "u", "displayName": "d", "avatarUrl": None},
        "board": {"id": "B", "name": "n"},
        "saveCount": 1,
        "commentCount": 2,
    }
    edges = [{"cursor": str(i), "node": dict(pin)} for i in range(40)]
    data = {"homeFeed": {"edges": edges, "pageInfo": {"hasNextPage": True}}}
    assert actual_cost(data, mutation=False) == 2 + 40 * 5
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        actual_cost(data, mutation=False)
    assert (time.perf_counter() - started) / rounds < 0.001  # ~25 us measured, 700 fields


def test_cost_error_names_the_cost_the_limit_and_the_setting() -> None:
    error = cost_error(7350, 5000)
    assert isinstance(error, GraphQLError)
    assert error.message == (
        "the operation's requested cost is 7350; the limit is 5000 (PINQL_MAX_QUERY_COST)"
    )
    assert error.extensions == {
        "code": "MAX_COST_EXCEEDED",
        "requestedQueryCost": 7350,
        "limit": 5000,
    }


RANDOM_QUERY = """query Random($n: Int = 3, $ids: [ID!]!) {
  viewer {
    id
    boards(first: 2) { nodes { id owner { id } } }
  }
  pins(first: $n) {
    edges { cursor node { id savedFrom { id } image { url } } }
    pageInfo { hasNextPage }
  }
  nodes(ids: $ids) {
    id
    ... on Pin { creator { id } }
    ... on Board { owner { id } pins(first: 2) { nodes { id } } }
  }
}"""


def _optional(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | value


def _random_response(n: int, ids: int) -> st.SearchStrategy[dict[str, Any]]:
    """Responses RANDOM_QUERY could get with `first: n` and `ids` IDs."""
    ref = st.fixed_dictionaries({"id": st.text(max_size=2)})
    board = st.fixed_dictionaries({"id": st.just("B"), "owner": ref})
    viewer = st.fixed_dictionaries(
        {
            "id": st.just("U"),
            "boards": st.fixed_dictionaries({"nodes": st.lists(board, max_size=2)}),
        }
    )
    pin = st.fixed_dictionaries(
        {"id": st.just("P"), "savedFrom": _optional(ref), "image": st.just({"url": "u"})}
    )
    edge = st.fixed_dictionaries({"cursor": st.just("c"), "node": pin})
    pins = st.fixed_dictionaries(
        {"edges": st.lists(edge, max_size=n), "pageInfo": st.just({"hasNextPage": False})}
    )
    node = st.one_of(
        ref,
        st.fixed_dictionaries({"id": st.just("P"), "creator": ref}),
        st.fixed_dictionaries(
            {
                "id": st.just("B"),
                "owner": ref,
                "pins": st.fixed_dictionaries({"nodes": st.lists(ref, max_size=2)}),
            }
        ),
    )
    return st.fixed_dictionaries(
        {
            "viewer": _optional(viewer),
            "pins": pins,
            "nodes": st.lists(_optional(node), min_size=ids, max_size=ids),
        }
    )


@st.composite
def _case(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    n = draw(st.integers(min_value=1, max_value=6))
    ids = draw(st.integers(min_value=0, max_value=5))
    variables = {"n": n, "ids": [str(i) for i in range(ids)]}
    return variables, draw(_random_response(n, ids))


@settings(derandomize=True, max_examples=50, deadline=None)
@given(_case())
def test_actual_cost_never_exceeds_the_requested_cost(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    variables, data = case
    assert actual_cost(data, mutation=False) <= cost(RANDOM_QUERY, variables)


def test_a_full_response_costs_exactly_what_was_requested() -> None:
    ref = {"id": "x"}
    pin = {"id": "P", "savedFrom": ref, "image": {"url": "u"}}
    board = {"id": "B", "owner": ref, "pins": {"nodes": [ref, ref]}}
    data = {
        "viewer": {"id": "U", "boards": {"nodes": [{"id": "B", "owner": ref}] * 2}},
        "pins": {"edges": [{"cursor": "c", "node": pin}] * 4, "pageInfo": {}},
        "nodes": [board] * 3,
    }
    requested = cost(RANDOM_QUERY, {"n": 4, "ids": ["a", "b", "c"]})
    # viewer, boards, 2 x (board, owner); pins, 4 x (edge, pin, savedFrom, image), pageInfo;
    # 3 x the costliest node type (Board: itself, owner, pins, 2 x pin)
    assert requested == (1 + 1 + 2 * 2) + (1 + 4 * 4 + 1) + 3 * 5
    assert actual_cost(data, mutation=False) == requested


def test_a_mutation_response_costs_what_was_requested() -> None:
    text = document_of(OPERATIONS / "FollowUser.graphql")
    data = {
        "followUser": {
            "user": {"id": "1", "followerCount": 1, "viewerIsFollowing": True},
            "viewer": {"id": "2", "followingCount": 1},
            "userErrors": [{"field": "x", "message": "m", "code": "NOT_FOUND"}],
        }
    }
    requested = cost(text, {"input": {"userId": "1"}})
    assert actual_cost(data, mutation=True) == requested == 14


# Which variables the costing reads depends on their values: `$n` only counts when `$a` holds.
GUARDED = """
query Guarded($a: Boolean!, $n: Int = 3, $m: Int, $title: String) {
  pins(first: 2) { nodes { id title } }
  more: pins(first: $m) @include(if: $a) { nodes { id comments(first: $n) { nodes { id } } } }
  pin(id: $title) { id }
}
"""


async def test_remembered_costs_equal_fresh_ones_whatever_the_order_of_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = build_schema()._schema
    document = parse(GUARDED)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    offload = Offload()
    costs = RequestedCosts(schema, offload)
    requests: list[dict[str, Any]] = [
        {"a": False, "m": 5},
        {"a": True, "m": 5},
        {"a": True, "m": 5, "n": 10},
        {"a": False, "m": 50, "n": 10},
        {"a": True, "m": 5, "n": None},
        {"a": True, "m": 5, "n": 10, "title": "x"},
        {"a": True, "m": 50, "n": 10},
        {"a": True, "m": 5},
        {"a": True, "m": 5, "n": 10, "title": "y"},
    ]
    expected = [requested_cost(schema, document, operation, v) for v in requests]
    assert len(set(expected)) > 3  # the requests do cost differently

    assert [await costs("sha", document, operation, v) for v in requests] == expected
    assert [await costs("sha", document, operation, v) for v in reversed(requests)] == expected[
        ::-1
    ]

    def refuse(*_: Any) -> int:
        raise AssertionError("costed again")

    monkeypatch.setattr("server.cost_memo.requested_cost_of", refuse)
    # the title is read by no costing: any title finds the remembered cost
    title = {"a": True, "m": 5, "n": 10, "title": "z"}
    assert await costs("sha", document, operation, title) == expected[2]
    offload.close()
