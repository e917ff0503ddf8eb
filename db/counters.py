"""The counters (migration 0004_counters): each checked against `count(*)` of what it counts,
and rebuilt where it drifted. `pinql check counters` runs the check (and `--repair`); the
seeder, which loads with the triggers off, rebuilds them all before it commits."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class CounterTable:
    """A table of counters, keyed by `key`, and the query giving every row's true counts."""

    name: str
    key: str
    columns: tuple[str, ...]
    truth: str
    """Selects `key` and `columns` for every row counted, from the rows themselves."""

    @property
    def _all(self) -> str:
        return ", ".join((self.key, *self.columns))

    def drifted_sql(self) -> str:
        """Selects `key`, then each column's stored and true value, where they differ (a
        missing counter row counts as drifted)."""
        pairs = ", ".join(f"c.{c} as stored_{c}, t.{c} as true_{c}" for c in self.columns)
        stored = ", ".join(f"c.{c}" for c in self.columns)
        true = ", ".join(f"t.{c}" for c in self.columns)
        return f"""
            select t.{self.key} as key, {pairs}
            from ({self.truth}) t left join {self.name} c using ({self.key})
            where ({stored}) is distinct from ({true})
            order by t.{self.key}
        """

    def repair_sql(self) -> str:
        """Writes the true counts where they differ; returns the keys written."""
        assignments = ", ".join(f"{c} = excluded.{c}" for c in self.columns)
        stored = ", ".join(f"{self.name}.{c}" for c in self.columns)
        true = ", ".join(f"excluded.{c}" for c in self.columns)
        return f"""
            insert into {self.name} ({self._all}) select {self._all} from ({self.truth}) t
            on conflict ({self.key}) do update set {assignments}
            where ({stored}) is distinct from ({true})
            returning {self.key}
        """


TABLES = (
    CounterTable(
        "user_counts",
        "user_id",
        ("followers", "following", "public_pins", "secret_pins"),
        """
        select u.id as user_id, coalesce(fe.n, 0) as followers, coalesce(fr.n, 0) as following,
            coalesce(p.public_pins, 0) as public_pins, coalesce(p.secret_pins, 0) as secret_pins
        from users u
        left join (select followee_id as id, count(*) as n from follows group by 1) fe
            using (id)
        left join (select follower_id as id, count(*) as n from follows group by 1) fr
            using (id)
        left join (
            select p.creator_id as id,
                count(*) filter (where b.privacy = 'PUBLIC') as public_pins,
                count(*) filter (where b.privacy = 'SECRET') as secret_pins
            from pins p join boards b on b.id = p.board_id group by 1
        ) p using (id)
        """,
    ),
    CounterTable(
        "board_counts",
        "board_id",
        ("pins",),
        """
        select b.id as board_id, coalesce(p.n, 0) as pins
        from boards b
        left join (select board_id as id, count(*) as n from pins group by 1) p using (id)
        """,
    ),
    CounterTable(
        "pin_counts",
        "pin_id",
        ("comments", "public_saves"),
        """
        select p.id as pin_id, coalesce(c.n, 0) as comments, coalesce(s.n, 0) as public_saves
        from pins p
        left join (select pin_id as id, count(*) as n from comments group by 1) c using (id)
        left join (
            select r.saved_from_id as id, count(*) as n
            from pins r join boards b on b.id = r.board_id
            where r.saved_from_id is not null and b.privacy = 'PUBLIC' group by 1
        ) s using (id)
        """,
    ),
)
# The public pins in all, as counted and as stored (the sum of pin_totals' stripes).
TOTALS = """
select
    (select count(*) from pins p join boards b on b.id = p.board_id
     where b.privacy = 'PUBLIC') as true_public_pins,
    (select sum(public_pins)::bigint from pin_totals) as stored_public_pins
"""
# Puts the whole total ($1) in stripe 0 and empties the others.
SET_TOTALS = "update pin_totals set public_pins = case when stripe = 0 then $1 else 0 end"
# Makes the session's triggers skip the counters until its transaction ends (bulk loads).
DEFER = "select set_config('pinql.defer_counters', 'on', true)"
# Blocks writes to what the counters count until the transaction ends: a repair's counts
# then hold when it commits.
LOCK = "lock table users, boards, pins, comments, follows in share mode"
TOTAL = "pin_totals.public_pins"


@dataclass(frozen=True, slots=True)
class Drift:
    """One counter row whose stored counts differ from the true ones."""

    table: str
    key: int | None
    stored: dict[str, int | None]
    true: dict[str, int]


async def drifts(conn: asyncpg.Connection) -> list[Drift]:
    """Every counter that differs from `count(*)` of what it counts, as of one snapshot (a
    repeatable-read transaction: concurrent writes never show as drift), or as the caller's
    transaction sees them."""
    if conn.is_in_transaction():
        return await _drifts(conn)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _drifts(conn)


async def _drifts(conn: asyncpg.Connection) -> list[Drift]:
    found: list[Drift] = []
    for table in TABLES:
        for row in await conn.fetch(table.drifted_sql()):
            found.append(
                Drift(
                    table.name,
                    row["key"],
                    {c: row[f"stored_{c}"] for c in table.columns},
                    {c: row[f"true_{c}"] for c in table.columns},
                )
            )
    totals = await conn.fetchrow(TOTALS)
    assert totals is not None
    if totals["stored_public_pins"] != totals["true_public_pins"]:
        stored = {"public_pins": totals["stored_public_pins"]}
        found.append(Drift(TOTAL, None, stored, {"public_pins": totals["true_public_pins"]}))
    return found


async def rebuild(conn: asyncpg.Connection) -> dict[str, int]:
    """Writes the true counts wherever they differ, in the caller's transaction, after
    locking out writes to the counted tables; the rows written, per counter table."""
    await conn.execute(LOCK)
    written = {}
    for table in TABLES:
        written[table.name] = len(await conn.fetch(table.repair_sql()))
    totals = await conn.fetchrow(TOTALS)
    assert totals is not None
    written[TOTAL] = 0
    if totals["stored_public_pins"] != totals["true_public_pins"]:
        await conn.execute(SET_TOTALS, totals["true_public_pins"])
        written[TOTAL] = 1
    return written
