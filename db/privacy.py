"""The privacy rules, as the SQL every loader and write statement is built from, so none can
skip them.

Every loader statement takes the viewer's user id as `$1` (NULL when anonymous):
- a SECRET board, and every pin on it and every comment on those pins, exists only for the
  board's owner; with an anonymous viewer `owner_id = NULL` is never true;
- `email` is returned only on the viewer's own user row, NULL on everyone else's;
- a repin's `saved_from_id` is NULL when the viewer may not see the pin it was saved from.
"""

from __future__ import annotations

VIEWER = "$1::bigint"


def board_visible(board: str) -> str:
    """SQL predicate: the viewer may see the board aliased `board`."""
    return f"({board}.privacy = 'PUBLIC' or {board}.owner_id = {VIEWER})"


def visible_saved_from(pin: str) -> str:
    """SQL expression: the pin's `saved_from_id` if the viewer may see that pin, else NULL
    (a repin must not reveal that a secret pin exists, not even by its id)."""
    return (
        f"(select sp.id from pins sp join boards sb on sb.id = sp.board_id "
        f"where sp.id = {pin}.saved_from_id and {board_visible('sb')})"
    )


def own_email(user: str) -> str:
    """SQL expression: the user's email if the user is the viewer, else NULL."""
    return f"case when {user}.id = {VIEWER} then {user}.email end"
