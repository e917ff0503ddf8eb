"""The search postings (migration 0007_search), built in bulk: the seeder loads with the
triggers deferred, then writes every pin's and board's words at once."""

from __future__ import annotations

import asyncpg

# How many postings `index_terms` writes: one per distinct word of each pin's and board's
# search vector.
TERM_ROWS = """
select (select coalesce(sum(length(search)), 0) from pins)
     + (select coalesce(sum(length(search)), 0) from boards)
"""
# Writes the postings of every pin and board that has none yet.
INDEX_PINS = """
insert into pin_terms (lexeme, pin_id)
select w.lexeme, p.id from pins p, unnest(p.search) as w
on conflict do nothing
"""
INDEX_BOARDS = """
insert into board_terms (lexeme, board_id)
select w.lexeme, b.id from boards b, unnest(b.search) as w
on conflict do nothing
"""


async def index_terms(conn: asyncpg.Connection) -> int:
    """Writes every missing posting of pins and boards; the rows written."""
    written = 0
    for statement in (INDEX_PINS, INDEX_BOARDS):
        status = await conn.execute(statement)
        written += int(status.split()[-1])
    return written
