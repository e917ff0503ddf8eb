"""Relay global IDs: opaque, URL-safe strings naming a node's type and its database id."""

from __future__ import annotations

from functools import _lru_cache_wrapper, lru_cache
from typing import NamedTuple

from loaders.rows import BoardRow, CommentRow, NodeRow, PinRow, UserRow
from resolvers.errors import BadUserInput
from resolvers.opaque import clear_text, opaque

NODE_TYPE_NAMES: dict[type[NodeRow], str] = {
    UserRow: "User",
    BoardRow: "Board",
    PinRow: "Pin",
    CommentRow: "Comment",
}
"""The GraphQL type of each row class that is a node."""
NODE_TYPES = frozenset(NODE_TYPE_NAMES.values())
_MAX_ID = 2**63 - 1


class GlobalId(NamedTuple):
    """A decoded global ID."""

    type_name: str
    id: int


GLOBAL_IDS_REMEMBERED = 16_384
"""Per worker and node type: about 4 MiB when full."""


def _encoder(type_name: str) -> _lru_cache_wrapper[str]:
    """The global IDs of one node type, by database id, the latest remembered: a page names
    the same nodes over and over (a board page: its board 30 times, a few creators), and
    popular nodes recur across requests. (One cache per type, so its key is the id itself.)"""

    @lru_cache(maxsize=GLOBAL_IDS_REMEMBERED)
    def encode(id: int) -> str:
        return opaque(f"{type_name}:{id}")

    return encode


ENCODERS: dict[str, _lru_cache_wrapper[str]] = {name: _encoder(name) for name in NODE_TYPES}
"""The encoder of each node type's global IDs (`encode_global_id`, its type given)."""


def encode_global_id(type_name: str, id: int) -> str:
    """`Pin`, 42 → `UGluOjQy` (unpadded URL-safe base64 of `Pin:42`)."""
    encode = ENCODERS.get(type_name)
    return encode(id) if encode is not None else opaque(f"{type_name}:{id}")


def global_id_of(row: NodeRow) -> str:
    """The global ID of a node row."""
    return ENCODERS[NODE_TYPE_NAMES[type(row)]](row.id)


MAX_GLOBAL_ID_LENGTH = 64
"""Longer strings are no global ID (the longest, `Comment:<2^63-1>`, encodes to 36)."""


def decode_global_id(value: str, argument: str = "id") -> GlobalId:
    """Decodes a global ID; anything not produced by `encode_global_id` is BAD_USER_INPUT."""
    decoded = _decoded(value) if len(value) <= MAX_GLOBAL_ID_LENGTH else None
    if decoded is None:
        raise BadUserInput(argument, f"{argument} is not a valid ID: {_shown(value)}")
    return decoded


@lru_cache(maxsize=GLOBAL_IDS_REMEMBERED)
def _decoded(value: str) -> GlobalId | None:
    """The global ID `value` names, None when `encode_global_id` would not produce it. The
    latest are remembered: the ids a client sends recur (a page's, a popular pin's), and a
    string is at most MAX_GLOBAL_ID_LENGTH long, so what is kept stays small."""
    raw = clear_text(value) if value else None
    if raw is None:
        return None
    type_name, _, digits = raw.partition(":")
    if type_name not in NODE_TYPES or not digits.isdigit() or not digits.isascii():
        return None
    id = int(digits)
    if not 0 < id <= _MAX_ID or encode_global_id(type_name, id) != value:
        return None
    return GlobalId(type_name, id)


def decode_id_of(type_name: str, value: str, argument: str = "id") -> int:
    """Decodes a global ID that must name a `type_name`; returns the database id."""
    decoded = decode_global_id(value, argument)
    if decoded.type_name != type_name:
        raise BadUserInput(
            argument, f"{argument} must be a {type_name} ID, got a {decoded.type_name} ID"
        )
    return decoded.id


def _shown(value: str) -> str:
    """The value as quoted in an error message, cut short so a huge input stays readable."""
    return repr(value if len(value) <= 40 else value[:40] + "…")
