"""The search postings (migration 0007_search): built in bulk (the seeder loads with the
triggers deferred, then writes every pin's and board's words at once), and checked against
the search vectors they index (`pinql check search`)."""

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


# Per posting table: its postings that no vector has (stale), and the vectors' words it
# lacks (missing).
STALE = {
    "pin_terms": """
        select count(*) from pin_terms t
        where not exists (select from pins p where p.id = t.pin_id
                          and t.lexeme = any(tsvector_to_array(p.search)))""",
    "board_terms": """
        select count(*) from board_terms t
        where not exists (select from boards b where b.id = t.board_id
                          and t.lexeme = any(tsvector_to_array(b.search)))""",
}
MISSING = {
    "pin_terms": """
        select count(*) from pins p, unnest(p.search) as w
        where not exists (select from pin_terms t where t.lexeme = w.lexeme and t.pin_id = p.id)""",
    "board_terms": """
        select count(*) from boards b, unnest(b.search) as w
        where not exists (select from board_terms t
                          where t.lexeme = w.lexeme and t.board_id = b.id)""",
}
DELETE_STALE = {
    "pin_terms": """
        delete from pin_terms t
        where not exists (select from pins p where p.id = t.pin_id
                          and t.lexeme = any(tsvector_to_array(p.search)))""",
    "board_terms": """
        delete from board_terms t
        where not exists (select from boards b where b.id = t.board_id
                          and t.lexeme = any(tsvector_to_array(b.search)))""",
}
# Blocks writes to pins and boards until the transaction ends: a repair then holds.
LOCK = "lock table pins, boards in share mode"


async def drifts(conn: asyncpg.Connection) -> dict[str, tuple[int, int]]:
    """Per posting table, its (stale, missing) postings, as of one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return {
            table: (await conn.fetchval(STALE[table]), await conn.fetchval(MISSING[table]))
            for table in STALE
        }


async def repair(conn: asyncpg.Connection) -> int:
    """Deletes the stale postings and writes the missing ones, writes to pins and boards
    locked out meanwhile; the rows changed."""
    async with conn.transaction():
        await conn.execute(LOCK)
        changed = 0
        for statement in DELETE_STALE.values():
            changed += int((await conn.execute(statement)).split()[-1])
        return changed + await index_terms(conn)


async def index_terms(conn: asyncpg.Connection) -> int:
    """Writes every missing posting of pins and boards; the rows written."""
    written = 0
    for statement in (INDEX_PINS, INDEX_BOARDS):
        status = await conn.execute(statement)
        written += int(status.split()[-1])
    return written
