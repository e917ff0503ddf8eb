"""Pin writes: create, update, delete, move to another board, save (repin)."""

from __future__ import annotations

from dataclasses import dataclass

from db.pool import Connection
from db.privacy import VIEWER, board_visible
from db.writes.boards import own_board
from db.writes.errors import forbidden, not_found
from db.writes.rules import DESCRIPTION, NAME, Input

# A pin the viewer may see, locked for the rest of the transaction: its board and owner.
# (NO KEY UPDATE: its id stays, so saves and comments referencing it are not blocked, and a
# savePin holding the board cannot deadlock with a movePin holding the pin.)
PIN_FOR_WRITE = f"""
select p.board_id, b.owner_id from pins p join boards b on b.id = p.board_id
where p.id = $2 and {board_visible("b")} for no key update of p
"""
# Whether the viewer may see a pin (a row, else none), key-share locked until the transaction
# ends: a pin deleted by a transaction that commits meanwhile is then not found, instead of
# failing the foreign key of the save or comment that references it.
PIN_VISIBLE = f"""
select true from pins p join boards b on b.id = p.board_id
where p.id = $2 and {board_visible("b")} for key share of p
"""
# Inserts a pin created by the viewer; its id.
INSERT_PIN = f"""
insert into pins (board_id, creator_id, title, description, link, image_url, image_width,
    image_height, dominant_color)
values ($2, {VIEWER}, $3, $4, $5, $6, $7, $8, $9) returning id
"""
# Changes the given columns (NULL: unchanged; link '' clears it) of a pin.
UPDATE_PIN = """
update pins set title = coalesce($2, title), description = coalesce($3, description),
    link = case when $4::text is null then link else nullif($4::text, '') end
where id = $1
"""
# Deletes a pin (its comments go with it; its repins lose savedFrom).
DELETE_PIN = "delete from pins where id = $1"
# Puts a pin on another board.
MOVE_PIN = "update pins set board_id = $2 where id = $1"
# Serialises saves of one pin onto one board, until the transaction ends.
LOCK_SAVE = (
    "select pg_advisory_xact_lock(hashtextextended('save:' || $1::bigint || ':' || $2::bigint, 0))"
)
# The viewer's existing save of a pin onto a board, if any.
EXISTING_SAVE = "select id from pins where board_id = $1 and saved_from_id = $2 limit 1"
# Copies a pin the viewer may see onto a board, as a repin created by the viewer; its id
# (none if the pin was deleted meanwhile: KEY SHARE waits for a deleting transaction).
SAVE_PIN = f"""
insert into pins (board_id, creator_id, title, description, link, image_url, image_width,
    image_height, dominant_color, saved_from_id)
select $3, {VIEWER}, p.title, p.description, p.link, p.image_url, p.image_width,
    p.image_height, p.dominant_color, p.id
from pins p join boards b on b.id = p.board_id
where p.id = $2 and {board_visible("b")}
for key share of p
returning id
"""


@dataclass(frozen=True, slots=True)
class NewPin:
    """What createPin takes."""

    title: str
    description: str
    link: str | None
    image_url: str
    image_width: int
    image_height: int
    dominant_color: str


@dataclass(frozen=True, slots=True)
class PinChanges:
    """New values for a pin; None leaves a column as it is ('' clears the link)."""

    title: str | None = None
    description: str | None = None
    link: str | None = None


async def own_pin(conn: Connection, viewer: int, pin_id: int, field: str) -> int:
    """Locks a pin on one of the viewer's boards and returns that board's id; refused when
    the pin is missing or hidden (NOT_FOUND) or on someone else's board (FORBIDDEN)."""
    row = await conn.fetchrow(PIN_FOR_WRITE, viewer, pin_id)
    if row is None:
        raise not_found(field, "pin")
    if row["owner_id"] != viewer:
        raise forbidden(field, "only the owner of the pin's board may do this")
    board_id: int = row["board_id"]
    return board_id


async def create_pin(conn: Connection, viewer: int, board_id: int, pin: NewPin) -> int:
    """A new pin on one of the viewer's boards; its id."""
    checked = Input()
    title = checked.text("title", pin.title, NAME)
    description = checked.text("description", pin.description, DESCRIPTION)
    link = None if pin.link is None or not pin.link.strip() else checked.url("link", pin.link)
    image_url = checked.url("imageUrl", pin.image_url)
    width = checked.pixels("imageWidth", pin.image_width)
    height = checked.pixels("imageHeight", pin.image_height)
    color = checked.color("dominantColor", pin.dominant_color)
    checked.check()
    await own_board(conn, viewer, board_id, "boardId")
    pin_id: int = await conn.fetchval(
        INSERT_PIN, viewer, board_id, title, description, link, image_url, width, height, color
    )
    return pin_id


async def update_pin(conn: Connection, viewer: int, pin_id: int, changes: PinChanges) -> None:
    """Changes a pin on one of the viewer's boards."""
    checked = Input()
    title = None if changes.title is None else checked.text("title", changes.title, NAME)
    description = changes.description
    if description is not None:
        description = checked.text("description", description, DESCRIPTION)
    link = changes.link
    if link is not None and link.strip():
        link = checked.url("link", link)
    elif link is not None:
        link = ""
    checked.check()
    await own_pin(conn, viewer, pin_id, "pinId")
    await conn.execute(UPDATE_PIN, pin_id, title, description, link)


async def delete_pin(conn: Connection, viewer: int, pin_id: int) -> int:
    """Deletes a pin on one of the viewer's boards; that board's id."""
    board_id = await own_pin(conn, viewer, pin_id, "pinId")
    await conn.execute(DELETE_PIN, pin_id)
    return board_id


async def move_pin(conn: Connection, viewer: int, pin_id: int, board_id: int) -> int:
    """Moves a pin of the viewer's onto another of the viewer's boards; the board it left."""
    previous = await own_pin(conn, viewer, pin_id, "pinId")
    await own_board(conn, viewer, board_id, "boardId")
    await conn.execute(MOVE_PIN, pin_id, board_id)
    return previous


async def save_pin(conn: Connection, viewer: int, pin_id: int, board_id: int) -> int:
    """Saves (repins) a pin the viewer may see onto one of the viewer's boards; the new
    pin's id. Saving the same pin onto the same board again returns the first save."""
    if not await conn.fetchval(PIN_VISIBLE, viewer, pin_id):
        raise not_found("pinId", "pin")
    await own_board(conn, viewer, board_id, "boardId")
    await conn.execute(LOCK_SAVE, board_id, pin_id)
    existing: int | None = await conn.fetchval(EXISTING_SAVE, board_id, pin_id)
    if existing is not None:
        return existing
    saved: int | None = await conn.fetchval(SAVE_PIN, viewer, pin_id, board_id)
    if saved is None:
        raise not_found("pinId", "pin")
    return saved
