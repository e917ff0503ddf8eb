"""Search loaders: pages of the pins, boards and users matching a query, best first, with the
words that matched marked (migration 0007_search).

Pins and boards match by full-text search (`websearch_to_tsquery`: words, "quoted phrases",
-exclusions, `or`). Their candidates are read from the posting tables, at most CANDIDATES of
the newest rows of each word of the query, so a search's work is bounded whatever the size
of the data; each candidate is then checked against the whole query and the privacy rule
(a secret board and its pins match for their owner only). Users match by trigram word
similarity of their username or display name, which forgives typos and prefixes.

Every match is scored by one blend (`Ranking`, weights from the settings): text relevance
(`ts_rank_cd`, phrase words close together rank higher; for users, trigram similarity),
engagement (log of saves and comments, of a board's pins, of a user's followers) and
freshness (days since 1970, so a row's score does not change with the time of the request).
A page is keyed by its query, the newest row id it may consider (`bound`, fixed by the first
page so that rows created meanwhile do not shift later pages) and the (score, id) it starts
after: ties in score are ordered by id, so pages neither repeat nor skip a row.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from db.privacy import board_visible
from db.waves import Row
from loaders.base import SqlLoader, Statement
from loaders.boards import BoardByIdLoader
from loaders.pins import PIN_AND_BOARD, PrimesBoards
from loaders.rows import (
    BOARD_WIDTH,
    BoardRow,
    PinRow,
    UserRow,
    board_columns,
    board_row,
    user_columns,
    user_row,
)

R = TypeVar("R")

CANDIDATES = 400
"""The newest rows of each word of a query that a pin or board search ranks: the bound on
its work (and on its results: a query's pages end with its candidates)."""
MAX_WORDS = 16
"""The words of a query that bring candidates (resolvers refuse queries of more words first;
this bounds what any query string can cost)."""
START, STOP = "\x02", "\x03"
"""Mark the start and end of a matched word in a highlight. Control characters: stripped
from the text before it is marked, so a title cannot fake a mark."""
MAX_ID = 2**63 - 1

_MARKS = f"chr({ord(START)}) || chr({ord(STOP)})"
_SELECTORS = f"'StartSel=' || chr({ord(START)}) || ',StopSel=' || chr({ord(STOP)})"
_WHOLE = f"{_SELECTORS} || ',HighlightAll=true'"
_FRAGMENT = f"{_SELECTORS} || ',MaxWords=24,MinWords=12,MaxFragments=1'"


@dataclass(frozen=True, slots=True)
class Ranking:
    """The weights of a search score's parts: text relevance, engagement and freshness (per
    day of age). Settings: PINQL_SEARCH_WEIGHT_TEXT, _ENGAGEMENT, _FRESHNESS."""

    text: float = 1.0
    engagement: float = 0.05
    freshness: float = 0.01


DEFAULT_RANKING = Ranking()
"""The weights when the settings name none."""


class SearchArgs(NamedTuple):
    """A page of a search: how many rows (`first`), and where the previous page ended."""

    first: int
    after: SearchPosition | None


class SearchPosition(NamedTuple):
    """Where a row is in a search's order: its score and id, and the search's bound."""

    score: float
    bound: int
    id: int


class MixedPosition(NamedTuple):
    """Where a row is in a search across kinds: its score, kind (ties: pins, then boards,
    then users) and id, and the bounds of the pin and board searches (0: not known yet)."""

    score: float
    kind: int
    id: int
    pins_bound: int
    boards_bound: int


SearchKey = tuple[str, SearchArgs]
"""A search page: (query text, page arguments)."""


class Hit(NamedTuple, Generic[R]):
    """A row of a search page, where it is in the order, and its text with the matched words
    between START and STOP."""

    position: SearchPosition | MixedPosition
    node: R
    highlight: str


@dataclass(slots=True)
class SearchPage(Generic[R]):
    """A page of search hits, best first."""

    edges: list[Hit[R]]
    has_next_page: bool
    has_previous_page: bool

    @property
    def nodes(self) -> list[R]:
        """The rows, without their positions."""
        return [hit.node for hit in self.edges]

    @property
    def page_info(self) -> SearchPage[R]:
        """The page itself answers `pageInfo`."""
        return self


# Returns each key's page: ord, score, bound, then the body's row columns and highlight.
SEARCH_SQL = """
select k.ord, r.*
from unnest($2::text[], $3::bigint[], $4::float8[], $5::bigint[], $6::int[])
    with ordinality as k(q, bound, after_score, after_id, lim, ord)
cross join lateral (
    select websearch_to_tsquery('english', k.q) as q, coalesce(k.bound, ({newest})) as bound
    offset 0
) as m
cross join lateral ({body}) as r
"""


def _search_sql(newest: str, body: str) -> str:
    """A search loader's statement: `body` ranks one key's rows, `newest` is the searched
    table's newest id (a first page's bound)."""
    return SEARCH_SQL.format(newest=newest, body=body)


# In a page: the rows strictly after the page's cursor, best first.
AFTER_CURSOR = (
    f"(s.score, s.id) < (coalesce(k.after_score, 'Infinity'), coalesce(k.after_id, {MAX_ID}))"
)


def ranked_page(scored: str, columns: str, joins: str) -> str:
    """SQL, a lateral body: one key's page of the rows `scored` ranks (a subquery of `id`
    and `score`), after the cursor, best first, `k.lim` of them; then their `columns`, read
    through `joins` (from the page `s`), after their score and the bound."""
    return f"""
    select s.score, m.bound, {columns}
    from (
        select s.* from ({scored}) as s
        where {AFTER_CURSOR}
        order by s.score desc, s.id desc limit k.lim
    ) as s
    {joins}
    order by s.score desc, s.id desc
"""


def candidates(table: str, id_column: str) -> str:
    """SQL: the ids (as `id`) of the newest CANDIDATES postings in `table` of each word of
    the key's query (MAX_WORDS at most), up to the bound."""
    return f"""
    select distinct t.{id_column} as id from (
        select w.lexeme from unnest(to_tsvector('english', k.q)) as w limit {MAX_WORDS}
    ) as w
    cross join lateral (
        select t.{id_column} from {table} t where t.lexeme = w.lexeme and t.{id_column} <= m.bound
        order by t.{id_column} desc limit {CANDIDATES}
    ) as t
"""


def score(text: str, engagement: str, created_at: str) -> str:
    """SQL: the blend of a match's text relevance, engagement count and creation time, with
    the weights as $7, $8, $9."""
    return (
        f"($7::float8 * ({text}) + $8::float8 * ln(1 + ({engagement})) "
        f"+ $9::float8 * extract(epoch from {created_at})::float8 / 86400)"
    )


def _highlight(title: str, description: str) -> str:
    """SQL: the title with the query's words marked if it matches, else the best fragment of
    the description (the marks stripped from the text first)."""
    return f"""
        case when to_tsvector('english', {title}) @@ m.q
            then ts_headline('english', translate({title}, {_MARKS}, ''), m.q, {_WHOLE})
            else ts_headline('english', translate({description}, {_MARKS}, ''), m.q, {_FRAGMENT})
        end
    """


_PIN_SCORE = score(
    "ts_rank_cd(p.search, m.q, 32)", "coalesce(n.public_saves + n.comments, 0)", "p.created_at"
)
PINS_BODY = ranked_page(
    f"""
    select p.id, {_PIN_SCORE} as score
    from ({candidates("pin_terms", "pin_id")}) as c
    join pins p on p.id = c.id
    join boards b on b.id = p.board_id
    left join pin_counts n on n.pin_id = p.id
    where p.search @@ m.q and {board_visible("b")}
    """,
    f"{PIN_AND_BOARD}, {_highlight('p.title', 'p.description')}",
    "join pins p on p.id = s.id join boards b on b.id = p.board_id",
)

_BOARD_SCORE = score("ts_rank_cd(b.search, m.q, 32)", "coalesce(n.pins, 0)", "b.created_at")
BOARDS_BODY = ranked_page(
    f"""
    select b.id, {_BOARD_SCORE} as score
    from ({candidates("board_terms", "board_id")}) as c
    join boards b on b.id = c.id
    left join board_counts n on n.board_id = b.id
    where b.search @@ m.q and {board_visible("b")}
    """,
    f"{board_columns('b')}, {_highlight('b.name', 'b.description')}",
    "join boards b on b.id = s.id",
)

# Users have no candidate bound, and ignore `bound`: the trigram indexes hand back only the
# names close to the query, and a user who signs up meanwhile takes their place by score.
# Their follower count is a scalar subquery, one probe per matching user: as a join, a
# generic plan (which cannot tell how many users a query matches) reads all of user_counts.
_USER_SCORE = score(
    "greatest(word_similarity(k.q, u.username), word_similarity(k.q, u.display_name))",
    "coalesce((select n.followers from user_counts n where n.user_id = u.id), 0)",
    "u.created_at",
)
USERS_BODY = ranked_page(
    f"""
    select u.id, {_USER_SCORE} as score from users u
    where k.q <% u.username or k.q <% u.display_name
    """,
    user_columns("u"),
    "join users u on u.id = s.id",
)


def ranked_arguments(keys: list[tuple[Any, SearchArgs]], ranking: Ranking) -> tuple[Any, ...]:
    """A ranked statement's arguments after the viewer ($2 on): each key's searched value,
    bound, cursor score and id, and row limit (first + 1), then the weights."""
    afters = [args.after for _, args in keys]
    return (
        [searched for searched, _ in keys],
        [None if a is None else a.bound for a in afters],
        [None if a is None else a.score for a in afters],
        [None if a is None else a.id for a in afters],
        [args.first + 1 for _, args in keys],
        ranking.text,
        ranking.engagement,
        ranking.freshness,
    )


class RankedLoader(SqlLoader[tuple[Any, SearchArgs], SearchPage[R]], Generic[R]):
    """Pages of ranked rows, keyed by (what is searched for, page arguments): `sql` returns
    ord, score, bound, then a row (searches here, related pins: loaders/related.py)."""

    sql: ClassVar[str]

    def __init__(self, session: Any, viewer_id: int | None, ranking: Ranking) -> None:
        super().__init__(session, viewer_id)
        self.ranking = ranking

    @abstractmethod
    def hit(self, record: Row, query: Any) -> tuple[R, str]:
        """The row and its marked highlight, from `record[3]` on (`query`: the key's)."""

    def statement(self, keys: list[tuple[Any, SearchArgs]]) -> Statement | None:
        return self.sql, self.arguments(*ranked_arguments(keys, self.ranking))

    def values(
        self, keys: list[tuple[Any, SearchArgs]], rows: Sequence[Row]
    ) -> list[SearchPage[R]]:
        hits: list[list[Hit[R]]] = [[] for _ in keys]
        for record in rows:  # ord, score, bound, row...
            at = record[0] - 1
            node, highlight = self.hit(record, keys[at][0])
            position = SearchPosition(record[1], record[2], node.id)  # type: ignore[attr-defined]
            hits[at].append(Hit(position, node, highlight))
        return [
            SearchPage(
                edges=found[: args.first],
                has_next_page=len(found) > args.first,
                has_previous_page=args.after is not None,
            )
            for found, (_, args) in zip(hits, keys, strict=True)
        ]


class SearchPinsLoader(PrimesBoards, RankedLoader[PinRow]):
    """Pages of the pins matching a query that the viewer may see, best first."""

    sql = _search_sql("select max(id) from pins", PINS_BODY)

    def __init__(self, boards: BoardByIdLoader, ranking: Ranking) -> None:
        super().__init__(boards.session, boards.viewer_id, ranking)
        self.boards = boards
        self.primed = set()

    def hit(self, record: Row, query: Any) -> tuple[PinRow, str]:
        return self.make_row(record, 3), record[-1]


class SearchBoardsLoader(RankedLoader[BoardRow]):
    """Pages of the boards matching a query that the viewer may see, best first; primes
    BoardByIdLoader."""

    primes = frozenset({"board_by_id"})
    sql = _search_sql("select max(id) from boards", BOARDS_BODY)

    def __init__(self, boards: BoardByIdLoader, ranking: Ranking) -> None:
        super().__init__(boards.session, boards.viewer_id, ranking)
        self.boards = boards

    def hit(self, record: Row, query: Any) -> tuple[BoardRow, str]:
        row = board_row(record, 3)
        self.boards.prime(row.id, row)
        return row, record[3 + BOARD_WIDTH]


class SearchUsersLoader(RankedLoader[UserRow]):
    """Pages of the users whose username or display name is like a query, best first."""

    sql = _search_sql("select max(id) from users", USERS_BODY)

    def hit(self, record: Row, query: Any) -> tuple[UserRow, str]:
        user = user_row(record, 3)
        return user, mark_words(user.display_name, user.username, query)


_WORD = re.compile(r"\w+")


def mark_words(display_name: str, username: str, query: str) -> str:
    """A found user's display name with the starts of its words that begin with a word of
    the query marked; the username so marked if the display name has none; else the
    display name unmarked (a match by similarity alone: a typo)."""
    words = sorted({w.casefold() for w in _WORD.findall(query)}, key=len, reverse=True)
    for text in (display_name, username):
        clean = text.replace(START, "").replace(STOP, "")
        marked, found = _marked(clean, words)
        if found:
            return marked
    return display_name.replace(START, "").replace(STOP, "")


def _marked(text: str, words: list[str]) -> tuple[str, bool]:
    """`text` with the longest of `words` that starts each of its words marked there."""
    parts: list[str] = []
    at = 0
    for match in _WORD.finditer(text):
        start, token = match.start(), match.group()
        prefix = next((w for w in words if token[: len(w)].casefold() == w), None)
        if prefix is not None:
            parts += [text[at:start], START, text[start : start + len(prefix)], STOP]
            at = start + len(prefix)
    parts.append(text[at:])
    return "".join(parts), at > 0
