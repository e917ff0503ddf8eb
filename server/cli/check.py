"""`pinql check counters [--repair]`: every counter the graph reads (db/counters.py) checked
against `count(*)` of what it counts, and, with --repair, rewritten where it drifted."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import typer

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


def describe(drift: Drift) -> str:
    """One line for one drifted counter row: where, and each differing value."""
    where = drift.table if drift.key is None else f"{drift.table} {drift.key}"
    changes = ", ".join(
        f"{column} {drift.stored[column]} (true: {true})"
        for column, true in drift.true.items()
        if drift.stored[column] != true
    )
    return f"{where}: {changes}"
