"""Errors a client can act on: each has a GraphQL error code and says which rule, which value."""

from __future__ import annotations

from typing import Any


class PinqlError(Exception):
    """An expected error: its message reaches the client with `extensions.code`."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **details}


class BadUserInput(PinqlError):
    """An argument broke a rule: the message names the argument, the rule and the value."""

    code = "BAD_USER_INPUT"

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message, argument=argument)


class KeyReused(PinqlError):
    """An Idempotency-Key sent again with a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class Unauthenticated(PinqlError):
    """The field needs a signed-in viewer and the request has none."""

    code = "UNAUTHENTICATED"
