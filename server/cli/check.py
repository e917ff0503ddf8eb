"""`pinql check counters [--repair]`: every counter the graph reads (db/counters.py) checked
against `count(*)` of what it counts, and, with --repair, rewritten where it drifted.
`pinql check search [--repair]`: the search postings (db/search_terms.py) checked against
the vectors they index, and, with --repair, made equal to them."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import typer

from db import search_terms
from db.counters import Drift, drifts, rebuild
from server.cli.common import fail, on_database

SHOWN = 20
"""Drifted counters listed; the rest are counted."""

app = typer.Typer(help="Check the database's derived data against its rows.", no_args_is_help=True)


@app.command()
def counters(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Rewrite drifted counters (blocks writes to the counted tables meanwhile).",
        ),
    ] = False,
) -> None:
    """Compare every counter with count(*); exit 1 if any drifted (0 after --repair)."""

    async def run(conn: asyncpg.Connection) -> tuple[list[Drift], dict[str, int]]:
        found = await drifts(conn)
        if not repair or not found:
            return found, {}
        async with conn.transaction():
            return found, await rebuild(conn)

    found, written = on_database(run)
    for drift in found[:SHOWN]:
        typer.echo(describe(drift))
    if len(found) > SHOWN:
        typer.echo(f"... and {len(found) - SHOWN} more")
    if not found:
        typer.echo("every counter matches count(*)")
    elif repair:
        rows = ", ".join(f"{table} {n}" for table, n in written.items() if n)
        typer.echo(f"repaired {len(found)} drifted counter row(s): {rows or 'none left'}")
    else:
        raise fail(
            f"{len(found)} counter row(s) differ from count(*): "
            "`pinql check counters --repair` rewrites them"
        )


@app.command()
def search(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Delete stale postings and write missing ones (blocks writes to pins and "
            "boards meanwhile).",
        ),
    ] = False,
) -> None:
    """Compare the search postings with the pins' and boards' search vectors; exit 1 if any
    differ (0 after --repair)."""

    async def run(conn: asyncpg.Connection) -> tuple[dict[str, tuple[int, int]], int]:
        found = await search_terms.drifts(conn)
        differ = any(stale or missing for stale, missing in found.values())
        return found, (await search_terms.repair(conn) if repair and differ else 0)

    found, changed = on_database(run)
    differing = {t: n for t, n in found.items() if any(n)}
    for table, (stale, missing) in differing.items():
        typer.echo(f"{table}: {stale} stale, {missing} missing")
    if not differing:
        typer.echo("every search posting matches its vector")
    elif repair:
        typer.echo(f"repaired: {changed} posting(s) deleted or written")
    else:
        raise fail(
            "the search postings differ from the vectors: "
            "`pinql check search --repair` rewrites them"
        )


def describe(drift: Drift) -> str:
    """One line for one drifted counter row: where, and each differing value."""
    where = drift.table if drift.key is None else f"{drift.table} {drift.key}"
    changes = ", ".join(
        f"{column} {drift.stored[column]} (true: {true})"
        for column, true in drift.true.items()
        if drift.stored[column] != true
    )
    return f"{where}: {changes}"
