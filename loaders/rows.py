"""The rows loaders return: one frozen dataclass per node type, built from asyncpg records.

Each row type comes with the SQL column list that fills it (columns read through the
privacy rules) and a constructor from a record; `prefix` lets one statement carry two row
types side by side (a pin and its board).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import asyncpg

from db.privacy import own_email, visible_saved_from


class BoardPrivacy(Enum):
    """Who may see a board: everyone, or its owner only."""

    PUBLIC = "PUBLIC"
    SECRET = "SECRET"  # noqa: S105 (a privacy level, not a password)


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user as the viewer may see it (email only on the viewer's own row)."""

    id: int
    username: str
    display_name: str
    email: str | None
    bio: str
    avatar_url: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BoardRow:
    """A board the viewer may see."""

    id: int
    owner_id: int
    name: str
    description: str
    privacy: BoardPrivacy
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Image:
    """A pin's image."""

    url: str
    width: int
    height: int
    dominant_color: str


@dataclass(frozen=True, slots=True)
class PinRow:
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


@dataclass(frozen=True, slots=True)
class CommentRow:
    """A comment on a pin the viewer may see."""

    id: int
    pin_id: int
    author_id: int
    text: str
    created_at: datetime


def user_columns(u: str = "u") -> str:
    """SQL select list for a UserRow from users aliased `u`."""
    return (
        f"{u}.id, {u}.username, {u}.display_name, {own_email(u)} as email, {u}.bio, "
        f"{u}.avatar_url, {u}.created_at"
    )


def user_row(r: asyncpg.Record) -> UserRow:
    """A UserRow from a record selected with `user_columns`."""
    return UserRow(
        r["id"],
        r["username"],
        r["display_name"],
        r["email"],
        r["bio"],
        r["avatar_url"],
        r["created_at"],
    )


def board_columns(b: str = "b", prefix: str = "") -> str:
    """SQL select list for a BoardRow from boards aliased `b`, names prefixed by `prefix`."""
    names = ("id", "owner_id", "name", "description", "privacy", "created_at")
    # privacy as text: no enum type for asyncpg to introspect on each new connection.
    cast = {"privacy": "::text"}
    return ", ".join(f"{b}.{n}{cast.get(n, '')} as {prefix}{n}" for n in names)


def board_row(r: asyncpg.Record, prefix: str = "") -> BoardRow:
    """A BoardRow from a record selected with `board_columns(prefix=prefix)`."""
    return BoardRow(
        r[prefix + "id"],
        r[prefix + "owner_id"],
        r[prefix + "name"],
        r[prefix + "description"],
        BoardPrivacy(r[prefix + "privacy"]),
        r[prefix + "created_at"],
    )


def pin_columns(p: str = "p") -> str:
    """SQL select list for a PinRow from pins aliased `p`."""
    return (
        f"{p}.id, {p}.board_id, {p}.creator_id, {p}.title, {p}.description, {p}.link, "
        f"{p}.image_url, {p}.image_width, {p}.image_height, {p}.dominant_color, "
        f"{visible_saved_from(p)} as saved_from_id, {p}.created_at"
    )


def pin_row(r: asyncpg.Record) -> PinRow:
    """A PinRow from a record selected with `pin_columns`."""
    return PinRow(
        r["id"],
        r["board_id"],
        r["creator_id"],
        r["title"],
        r["description"],
        r["link"],
        Image(r["image_url"], r["image_width"], r["image_height"], r["dominant_color"]),
        r["saved_from_id"],
        r["created_at"],
    )


def comment_columns(c: str = "c") -> str:
    """SQL select list for a CommentRow from comments aliased `c`."""
    return f"{c}.id, {c}.pin_id, {c}.author_id, {c}.text, {c}.created_at"


def comment_row(r: asyncpg.Record) -> CommentRow:
    """A CommentRow from a record selected with `comment_columns`."""
    return CommentRow(r["id"], r["pin_id"], r["author_id"], r["text"], r["created_at"])
