"""Fields shared by every node type: the global `id`, and `node`/`nodes`, which find any
node by its global ID through the by-id loaders (so with their privacy rules)."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from loaders import Loaders
from loaders.rows import NodeRow
from resolvers.errors import BadUserInput
from resolvers.fields import computed, loaded
from resolvers.ids import ENCODERS, GlobalId, decode_global_id, global_id_of

MAX_NODES = 100

global_id = computed(global_id_of, of=lambda row: row.id, by=ENCODERS.__getitem__)
"""`id` of any node: the global ID of its GraphQL type and database id."""


def load_node(loaders: Loaders, global_id: str, argument: str = "id") -> Awaitable[NodeRow | None]:
    """The node a global ID names, or None where it does not exist or is not visible."""
    return _load(loaders, decode_global_id(global_id, argument))


def _load(loaders: Loaders, decoded: GlobalId) -> Awaitable[NodeRow | None]:
    type_name, id = decoded
    if type_name == "User":
        return loaders.user_by_id.load(id)
    if type_name == "Board":
        return loaders.board_by_id.load(id)
    if type_name == "Pin":
        return loaders.pin_by_id.load(id)
    return loaders.comment_by_id.load(id)


@loaded
def node(loaders: Loaders, root: None, id: strawberry.ID) -> Awaitable[NodeRow | None]:
    """`Query.node`: the object with this global ID, or null."""
    return load_node(loaders, id)


@loaded
async def nodes(loaders: Loaders, root: None, ids: list[strawberry.ID]) -> list[NodeRow | None]:
    """`Query.nodes`: the objects of up to 100 global IDs, in order, null where not found;
    all IDs are checked before any is loaded, and all are asked for before any is awaited
    (one batch per node type)."""
    if len(ids) > MAX_NODES:
        raise BadUserInput("ids", f"ids may hold at most {MAX_NODES} IDs, got {len(ids)}")
    decoded = [decode_global_id(global_id, f"ids[{i}]") for i, global_id in enumerate(ids)]
    loads = [_load(loaders, d) for d in decoded]
    return [await load for load in loads]
