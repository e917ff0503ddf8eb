"""What the peer is sent for each benchmarked operation: its document in queries/ (named as
the operation's file, fragments taken from the folder as operations/ does), with variables
that mean what the operation's do: the same objects (PostGraphile's row ids and node IDs for
pinql's global IDs), page sizes and viewer (by id: the peer has no sign-in)."""

from __future__ import annotations

import base64
import json
from typing import Any

from bench.operations import Operation
from bench.postgraphile.install import PACKAGE_DIR
from bench.wrk import WrkRequest
from resolvers.ids import decode_global_id, decode_id_of
from server.persisted.folder import document_of

QUERIES_DIR = PACKAGE_DIR / "queries"
LABEL = "PostGraphile"
NODE_ALIASES = {"User": "users", "Board": "boards", "Pin": "pins", "Comment": "comments"}
"""PostGraphile's name for each node type in its node IDs: its table's (plural) name."""
NODE_LOOKUPS = 12
"""How many objects queries/NodeLookup.graphql looks up ($n0 to $n11)."""
HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def node_id(type_name: str, id: int) -> str:
    """PostGraphile's node ID of a row: base64 of the JSON array [table, id]."""
    named = json.dumps([NODE_ALIASES[type_name], id], separators=(",", ":"))
    return base64.b64encode(named.encode()).decode()


def peer_variables(operation: Operation, viewer: int, viewer_username: str) -> dict[str, Any]:
    """The peer's variables for `operation` as the viewer `viewer` (`viewer_username`)."""
    sent = operation.variables
    ids = {"viewerId": str(viewer)}
    match operation.key:
        case "feed" | "latest":
            return {**ids, "first": sent["first"]}
        case "board":
            board = decode_id_of("Board", sent["boardId"])
            return {**ids, "boardId": str(board), "first": sent["first"]}
        case "profile":
            own = sent["username"] == viewer_username
            return {**ids, "username": sent["username"], "ownProfile": own, **_boards(sent)}
        case "pin":
            pin = decode_id_of("Pin", sent["pinId"])
            return {**ids, "pinId": str(pin), "commentsFirst": sent["commentsFirst"]}
        case "nodes":
            return _node_variables(sent["ids"])
    raise ValueError(f"no peer query for operation {operation.key!r}")


def _boards(sent: dict[str, Any]) -> dict[str, Any]:
    return {"boardsFirst": sent["boardsFirst"]} if "boardsFirst" in sent else {}


def _node_variables(ids: list[str]) -> dict[str, str]:
    if len(ids) != NODE_LOOKUPS:
        raise SystemExit(
            f"the peer's NodeLookup looks up {NODE_LOOKUPS} objects, the operation {len(ids)}: "
            "a data set this small has too few public objects (use a larger --scale)"
        )
    decoded = [decode_global_id(global_id) for global_id in ids]
    return {f"n{i}": node_id(d.type_name, d.id) for i, d in enumerate(decoded)}


def has_peer_query(operation: Operation) -> bool:
    """Whether the peer has an equivalent of `operation` (queries/): PostGraphile 4 has no
    full-text search or related pins of its own, so SearchPage and RelatedPins have none."""
    return (QUERIES_DIR / operation.document).exists()


def peer_request(operation: Operation, viewer: int, viewer_username: str) -> WrkRequest:
    """The peer's request for `operation`: `POST /graphql` with its query and variables."""
    body = {
        "query": document_of(QUERIES_DIR / operation.document),
        "variables": peer_variables(operation, viewer, viewer_username),
    }
    encoded = json.dumps(body, separators=(",", ":")).encode()
    return WrkRequest(f"{operation.key} {LABEL}", "POST", "/graphql", encoded, HEADERS)
