"""Comment writes: add one to a pin, delete one (its author or the pin's board owner)."""

from __future__ import annotations

from db.pool import Connection
from db.privacy import VIEWER, board_visible
from db.writes.errors import forbidden, not_found
from db.writes.pins import PIN_VISIBLE
from db.writes.rules import COMMENT, Input

# Adds the viewer's comment to a pin; its id.
INSERT_COMMENT = (
    f"insert into comments (pin_id, author_id, text) values ($2, {VIEWER}, $3) returning id"
)
# A comment the viewer may see, locked: its author, its pin and the pin's board owner.
COMMENT_FOR_WRITE = f"""
select c.author_id, c.pin_id, b.owner_id from comments c
join pins p on p.id = c.pin_id join boards b on b.id = p.board_id
where c.id = $2 and {board_visible("b")} for update of c
"""
# Deletes a comment.
DELETE_COMMENT = "delete from comments where id = $1"


async def add_comment(conn: Connection, viewer: int, pin_id: int, text: str) -> int:
    """The viewer's new comment on a pin the viewer may see; its id."""
    checked = Input()
    text = checked.text("text", text, COMMENT)
    checked.check()
    if not await conn.fetchval(PIN_VISIBLE, viewer, pin_id):
        raise not_found("pinId", "pin")
    comment_id: int = await conn.fetchval(INSERT_COMMENT, viewer, pin_id, text)
    return comment_id


async def delete_comment(conn: Connection, viewer: int, comment_id: int) -> int:
    """Deletes a comment written by the viewer or on a pin of the viewer's; the pin's id."""
    row = await conn.fetchrow(COMMENT_FOR_WRITE, viewer, comment_id)
    if row is None:
        raise not_found("commentId", "comment")
    if viewer not in (row["author_id"], row["owner_id"]):
        raise forbidden("commentId", "only its author or the pin's owner may delete a comment")
    await conn.execute(DELETE_COMMENT, comment_id)
    pin_id: int = row["pin_id"]
    return pin_id
