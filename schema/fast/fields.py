"""How the fast path gets a field's value: read from the field's Strawberry definition, so it
calls what the normal path calls.

A field without a resolver reads the parent row's attribute (Strawberry's default
resolver); a field with one calls that resolver's plain function from resolvers/
(`load_<field>(loaders, root, **arguments)`, which returns the loader's future). A resolver
missing from `PLAIN`, or anything Strawberry would wrap (permissions, field extensions),
leaves the field unplannable, and its operation runs on the normal path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import GraphQLField
from strawberry.types.field import StrawberryField

from loaders.nodes import global_id_of
from resolvers import boards, comments, connections, nodes, pins, query, users
from resolvers.keyed import ByKey, by_key_of

STRAWBERRY_DEFINITION = "strawberry-definition"


class Kind(Enum):
    """Where a field's value comes from."""

    ATTRIBUTE = "attribute"
    """`getattr(root, name)`: a row column, a page's edges, an edge's node..."""
    ROOT = "root"
    """`fn(root)`, synchronous: the global `id` of a node."""
    LOAD = "load"
    """`fn(loaders, root, **arguments)`: the loader's future (or a value, or a coroutine)."""
    TYPENAME = "typename"
    """`__typename`: the runtime type's name."""


@dataclass(frozen=True, slots=True)
class Source:
    """How to get one field's value from its parent."""

    kind: Kind
    name: str = ""
    """ATTRIBUTE: the attribute; TYPENAME: the type's name."""
    fn: Callable[..., Any] | None = None
    """ROOT and LOAD: the function to call."""
    by_key: ByKey | None = None
    """LOAD: what `fn` loads, when it is one loader's value for a column of the parent."""


# Each Strawberry resolver (as schema/ declares it) → its plain function, taking the field's
# arguments by their GraphQL names.
PLAIN: dict[Callable[..., Any], Callable[..., Any]] = {
    query.viewer: query.load_viewer,
    query.user: query.load_user,
    query.board: query.load_board,
    query.pin: query.load_pin,
    query.pins: query.load_pins,
    query.home_feed: query.load_home_feed,
    nodes.node: nodes.load_node_field,
    nodes.nodes: nodes.load_nodes_field,
    users.follower_count: users.load_follower_count,
    users.following_count: users.load_following_count,
    users.viewer_is_following: users.load_viewer_is_following,
    users.boards: users.load_boards,
    users.pins: users.load_pins,
    users.followers: users.load_followers,
    users.following: users.load_following,
    boards.owner: boards.load_owner,
    boards.pin_count: boards.load_pin_count,
    boards.pins: boards.load_pins,
    pins.creator: pins.load_creator,
    pins.board: pins.load_board,
    pins.saved_from: pins.load_saved_from,
    pins.save_count: pins.load_save_count,
    pins.comment_count: pins.load_comment_count,
    pins.comments: pins.load_comments,
    comments.author: comments.load_author,
    comments.pin: comments.load_pin,
    connections.total_count: connections.load_total_count,
}
# Synchronous resolvers that take the parent alone → what the fast path calls (the same
# value: `global_id` only wraps it in strawberry.ID, a NewType, so the identity).
ROOT_ONLY: dict[Callable[..., Any], Callable[..., Any]] = {nodes.global_id: global_id_of}


def source_of(field: GraphQLField) -> Source | None:
    """How the fast path gets `field`'s value; None when it cannot."""
    definition = field.extensions.get(STRAWBERRY_DEFINITION)
    if not isinstance(definition, StrawberryField):
        return None
    if definition.extensions or definition.permission_classes:
        return None  # Strawberry wraps the resolver: only the normal path runs that
    if definition.is_basic_field:
        return Source(Kind.ATTRIBUTE, name=definition.python_name)
    resolver = definition.base_resolver
    if resolver is None:
        return None
    wrapped: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
    # Arguments reach the plain function by GraphQL name: they must be the Python names.
    if {argument.python_name for argument in definition.arguments} != set(field.args):
        return None
    if wrapped in ROOT_ONLY and not field.args:
        return Source(Kind.ROOT, fn=ROOT_ONLY[wrapped])
    plain = PLAIN.get(wrapped)
    if plain is None:
        return None
    return Source(Kind.LOAD, fn=plain, by_key=by_key_of(plain))
