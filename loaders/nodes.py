"""Relay node lookup: a global ID to the row the viewer may see, through the by-id loaders."""

from __future__ import annotations

from collections.abc import Awaitable

from loaders.container import Loaders
from loaders.errors import BadUserInput
from loaders.global_ids import decode_global_id, encode_global_id
from loaders.rows import BoardRow, CommentRow, PinRow, UserRow

NodeRow = UserRow | BoardRow | PinRow | CommentRow
MAX_NODES = 100
NODE_TYPE_NAMES: dict[type[NodeRow], str] = {
    UserRow: "User",
    BoardRow: "Board",
    PinRow: "Pin",
    CommentRow: "Comment",
}


def global_id_of(row: NodeRow) -> str:
    """The global ID of a node row. (schema/fast/fill.py writes this body out in the code it
    generates: keep the two the same.)"""
    return encode_global_id(NODE_TYPE_NAMES[type(row)], row.id)


def load_node(loaders: Loaders, global_id: str, argument: str = "id") -> Awaitable[NodeRow | None]:
    """The node a global ID names, or None where it does not exist or is not visible."""
    type_name, id = decode_global_id(global_id, argument)
    if type_name == "User":
        return loaders.user_by_id.load(id)
    if type_name == "Board":
        return loaders.board_by_id.load(id)
    if type_name == "Pin":
        return loaders.pin_by_id.load(id)
    return loaders.comment_by_id.load(id)


async def load_nodes(loaders: Loaders, global_ids: list[str]) -> list[NodeRow | None]:
    """The nodes of up to 100 global IDs, in order; all IDs are checked before any is loaded,
    and all are asked for before any is awaited (one batch per node type)."""
    if len(global_ids) > MAX_NODES:
        raise BadUserInput("ids", f"ids may hold at most {MAX_NODES} IDs, got {len(global_ids)}")
    for i, global_id in enumerate(global_ids):
        decode_global_id(global_id, f"ids[{i}]")
    loads = [load_node(loaders, g) for g in global_ids]
    return [await load for load in loads]
