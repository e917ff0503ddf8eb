"""The search postings (migration 0007_search): built in bulk (the seeder loads with the
triggers deferred, then writes every pin's and board's words at once), and checked against
the search vectors they index (`pinql check search`)."""

from __future__ import annotations

import asyncpg

POSTINGS = {"pin_terms": ("pins", "pin_id"), "board_terms": ("boards", "board_id")}
"""Each posting table: the table whose `search` vectors it indexes, and its id column."""

# How many postings `index_terms` writes: one per distinct word of each pin's and board's
# search vector.
TERM_ROWS = """
select (select coalesce(sum(length(search)), 0) from pins)
     + (select coalesce(sum(length(search)), 0) from boards)
"""
# Blocks writes to pins and boards until the transaction ends: a repair then holds.
LOCK = "lock table pins, boards in share mode"


def _stale(postings: str) -> str:
    """SQL: the postings of `postings` (aliased t) that no vector has."""
    table, id_column = POSTINGS[postings]
    return f"""
        {postings} t where not exists (
            select from {table} r
            where r.id = t.{id_column} and t.lexeme = any(tsvector_to_array(r.search)))"""


def _vector_words(postings: str) -> str:
    """SQL: every (word, id) of the vectors `postings` indexes (w.lexeme, r.id)."""
    table, _ = POSTINGS[postings]
    return f"{table} r, unnest(r.search) as w"


def _missing(postings: str) -> str:
    """SQL: how many of the vectors' words `postings` lacks."""
    _, id_column = POSTINGS[postings]
    return f"""
        select count(*) from {_vector_words(postings)} where not exists (
            select from {postings} t where t.lexeme = w.lexeme and t.{id_column} = r.id)"""


def _index(postings: str) -> str:
    """SQL: writes the postings of `postings` that its vectors' words lack."""
    _, id_column = POSTINGS[postings]
    return f"""
        insert into {postings} (lexeme, {id_column})
        select w.lexeme, r.id from {_vector_words(postings)}
        on conflict do nothing"""


async def drifts(conn: asyncpg.Connection) -> dict[str, tuple[int, int]]:
    """Per posting table, its (stale, missing) postings, as of one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return {
            postings: (
                await conn.fetchval(f"select count(*) from {_stale(postings)}"),
                await conn.fetchval(_missing(postings)),
            )
            for postings in POSTINGS
        }


async def repair(conn: asyncpg.Connection) -> int:
    """Deletes the stale postings and writes the missing ones, writes to pins and boards
    locked out meanwhile; the rows changed."""
    async with conn.transaction():
        await conn.execute(LOCK)
        changed = 0
        for postings in POSTINGS:
            changed += int((await conn.execute(f"delete from {_stale(postings)}")).split()[-1])
        return changed + await index_terms(conn)


async def index_terms(conn: asyncpg.Connection) -> int:
    """Writes every missing posting of pins and boards; the rows written."""
    written = 0
    for postings in POSTINGS:
        status = await conn.execute(_index(postings))
        written += int(status.split()[-1])
    return written
