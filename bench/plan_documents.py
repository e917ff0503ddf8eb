"""Distinct query documents for the plans soak (bench/plans_soak.py).

hypothesis-graphql draws queries from schema.graphql with a fixed seed (as
tests/server/test_fuzz.py does), their IDs and strings taken from the data set so that
resolvers run SQL. Each drawn query is rewritten REWRITES ways by a seeded random walk:
its arguments lifted into variables (`after` dropped: a drawn cursor is no cursor), some
fields aliased, some sub-selections moved into named fragments (an equal sub-selection
elsewhere spreads the same fragment, and half of the fields that spread one get an aliased
twin spreading it too) or into inline fragments, and `@include`/`@skip` on up to six
Boolean variables (CONDITIONS). Every text is distinct (operations are named
`Soak<n>`, and a rewrite equal to an earlier one is dropped), so each is a new entry of
every per-document cache, with a plan of its own.

A document is kept only when the server's checks with the default settings accept it
(server.app.preparer: tokens, depth, aliases, validation; the requested cost, its
conditions unknown, within PINQL_MAX_QUERY_COST): a refused document would measure nothing.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import graphql
from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql_st

from execution.documents import Preparer, sha256_hex
from server.app import preparer
from server.cost import requested_cost
from server.settings import Settings

SDL = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
REWRITES = 5
"""Documents made of each drawn query."""
MAX_BATCHES = 20
"""Rounds of drawing before giving up (one is enough unless the server refuses most)."""
CONDITIONS = (0, 1, 2, 3, 4, 4, 4, 5, 6)
"""How many condition variables a document may read, drawn evenly from this: four most
often (the fast path before execution/ planned up to four, one field tree per combination of
their values: the soak compares with it)."""
MAX_ALIASES = 12
ALIAS_RATE, CONDITION_RATE, FRAGMENT_RATE, INLINE_RATE, TWIN_RATE = 0.1, 0.3, 0.5, 0.1, 0.6
TYPED_LOOKUPS = {"board": "Board", "pin": "Pin"}
"""Fields whose `id` must be a global ID of this type (else BAD_USER_INPUT)."""
FIRST = (1, 5)
"""The `first` arguments drawn: small pages keep the requested cost low."""


@dataclass(frozen=True, slots=True)
class Document:
    """A query document to send, with the variables its arguments were lifted into."""

    text: str
    variables: dict[str, Any]
    conditions: tuple[str, ...]
    """Its Boolean condition variables (values drawn per request)."""

    sha256: str | None = None
    """Set: the body also carries the text's hash, as Apollo's APQ protocol sends a text
    the server did not know (so the server stores it)."""

    def body(self, rng: random.Random) -> dict[str, Any]:
        """A request's JSON body, each condition drawn true or false."""
        values = {name: rng.random() < 0.5 for name in self.conditions}
        body: dict[str, Any] = {"query": self.text, "variables": {**self.variables, **values}}
        if self.sha256 is not None:
            body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": self.sha256}}
        return body

    def padded(self, pad: int, apq: bool) -> Document:
        """This document with a comment of `pad` bytes at its end (comments are not tokens:
        no limit counts them, only the byte bounds do), sent by APQ when `apq`."""
        text = self.text + (f"\n# {'x' * (pad - 4)}\n" if pad >= 4 else "")
        return replace(self, text=text, sha256=sha256_hex(text) if apq else None)


def generate(
    count: int, seed: int, ids: Mapping[str, Sequence[str]], strings: Sequence[str]
) -> list[Document]:
    """`count` distinct documents the server accepts, the same ones for the same arguments;
    `ids` (global IDs by type name) and `strings` (usernames) are what arguments are drawn
    from. An argument of `board(id:)` or `pin(id:)` gets an ID of that type (hypothesis
    draws any), so that most lookups find something."""
    schema = graphql.build_schema(SDL)
    config = Settings.model_validate({})
    prepare = preparer(config)
    every = [id_ for kind in sorted(ids) for id_ in ids[kind]]
    found: list[Document] = []
    bodies: set[str] = set()
    for batch in range(MAX_BATCHES):
        queries = _draw(max(10, (count - len(found)) // REWRITES + 1), seed + batch, every, strings)
        for i, query in enumerate(queries):
            for rewrite in range(REWRITES):
                rng = random.Random(f"{seed}:{batch}:{i}:{rewrite}")
                document = _rewrite(schema, query, rng, f"Soak{len(found)}", ids)
                body = document.text.split("{", 1)[1]
                if body in bodies or not _accepted(schema, prepare, config, document):
                    continue
                bodies.add(body)
                found.append(document)
                if len(found) == count:
                    return found
    raise RuntimeError(f"{MAX_BATCHES} draws gave {len(found)} accepted documents, not {count}")


def _accepted(
    schema: GraphQLSchema, prepare: Preparer, config: Settings, document: Document
) -> bool:
    """Whether the server would run the document (its conditions unknown: all counted)."""
    prepared = prepare(document.text)
    if not prepared.valid or prepared.document is None:
        return False
    operation = prepared.operation(None)
    if not isinstance(operation, OperationDefinitionNode):
        return False
    cost = requested_cost(schema, prepared.document, operation, document.variables)
    return cost <= config.max_query_cost


def _draw(count: int, seed: int, ids: Sequence[str], strings: Sequence[str]) -> list[DocumentNode]:
    """`count` queries hypothesis-graphql draws with this seed (fewer if it runs dry)."""
    scalars = {
        "ID": st.sampled_from(list(ids)).map(nodes.String),
        "String": st.sampled_from(list(strings)).map(nodes.String),
        "Int": st.integers(*FIRST).map(nodes.Int),
        "DateTime": st.just(nodes.String("2024-01-01T00:00:00+00:00")),
    }
    strategy = gql_st.queries(
        SDL,
        custom_scalars=scalars,
        print_ast=lambda document: document,
        allow_x00=False,
        allow_null=False,
    )
    drawn: list[DocumentNode] = []

    @settings(
        database=None,
        max_examples=count,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def draw(document: DocumentNode) -> None:
        drawn.append(document)

    draw()
    return drawn


@dataclass
class _Rewriter:
    """Rewrites one drawn query with its own random walk."""

    schema: GraphQLSchema
    rng: random.Random
    conditions: int
    ids: Mapping[str, Sequence[str]]
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    """Lifted arguments: variable name to (type, value)."""
    used: set[str] = field(default_factory=set)
    fragments: dict[tuple[str, str], FragmentDefinitionNode] = field(default_factory=dict)
    """Fragments by (type name, printed selection)."""
    aliases: int = 0

    def selection_set(self, node: SelectionSetNode, parent: Any) -> SelectionSetNode:
        selections: list[SelectionNode] = []
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                selections += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode) and selection.type_condition:
                inner = self.schema.get_type(selection.type_condition.name.value)
                selections.append(
                    InlineFragmentNode(
                        type_condition=selection.type_condition,
                        directives=selection.directives,
                        selection_set=self.selection_set(selection.selection_set, inner),
                    )
                )
            else:
                selections.append(selection)
        return SelectionSetNode(selections=tuple(selections))

    def field(self, node: FieldNode, parent: Any) -> list[FieldNode]:
        """The rewritten field, and sometimes an aliased twin spreading the same fragment."""
        definition: GraphQLField | None = parent.fields.get(node.name.value)
        if definition is None:  # __typename
            return [node]
        arguments = tuple(
            self.argument(argument, definition, node.name.value)
            for argument in node.arguments or ()
            if argument.name.value != "after"
        )
        alias = node.alias
        if alias is None and self.aliases < MAX_ALIASES and self.rng.random() < ALIAS_RATE:
            alias = NameNode(value=f"a{self.aliases}")
            self.aliases += 1
        directives = tuple(node.directives or ())
        if self.conditions and self.rng.random() < CONDITION_RATE:
            directives += (self.condition(),)
        selection_set = node.selection_set
        if selection_set is not None:
            named = get_named_type(definition.type)
            selection_set = self.selection_set(selection_set, named)
            pick = self.rng.random()
            if pick < FRAGMENT_RATE:
                selection_set = self.spread(selection_set, named.name)
            elif pick < FRAGMENT_RATE + INLINE_RATE:
                inline = InlineFragmentNode(
                    directives=(self.condition(),) if self.conditions else (),
                    selection_set=selection_set,
                )
                selection_set = SelectionSetNode(selections=(inline,))
        fields = [
            FieldNode(
                alias=alias,
                name=node.name,
                arguments=arguments,
                directives=directives,
                selection_set=selection_set,
            )
        ]
        spreads = selection_set is not None and isinstance(
            selection_set.selections[0], FragmentSpreadNode
        )
        if spreads and self.aliases < MAX_ALIASES and self.rng.random() < TWIN_RATE:
            twin = NameNode(value=f"a{self.aliases}")
            self.aliases += 1
            directives = (self.condition(),) if self.conditions else ()
            fields.append(
                FieldNode(
                    alias=twin,
                    name=node.name,
                    arguments=arguments,
                    directives=directives,
                    selection_set=selection_set,
                )
            )
        return fields

    def argument(self, node: ArgumentNode, definition: GraphQLField, field: str) -> ArgumentNode:
        declared = definition.args.get(node.name.value)
        if declared is None or isinstance(node.value, VariableNode):
            return node
        name = f"v{len(self.variables)}"
        value = graphql.value_from_ast_untyped(node.value)
        kind = TYPED_LOOKUPS.get(field)
        if kind is not None and kind in self.ids and isinstance(value, str):
            value = self.rng.choice(list(self.ids[kind]))
        self.variables[name] = (str(declared.type), value)
        return ArgumentNode(name=node.name, value=VariableNode(name=NameNode(value=name)))

    def condition(self) -> DirectiveNode:
        name = f"c{self.rng.randint(1, self.conditions)}"
        self.used.add(name)
        value = VariableNode(name=NameNode(value=name))
        return DirectiveNode(
            name=NameNode(value=self.rng.choice(("include", "skip"))),
            arguments=(ArgumentNode(name=NameNode(value="if"), value=value),),
        )

    def spread(self, selection_set: SelectionSetNode, type_name: str) -> SelectionSetNode:
        key = (type_name, graphql.print_ast(selection_set))
        fragment = self.fragments.get(key)
        if fragment is None:
            fragment = FragmentDefinitionNode(
                name=NameNode(value=f"F{len(self.fragments)}"),
                type_condition=NamedTypeNode(name=NameNode(value=type_name)),
                selection_set=selection_set,
            )
            self.fragments[key] = fragment
        return SelectionSetNode(selections=(FragmentSpreadNode(name=fragment.name),))


def _rewrite(
    schema: GraphQLSchema,
    query: DocumentNode,
    rng: random.Random,
    name: str,
    ids: Mapping[str, Sequence[str]],
) -> Document:
    [operation] = query.definitions
    assert isinstance(operation, OperationDefinitionNode) and schema.query_type is not None
    rewriter = _Rewriter(schema, rng, rng.choice(CONDITIONS), ids)
    root = rewriter.selection_set(operation.selection_set, schema.query_type)
    conditions = tuple(sorted(rewriter.used, key=lambda c: int(c[1:])))
    definitions = [
        VariableDefinitionNode(
            variable=VariableNode(name=NameNode(value=variable)), type=graphql.parse_type(type_)
        )
        for variable, (type_, _) in rewriter.variables.items()
    ]
    definitions += [
        VariableDefinitionNode(
            variable=VariableNode(name=NameNode(value=condition)),
            type=graphql.parse_type("Boolean!"),
        )
        for condition in conditions
    ]
    rewritten = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=NameNode(value=name),
        variable_definitions=tuple(definitions),
        selection_set=root,
    )
    document = DocumentNode(definitions=(rewritten, *rewriter.fragments.values()))
    values = {variable: value for variable, (_, value) in rewriter.variables.items()}
    return Document(graphql.print_ast(document), values, conditions)
