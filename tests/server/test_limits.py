"""Document limits: depth, aliases, root fields and directives, through fragments, at and
past each limit, on hostile documents, and on every operation the apps send."""

from __future__ import annotations

import gc
import time
from functools import partial
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    validate,
)

from execution.documents import prepare
from schema.build import build_schema
from server.limits import Limits, check_document
from server.persisted.folder import document_of
from server.settings import Settings

OPERATIONS = Path(__file__).resolve().parents[2] / "operations"
ROOMY = Limits(max_depth=100, max_aliases=100, max_root_fields=100, max_directives_per_field=9)


def check(text: str, **limits: int) -> list[GraphQLError]:
    """`text`, valid against the schema, checked against ROOMY with `limits` changed."""
    document = parse(text)
    assert validate(build_schema()._schema, document) == []
    return check_document(document, Limits(**{**_roomy(), **limits}))


def _roomy() -> dict[str, int]:
    return {
        "max_depth": ROOMY.max_depth,
        "max_aliases": ROOMY.max_aliases,
        "max_root_fields": ROOMY.max_root_fields,
        "max_directives_per_field": ROOMY.max_directives_per_field,
    }


def only_error(errors: list[GraphQLError]) -> GraphQLError:
    assert len(errors) == 1, [e.message for e in errors]
    return errors[0]


def where(error: GraphQLError) -> list[tuple[int, int]]:
    return [(loc.line, loc.column) for loc in error.locations or []]


def test_limits_come_from_the_settings() -> None:
    settings = Settings.model_validate(
        {
            "PINQL_MAX_DEPTH": "7",
            "PINQL_MAX_ALIASES": "8",
            "PINQL_MAX_ROOT_FIELDS": "9",
            "PINQL_MAX_DIRECTIVES_PER_FIELD": "1",
        }
    )
    assert Limits.from_settings(settings) == Limits(7, 8, 9, 1)
    assert Limits.from_settings(Settings()) == Limits(15, 30, 20, 4)


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_every_app_operation_passes_the_default_limits(path: Path) -> None:
    document = parse(path.read_text() if path.stem == "PinCard" else document_of(path))
    assert check_document(document, Limits.from_settings(Settings())) == []


DEEP = """query Deep {
  pin(id: "1") {
    board {
      owner {
        id
      }
    }
  }
}"""


def test_depth_at_the_limit_passes_and_one_past_is_refused() -> None:
    assert check(DEEP, max_depth=4) == []
    error = only_error(check(DEEP, max_depth=3))
    assert error.message == "operation Deep is 4 levels deep; the limit is 3 (PINQL_MAX_DEPTH)"
    assert error.extensions == {"code": "QUERY_TOO_DEEP", "limit": 3, "found": 4}
    assert where(error) == [(5, 9)]  # `id`, the first field past the limit


def test_depth_runs_through_fragments_and_inline_fragments() -> None:
    text = """{
  node(id: "1") {
    ... on Pin {
      ...OnPin
    }
  }
}

fragment OnPin on Pin {
  board {
    owner {
      __typename
    }
  }
}"""
    assert check(text, max_depth=4) == []
    error = only_error(check(text, max_depth=2))
    assert error.message == (
        "the anonymous operation is 4 levels deep; the limit is 2 (PINQL_MAX_DEPTH)"
    )
    assert error.extensions == {"code": "QUERY_TOO_DEEP", "limit": 2, "found": 4}
    assert where(error) == [(11, 5)]  # `owner` in the fragment: level 3


def test_depth_is_reported_once_per_operation_with_the_worst_value() -> None:
    text = """query A { pin(id: "1") { board { id } creator { id } savedFrom { board { id } } } }
query B { viewer { id } }
query C { viewer { pins { nodes { id } } } }"""
    errors = check(text, max_depth=2)
    assert [(e.message, e.extensions) for e in errors] == [
        (
            "operation A is 4 levels deep; the limit is 2 (PINQL_MAX_DEPTH)",
            {"code": "QUERY_TOO_DEEP", "limit": 2, "found": 4},
        ),
        (
            "operation C is 4 levels deep; the limit is 2 (PINQL_MAX_DEPTH)",
            {"code": "QUERY_TOO_DEEP", "limit": 2, "found": 4},
        ),
    ]


def test_a_400_level_fragment_chain_is_refused_without_recursion() -> None:
    fragments = ["fragment F0 on Pin { id }"]
    fragments += [f"fragment F{i} on Pin {{ savedFrom {{ ...F{i - 1} }} }}" for i in range(1, 400)]
    document = parse('query Chain { pin(id: "1") { ...F399 } }\n' + "\n".join(fragments))
    # graphql-core's validation already aborts past 200 nested selection sets; the check
    # must not depend on it.
    assert [e.message for e in validate(build_schema()._schema, document)] == [
        "Validation aborted."
    ]
    gc.disable()  # (a collection of earlier tests' garbage is not the check's time)
    try:
        started = time.thread_time()
        error = only_error(check_document(document, Limits.from_settings(Settings())))
        assert time.thread_time() - started < 0.1
    finally:
        gc.enable()
    assert error.extensions == {"code": "QUERY_TOO_DEEP", "limit": 15, "found": 401}
    assert error.message == "operation Chain is 401 levels deep; the limit is 15 (PINQL_MAX_DEPTH)"
    # pin, then the savedFrom of F399, F398...: level 16 is F385's, on line 387.
    assert where(error) == [(387, 24)]


def test_a_5000_level_document_is_refused_without_recursion() -> None:
    leaf = FieldNode(name=NameNode(value="id"))
    field = leaf
    for _ in range(5000):
        field = FieldNode(name=NameNode(value="savedFrom"), selection_set=_selections(field))
    root = FieldNode(name=NameNode(value="pin"), selection_set=_selections(field))
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY, selection_set=_selections(root)
    )
    document = DocumentNode(definitions=(operation,))
    error = only_error(check_document(document, Limits.from_settings(Settings())))
    assert error.extensions == {"code": "QUERY_TOO_DEEP", "limit": 15, "found": 5002}


def _selections(field: FieldNode) -> SelectionSetNode:
    return SelectionSetNode(selections=(field,))


ALIASES = """query Aliases {
  viewer {
    ...Names
    again: pins(first: 1) {
      nodes {
        ... on Pin {
          t: title
        }
      }
    }
  }
}

fragment Names on User {
  a: username
  b: displayName
}"""


def test_aliases_at_the_limit_pass_and_one_past_is_refused() -> None:
    assert check(ALIASES, max_aliases=4) == []
    error = only_error(check(ALIASES, max_aliases=3))
    assert error.message == (
        "operation Aliases has 4 aliased fields; the limit is 3 (PINQL_MAX_ALIASES)"
    )
    assert error.extensions == {"code": "TOO_MANY_ALIASES", "limit": 3, "found": 4}
    assert where(error) == [(1, 1)]


def test_a_fragment_counts_its_aliases_each_time_it_is_spread() -> None:
    text = """{
  viewer { ...Twice ...Twice }
  user(username: "a") { ...Twice }
}
fragment Twice on User { ...Names ...Names }
fragment Names on User { a: username b: displayName }"""
    # Twice holds 4; it is spread 3 times.
    assert check(text, max_aliases=12) == []
    assert only_error(check(text, max_aliases=11)).extensions == {
        "code": "TOO_MANY_ALIASES",
        "limit": 11,
        "found": 12,
    }


def test_a_fragment_spread_500_times_is_checked_once() -> None:
    spreads = " ".join(["...Card"] * 500)
    text = (
        f"{{ pins(first: 1) {{ nodes {{ {spreads} }} }} }}\n"
        "fragment Card on Pin { t: title c: creator { n: username } }"
    )
    document = parse(text)
    assert validate(build_schema()._schema, document) == []
    started = time.perf_counter()
    error = only_error(check_document(document, Limits.from_settings(Settings())))
    assert time.perf_counter() - started < 0.05
    assert error.extensions == {"code": "TOO_MANY_ALIASES", "limit": 30, "found": 1500}


def test_doubling_fragments_count_exactly_and_stay_linear() -> None:
    fragments = ["fragment F0 on Pin { a: id }"]
    fragments += [f"fragment F{i} on Pin {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 41)]
    text = '{ pin(id: "1") { ...F40 } }\n' + "\n".join(fragments)
    document = parse(text)
    started = time.perf_counter()
    error = only_error(check_document(document, Limits.from_settings(Settings())))
    assert time.perf_counter() - started < 0.05
    assert error.extensions == {"code": "TOO_MANY_ALIASES", "limit": 30, "found": 2**31 - 1}


ROOT = """query Root {
  viewer { id }
  viewer { username }
  ... on Query {
    pins { totalCount }
  }
  ...More
}

fragment More on Query {
  me: viewer { id }
  homeFeed { totalCount }
}"""


def test_root_fields_count_every_selection_through_fragments() -> None:
    assert check(ROOT, max_root_fields=5) == []
    error = only_error(check(ROOT, max_root_fields=4))
    assert error.message == (
        "operation Root selects 5 root fields; the limit is 4 (PINQL_MAX_ROOT_FIELDS)"
    )
    assert error.extensions == {"code": "TOO_MANY_ROOT_FIELDS", "limit": 4, "found": 5}
    assert where(error) == [(12, 3)]  # homeFeed, the 5th


DIRECTIVES = """query Directives($yes: Boolean!) {
  viewer @include(if: $yes) {
    id @skip(if: false) @include(if: true)
  }
  pins {
    nodes {
      ... on Pin @include(if: $yes) {
        id
      }
      ...Card @skip(if: $yes)
    }
  }
}

fragment Card on Pin {
  title
}"""


def test_directives_at_the_limit_pass_and_one_past_is_refused() -> None:
    assert check(DIRECTIVES, max_directives_per_field=2) == []
    error = only_error(check(DIRECTIVES, max_directives_per_field=1))
    assert error.message == (
        "operation Directives has 2 directives on one field; "
        "the limit is 1 (PINQL_MAX_DIRECTIVES_PER_FIELD)"
    )
    assert error.extensions == {"code": "TOO_MANY_DIRECTIVES", "limit": 1, "found": 2}
    assert where(error) == [(3, 5)]


ON_SPREAD = """query D($a: Boolean!, $b: Boolean!) {
  pins { nodes { ...Card @include(if: $a) @skip(if: $b) } }
}
fragment Card on Pin { title }"""
ON_INLINE_FRAGMENT = """query D($a: Boolean!, $b: Boolean!) {
  pins { nodes { ... on Pin @include(if: $a) @skip(if: $b) { id } } }
}"""
IN_FRAGMENT = """query D($a: Boolean!, $b: Boolean!) {
  pins { nodes { ...Card } }
}
fragment Card on Pin { title @include(if: $a) @skip(if: $b) }"""


@pytest.mark.parametrize(
    ("text", "kind", "location"),
    [
        (ON_SPREAD, "fragment spread", (2, 18)),
        (ON_INLINE_FRAGMENT, "inline fragment", (2, 18)),
        (IN_FRAGMENT, "field", (4, 24)),
    ],
)
def test_directives_count_on_spreads_inline_fragments_and_inside_fragments(
    text: str, kind: str, location: tuple[int, int]
) -> None:
    assert check(text, max_directives_per_field=2) == []
    error = only_error(check(text, max_directives_per_field=1))
    assert error.message == (
        f"operation D has 2 directives on one {kind}; "
        "the limit is 1 (PINQL_MAX_DIRECTIVES_PER_FIELD)"
    )
    assert where(error) == [location]


def test_every_broken_rule_is_reported() -> None:
    text = """query All($yes: Boolean!) {
  a: viewer @include(if: $yes) @skip(if: false) { pins { nodes { id } } }
  b: pins { totalCount }
}"""
    errors = check(text, max_depth=3, max_aliases=1, max_root_fields=1, max_directives_per_field=1)
    assert [e.extensions["code"] for e in errors if e.extensions] == [
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "TOO_MANY_ROOT_FIELDS",
        "TOO_MANY_DIRECTIVES",
    ]


def test_limits_hold_on_documents_validation_would_refuse() -> None:
    """check_document runs before validation: unknown fragments and fragment cycles neither
    crash nor loop, and a flood is still refused."""
    limits = Limits(max_depth=15, max_aliases=30, max_root_fields=20, max_directives_per_field=4)
    cycle = "{ viewer { ...A } } fragment A on User { ...B } fragment B on User { ...A id }"
    assert check_document(parse(cycle), limits) == []
    flood = "{ ...Missing " + " ".join(f"a{i}: nothing" for i in range(31)) + " }"
    codes = [(e.extensions or {}).get("code") for e in check_document(parse(flood), limits)]
    assert codes == ["TOO_MANY_ALIASES", "TOO_MANY_ROOT_FIELDS"]


def test_prepare_refuses_a_flood_before_validating_it() -> None:
    """A root-field flood that validation would spend ~1 s on is refused by the limits."""
    limits = Limits(max_depth=15, max_aliases=30, max_root_fields=20, max_directives_per_field=4)
    flood = "{ " + "viewer { id } " * 450 + "}"
    prepared = prepare(flood, check=partial(check_document, limits=limits), max_tokens=2000)
    codes = [(e.extensions or {}).get("code") for e in prepared.errors]
    assert codes == ["TOO_MANY_ROOT_FIELDS", "FIELD_REPEATED"]


def test_a_field_repeated_past_the_limit_is_refused_before_validation() -> None:
    """Validation compares every pair of fields with one response key (quadratic): 280
    repeats cost it ~0.5 s, so they are refused first, wherever the selection set is."""
    limits = Limits(15, 30, 20, 4, max_field_repeats=10)
    at_limit = "{ viewer { " + "following { nodes { id } } " * 10 + "} }"
    assert check_document(parse(at_limit), limits) == []
    for flood in (
        "{ viewer { " + "following { nodes { id } } " * 280 + "} }",
        "{ viewer { ...F } } fragment F on User { " + "... on User { id } " * 11 + "}",
    ):
        prepared = prepare(flood, check=partial(check_document, limits=limits))
        [error] = prepared.errors
        assert error.extensions is not None
        assert error.extensions["code"] == "FIELD_REPEATED"
        assert error.extensions["limit"] == 10
        assert "PINQL_MAX_FIELD_REPEATS" in error.message
        assert error.locations
