"""Related pins: pages of the pins like each pin of a page, best first, in one statement for
the whole page (`Pin.related`; ranked, paged and cursored as searches are: loaders/search.py).
"""

from __future__ import annotations

from typing import Any

from db.privacy import board_visible
from db.waves import Row
from loaders.boards import BoardByIdLoader
from loaders.pins import PIN_AND_BOARD, PrimesBoards
from loaders.rows import PinRow
from loaders.search import MAX_WORDS, RankedLoader, Ranking, ranked_page, score

RELATED_PER_WORD = 50
"""The newest pins sharing each word of a pin's title that `related` ranks."""
RELATED_BY_CREATOR = 50
"""The newest pins of the pin's creator that `related` ranks."""
RELATED_BOARDS = 5
"""The boards a pin was last saved onto whose pins `related` ranks..."""
RELATED_PER_BOARD = 20
"""... the newest of each."""

# Returns each key's page of related pins: ord, score, bound, then a pin and its board.
# Candidates, each with its weight: pins sharing a word of the title (1 per word), pins of
# the same creator (0.5), pins on a board the pin was saved onto (1 per board). The pin
# itself, its repins and the pin it was saved from (the same picture) are left out, and
# every candidate must be visible: a secret board's pins never show, so they never weigh.
_WEIGHTS = f"""
    select c.id, sum(c.weight) as weight from (
        select t.pin_id as id, 1.0 as weight
        from (
            select w.lexeme from unnest(sp.search) as w
            where 'A' = any(w.weights) limit {MAX_WORDS}
        ) as w
        cross join lateral (
            select t.pin_id from pin_terms t where t.lexeme = w.lexeme and t.pin_id <= m.bound
            order by t.pin_id desc limit {RELATED_PER_WORD}
        ) as t
        union all
        (select o.id, 0.5 from pins o
         where o.creator_id = sp.creator_id and o.id <= m.bound
         order by o.id desc limit {RELATED_BY_CREATOR})
        union all
        select o.id, 1.0 from (
            select r.board_id from pins r where r.saved_from_id = sp.id
            order by r.id desc limit {RELATED_BOARDS}
        ) as saved
        cross join lateral (
            select o.id from pins o where o.board_id = saved.board_id and o.id <= m.bound
            order by o.id desc limit {RELATED_PER_BOARD}
        ) as o
    ) as c
    group by c.id
"""
_SCORE = score(
    "c.weight",
    "coalesce((select n.public_saves + n.comments from pin_counts n where n.pin_id = p.id), 0)",
    "p.created_at",
)
_PAGE = ranked_page(
    f"""
    select p.id, {_SCORE} as score
    from ({_WEIGHTS}) as c
    join pins p on p.id = c.id
    join boards b on b.id = p.board_id
    where p.id <> sp.id and p.saved_from_id is distinct from sp.id
      and p.id is distinct from sp.saved_from_id and {board_visible("b")}
    """,
    f"{PIN_AND_BOARD}, '' as highlight",
    "join pins p on p.id = s.id join boards b on b.id = p.board_id",
)
RELATED_SQL = f"""
select k.ord, r.*
from unnest($2::bigint[], $3::bigint[], $4::float8[], $5::bigint[], $6::int[])
    with ordinality as k(pin_id, bound, after_score, after_id, lim, ord)
join pins sp on sp.id = k.pin_id
cross join lateral (
    select coalesce(k.bound, (select max(id) from pins)) as bound offset 0
) as m
cross join lateral ({_PAGE}) as r
"""


class RelatedPinsLoader(PrimesBoards, RankedLoader[PinRow]):
    """Pages of the pins related to each pin (key: its id) that the viewer may see, best
    first; the pins of a whole page are asked for in one statement."""

    sql = RELATED_SQL

    def __init__(self, boards: BoardByIdLoader, ranking: Ranking) -> None:
        super().__init__(boards.session, boards.viewer_id, ranking)
        self.boards = boards
        self.primed = set()

    def hit(self, record: Row, query: Any) -> tuple[PinRow, str]:
        return self.make_row(record, 3), ""
