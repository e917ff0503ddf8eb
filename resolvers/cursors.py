"""Cursor pagination as clients see it: the page arguments (`first`, `after`) checked, and
opaque cursors made from and read back into keyset positions (loaders/paging.py)."""

from __future__ import annotations

import math
import struct
from functools import lru_cache

from loaders.paging import Edge, Page, PageArgs
from loaders.search import SearchPage, SearchPosition
from resolvers.errors import BadUserInput
from resolvers.opaque import clear_text, opaque

DEFAULT_FIRST = 20
MAX_FIRST = 100
_CURSOR_PREFIX = "cursor:"
_SEARCH_PREFIX = "search:"
_MAX_ID = 2**63 - 1
CURSORS_REMEMBERED = 16_384
"""Per worker: about 4 MiB when full."""


def page_args(first: int | None, after: str | None) -> PageArgs:
    """Validates `first` (1..100, default 20) and decodes `after`; BAD_USER_INPUT otherwise."""
    if first is None:
        first = DEFAULT_FIRST
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput("first", f"first must be between 1 and {MAX_FIRST}, got {first}")
    return PageArgs(first, None if after is None else decode_cursor(after))


@lru_cache(maxsize=CURSORS_REMEMBERED)
def encode_cursor(position: int) -> str:
    """The opaque cursor of a row at keyset position `position` (unpadded URL-safe base64).

    Each edge of a page has one, and the pages of popular boards and feeds are asked for
    over and over: the latest cursors are remembered."""
    return opaque(f"{_CURSOR_PREFIX}{position}")


def decode_cursor(cursor: str, argument: str = "after") -> int:
    """Decodes a cursor made by `encode_cursor`; anything else is BAD_USER_INPUT."""
    shown = repr(cursor if len(cursor) <= 40 else cursor[:40] + "…")
    invalid = BadUserInput(
        argument, f"{argument} is not a valid cursor: {shown} (use an endCursor or edge cursor)"
    )
    if not cursor or len(cursor) > 64:
        raise invalid
    raw = clear_text(cursor)
    if raw is None:
        raise invalid
    digits = raw.removeprefix(_CURSOR_PREFIX)
    if digits == raw or not digits.isdigit() or not digits.isascii():
        raise invalid
    position = int(digits)
    if not 0 < position <= _MAX_ID or encode_cursor(position) != cursor:
        raise invalid
    return position


def edge_cursor(edge: Edge[object]) -> str:
    """The cursor just after this edge's row."""
    return encode_cursor(edge.position)


def start_cursor(page: Page[object] | SearchPage[object]) -> str | None:
    """The cursor of a page's first row, or None for an empty page."""
    return _cursor_of(page.edges[0].position) if page.edges else None


def end_cursor(page: Page[object] | SearchPage[object]) -> str | None:
    """The cursor of a page's last row, or None for an empty page."""
    return _cursor_of(page.edges[-1].position) if page.edges else None


def _cursor_of(position: int | SearchPosition) -> str:
    """A list's keyset cursor, or a search's."""
    return encode_cursor(position) if type(position) is int else encode_search_cursor(position)  # type: ignore[arg-type]


def encode_search_cursor(position: SearchPosition) -> str:
    """The opaque cursor of a search row: its score (the float's exact bits), bound and id."""
    bits = struct.pack(">d", position.score).hex()
    return opaque(f"{_SEARCH_PREFIX}{bits}:{position.bound}:{position.id}")


def decode_search_cursor(cursor: str, argument: str = "after") -> SearchPosition:
    """Decodes a cursor made by `encode_search_cursor`; anything else is BAD_USER_INPUT."""
    shown = repr(cursor if len(cursor) <= 40 else cursor[:40] + "…")
    invalid = BadUserInput(
        argument,
        f"{argument} is not a valid search cursor: {shown} (use an endCursor or edge cursor "
        "of the same search)",
    )
    if not cursor or len(cursor) > 96:
        raise invalid
    raw = clear_text(cursor)
    if raw is None or not raw.startswith(_SEARCH_PREFIX):
        raise invalid
    parts = raw.removeprefix(_SEARCH_PREFIX).split(":")
    if len(parts) != 3 or len(parts[0]) != 16 or not all(p.isascii() for p in parts):
        raise invalid
    bits, bound, id_ = parts
    try:
        (score,) = struct.unpack(">d", bytes.fromhex(bits))
    except ValueError:
        raise invalid from None
    if not (bound.isdigit() and id_.isdigit() and math.isfinite(score)):
        raise invalid
    position = SearchPosition(score, int(bound), int(id_))
    if not (0 <= position.bound <= _MAX_ID and 0 < position.id <= _MAX_ID):
        raise invalid
    if encode_search_cursor(position) != cursor:
        raise invalid
    return position
