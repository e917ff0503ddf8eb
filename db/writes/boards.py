"""Board writes: create, update, delete (with its pins)."""

from __future__ import annotations

from dataclasses import dataclass

from db.pool import Connection
from db.privacy import VIEWER, board_visible
from db.writes.errors import forbidden, not_found
from db.writes.rules import DESCRIPTION, NAME, Input

# A board the viewer may see, locked for the rest of the transaction: its owner.
BOARD_FOR_WRITE = f"""
select b.owner_id from boards b where b.id = $2 and {board_visible("b")} for update of b
"""
# Inserts a board owned by the viewer; its id.
INSERT_BOARD = f"""
insert into boards (owner_id, name, description, privacy)
values ({VIEWER}, $2, $3, $4::board_privacy) returning id
"""
# Changes the given columns (NULL: unchanged) of the viewer's board.
UPDATE_BOARD = f"""
update boards set name = coalesce($3, name), description = coalesce($4, description),
    privacy = coalesce($5::board_privacy, privacy)
where id = $2 and owner_id = {VIEWER}
"""
# Deletes a board's pins (their comments go with them; repins elsewhere lose savedFrom).
DELETE_PINS_OF_BOARD = "delete from pins where board_id = $1"
# Deletes the viewer's board.
DELETE_BOARD = f"delete from boards where id = $2 and owner_id = {VIEWER}"


@dataclass(frozen=True, slots=True)
class BoardChanges:
    """New values for a board; None leaves a column as it is."""

    name: str | None = None
    description: str | None = None
    privacy: str | None = None


async def own_board(conn: Connection, viewer: int, board_id: int, field: str) -> None:
    """Locks the viewer's board; refused when it is missing or hidden (NOT_FOUND) or someone
    else's (FORBIDDEN)."""
    owner = await conn.fetchval(BOARD_FOR_WRITE, viewer, board_id)
    if owner is None:
        raise not_found(field, "board")
    if owner != viewer:
        raise forbidden(field, "only the board's owner may do this")


async def create_board(
    conn: Connection, viewer: int, name: str, description: str, privacy: str
) -> int:
    """A new board of the viewer's; its id."""
    checked = Input()
    name = checked.text("name", name, NAME)
    description = checked.text("description", description, DESCRIPTION)
    checked.check()
    board_id: int = await conn.fetchval(INSERT_BOARD, viewer, name, description, privacy)
    return board_id


async def update_board(conn: Connection, viewer: int, board_id: int, changes: BoardChanges) -> None:
    """Changes the viewer's board."""
    checked = Input()
    name = None if changes.name is None else checked.text("name", changes.name, NAME)
    description = changes.description
    if description is not None:
        description = checked.text("description", description, DESCRIPTION)
    checked.check()
    await own_board(conn, viewer, board_id, "boardId")
    await conn.execute(UPDATE_BOARD, viewer, board_id, name, description, changes.privacy)


async def delete_board(conn: Connection, viewer: int, board_id: int) -> int:
    """Deletes the viewer's board and its pins; how many pins went with it."""
    await own_board(conn, viewer, board_id, "boardId")
    deleted = await conn.execute(DELETE_PINS_OF_BOARD, board_id)
    await conn.execute(DELETE_BOARD, viewer, board_id)
    return int(deleted.split()[-1])
