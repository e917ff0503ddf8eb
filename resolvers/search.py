"""Search fields: the query a person typed, checked; search cursors; highlights as segments.

A query is what people type (`websearch_to_tsquery`'s syntax for pins and boards). Blank
queries, NUL characters, more than MAX_QUERY_LENGTH characters or MAX_QUERY_WORDS words are
BAD_USER_INPUT; a query with no letter or digit matches nothing and sends no SQL. A search
cursor holds the row's score, id and the search's bound (loaders/search.py), and is checked
as strictly as a list's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, NamedTuple

import strawberry

from loaders import Loaders
from loaders.base import SqlLoader
from loaders.rows import BoardRow, PinRow, UserRow
from loaders.search import START, STOP, Hit, SearchArgs, SearchKey, SearchPage
from resolvers.arguments import After, First
from resolvers.cursors import (
    DEFAULT_FIRST,
    decode_search_cursor,
    encode_search_cursor,
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
CANDIDATES rows per word (loaders/search.py) to answer a page."""
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


def hit_cursor(hit: Hit[object]) -> str:
    """The cursor just after this hit's row."""
    return encode_search_cursor(hit.position)


class Segment(NamedTuple):
    """A run of a highlight's text, and whether it is a word the query matched."""

    text: str
    matched: bool


def segments(hit: Hit[object]) -> list[Segment]:
    """The hit's highlight as segments, in order, none empty."""
    found: list[Segment] = []
    for part in hit.highlight.split(START):
        matched, _, rest = part.rpartition(STOP) if STOP in part else ("", "", part)
        if matched:
            found.append(Segment(matched, True))
        if rest:
            found.append(Segment(rest, False))
    return found


cursor = computed(hit_cursor)
"""A search edge's cursor: pass it as `after` to continue after its row."""
highlight = computed(segments)
"""Where a search edge's row matched."""
