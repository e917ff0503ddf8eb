"""Cursor pagination as clients see it: the page arguments (`first`, `after`) checked, and
opaque cursors made from and read back into keyset positions (loaders/paging.py)."""

from __future__ import annotations

import math
import struct
from functools import lru_cache

from loaders.paging import Edge, Page, PageArgs
from loaders.search import MAX_ID, MixedPosition, SearchPage, SearchPosition
from resolvers.errors import BadUserInput
from resolvers.opaque import clear_text, opaque

DEFAULT_FIRST = 20
MAX_FIRST = 100
_CURSOR_PREFIX = "cursor:"
_SEARCH_PREFIX = "search:"
_MIXED_PREFIX = "mixed:"
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
    if not 0 < position <= MAX_ID or encode_cursor(position) != cursor:
        raise invalid
    return position


def edge_cursor(edge: Edge[object]) -> str:
    """The cursor just after this edge's row."""
    return encode_cursor(edge.position)


def start_cursor(page: Page[object] | SearchPage[object]) -> str | None:
    """The cursor of a page's first row, or None for an empty page."""
    return cursor_of(page.edges[0].position) if page.edges else None


def end_cursor(page: Page[object] | SearchPage[object]) -> str | None:
    """The cursor of a page's last row, or None for an empty page."""
    return cursor_of(page.edges[-1].position) if page.edges else None


def cursor_of(position: int | SearchPosition | MixedPosition) -> str:
    """The cursor just after a row at `position`: a list's keyset cursor, or a search's (of
    one kind or several)."""
    if type(position) is int:
        return encode_cursor(position)
    if type(position) is MixedPosition:
        return encode_mixed_cursor(position)
    return encode_search_cursor(position)  # type: ignore[arg-type]


def _encoded(prefix: str, score: float, *numbers: int) -> str:
    """A search cursor: `prefix`, the score's exact bits, then `numbers`, opaque."""
    fields = ":".join([struct.pack(">d", score).hex(), *map(str, numbers)])
    return opaque(f"{prefix}{fields}")


def encode_search_cursor(position: SearchPosition) -> str:
    """The opaque cursor of a search row: its score (the float's exact bits), bound and id."""
    return _encoded(_SEARCH_PREFIX, position.score, position.bound, position.id)


def decode_search_cursor(cursor: str, argument: str = "after") -> SearchPosition:
    """Decodes a cursor made by `encode_search_cursor`; anything else is BAD_USER_INPUT."""
    invalid = _invalid_search_cursor(cursor, argument)
    score, (bound, id_) = _search_fields(cursor, _SEARCH_PREFIX, 3, invalid)
    position = SearchPosition(score, bound, id_)
    if id_ < 1 or encode_search_cursor(position) != cursor:
        raise invalid
    return position


def encode_mixed_cursor(position: MixedPosition) -> str:
    """The opaque cursor of a row of a search across kinds: its score (the float's exact
    bits), kind and id, and the pin and board searches' bounds."""
    return _encoded(_MIXED_PREFIX, *position)


def decode_mixed_cursor(cursor: str, argument: str = "after") -> MixedPosition:
    """Decodes a cursor made by `encode_mixed_cursor`; anything else is BAD_USER_INPUT."""
    invalid = _invalid_search_cursor(cursor, argument)
    fields = _search_fields(cursor, _MIXED_PREFIX, 5, invalid)
    score, (kind, id_, pins_bound, boards_bound) = fields
    position = MixedPosition(score, kind, id_, pins_bound, boards_bound)
    if not (kind in (0, 1, 2) and id_ > 0) or encode_mixed_cursor(position) != cursor:
        raise invalid
    return position


def _invalid_search_cursor(cursor: str, argument: str) -> BadUserInput:
    shown = repr(cursor if len(cursor) <= 40 else cursor[:40] + "…")
    return BadUserInput(
        argument,
        f"{argument} is not a valid search cursor: {shown} (use an endCursor or edge cursor "
        "of the same search)",
    )


def _search_fields(
    cursor: str, prefix: str, count: int, invalid: BadUserInput
) -> tuple[float, list[int]]:
    """A search cursor's score and its other fields (non-negative ints up to MAX_ID)."""
    if not cursor or len(cursor) > 160:
        raise invalid
    raw = clear_text(cursor)
    if raw is None or not raw.startswith(prefix):
        raise invalid
    parts = raw.removeprefix(prefix).split(":")
    if len(parts) != count or len(parts[0]) != 16:
        raise invalid
    try:
        (score,) = struct.unpack(">d", bytes.fromhex(parts[0]))
    except ValueError:
        raise invalid from None
    rest = parts[1:]
    if not (math.isfinite(score) and all(p.isascii() and p.isdigit() for p in rest)):
        raise invalid
    numbers = [int(p) for p in rest]
    if any(n > MAX_ID for n in numbers):
        raise invalid
    return score, numbers
