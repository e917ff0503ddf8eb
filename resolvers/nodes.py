"""Resolvers shared by every node type: the global `id` field, `node` and `nodes`."""

from __future__ import annotations

import strawberry

from loaders.nodes import NodeRow, global_id_of, load_node, load_nodes
from resolvers.context import Info


def global_id(root: NodeRow) -> strawberry.ID:
    """`id` of any node: the global ID of its GraphQL type and database id."""
    return strawberry.ID(global_id_of(root))


async def node(info: Info, id: strawberry.ID) -> NodeRow | None:
    """`Query.node`: the object with this global ID, or null."""
    return await load_node(info.context.loaders, id)


async def nodes(info: Info, ids: list[strawberry.ID]) -> list[NodeRow | None]:
    """`Query.nodes`: the objects with these global IDs, in order, null where not found."""
    return await load_nodes(info.context.loaders, list(ids))
