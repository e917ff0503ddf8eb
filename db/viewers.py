"""Which user ids still name a user: the HTTP edge checks a signed token's viewer with it
(server/live_viewers.py), since a token outlives a deleted user."""

from __future__ import annotations

from collections.abc import Sequence

from db.pool import Session

# The ids of $1 that name a user (a primary-key probe per id).
EXISTING = "select id from users where id = any($1::bigint[])"


async def existing_users(session: Session, ids: Sequence[int]) -> set[int]:
    """The ids of `ids` whose user exists."""
    return {row["id"] for row in await session.fetch(EXISTING, list(ids))}
