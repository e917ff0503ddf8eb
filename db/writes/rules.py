"""Input rules of the writes. `Input` checks one mutation's fields, collects every broken
rule (field, rule, value), and `check()` refuses the write if any was broken."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from db.writes.errors import Code, Refused, UserError

NAME = (1, 100)  # board names and pin titles
DESCRIPTION = (0, 500)
COMMENT = (1, 1000)
MAX_URL = 2048
MAX_PIXELS = 20_000
COLOR = re.compile(r"#[0-9a-f]{6}")


def shown(value: str) -> str:
    """A value quoted for a message, cut at 40 characters."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


class Input:
    """The cleaned values of one mutation's input, and the rules they broke."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def _refuse(self, field: str, message: str, code: Code) -> None:
        self.errors.append(UserError(field, f"{field} {message}", code))

    def text(self, field: str, value: str, bounds: tuple[int, int]) -> str:
        """`value` without surrounding whitespace; its length must be within `bounds`."""
        cleaned = value.strip()
        low, high = bounds
        if "\x00" in cleaned:
            self._refuse(field, "must not contain NUL characters", Code.INVALID_FORMAT)
        elif len(cleaned) < low:
            self._refuse(field, "must not be blank", Code.TOO_SHORT)
        elif len(cleaned) > high:
            self._refuse(
                field, f"must be at most {high} characters, got {len(cleaned)}", Code.TOO_LONG
            )
        return cleaned

    def url(self, field: str, value: str) -> str:
        """`value` trimmed; it must be an absolute http(s) URL of at most MAX_URL characters."""
        cleaned = value.strip()
        if len(cleaned) > MAX_URL:
            self._refuse(
                field, f"must be at most {MAX_URL} characters, got {len(cleaned)}", Code.TOO_LONG
            )
            return cleaned
        try:
            parts = urlsplit(cleaned)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid or any(c.isspace() or ord(c) < 32 for c in cleaned):
            self._refuse(
                field, f"must be an http or https URL, got {shown(value)}", Code.INVALID_URL
            )
        return cleaned

    def pixels(self, field: str, value: int) -> int:
        """`value`; it must be a positive image dimension of at most MAX_PIXELS."""
        if not 1 <= value <= MAX_PIXELS:
            self._refuse(
                field, f"must be between 1 and {MAX_PIXELS}, got {value}", Code.OUT_OF_RANGE
            )
        return value

    def color(self, field: str, value: str) -> str:
        """`value` lowercased; it must be a `#rrggbb` colour."""
        cleaned = value.strip().lower()
        if not COLOR.fullmatch(cleaned):
            self._refuse(
                field, f"must be a colour like #a1b2c3, got {shown(value)}", Code.INVALID_FORMAT
            )
        return cleaned

    def check(self) -> None:
        """Refuses the write when any rule was broken (every broken rule is reported)."""
        if self.errors:
            raise Refused(*self.errors)
