"""Search fields: the query a person typed, checked; search cursors; highlights as segments.

A query is what people type (`websearch_to_tsquery`'s syntax for pins and boards). Blank
queries, NUL characters, more than MAX_QUERY_LENGTH characters or MAX_QUERY_WORDS words are
BAD_USER_INPUT; a query with no letter or digit matches nothing and sends no SQL. A search
cursor holds the row's score, id and the search's bound (loaders/search.py), and is checked
as strictly as a list's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from enum import Enum
from typing import Annotated, Any, NamedTuple

import strawberry

from loaders import Loaders
from loaders.base import SqlLoader
from loaders.rows import BoardRow, PinRow, UserRow
from loaders.search import (
    MAX_ID,
    START,
    STOP,
    Hit,
    MixedPosition,
    SearchArgs,
    SearchKey,
    SearchPage,
    SearchPosition,
)
from resolvers.arguments import After, First
from resolvers.cursors import (
    DEFAULT_FIRST,
    cursor_of,
    decode_mixed_cursor,
    decode_search_cursor,
    page_args,
)
from resolvers.errors import BadUserInput
from resolvers.fields import computed, loaded

MAX_QUERY_LENGTH = 200
"""Characters of a query (after trimming): longer is BAD_USER_INPUT."""
MAX_QUERY_WORDS = 16
"""Words of a query (runs of non-space): more is BAD_USER_INPUT."""
SEARCH_COST = 50
"""A search field's surcharge, beyond the objects it returns (server/cost.py): it ranks up to
CANDIDATES rows per word (loaders/search.py) to answer a page. `search` runs up to three
searches: 3 times this."""
_NOTHING: SearchPage[Any] = SearchPage(edges=[], has_next_page=False, has_previous_page=False)

Query = Annotated[
    str,
    strawberry.argument(
        description='What a person typed: words, "quoted phrases", -exclusions, `or` '
        f"(at most {MAX_QUERY_LENGTH} characters and {MAX_QUERY_WORDS} words)."
    ),
]


def search_text(query: str) -> str | None:
    """The query to search for, trimmed; None when it can match nothing (no letter or
    digit); BAD_USER_INPUT when it breaks a rule."""
    text = query.strip()
    if "\x00" in text:
        raise BadUserInput("query", "query must not contain NUL characters")
    if not text:
        raise BadUserInput("query", "query must not be blank")
    if len(text) > MAX_QUERY_LENGTH:
        raise BadUserInput(
            "query", f"query must be at most {MAX_QUERY_LENGTH} characters, got {len(text)}"
        )
    words = len(text.split())
    if words > MAX_QUERY_WORDS:
        raise BadUserInput("query", f"query must be at most {MAX_QUERY_WORDS} words, got {words}")
    if not any(character.isalnum() for character in text):
        return None
    return text


def search_args(first: int | None, after: str | None) -> SearchArgs:
    """Validates `first` as lists do (1..100, default 20) and decodes a search cursor."""
    checked = page_args(first, None)
    return SearchArgs(checked.first, None if after is None else decode_search_cursor(after))


def _search(
    loader: SqlLoader[SearchKey, SearchPage[Any]], query: str, first: int | None, after: str | None
) -> Awaitable[SearchPage[Any]] | SearchPage[Any]:
    """The loader's page for the checked query, or no page when it can match nothing."""
    args = search_args(first, after)
    text = search_text(query)
    return _NOTHING if text is None else loader.load((text, args))


@loaded
def search_pins(
    loaders: Loaders, root: None, query: Query, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[SearchPage[PinRow]] | SearchPage[PinRow]:
    """The pins matching `query` that the viewer may see, best first."""
    return _search(loaders.search_pins, query, first, after)


@loaded
def search_boards(
    loaders: Loaders, root: None, query: Query, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[SearchPage[BoardRow]] | SearchPage[BoardRow]:
    """The boards matching `query` that the viewer may see, best first."""
    return _search(loaders.search_boards, query, first, after)


@loaded
def search_users(
    loaders: Loaders, root: None, query: Query, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[SearchPage[UserRow]] | SearchPage[UserRow]:
    """The users whose username or display name is like `query`, best first."""
    return _search(loaders.search_users, query, first, after)


class Segment(NamedTuple):
    """A run of a highlight's text, and whether it is a word the query matched."""

    text: str
    matched: bool


def segments(hit: Hit[object]) -> list[Segment]:
    """The hit's highlight as segments, in order, none empty."""
    return segments_of(hit.highlight)


def segments_of(highlight: str) -> list[Segment]:
    """A marked highlight (words between START and STOP) as segments, in order, none
    empty."""
    found: list[Segment] = []
    for part in highlight.split(START):
        matched, _, rest = part.rpartition(STOP) if STOP in part else ("", "", part)
        if matched:
            found.append(Segment(matched, True))
        if rest:
            found.append(Segment(rest, False))
    return found


def hit_cursor(hit: Hit[object]) -> str:
    """The cursor just after this hit's row."""
    return cursor_of(hit.position)


cursor = computed(hit_cursor)
"""A search edge's cursor: pass it as `after` to continue after its row."""
highlight = computed(segments)
"""Where a search edge's row matched."""


class SearchType(Enum):
    """A kind of search result; the value is its rank among equal scores (highest first)."""

    PIN = 2
    BOARD = 1
    USER = 0


strawberry.enum(SearchType, description="A kind of search result.")
ALL_TYPES = (SearchType.PIN, SearchType.BOARD, SearchType.USER)
Types = Annotated[
    list[SearchType] | None,
    strawberry.argument(description="The kinds of results to return (null: all three)."),
]


def after_in(position: MixedPosition | None, kind: SearchType) -> SearchPosition | None:
    """Where a search of one kind starts for a page of a mixed search that starts after
    `position` (ordered by score, then kind, then id, all descending): the same score but
    every id of a kind after the position's, none of a kind before it."""
    if position is None:
        return None
    bound = {SearchType.PIN: position.pins_bound, SearchType.BOARD: position.boards_bound}
    after = SearchPosition(position.score, bound.get(kind, 0), 0)
    if kind.value < position.kind:
        return after._replace(id=MAX_ID)
    if kind.value == position.kind:
        return after._replace(id=position.id)
    return after


def _bound(page: SearchPage[Any]) -> int:
    """The bound a page of a search of one kind was read under (0: it has no row)."""
    for hit in page.edges:
        if isinstance(hit.position, SearchPosition):
            return hit.position.bound
    return 0


@loaded
async def search(
    loaders: Loaders,
    root: None,
    query: Query,
    first: First = DEFAULT_FIRST,
    after: After = None,
    types: Types = None,
) -> SearchPage[Any]:
    """Pins, boards and users matching `query`, best first: one search of each kind asked,
    in the same wave, then merged by score."""
    checked = page_args(first, None)
    position = None if after is None else decode_mixed_cursor(after)
    text = search_text(query)
    kinds = ALL_TYPES if types is None else tuple(t for t in ALL_TYPES if t in types)
    if not kinds:
        raise BadUserInput("types", "types must name at least one of PIN, BOARD, USER")
    if text is None:
        return _NOTHING
    loader_of: dict[SearchType, SqlLoader[SearchKey, SearchPage[Any]]] = {
        SearchType.PIN: loaders.search_pins,
        SearchType.BOARD: loaders.search_boards,
        SearchType.USER: loaders.search_users,
    }
    loads = [
        (kind, loader_of[kind].load((text, SearchArgs(checked.first, after_in(position, kind)))))
        for kind in kinds
    ]
    pages = [(kind, await load) for kind, load in loads]
    bounds = {kind: _bound(page) for kind, page in pages}
    pins_bound = bounds.get(SearchType.PIN) or (position.pins_bound if position else 0)
    boards_bound = bounds.get(SearchType.BOARD) or (position.boards_bound if position else 0)
    hits = [
        Hit(
            MixedPosition(h.position.score, kind.value, h.position.id, pins_bound, boards_bound),
            h.node,
            h.highlight,
        )
        for kind, page in pages
        for h in page.edges
    ]
    hits.sort(key=lambda hit: hit.position[:3], reverse=True)
    more = len(hits) > checked.first or any(page.has_next_page for _, page in pages)
    return SearchPage(hits[: checked.first], more, position is not None)


RELATED_COST = 10
"""`Pin.related`'s surcharge for each pin it runs for (server/cost.py): it ranks up to a few
hundred candidate pins (loaders/related.py)."""


@loaded
def related(
    loaders: Loaders, pin: PinRow, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[SearchPage[PinRow]]:
    """Pins like this one that the viewer may see, best first."""
    return loaders.related_pins.load((pin.id, search_args(first, after)))
