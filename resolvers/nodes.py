"""Resolvers shared by every node type: the global `id` field, `node` and `nodes`.

`node` and `nodes` are also plain functions `load_<field>(loaders, root, **arguments)`
(root: None) that the fast path (schema/fast) calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

import strawberry

from loaders import Loaders
from loaders.nodes import NodeRow, global_id_of, load_node, load_nodes
from resolvers.context import Info


def global_id(root: NodeRow) -> strawberry.ID:
    """`id` of any node: the global ID of its GraphQL type and database id."""
    return strawberry.ID(global_id_of(root))


def load_node_field(loaders: Loaders, root: None, id: str) -> Awaitable[NodeRow | None]:
    """`Query.node`: the object with this global ID, or null."""
    return load_node(loaders, id)


def load_nodes_field(
    loaders: Loaders, root: None, ids: Sequence[str]
) -> Awaitable[list[NodeRow | None]]:
    """`Query.nodes`: the objects with these global IDs, in order, null where not found."""
    return load_nodes(loaders, list(ids))


async def node(info: Info, id: strawberry.ID) -> NodeRow | None:
    """`Query.node`: the object with this global ID, or null."""
    return await load_node_field(info.context.loaders, None, id)


async def nodes(info: Info, ids: list[strawberry.ID]) -> list[NodeRow | None]:
    """`Query.nodes`: the objects with these global IDs, in order, null where not found."""
    return await load_nodes_field(info.context.loaders, None, ids)
