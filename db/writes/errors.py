"""What a refused write tells the client: which input field, which rule, which value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import asyncpg

VIEWER_KEYS = frozenset(
    {
        "boards_owner_id_fkey",
        "pins_creator_id_fkey",
        "comments_author_id_fkey",
        "follows_follower_id_fkey",
    }
)
"""The foreign keys from a row a write inserts to the viewer writing it (db/migrations/):
violated only when the viewer's user no longer exists, whatever the write's input."""


class Code(StrEnum):
    """Why an input was refused (the GraphQL enum UserErrorCode)."""

    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    INVALID_URL = "INVALID_URL"
    INVALID_FORMAT = "INVALID_FORMAT"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_ID = "INVALID_ID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    SELF_FOLLOW = "SELF_FOLLOW"


@dataclass(frozen=True, slots=True)
class UserError:
    """One refused input: `field` is the input field's name (e.g. `name`, `boardId`)."""

    field: str
    message: str
    code: Code


class Refused(Exception):
    """A write that was not done, and why; the transaction rolls back."""

    def __init__(self, *errors: UserError) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def not_found(field: str, what: str) -> Refused:
    """The refusal for an object that does not exist, or that the viewer may not see: the
    same words either way, so a hidden object cannot be told from a missing one."""
    return Refused(UserError(field, f"{field}: no {what} with this ID exists", Code.NOT_FOUND))


def forbidden(field: str, message: str) -> Refused:
    """The refusal for an object the viewer may see but not change."""
    return Refused(UserError(field, f"{field}: {message}", Code.FORBIDDEN))


def viewer_gone(exc: BaseException) -> bool:
    """Whether `exc` says the viewer's user no longer exists (a write's row could not
    reference it): their token outlived their account, which is not the input's fault."""
    return isinstance(exc, asyncpg.ForeignKeyViolationError) and exc.constraint_name in VIEWER_KEYS
