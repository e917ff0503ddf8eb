"""Who a request's bearer token signs in as, if that user still exists: a token stays valid
until it expires, but its user can be deleted before then, and that token must be refused
(401) at the edge rather than run half-way as nobody.

Each worker reads a viewer's user on first sight and again once `recheck_seconds` have passed
since (so a deletion takes effect everywhere within that time); the answer, either way, is
remembered for that long, for up to `size` viewers. Viewers first seen in the same moment are
read with one statement, on a pool connection of their own (not a request's session: the
read serves every request that waits on it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiodataloader import DataLoader
from cachetools import TTLCache

from db.errors import DatabaseUnavailable, StatementTimeout
from db.pool import Database
from db.viewers import existing_users
from execution.errors import UNAVAILABLE
from server.auth import InvalidToken, Viewers
from server.graphql_http import RequestError

log = logging.getLogger("pinql.auth")

RECHECK_SECONDS = 60.0
"""How long a worker trusts what it read about a viewer's user."""
SIZE = 100_000
"""Viewers a worker remembers (about 100 bytes each)."""
BATCH = 1_000
"""The most viewers one statement reads."""


class ViewerGone(InvalidToken):
    """The token is genuine but its user no longer exists."""


class ViewersUnavailable(RequestError):
    """A viewer's user could not be read (PostgreSQL unreachable or too slow): the request
    can be neither run nor refused: 503."""

    def __init__(self, message: str) -> None:
        super().__init__(503, message, UNAVAILABLE, {"Retry-After": "1"})


Checked = Callable[[str, int], None]
"""Counts viewers read, by outcome (`exists`, `gone`, `unavailable`)."""


class LiveViewers:
    """`viewer_of(header)`: the viewer `tokens` verify, once `check` found their user. One
    per process (the app's lifespan)."""

    def __init__(
        self,
        database: Database,
        tokens: Viewers,
        recheck_seconds: float = RECHECK_SECONDS,
        size: int = SIZE,
        checked: Checked | None = None,
    ) -> None:
        self.database = database
        self.tokens = tokens
        self._known: TTLCache[int, bool] = TTLCache(size, recheck_seconds, timer=time.monotonic)
        self._checked = checked
        self._reads: DataLoader[int, bool] = DataLoader(
            self._read, cache=False, max_batch_size=BATCH
        )

    async def viewer_of(self, authorization: str | None) -> int | None:
        """The viewer an `Authorization` header signs in as; None if absent. InvalidToken
        (ViewerGone among them) and ViewersUnavailable as `Viewers.from_header` and
        `check`."""
        viewer_id = self.tokens.from_header(authorization)
        if viewer_id is not None:
            await self.check(viewer_id)
        return viewer_id

    async def check(self, viewer_id: int) -> None:
        """Returns when `viewer_id`'s user exists (as last read, at most `recheck_seconds`
        ago); else ViewerGone, or ViewersUnavailable when it must be read and cannot be."""
        exists = self._known.get(viewer_id)
        if exists is None:
            exists = await self._reads.load(viewer_id)
        if not exists:
            raise ViewerGone("bearer token names a user who no longer exists: sign in again")

    async def _read(self, ids: list[int]) -> list[bool]:
        """Which of `ids` exist (aiodataloader's batch function), remembered."""
        session = self.database.session()
        try:
            found = await existing_users(session, ids)
        except (DatabaseUnavailable, StatementTimeout) as exc:
            self._count("unavailable", len(ids))
            raise ViewersUnavailable(
                f"could not check that the signed-in user still exists: {exc}"
            ) from exc
        finally:
            await session.close()
        answers = [viewer in found for viewer in ids]
        for viewer, exists in zip(ids, answers, strict=True):
            self._known[viewer] = exists
        gone = len(ids) - len(found)
        if gone:
            log.info("refusing the tokens of %d deleted user(s)", gone)
        self._count("exists", len(found))
        self._count("gone", gone)
        return answers

    def _count(self, outcome: str, n: int) -> None:
        if self._checked is not None and n:
            self._checked(outcome, n)
