"""The hand-made corpus the search and related-pins tests run on: users, boards (one secret)
and pins with chosen titles, all created at one instant so that scores differ by text and
engagement only, and seven pins whose scores tie."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from resolvers.ids import decode_global_id
from tests.conftest import MakeDatabase, new_database

OLIVE, OTTO, CAROLINE = 1, 2, 3
OLIVE_PUBLIC, OLIVE_SECRET, OTTO_PUBLIC, OTTO_GRANOLA = 1, 2, 3, 4
WHEN = datetime.fromisoformat("2026-06-01 12:00:00+00")
"""Every corpus row's creation time: scores then differ by text and engagement only."""
TIES = 7
"""Pins with the same title and time (equal scores): ordered by id."""

USERS = [
    (OLIVE, "olive", "Olive Stone"),
    (OTTO, "otto", "Otto Berg"),
    (CAROLINE, "caroline.w", "Caroline Walker"),
]
BOARDS = [
    (OLIVE_PUBLIC, OLIVE, "Dinner ideas", "PUBLIC"),
    (OLIVE_SECRET, OLIVE, "Secret lasagna plans", "SECRET"),
    (OTTO_PUBLIC, OTTO, "Living room", "PUBLIC"),
    (OTTO_GRANOLA, OTTO, "Tied granola bowl", "PUBLIC"),  # ties with the pins below
]
# (id, board, title, description)
PINS = [
    (1, OTTO_PUBLIC, "Mid century sofa makeover", ""),
    (2, OTTO_PUBLIC, "Sofa shopping", "A century old shop, mid town, sells it"),
    (3, OLIVE_PUBLIC, "Vegan stir fry", "Quick weeknight dinner"),
    (4, OLIVE_PUBLIC, "Stir the fry sauce", "Not a stir fry at all"),
    (5, OLIVE_PUBLIC, "Chicken stir fry", ""),
    (6, OLIVE_SECRET, "Lasagna for the party", "Nobody may know"),
    (7, OLIVE_PUBLIC, "<script>alert(1)</script> lasagna", ""),
    (8, OLIVE_PUBLIC, "\x02fake\x03 mark on lasagna", ""),
    (9, OTTO_PUBLIC, "Saved for later", ""),  # otto's repin of 5
    *((100 + i, OTTO_PUBLIC, "Tied granola bowl", "") for i in range(TIES)),
]

SAVED_FROM = {9: 5}


async def create_corpus(make_database: MakeDatabase) -> str:
    """A fresh migrated database holding the corpus; its URL."""
    url = await new_database(make_database, with_world=False)
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "insert into users (id, username, display_name, email, created_at) "
            "values ($1, $2, $3, $2 || '@example.com', $4)",
            [(*u, WHEN) for u in USERS],
        )
        await conn.executemany(
            "insert into boards (id, owner_id, name, privacy, created_at) "
            "values ($1, $2, $3, $4::board_privacy, $5)",
            [(*b, WHEN) for b in BOARDS],
        )
        owner = {b[0]: b[1] for b in BOARDS}
        await conn.executemany(
            "insert into pins (id, board_id, creator_id, title, description, image_url, "
            "image_width, image_height, dominant_color, created_at, saved_from_id) "
            "values ($1, $2, $3, $4, $5, 'https://img.example/p.jpg', 10, 10, '#aabbcc', $6, $7)",
            [
                (p, board, owner[board], title, text, WHEN, SAVED_FROM.get(p))
                for p, board, title, text in PINS
            ],
        )
        for table in ("users", "boards", "pins"):
            await conn.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'), 1000)")
    finally:
        await conn.close()
    return url


def ids(connection: dict[str, Any]) -> list[int]:
    """The row ids of a connection's edges, in order."""
    return [decode_global_id(edge["node"]["id"])[1] for edge in connection["edges"]]


def errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    """A response's errors as (code, message)."""
    return [(e["extensions"]["code"], e["message"]) for e in body["errors"]]
