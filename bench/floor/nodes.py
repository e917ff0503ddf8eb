"""The floor of NodeLookup (refetching users, boards, pins and comments by global ID): its
statements in pinql's waves, its `data` from the rows."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bench.floor.request import (
    B_NAME,
    B_OWNER_ID,
    B_PRIVACY,
    BOARDS,
    C_AUTHOR_ID,
    C_CREATED_AT,
    C_PIN_ID,
    C_TEXT,
    COMMENTS,
    P_CREATOR_ID,
    P_DOMINANT_COLOR,
    P_ID,
    P_IMAGE_URL,
    P_TITLE,
    PINS,
    FloorError,
    FloorRequest,
    Json,
)
from db.waves import Row
from resolvers.errors import BadUserInput
from resolvers.ids import GlobalId, decode_global_id, encode_global_id
from resolvers.nodes import MAX_NODES


def _ids(variables: Mapping[str, Any]) -> list[GlobalId]:
    """The `ids` variable decoded, every ID checked before any is loaded (as pinql)."""
    ids = variables.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise FloorError(400, f"variable ids must be a list of strings, got {ids!r}")
    if len(ids) > MAX_NODES:
        raise BadUserInput("ids", f"ids may hold at most {MAX_NODES} IDs, got {len(ids)}")
    return [decode_global_id(global_id, f"ids[{i}]") for i, global_id in enumerate(ids)]


async def node_lookup(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """NodeLookup: 2 round trips (1 when the second has nothing to fetch).

    1. the users (USERS), boards (BOARDS), pins (PINS) and comments (COMMENTS) asked for:
       one statement per type, in the order each type first appears in `ids`;
    2. the boards' owners, the pins' creators and the comments' authors not fetched yet
       (USERS), the comments' pins not fetched yet (PINS).
    """
    ids = _ids(variables)
    asked: dict[str, dict[int, None]] = {}  # each type's ids, once each, in order
    for type_name, id in ids:
        asked.setdefault(type_name, {})[id] = None
    boards: dict[int, Row | None] = dict.fromkeys(asked.get("Board", {}))
    pins: dict[int, Row | None] = dict.fromkeys(asked.get("Pin", {}))
    comments: dict[int, Row | None] = dict.fromkeys(asked.get("Comment", {}))
    by_type = {"Board": (BOARDS, boards), "Pin": (PINS, pins), "Comment": (COMMENTS, comments)}

    async def fetch(type_name: str, keys: list[int]) -> None:
        """The rows of `keys` (users: into the request's users; none asked: no SQL)."""
        if type_name == "User":
            await q.load_users(keys)
            return
        sql, rows = by_type[type_name]
        for row in await q.rows(sql, keys):
            rows[row[0]] = row  # (each row's id is its first column)

    await asyncio.gather(*(fetch(type_name, [*keys]) for type_name, keys in asked.items()))
    shown_comments = [c for c in comments.values() if c is not None]
    await asyncio.gather(
        q.load_users(
            [
                *(b[B_OWNER_ID] for b in boards.values() if b is not None),
                *(p[P_CREATOR_ID] for p in pins.values() if p is not None),
                *(c[C_AUTHOR_ID] for c in shown_comments),
            ]
        ),
        fetch(
            "Pin", [*dict.fromkeys(c[C_PIN_ID] for c in shown_comments if c[C_PIN_ID] not in pins)]
        ),
    )
    found: dict[str, Mapping[int, Row | None]] = {
        "User": q.users,
        "Board": boards,
        "Pin": pins,
        "Comment": comments,
    }
    return {
        "nodes": [_node(q, type_name, id, found[type_name].get(id), pins) for type_name, id in ids]
    }


def _node(
    q: FloorRequest, type_name: str, id: int, row: Row | None, pins: Mapping[int, Row | None]
) -> Json | None:
    """One looked-up object (None: missing, or hidden from the viewer)."""
    if row is None:
        return None
    node: Json = {"__typename": type_name, "id": encode_global_id(type_name, id)}
    if type_name == "User":
        node.update(q.user(id, "username", "displayName", "avatarUrl") or {})
    elif type_name == "Board":
        node["name"] = row[B_NAME]
        node["privacy"] = row[B_PRIVACY]
        node["owner"] = q.username(row[B_OWNER_ID])
    elif type_name == "Pin":
        node["title"] = row[P_TITLE]
        node["image"] = {"url": row[P_IMAGE_URL], "dominantColor": row[P_DOMINANT_COLOR]}
        node["creator"] = q.username(row[P_CREATOR_ID])
    else:
        pin = pins.get(row[C_PIN_ID])
        node["text"] = row[C_TEXT]
        node["createdAt"] = row[C_CREATED_AT]
        node["author"] = q.username(row[C_AUTHOR_ID])
        node["pin"] = None
        if pin is not None:
            node["pin"] = {"id": encode_global_id("Pin", pin[P_ID]), "title": pin[P_TITLE]}
    return node
