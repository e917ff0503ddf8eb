"""Fuzzing /graphql: no input, however wrong, gets a 5xx or a masked internal error.

Schema-driven (hypothesis-graphql, from schema.graphql): valid queries as anonymous and as a
signed-in world user, against the world (reads only); invalid queries (one schema violation
each); mutations as a signed-in user and anonymous, against a throwaway world of this module.
hypothesis-graphql writes argument values inline; half of the operations have them lifted into
`variables` (typed variable definitions), and some of those values swapped for random JSON, so
variable coercion is fuzzed too. IDs, Ints and Strings are drawn partly from the world (real
global IDs, cursors, usernames, `first` in 1..100), so resolvers and SQL run, not only argument
checks. Raw HTTP: random bytes, JSON values and parameter objects, with random Content-Type,
Accept, Authorization, client-name, client key (X-API-Key: registered, near misses) and
Idempotency-Key headers, as GET or POST.

Every example must answer below 500 with no INTERNAL_SERVER_ERROR in `errors` (a masked
exception is a 500 in disguise); the assertion message holds the request. The limits (depth,
aliases, cost, rate limits) may refuse examples with a 4xx or a coded error: that is fine.
Derandomized and bounded (no example database, no shrinking): 3,000 examples, about 30 s on two
cores. Run with -s to print, per strategy, the examples run, the time taken and the (status,
code) pairs seen.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes
from hypothesis_graphql import strategies as gql_st

from resolvers.cursors import encode_cursor
from resolvers.ids import encode_global_id
from server.auth import issue_token
from server.client_keys import KEY_HEADER, new_key
from server.persisted.folder import read_folder
from tests import world
from tests.conftest import MakeDatabase, new_database
from tests.support import SECRET, GraphQLClient, serve

ROOT = Path(__file__).resolve().parents[2]
SDL = (ROOT / "schema.graphql").read_text()
SCHEMA = graphql.build_schema(SDL)
OPERATIONS = [d.text for d in read_folder(ROOT / "operations")]  # with their fragments

QUERY_EXAMPLES = 700
INVALID_EXAMPLES = 300
MUTATION_EXAMPLES = 500
RAW_EXAMPLES = 1500
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the message holds the request
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)

# ---- what the strategies draw from -------------------------------------------------------------

WORLD_IDS: dict[str, Collection[int]] = {
    "User": world.USERNAMES.keys(),
    "Board": world.BOARD_OWNER.keys(),
    "Pin": world.PIN_BOARD.keys(),
    "Comment": world.COMMENT_PIN.keys(),
}
NODE_IDS = [encode_global_id(kind, id) for kind, ids in WORLD_IDS.items() for id in ids]
WORLD_STRINGS = [*world.USERNAMES.values(), *(encode_cursor(p) for p in world.PIN_BOARD), ""]
# NUL (PostgreSQL text refuses it), padding, a line separator, an astral emoji, SQL, a format
TRICKY_STRINGS = ["olive\x00", "\x00", " olive ", "\u2028", "\U0001f4cc", "' or 1=1 --", "%s"]
TRICKY_STRINGS += ["x" * 2000]
SCALARS = {
    "ID": st.one_of(
        st.sampled_from(NODE_IDS), st.sampled_from(NODE_IDS[::-1]), st.text(max_size=30)
    ).map(nodes.String),
    "Int": st.one_of(
        st.integers(1, 100), st.integers(1, 100), st.integers(-(2**31), 2**31 - 1)
    ).map(nodes.Int),
    "String": st.one_of(
        st.sampled_from(WORLD_STRINGS), st.sampled_from(TRICKY_STRINGS), st.text(max_size=60)
    ).map(nodes.String),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
}
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(NODE_IDS + TRICKY_STRINGS),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VIEWERS = st.sampled_from([world.OLIVE, world.OTTO, world.ADA, None])
TOKENS = [
    *(issue_token(user, SECRET, 3600) for user in world.USERNAMES),
    issue_token(world.OLIVE, SECRET, 3600, now=time.time() - 7200),  # expired
    issue_token(world.OLIVE, "another-secret-of-at-least-32-characters", 3600),
    issue_token(999_999, SECRET, 3600),  # a user that does not exist
    "x",
]

# ---- bookkeeping -------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one strategy's examples saw: their count, time and (status, code) pairs."""

    examples: int = 0
    started: float = 0.0
    ended: float = 0.0
    outcomes: Counter[tuple[int, str]] = field(default_factory=Counter)


TALLIES: dict[str, Tally] = {}


def record(strategy: str, response: httpx.Response) -> list[str]:
    """Counts one example's answer; its error codes."""
    tally = TALLIES.setdefault(strategy, Tally(started=time.monotonic()))
    tally.examples += 1
    tally.ended = time.monotonic()
    try:
        body = response.json()
    except ValueError:
        body = None
    codes = [
        str((e.get("extensions") or {}).get("code"))
        for e in (body.get("errors") or [] if isinstance(body, dict) else [])
        if isinstance(e, dict)
    ]
    for code in codes or ["-"]:
        tally.outcomes[(response.status_code, code)] += 1
    return codes


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Prints the tallies when the module is done (pytest -s)."""
    yield
    print("\nfuzz: strategy, examples, seconds, (status, code) pairs")
    for name, tally in TALLIES.items():
        pairs = ", ".join(f"{s} {c}: {n}" for (s, c), n in sorted(tally.outcomes.items()))
        print(f"  {name}: {tally.examples} examples, {tally.ended - tally.started:.1f} s; {pairs}")


def check(strategy: str, response: httpx.Response, request: str) -> None:
    """Fails on a 5xx or a masked internal error, naming the request."""
    codes = record(strategy, response)
    if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes:
        # no traceback: the request and the answer say it all
        pytest.fail(
            f"{strategy}: {response.status_code} for {request[:4000]}\n-> {response.text[:2000]}",
            pytrace=False,
        )


# ---- operations with variables -----------------------------------------------------------------


class _Lift(graphql.Visitor):
    """Replaces each argument's literal by a variable of the argument's type."""

    def __init__(self, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.definitions: list[graphql.VariableDefinitionNode] = []
        self.values: dict[str, Any] = {}

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
        argument = self.type_info.get_argument()
        if argument is None:
            return None
        variable = graphql.VariableNode(name=graphql.NameNode(value=f"v{len(self.definitions)}"))
        self.definitions.append(
            graphql.VariableDefinitionNode(
                variable=variable, type=graphql.parse_type(str(argument.type))
            )
        )
        self.values[variable.name.value] = graphql.value_from_ast_untyped(node.value)
        return graphql.ArgumentNode(name=node.name, value=variable)


def lift(document: graphql.DocumentNode) -> tuple[str, dict[str, Any]]:
    """The operation with its argument values moved to variables, and those variables."""
    type_info = graphql.TypeInfo(SCHEMA)
    lifter = _Lift(type_info)
    lifted = graphql.visit(document, graphql.TypeInfoVisitor(type_info, lifter))
    [operation] = lifted.definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    operation = graphql.OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=tuple(lifter.definitions),
        directives=operation.directives,
        selection_set=operation.selection_set,
    )
    return graphql.print_ast(graphql.DocumentNode(definitions=(operation,))), lifter.values


@dataclass(frozen=True)
class Operation:
    """One GraphQL request: the text, its variables (None: inline values) and the viewer."""

    query: str
    variables: dict[str, Any] | None
    viewer: int | None

    def __str__(self) -> str:
        variables = json.dumps(self.variables, default=repr)[:1500]
        return f"viewer {self.viewer}: {self.query}\nvariables: {variables}"


@st.composite
def operations(draw: st.DrawFn, documents: st.SearchStrategy[graphql.DocumentNode]) -> Operation:
    """A drawn document, sent with inline values or variables (some of them random JSON)."""
    document = draw(documents)
    viewer = draw(VIEWERS)
    if not draw(st.booleans()):
        return Operation(graphql.print_ast(document), None, viewer)
    text, variables = lift(document)
    for name in sorted(variables):
        if draw(st.integers(0, 7)) == 0:
            variables[name] = draw(JSON_VALUES)
    if variables and draw(st.integers(0, 9)) == 0:
        del variables[draw(st.sampled_from(sorted(variables)))]
    return Operation(text, variables, viewer)


def documents(kind: str, mode: Mode = Mode.POSITIVE) -> st.SearchStrategy[graphql.DocumentNode]:
    """hypothesis-graphql documents (ASTs) of `kind`, queries or mutations."""
    scalars = SCALARS if mode is Mode.POSITIVE else {"DateTime": SCALARS["DateTime"]}
    make = gql_st.queries if kind == "queries" else gql_st.mutations
    return make(SDL, custom_scalars=scalars, print_ast=lambda document: document, mode=mode)


async def send(client: GraphQLClient, strategy: str, operation: Operation) -> None:
    """POSTs one operation as its viewer and checks the answer."""
    response = await client.post(operation.query, operation.variables, viewer=operation.viewer)
    check(strategy, response, str(operation))


# ---- schema-driven -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def reader(world_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql serving the world, not rate limited (every example should run)."""
    async with serve(world_database, PINQL_RATE_LIMIT=False) as client:
        yield client


@pytest.fixture(scope="module")
async def scratch_database(make_database: MakeDatabase) -> str:
    """A world of this module's own, for mutations and raw requests."""
    return await new_database(make_database, with_world=True)


@pytest.fixture(scope="module")
async def writer(scratch_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql serving this module's world, not rate limited."""
    async with serve(scratch_database, PINQL_RATE_LIMIT=False) as client:
        yield client


# Example 19 looks up `user(username: "olive\u0000")`: PostgreSQL refuses NUL in text, so the
# lookup must not send it (resolvers/query.py `user`; tests/server/test_bad_input.py
# test_nul_in_a_variable_of_a_lookup_finds_nothing).
@settings(FUZZ, max_examples=QUERY_EXAMPLES)
@given(operation=operations(documents("queries")))
async def test_queries(reader: GraphQLClient, operation: Operation) -> None:
    await send(reader, "queries", operation)


@settings(FUZZ, max_examples=INVALID_EXAMPLES)
@given(operation=operations(documents("queries", Mode.NEGATIVE)))
async def test_invalid_queries(reader: GraphQLClient, operation: Operation) -> None:
    await send(reader, "invalid queries", operation)


@settings(FUZZ, max_examples=MUTATION_EXAMPLES)
@given(operation=operations(documents("mutations")))
async def test_mutations(writer: GraphQLClient, operation: Operation) -> None:
    await send(writer, "mutations", operation)


# ---- raw HTTP ----------------------------------------------------------------------------------

ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=UTF8",
    "application/json; charset=latin-1",
    "application/json;;",
    "application/graphql-response+json",
    "application/graphql",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
    "",
]
ACCEPTS = [
    "application/json",
    "application/graphql-response+json",
    "*/*",
    "text/html",
    "text/plain",
    "application/json;q=0",
    "application/json;q=x, */*;q=",
    "",
]
QUERIES = [
    *OPERATIONS,
    "{ viewer { id } }",
    "{ pins { nodes { id title } } }",
    "query A { viewer { id } } query B { viewer { id } }",
    "{ __schema { types { name } } }",
    "{",
]


@st.composite
def header(draw: st.DrawFn, values: list[str]) -> str | None:
    """A header value: mostly the first (the sensible one), else another, random or none."""
    pick = draw(st.integers(0, 9))
    if pick < 5:
        return values[0]
    if pick < 8:
        return draw(st.sampled_from(values))
    return draw(ASCII) if pick == 8 else None


@st.composite
def mostly(draw: st.DrawFn, usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> Any:
    """A value of `usual` four times in five, else one of `other`."""
    return draw(usual if draw(st.integers(0, 4)) else other)


@st.composite
def raw_requests(draw: st.DrawFn) -> httpx.Request:
    """An HTTP request to /graphql, anything from sensible to garbage."""
    drawn = {
        "Content-Type": draw(header(CONTENT_TYPES)),
        "Accept": draw(header(ACCEPTS)),
        "Authorization": draw(header([f"Bearer {token}" for token in TOKENS])),
        "graphql-client-name": draw(header(["web", "ios", "web2", ""])),
        "Idempotency-Key": draw(header(["k-0001", ""])),
    }
    for optional in ("Authorization", "graphql-client-name", "Idempotency-Key"):
        if draw(st.booleans()):
            drawn[optional] = None
    # "@name": the key of registered client `name`, put in by the test (keys are made when
    # the server starts): mostly the named client's own (none without a name), else a near
    # miss.
    name = drawn["graphql-client-name"]
    near_miss = header(["@ios", new_key(), ""])
    own = st.just(f"@{name}") if name in ("web", "ios") else near_miss
    drawn[KEY_HEADER] = draw(mostly(st.none() if name is None else own, near_miss))
    headers = {name: value for name, value in drawn.items() if value is not None}
    parameters = st.fixed_dictionaries(
        {},
        optional={
            "query": mostly(st.sampled_from(QUERIES), JSON_VALUES),
            "variables": mostly(st.dictionaries(st.text(max_size=8), JSON_VALUES), JSON_VALUES),
            "operationName": mostly(st.sampled_from(["A", "B", "HomeFeed"]), JSON_VALUES),
            "extensions": mostly(st.just({}), JSON_VALUES),
            "documentId": mostly(st.none(), ASCII | JSON_VALUES),
        },
    )
    with_query = st.builds(
        lambda query, rest: {**rest, "query": query}, st.sampled_from(QUERIES), parameters
    )
    if draw(st.integers(0, 4)) == 0:  # GET: parameters in the URL, JSON-encoded where objects
        drawn_params = draw(mostly(with_query, parameters))
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in drawn_params.items()}
        return httpx.Request("GET", "http://pinql.test/graphql", params=params, headers=headers)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        body = draw(st.binary(max_size=200))
    elif kind == 1:
        body = json.dumps(draw(JSON_VALUES)).encode()
    elif kind == 2:
        body = json.dumps(draw(parameters), ensure_ascii=False).encode()
    elif kind == 3:
        body = json.dumps(draw(with_query)).encode()[:-1]  # cut short
    else:
        body = json.dumps(draw(with_query), ensure_ascii=kind % 2 == 0).encode()
    return httpx.Request("POST", "http://pinql.test/graphql", content=body, headers=headers)


@pytest.fixture(scope="module")
async def raw(scratch_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql serving this module's world with its default settings (rate limits on), and
    two registered clients."""
    async with serve(scratch_database, clients={"web": "open", "ios": "safelist"}) as client:
        yield client


@settings(FUZZ, max_examples=RAW_EXAMPLES)
@given(request=raw_requests())
async def test_raw_http(raw: GraphQLClient, request: httpx.Request) -> None:
    key = request.headers.get(KEY_HEADER, "")
    if key.startswith("@"):
        request.headers[KEY_HEADER] = raw.keys[key[1:]]
    response = await raw.http.send(request)
    described = f"{request.method} {request.url} {dict(request.headers)}\n{request.content!r}"
    check("raw HTTP", response, described)
