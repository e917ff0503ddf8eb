"""The rows loaders return: one immutable NamedTuple per node type, built from result rows
(NamedTuples: a page of pins builds about a hundred rows, and a tuple is built in C where a
frozen dataclass sets each field through `object.__setattr__`).

Each row type comes with the SQL column list that fills it (columns read through the
privacy rules), its width, and a constructor reading those columns by position from a row at
an offset: one statement can carry two row types side by side (a pin, then its board), and
rows are read the same whether they come alone (asyncpg Records) or with the other statements
of their wave (tuples, db/waves.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import NamedTuple

from db.privacy import own_email, visible_saved_from
from db.waves import Row

_new = tuple.__new__
"""Builds a row from a tuple of its fields (NamedTuple._make without its Python frame and
length check: the column lists above fix the widths)."""


class BoardPrivacy(Enum):
    """Who may see a board: everyone, or its owner only."""

    PUBLIC = "PUBLIC"
    SECRET = "SECRET"  # noqa: S105 (a privacy level, not a password)


class UserRow(NamedTuple):
    """A user as the viewer may see it (email only on the viewer's own row)."""

    id: int
    username: str
    display_name: str
    email: str | None
    bio: str
    avatar_url: str | None
    created_at: datetime


class BoardRow(NamedTuple):
    """A board the viewer may see."""

    id: int
    owner_id: int
    name: str
    description: str
    privacy: BoardPrivacy
    created_at: datetime


class Image(NamedTuple):
    """A pin's image."""

    url: str
    width: int
    height: int
    dominant_color: str


class PinRow(NamedTuple):
    """A pin the viewer may see (its board is visible to the viewer); `saved_from_id` is
    None when the pin it was saved from is hidden from the viewer."""

    id: int
    board_id: int
    creator_id: int
    title: str
    description: str
    link: str | None
    image: Image
    saved_from_id: int | None
    created_at: datetime


class CommentRow(NamedTuple):
    """A comment on a pin the viewer may see."""

    id: int
    pin_id: int
    author_id: int
    text: str
    created_at: datetime


NodeRow = UserRow | BoardRow | PinRow | CommentRow
"""A row of a type that implements Relay's Node."""


def user_columns(u: str = "u") -> str:
    """SQL select list for a UserRow from users aliased `u`."""
    return (
        f"{u}.id, {u}.username, {u}.display_name, {own_email(u)} as email, {u}.bio, "
        f"{u}.avatar_url, {u}.created_at"
    )


USER_WIDTH = 7


def user_row(r: Row, at: int = 0) -> UserRow:
    """A UserRow from the columns of `user_columns`, starting at `r[at]`."""
    return _new(UserRow, r[at : at + USER_WIDTH])


def board_columns(b: str = "b", prefix: str = "") -> str:
    """SQL select list for a BoardRow from boards aliased `b`, names prefixed by `prefix`."""
    names = ("id", "owner_id", "name", "description", "privacy", "created_at")
    # privacy as text: no enum type for asyncpg to introspect on each new connection.
    cast = {"privacy": "::text"}
    return ", ".join(f"{b}.{n}{cast.get(n, '')} as {prefix}{n}" for n in names)


BOARD_WIDTH = 6
PRIVACY = {privacy.value: privacy for privacy in BoardPrivacy}


def board_row(r: Row, at: int = 0) -> BoardRow:
    """A BoardRow from the columns of `board_columns`, starting at `r[at]`."""
    return _new(BoardRow, (r[at], r[at + 1], r[at + 2], r[at + 3], PRIVACY[r[at + 4]], r[at + 5]))


def pin_columns(p: str = "p") -> str:
    """SQL select list for a PinRow from pins aliased `p`."""
    return (
        f"{p}.id, {p}.board_id, {p}.creator_id, {p}.title, {p}.description, {p}.link, "
        f"{p}.image_url, {p}.image_width, {p}.image_height, {p}.dominant_color, "
        f"{visible_saved_from(p)} as saved_from_id, {p}.created_at"
    )


PIN_WIDTH = 12


def pin_row(r: Row, at: int = 0) -> PinRow:
    """A PinRow from the columns of `pin_columns`, starting at `r[at]`."""
    # slices, not one index per column: a row of every page goes through here
    return _new(PinRow, (*r[at : at + 6], _new(Image, r[at + 6 : at + 10]), *r[at + 10 : at + 12]))


def comment_columns(c: str = "c") -> str:
    """SQL select list for a CommentRow from comments aliased `c`."""
    return f"{c}.id, {c}.pin_id, {c}.author_id, {c}.text, {c}.created_at"


COMMENT_WIDTH = 5


def comment_row(r: Row, at: int = 0) -> CommentRow:
    """A CommentRow from the columns of `comment_columns`, starting at `r[at]`."""
    return _new(CommentRow, r[at : at + COMMENT_WIDTH])
