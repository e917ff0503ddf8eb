"""A small hand-made world for privacy tests: who owns what, what is secret, who sees what.

- olive owns board OLIVE_PUBLIC (pins P1, P_REPIN_SECRET) and SECRET board OLIVE_SECRET
  (pins P2, P_SECRET_REPIN); otto owns OTTO_PUBLIC (pins P3, P4) and SECRET OTTO_SECRET (P6).
- P3 is otto's repin of olive's secret P2 (its savedFrom must stay hidden from all but olive);
  P4 is otto's repin of P1; P_SECRET_REPIN is olive's repin of P1 onto her secret board.
- Comments: C1 (otto on P1), C2 (olive on P2), C3 (otto on P2: a pin that became secret).
- Follows: otto → olive, ada → olive, olive → otto. ada owns nothing.
"""

from __future__ import annotations

import asyncpg

OLIVE, OTTO, ADA = 1, 2, 3
USERNAMES = {OLIVE: "olive", OTTO: "otto", ADA: "ada"}
OLIVE_PUBLIC, OLIVE_SECRET, OTTO_PUBLIC, OTTO_SECRET = 1, 2, 3, 4
P1, P2, P3, P4, P_SECRET_REPIN, P6, P_REPIN_SECRET = 1, 2, 3, 4, 5, 6, 7
C1, C2, C3 = 1, 2, 3

BOARD_OWNER = {OLIVE_PUBLIC: OLIVE, OLIVE_SECRET: OLIVE, OTTO_PUBLIC: OTTO, OTTO_SECRET: OTTO}
SECRET_BOARDS = {OLIVE_SECRET, OTTO_SECRET}
PIN_BOARD = {
    P1: OLIVE_PUBLIC,
    P2: OLIVE_SECRET,
    P3: OTTO_PUBLIC,
    P4: OTTO_PUBLIC,
    P_SECRET_REPIN: OLIVE_SECRET,
    P6: OTTO_SECRET,
    P_REPIN_SECRET: OLIVE_PUBLIC,
}
SAVED_FROM = {P3: P2, P4: P1, P_SECRET_REPIN: P1, P_REPIN_SECRET: P6}
COMMENT_PIN = {C1: P1, C2: P2, C3: P2}
COMMENT_AUTHOR = {C1: OTTO, C2: OLIVE, C3: OTTO}
FOLLOWS = [(OTTO, OLIVE), (ADA, OLIVE), (OLIVE, OTTO)]
VIEWERS: list[int | None] = [OLIVE, OTTO, ADA, None]


def visible_boards(viewer: int | None) -> set[int]:
    """The boards `viewer` may see."""
    return {b for b, o in BOARD_OWNER.items() if b not in SECRET_BOARDS or o == viewer}


def visible_pins(viewer: int | None) -> set[int]:
    """The pins `viewer` may see."""
    boards = visible_boards(viewer)
    return {p for p, b in PIN_BOARD.items() if b in boards}


# Derived facts, for expectations: lists are newest first (ids grow with creation), as served.
PIN_CREATOR = {p: BOARD_OWNER[b] for p, b in PIN_BOARD.items()}


def newest_first(ids: set[int]) -> list[int]:
    """The ids in the order every connection lists them: highest (newest) first."""
    return sorted(ids, reverse=True)


def email(user: int) -> str:
    """The email `create` gives `user`."""
    return f"{USERNAMES[user]}@example.com"


def visible_comments(viewer: int | None) -> set[int]:
    """The comments `viewer` may see: those on pins the viewer may see."""
    pins = visible_pins(viewer)
    return {c for c, p in COMMENT_PIN.items() if p in pins}


def boards_of(owner: int, viewer: int | None) -> list[int]:
    """`owner`'s boards that `viewer` may see, newest first."""
    return newest_first({b for b in visible_boards(viewer) if BOARD_OWNER[b] == owner})


def pins_on(board: int, viewer: int | None) -> list[int]:
    """The pins of `board` that `viewer` may see, newest first."""
    return newest_first({p for p in visible_pins(viewer) if PIN_BOARD[p] == board})


def pins_by(creator: int, viewer: int | None) -> list[int]:
    """The pins `creator` made that `viewer` may see, newest first."""
    return newest_first({p for p in visible_pins(viewer) if PIN_CREATOR[p] == creator})


def comments_on(pin: int, viewer: int | None) -> list[int]:
    """The comments on `pin` that `viewer` may see, newest first."""
    return newest_first({c for c in visible_comments(viewer) if COMMENT_PIN[c] == pin})


def saved_from(pin: int, viewer: int | None) -> int | None:
    """The pin `pin` was saved from, if `viewer` may see it."""
    source = SAVED_FROM.get(pin)
    return source if source in visible_pins(viewer) else None


def save_count(pin: int, viewer: int | None) -> int:
    """How many repins of `pin` sit on boards `viewer` may see (0 if `pin` is hidden)."""
    if pin not in visible_pins(viewer):
        return 0
    return sum(1 for p in visible_pins(viewer) if SAVED_FROM.get(p) == pin)


def home_feed(viewer: int) -> list[int]:
    """The pins `viewer` may see made by the users `viewer` follows, newest first."""
    followees = {followee for follower, followee in FOLLOWS if follower == viewer}
    return newest_first({p for p in visible_pins(viewer) if PIN_CREATOR[p] in followees})


def followers_of(user: int) -> list[int]:
    """The users following `user`, most recent follow first."""
    return [follower for follower, followee in reversed(FOLLOWS) if followee == user]


def followed_by(user: int) -> list[int]:
    """The users `user` follows, most recent follow first."""
    return [followee for follower, followee in reversed(FOLLOWS) if follower == user]


async def create(conn: asyncpg.Connection) -> None:
    """Writes the world into an empty, migrated database."""
    await conn.executemany(
        "insert into users (id, username, display_name, email) values ($1, $2, $3, $4)",
        [(i, name, name.title(), f"{name}@example.com") for i, name in USERNAMES.items()],
    )
    await conn.executemany(
        "insert into boards (id, owner_id, name, privacy) values ($1, $2, $3, $4)",
        [
            (b, o, f"board {b}", "SECRET" if b in SECRET_BOARDS else "PUBLIC")
            for b, o in BOARD_OWNER.items()
        ],
    )
    await conn.executemany(
        """insert into pins (id, board_id, creator_id, title, image_url, image_width,
               image_height, dominant_color, saved_from_id)
           values ($1, $2, $3, $4, $5, 100, 150, '#336699', $6)""",
        [
            (p, b, BOARD_OWNER[b], f"pin {p}", f"https://img.example/{p}.jpg", SAVED_FROM.get(p))
            for p, b in sorted(PIN_BOARD.items())
        ],
    )
    await conn.executemany(
        "insert into comments (id, pin_id, author_id, text) values ($1, $2, $3, $4)",
        [(c, p, COMMENT_AUTHOR[c], f"comment {c}") for c, p in COMMENT_PIN.items()],
    )
    await conn.executemany(
        "insert into follows (follower_id, followee_id) values ($1, $2)", FOLLOWS
    )
    for table in ("users", "boards", "pins", "comments"):
        await conn.execute(
            f"select setval(pg_get_serial_sequence('{table}', 'id'), max(id)) from {table}"
        )
