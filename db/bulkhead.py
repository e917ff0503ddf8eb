"""Keeps one locked table from taking every pool connection (a bulkhead per statement).

A statement is keyed by its text as sent (a wave's combined text is a statement of its
own). Two rules hold per statement:

- **Slots.** At most `share` of them run at once (half the pool). A caller past that waits
  for a slot holding no connection (`Session.fetch` gives its connection back first), so the
  waiters on a locked table leave the rest of the pool to requests that read other tables.
- **Breaker.** A statement that gave up waiting for a lock (`LockTimeout`) is refused for
  `cooldown` seconds (the lock_timeout): its callers get `LockTimeout` at once, without
  taking a connection or waiting on the lock again. Then one caller at a time is let through
  as a probe: its success closes the breaker, another lock timeout opens it again.

Every wait, refusal and change of a breaker is reported (`report`, a metrics counter) and
each change is logged once, so a table locked in production shows up as what it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from db.errors import LockTimeout

log = logging.getLogger("pinql.db")

Outcome = Literal["queued", "refused", "tripped", "recovered"]
"""What the bulkhead did: a caller waited for a slot, a caller was refused by an open
breaker, a breaker opened, a breaker closed."""

MAX_STATEMENTS = 1024
"""Statements whose state is kept; past it, idle ones (no caller, breaker closed) are
forgotten. Statement texts come from the code (and its waves), so this is never reached in
normal operation."""
SHOWN_CHARACTERS = 80
"""How much of a statement's text a log line shows."""


@dataclass(slots=True)
class _Statement:
    """One statement's slots and breaker."""

    slots: asyncio.Semaphore
    opened: float = 0.0
    """When its breaker last opened (a lock timeout); 0: closed."""
    probing: bool = False
    """A caller was let through while the breaker is open and has not finished."""
    refused: int = field(default=0)
    """Callers refused since the breaker opened (for the recovery's log line)."""


def shown(sql: str) -> str:
    """A statement's text as a log line shows it: one line, cut."""
    text = " ".join(sql.split())
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


class Bulkhead:
    """The slots and breakers of one process's statements (one per `Database`)."""

    def __init__(
        self,
        share: int,
        cooldown: float,
        *,
        limit: str,
        report: Callable[[Outcome], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if share < 1 or cooldown <= 0:
            raise ValueError(f"share must be >= 1 and cooldown > 0, got {share}, {cooldown}")
        self.share = share
        self.cooldown = cooldown
        self.limit = limit
        """The lock_timeout as refusals name it (`lock_timeout (1000 ms)`)."""
        self._report = report
        self._clock = clock
        self._statements: dict[str, _Statement] = {}

    def _reported(self, outcome: Outcome) -> None:
        if self._report is not None:
            self._report(outcome)

    def _of(self, sql: str) -> _Statement:
        state = self._statements.get(sql)
        if state is None:
            if len(self._statements) >= MAX_STATEMENTS:
                self._forget_idle()
            state = self._statements[sql] = _Statement(asyncio.Semaphore(self.share))
        return state

    def _forget_idle(self) -> None:
        for sql, state in list(self._statements.items()):
            if not state.opened and not state.slots.locked() and not state.probing:
                del self._statements[sql]

    def full(self, sql: str) -> bool:
        """Whether a caller of `sql` would wait for a slot now."""
        return self._of(sql).slots.locked()

    def refuse_if_open(self, sql: str) -> None:
        """Raises LockTimeout while `sql`'s breaker is open and its cooldown runs (or a
        probe is out): a caller checks before waiting for a slot, and again once it has
        one (`enter`)."""
        state = self._statements.get(sql)
        if state is not None and state.opened:
            self._refuse_open(state)

    def _refuse_open(self, state: _Statement) -> None:
        ago = self._clock() - state.opened
        if ago < self.cooldown or state.probing:
            state.refused += 1
            self._reported("refused")
            raise LockTimeout(
                f"not sent: the same statement waited longer than {self.limit} for a lock "
                f"{ago:.1f} s ago, and is refused for {self.cooldown:g} s after that so that "
                "its waiters cannot take every connection: retry"
            )

    async def enter(self, sql: str) -> None:
        """Takes a slot of `sql` (waiting for one if all are taken), then lets the caller
        through unless the breaker refuses it (LockTimeout, slot given back). A caller let
        through an open breaker is its probe. Every `enter` that returns is paired with
        `leave`."""
        state = self._of(sql)
        if state.slots.locked():
            self._reported("queued")
        await state.slots.acquire()
        if state.opened:
            try:
                self._refuse_open(state)
            except LockTimeout:
                state.slots.release()
                raise
            state.probing = True

    def leave(self, sql: str, fault: BaseException | None) -> None:
        """Gives the slot back; a LockTimeout (re)opens the breaker, a success closes it."""
        state = self._statements[sql]
        state.slots.release()
        probe, state.probing = state.probing, False
        if isinstance(fault, LockTimeout):
            if not state.opened:
                self._reported("tripped")
                log.warning(
                    "statement waited past %s for a lock: refusing it for %g s at a time "
                    "until a try succeeds: %s",
                    self.limit,
                    self.cooldown,
                    shown(sql),
                )
            state.opened = self._clock()
        elif fault is None and probe:
            self._reported("recovered")
            log.warning(
                "statement ran again after its lock timeout (%d refused meanwhile): %s",
                state.refused,
                shown(sql),
            )
            state.opened = 0.0
            state.refused = 0
