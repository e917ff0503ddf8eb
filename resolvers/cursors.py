"""Cursor pagination as clients see it: the page arguments (`first`, `after`) checked, and
opaque cursors made from and read back into keyset positions (loaders/paging.py)."""

from __future__ import annotations

from functools import lru_cache

from loaders.paging import Edge, Page, PageArgs
from resolvers.errors import BadUserInput
from resolvers.opaque import clear_text, opaque

DEFAULT_FIRST = 20
MAX_FIRST = 100
_CURSOR_PREFIX = "cursor:"
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


def start_cursor(page: Page[object]) -> str | None:
    """The cursor of a page's first row, or None for an empty page."""
    return encode_cursor(page.edges[0].position) if page.edges else None


def end_cursor(page: Page[object]) -> str | None:
    """The cursor of a page's last row, or None for an empty page."""
    return encode_cursor(page.edges[-1].position) if page.edges else None
