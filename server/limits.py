"""Document limits checked once per document, before validation and execution: nesting depth,
aliases, root fields and directives per selection (README, "Limits, cost and faults"). The
walk tolerates what validation would refuse (unknown fragments count as empty, a fragment
cycle is cut), so a flood of fields is refused before validation's quadratic rules run.

Fragments count where they are spread: each fragment is summarised once (its depth, the
aliases it holds with those of the fragments it spreads, its most directives on one
selection) and the summary is reused at every spread, so a check is linear in the
document's size however often a fragment is spread, and no walk recurses in Python.
Alias counts saturate at COUNT_CAP (a fragment spread twice by fragments spread twice...
multiplies them). Root fields are counted as selected: `viewer` selected twice at the root
counts twice (execution merges them, but validation compares every pair).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
)

from server.settings import Settings

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_ROOT_FIELDS = "TOO_MANY_ROOT_FIELDS"
TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"
FIELD_REPEATED = "FIELD_REPEATED"
COUNT_CAP = 2**31 - 1
SETTINGS = {
    QUERY_TOO_DEEP: "PINQL_MAX_DEPTH",
    TOO_MANY_ALIASES: "PINQL_MAX_ALIASES",
    TOO_MANY_ROOT_FIELDS: "PINQL_MAX_ROOT_FIELDS",
    TOO_MANY_DIRECTIVES: "PINQL_MAX_DIRECTIVES_PER_FIELD",
    FIELD_REPEATED: "PINQL_MAX_FIELD_REPEATS",
}
KINDS = {
    FieldNode: "field",
    FragmentSpreadNode: "fragment spread",
    InlineFragmentNode: "inline fragment",
}


@dataclass(frozen=True, slots=True)
class Limits:
    """The shape limits one operation must stay within (each names its setting)."""

    max_depth: int
    max_aliases: int
    max_root_fields: int
    max_directives_per_field: int
    max_field_repeats: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits PINQL_MAX_DEPTH, _ALIASES, _ROOT_FIELDS, _DIRECTIVES_PER_FIELD and
        _FIELD_REPEATS set."""
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_root_fields=settings.max_root_fields,
            max_directives_per_field=settings.max_directives_per_field,
            max_field_repeats=settings.max_field_repeats,
        )


@dataclass(frozen=True, slots=True)
class _Chain:
    """Fields from a definition's top down to one field, kept bottom-up (shared tails)."""

    field: FieldNode
    parent: _Chain | None


@dataclass(frozen=True, slots=True)
class _Summary:
    """What one operation or fragment holds, fragments spread in it included."""

    depth: int
    """Most nested fields, counting the definition's own top fields as 1 (0: no field)."""
    chain: _Chain | None
    """The deepest path's fields in this definition (bottom-up); it ends at `via`'s spread."""
    via: _Summary | None
    """The fragment spread where the deepest path continues, if it does."""
    aliases: int
    directives: int
    """Most directives on one field, spread or inline fragment."""
    directives_node: SelectionNode | None

    def deepest_path(self) -> Iterator[FieldNode]:
        """The deepest path's fields, top down, through the fragments it enters."""
        summary: _Summary | None = self
        while summary is not None:
            fields: list[FieldNode] = []
            link = summary.chain
            while link is not None:
                fields.append(link.field)
                link = link.parent
            yield from reversed(fields)
            summary = summary.via


def check_document(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """The limits each operation of a valid `document` breaks, one error per rule broken."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    summaries: dict[str, _Summary] = {}
    for name in _dependency_order(fragments):
        summaries[name] = _summarise(fragments[name].selection_set, summaries)
    errors: list[GraphQLError] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            summary = _summarise(definition.selection_set, summaries)
            errors += _operation_errors(definition, summary, fragments, limits)
    repeated = _most_repeated(document)
    if repeated is not None and repeated[0] > limits.max_field_repeats:
        found, field = repeated
        key = (field.alias or field.name).value
        errors.append(
            GraphQLError(
                f"{key} is selected {found} times in one selection set; the limit is "
                f"{limits.max_field_repeats} ({SETTINGS[FIELD_REPEATED]})",
                nodes=field,
                extensions={
                    "code": FIELD_REPEATED,
                    "limit": limits.max_field_repeats,
                    "found": found,
                },
            )
        )
    return errors


def _most_repeated(document: DocumentNode) -> tuple[int, FieldNode] | None:
    """The response key selected most often in one selection set (inline fragments merged
    into it) anywhere in the document, with its count: validation compares every pair of
    fields sharing a response key, so a key repeated hundreds of times costs it seconds."""
    worst: tuple[int, FieldNode] | None = None
    pending = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while pending:
        counts: dict[str, int] = {}
        level = list(pending.pop().selections)
        while level:
            selection = level.pop()
            if isinstance(selection, InlineFragmentNode):
                level.extend(selection.selection_set.selections)
            elif isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                counts[key] = counts.get(key, 0) + 1
                if worst is None or counts[key] > worst[0]:
                    worst = (counts[key], selection)
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
    return worst


def _operation_errors(
    operation: OperationDefinitionNode,
    summary: _Summary,
    fragments: dict[str, FragmentDefinitionNode],
    limits: Limits,
) -> list[GraphQLError]:
    name = f"operation {operation.name.value}" if operation.name else "the anonymous operation"
    errors: list[GraphQLError] = []

    def refuse(code: str, limit: int, found: int, what: str, node: Node) -> None:
        errors.append(
            GraphQLError(
                f"{name} {what}; the limit is {limit} ({SETTINGS[code]})",
                nodes=node,
                extensions={"code": code, "limit": limit, "found": found},
            )
        )

    depth, aliases = summary.depth, summary.aliases
    if depth > limits.max_depth:
        path = summary.deepest_path()
        too_deep = next(f for level, f in enumerate(path, 1) if level > limits.max_depth)
        refuse(QUERY_TOO_DEEP, limits.max_depth, depth, f"is {depth} levels deep", too_deep)
    if aliases > limits.max_aliases:
        what = f"has {aliases} aliased fields"
        refuse(TOO_MANY_ALIASES, limits.max_aliases, aliases, what, operation)
    root_fields = _root_fields(operation.selection_set, fragments)
    if len(root_fields) > limits.max_root_fields:
        first_past = root_fields[limits.max_root_fields]
        what = f"selects {len(root_fields)} root fields"
        refuse(TOO_MANY_ROOT_FIELDS, limits.max_root_fields, len(root_fields), what, first_past)
    directives, worst = summary.directives, summary.directives_node
    if directives > limits.max_directives_per_field and worst is not None:
        kind = KINDS.get(type(worst), "selection")
        what = f"has {directives} directives on one {kind}"
        refuse(TOO_MANY_DIRECTIVES, limits.max_directives_per_field, directives, what, worst)
    return errors


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """The names of the fragments spread anywhere in `selection_set` (not inside them)."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def _dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after every fragment it spreads (validation ruled out cycles)."""
    order: list[str] = []
    done: set[str] = set()
    for root in fragments:
        if root in done:
            continue
        stack = [(root, iter(list(_spreads(fragments[root].selection_set))))]
        done.add(root)
        while stack:
            name, pending = stack[-1]
            spread = next((s for s in pending if s not in done and s in fragments), None)
            if spread is None:
                stack.pop()
                order.append(name)
            else:
                done.add(spread)
                stack.append((spread, iter(list(_spreads(fragments[spread].selection_set)))))
    return order


def _summarise(selection_set: SelectionSetNode, summaries: dict[str, _Summary]) -> _Summary:
    """Walks one definition's selections; spread fragments contribute their summaries."""
    depth, chain, via = 0, None, None
    aliases = 0
    directives, directives_node = -1, None
    stack: list[tuple[SelectionSetNode, int, _Chain | None]] = [(selection_set, 0, None)]
    while stack:
        selections, level, parent = stack.pop()
        for selection in selections.selections:
            count = len(selection.directives or ())
            if count > directives:
                directives, directives_node = count, selection
            if isinstance(selection, FieldNode):
                link = _Chain(selection, parent)
                if level + 1 > depth:
                    depth, chain, via = level + 1, link, None
                if selection.alias is not None:
                    aliases += 1
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, level + 1, link))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, level, parent))
            elif isinstance(selection, FragmentSpreadNode):
                spread = summaries.get(selection.name.value)
                if spread is None:
                    continue
                if level + spread.depth > depth:
                    depth, chain, via = level + spread.depth, parent, spread
                aliases += spread.aliases
                if spread.directives > directives:
                    directives, directives_node = spread.directives, spread.directives_node
    return _Summary(depth, chain, via, min(aliases, COUNT_CAP), max(directives, 0), directives_node)


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """Every field selected at the root, fragments expanded (each once), in order."""
    fields: list[FieldNode] = []
    visited: set[str] = set()
    stack: list[SelectionNode] = list(reversed(selection_set.selections))
    while stack:
        selection = stack.pop()
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            stack.extend(reversed(selection.selection_set.selections))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in visited and name in fragments:
                visited.add(name)
                stack.extend(reversed(fragments[name].selection_set.selections))
    return fields
