"""What a refused write tells the client: which input field, which rule, which value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
