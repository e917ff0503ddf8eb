"""Mutation resolvers: decode the input's IDs, run the write in one transaction, clear the
request's loaders, and return a payload whose objects are read back through the loaders (so
they show the new state, with the viewer's privacy)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar, cast

import strawberry

from db import write_keys
from db.pool import Connection
from db.write_keys import WriteKey
from db.writes import boards, comments, follows, pins
from db.writes.errors import Code, Refused, UserError, viewer_gone
from loaders.rows import BoardRow, CommentRow, PinRow, UserRow
from resolvers.context import Info
from resolvers.errors import BadUserInput, KeyReused, Unauthenticated
from resolvers.ids import decode_id_of
from resolvers.inputs import (
    AddCommentInput,
    CreateBoardInput,
    CreatePinInput,
    DeleteBoardInput,
    DeleteCommentInput,
    DeletePinInput,
    FollowInput,
    MovePinInput,
    SavePinInput,
    UpdateBoardInput,
    UpdatePinInput,
)

T = TypeVar("T")
ACCOUNT_GONE = "the user this token signs in as no longer exists: sign in again"
INPUT = strawberry.argument(description="What to change (see the input type).")
Errors = Sequence[UserError]


@dataclass(frozen=True, slots=True)
class BoardPayload:
    """createBoard / updateBoard."""

    board: BoardRow | None = None
    user_errors: Errors = ()


@dataclass(frozen=True, slots=True)
class DeleteBoardPayload:
    """deleteBoard."""

    deleted_board_id: str | None = None
    deleted_pin_count: int = 0
    owner: UserRow | None = None
    user_errors: Errors = ()


@dataclass(frozen=True, slots=True)
class PinPayload:
    """createPin / updatePin / savePin."""

    pin: PinRow | None = None
    user_errors: Errors = ()


@dataclass(frozen=True, slots=True)
class DeletePinPayload:
    """deletePin."""

    deleted_pin_id: str | None = None
    board: BoardRow | None = None
    user_errors: Errors = ()


@dataclass(frozen=True, slots=True)
class MovePinPayload:
    """movePin."""

    pin: PinRow | None = None
    previous_board: BoardRow | None = None
    user_errors: Errors = ()


@dataclass(frozen=True, slots=True)
class CommentPayload:
    """addComment."""

    comment: CommentRow | None = None
    pin: PinRow | None = None
    user_errors: Errors = ()


@dataclass(frozen=True, slots=True)
class DeleteCommentPayload:
    """deleteComment."""

    deleted_comment_id: str | None = None
    pin: PinRow | None = None
    user_errors: Errors = ()


@dataclass(frozen=True, slots=True)
class FollowPayload:
    """followUser / unfollowUser."""

    user: UserRow | None = None
    viewer: UserRow | None = None
    user_errors: Errors = ()


def _id(type_name: str, value: str, field: str) -> int:
    """The database id of a global ID input; Refused (INVALID_ID) when it is not one."""
    try:
        return decode_id_of(type_name, value, field)
    except BadUserInput as exc:
        raise Refused(UserError(field, exc.message, Code.INVALID_ID)) from None


async def _write(info: Info, write: Callable[[Connection, int], Awaitable[T]]) -> T | Refused:
    """Runs `write(conn, viewer)` in one transaction (keyed: recorded in it, or answered from
    an earlier request's record); then forgets what the loaders hold."""
    viewer = info.context.viewer_id
    if viewer is None:
        raise Unauthenticated("sign in to change anything: send Authorization: Bearer <token>")
    key = info.context.write_key
    try:
        if key is None:
            async with info.context.session.transaction() as conn:
                result = await write(conn, viewer)
        else:
            result = await _keyed(info, key, viewer, write)
    except Refused as refused:
        return refused
    except Exception as exc:
        if viewer_gone(exc):  # a valid token of a deleted user: not a bug, not the input
            raise Unauthenticated(ACCOUNT_GONE) from None
        raise
    info.context.loaders.clear()
    return result


async def _keyed(
    info: Info, key: WriteKey, viewer: int, write: Callable[[Connection, int], Awaitable[T]]
) -> T:
    """`write` run and recorded under the key and this root field in one transaction, or,
    when a request with the key recorded it first, that request's result (nothing written)."""
    field = str(info.path.key)
    for _ in range(2):  # a record made meanwhile by a concurrent request is read on the second
        try:
            async with info.context.session.transaction() as conn:
                found = await write_keys.recorded(conn, viewer, key.key, field, key.ttl_seconds)
                if found is None:
                    result = await write(conn, viewer)
                    await write_keys.record(
                        conn, viewer, key.key, field, key.fingerprint, result, key.ttl_seconds
                    )
                    return result
        except write_keys.RecordExists:
            continue
        if found.fingerprint != key.fingerprint:
            raise KeyReused(
                f"Idempotency-Key {key.key!r} was used for a different request: send a new key"
            )
        key.replayed += 1
        return cast(T, found.result)
    raise RuntimeError(f"key {key.key!r}, field {field!r}: recorded, yet not found")


async def create_board(info: Info, input: Annotated[CreateBoardInput, INPUT]) -> BoardPayload:
    """Creates a board of the viewer's."""
    privacy = input.privacy.value
    done = await _write(
        info, lambda c, v: boards.create_board(c, v, input.name, input.description, privacy)
    )
    if isinstance(done, Refused):
        return BoardPayload(user_errors=done.errors)
    return BoardPayload(board=await info.context.loaders.board_by_id.load(done))


async def update_board(info: Info, input: Annotated[UpdateBoardInput, INPUT]) -> BoardPayload:
    """Changes one of the viewer's boards."""
    changes = boards.BoardChanges(
        input.name, input.description, None if input.privacy is None else input.privacy.value
    )

    async def write(conn: Connection, viewer: int) -> int:
        board_id = _id("Board", input.board_id, "boardId")
        await boards.update_board(conn, viewer, board_id, changes)
        return board_id

    done = await _write(info, write)
    if isinstance(done, Refused):
        return BoardPayload(user_errors=done.errors)
    return BoardPayload(board=await info.context.loaders.board_by_id.load(done))


async def delete_board(info: Info, input: Annotated[DeleteBoardInput, INPUT]) -> DeleteBoardPayload:
    """Deletes one of the viewer's boards and its pins."""

    async def write(conn: Connection, viewer: int) -> int:
        return await boards.delete_board(conn, viewer, _id("Board", input.board_id, "boardId"))

    done = await _write(info, write)
    if isinstance(done, Refused):
        return DeleteBoardPayload(user_errors=done.errors)
    viewer = await info.context.loaders.user_by_id.load(info.context.viewer_id or 0)
    return DeleteBoardPayload(deleted_board_id=input.board_id, deleted_pin_count=done, owner=viewer)


async def create_pin(info: Info, input: Annotated[CreatePinInput, INPUT]) -> PinPayload:
    """Creates a pin on one of the viewer's boards."""
    new = pins.NewPin(
        input.title,
        input.description,
        input.link,
        input.image_url,
        input.image_width,
        input.image_height,
        input.dominant_color,
    )

    async def write(conn: Connection, viewer: int) -> int:
        return await pins.create_pin(conn, viewer, _id("Board", input.board_id, "boardId"), new)

    return await _pin_payload(info, await _write(info, write))


async def update_pin(info: Info, input: Annotated[UpdatePinInput, INPUT]) -> PinPayload:
    """Changes a pin on one of the viewer's boards."""
    changes = pins.PinChanges(input.title, input.description, input.link)

    async def write(conn: Connection, viewer: int) -> int:
        pin_id = _id("Pin", input.pin_id, "pinId")
        await pins.update_pin(conn, viewer, pin_id, changes)
        return pin_id

    return await _pin_payload(info, await _write(info, write))


async def save_pin(info: Info, input: Annotated[SavePinInput, INPUT]) -> PinPayload:
    """Saves a pin the viewer may see onto one of the viewer's boards."""

    async def write(conn: Connection, viewer: int) -> int:
        pin_id = _id("Pin", input.pin_id, "pinId")
        return await pins.save_pin(conn, viewer, pin_id, _id("Board", input.board_id, "boardId"))

    return await _pin_payload(info, await _write(info, write))


async def _pin_payload(info: Info, done: int | Refused) -> PinPayload:
    if isinstance(done, Refused):
        return PinPayload(user_errors=done.errors)
    return PinPayload(pin=await info.context.loaders.pin_by_id.load(done))


async def delete_pin(info: Info, input: Annotated[DeletePinInput, INPUT]) -> DeletePinPayload:
    """Deletes a pin on one of the viewer's boards."""

    async def write(conn: Connection, viewer: int) -> int:
        return await pins.delete_pin(conn, viewer, _id("Pin", input.pin_id, "pinId"))

    done = await _write(info, write)
    if isinstance(done, Refused):
        return DeletePinPayload(user_errors=done.errors)
    board = await info.context.loaders.board_by_id.load(done)
    return DeletePinPayload(deleted_pin_id=input.pin_id, board=board)


async def move_pin(info: Info, input: Annotated[MovePinInput, INPUT]) -> MovePinPayload:
    """Moves a pin of the viewer's onto another of the viewer's boards."""

    async def write(conn: Connection, viewer: int) -> tuple[int, int]:
        pin_id = _id("Pin", input.pin_id, "pinId")
        board_id = _id("Board", input.board_id, "boardId")
        return pin_id, await pins.move_pin(conn, viewer, pin_id, board_id)

    done = await _write(info, write)
    if isinstance(done, Refused):
        return MovePinPayload(user_errors=done.errors)
    pin_id, previous = done
    loaders = info.context.loaders
    return MovePinPayload(
        pin=await loaders.pin_by_id.load(pin_id),
        previous_board=await loaders.board_by_id.load(previous),
    )


async def add_comment(info: Info, input: Annotated[AddCommentInput, INPUT]) -> CommentPayload:
    """Adds the viewer's comment to a pin the viewer may see."""

    async def write(conn: Connection, viewer: int) -> tuple[int, int]:
        pin_id = _id("Pin", input.pin_id, "pinId")
        return await comments.add_comment(conn, viewer, pin_id, input.text), pin_id

    done = await _write(info, write)
    if isinstance(done, Refused):
        return CommentPayload(user_errors=done.errors)
    comment_id, pin_id = done
    loaders = info.context.loaders
    return CommentPayload(
        comment=await loaders.comment_by_id.load(comment_id),
        pin=await loaders.pin_by_id.load(pin_id),
    )


async def delete_comment(
    info: Info, input: Annotated[DeleteCommentInput, INPUT]
) -> DeleteCommentPayload:
    """Deletes the viewer's comment, or a comment on a pin of the viewer's."""

    async def write(conn: Connection, viewer: int) -> int:
        comment_id = _id("Comment", input.comment_id, "commentId")
        return await comments.delete_comment(conn, viewer, comment_id)

    done = await _write(info, write)
    if isinstance(done, Refused):
        return DeleteCommentPayload(user_errors=done.errors)
    pin = await info.context.loaders.pin_by_id.load(done)
    return DeleteCommentPayload(deleted_comment_id=input.comment_id, pin=pin)


async def follow_user(info: Info, input: Annotated[FollowInput, INPUT]) -> FollowPayload:
    """The viewer follows a user (again: no change)."""
    return await _follow_payload(info, input, follows.follow)


async def unfollow_user(info: Info, input: Annotated[FollowInput, INPUT]) -> FollowPayload:
    """The viewer stops following a user (not following: no change)."""
    return await _follow_payload(info, input, follows.unfollow)


async def _follow_payload(
    info: Info, input: FollowInput, change: Callable[[Connection, int, int], Awaitable[None]]
) -> FollowPayload:
    async def write(conn: Connection, viewer: int) -> int:
        user_id = _id("User", input.user_id, "userId")
        await change(conn, viewer, user_id)
        return user_id

    done = await _write(info, write)
    if isinstance(done, Refused):
        return FollowPayload(user_errors=done.errors)
    loaders = info.context.loaders
    return FollowPayload(
        user=await loaders.user_by_id.load(done),
        viewer=await loaders.user_by_id.load(info.context.viewer_id or 0),
    )
