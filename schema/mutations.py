"""The root Mutation type, its payloads and UserError (Relay style: one input, one payload).

A payload carries the changed objects, read back with the viewer's privacy, and
`userErrors`: inputs refused by a rule (nothing was written then). A request without a
viewer gets UNAUTHENTICATED and a null payload.
"""

from __future__ import annotations

import strawberry

from db.writes.errors import Code
from loaders.rows import BoardRow, CommentRow, PinRow, UserRow
from resolvers import mutations
from schema.nodes import Board, Comment, Pin, User

strawberry.enum(Code, name="UserErrorCode", description="Why an input was refused.")


@strawberry.type(description="An input the mutation refused: which field, which rule.")
class UserError:
    field: str = strawberry.field(description="The input field, e.g. `name` or `boardId`.")
    message: str = strawberry.field(description="What rule was broken, with the value.")
    code: Code = strawberry.field(description="The rule, for programs.")


ERRORS = "Inputs refused by a rule; empty on success (then nothing was written)."


@strawberry.type(description="What createBoard or updateBoard changed.")
class BoardPayload:
    board: BoardRow | None = strawberry.field(graphql_type=Board | None, description="The board.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What deleteBoard changed.")
class DeleteBoardPayload:
    deleted_board_id: strawberry.ID | None = strawberry.field(description="The deleted board.")
    deleted_pin_count: int = strawberry.field(description="How many pins went with it.")
    owner: UserRow | None = strawberry.field(
        graphql_type=User | None, description="The viewer, with updated counts."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What createPin, updatePin or savePin changed.")
class PinPayload:
    pin: PinRow | None = strawberry.field(
        graphql_type=Pin | None, description="The pin (for savePin: the new repin)."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What deletePin changed.")
class DeletePinPayload:
    deleted_pin_id: strawberry.ID | None = strawberry.field(description="The deleted pin.")
    board: BoardRow | None = strawberry.field(
        graphql_type=Board | None, description="The board it was on, with updated counts."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What movePin changed.")
class MovePinPayload:
    pin: PinRow | None = strawberry.field(
        graphql_type=Pin | None, description="The pin, on its new board."
    )
    previous_board: BoardRow | None = strawberry.field(
        graphql_type=Board | None, description="The board it left."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What addComment changed.")
class CommentPayload:
    comment: CommentRow | None = strawberry.field(
        graphql_type=Comment | None, description="The new comment."
    )
    pin: PinRow | None = strawberry.field(
        graphql_type=Pin | None, description="The pin, with its updated comments."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What deleteComment changed.")
class DeleteCommentPayload:
    deleted_comment_id: strawberry.ID | None = strawberry.field(description="The deleted comment.")
    pin: PinRow | None = strawberry.field(graphql_type=Pin | None, description="The pin it was on.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What followUser or unfollowUser changed.")
class FollowPayload:
    user: UserRow | None = strawberry.field(
        graphql_type=User | None, description="The user, with updated followerCount."
    )
    viewer: UserRow | None = strawberry.field(
        graphql_type=User | None, description="The viewer, with updated followingCount."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Changes, each in one transaction. All need a viewer.")
class Mutation:
    create_board: mutations.BoardPayload | None = strawberry.field(
        resolver=mutations.create_board,
        graphql_type=BoardPayload | None,
        description="Creates a board of the viewer's.",
    )
    update_board: mutations.BoardPayload | None = strawberry.field(
        resolver=mutations.update_board,
        graphql_type=BoardPayload | None,
        description="Changes one of the viewer's boards.",
    )
    delete_board: mutations.DeleteBoardPayload | None = strawberry.field(
        resolver=mutations.delete_board,
        graphql_type=DeleteBoardPayload | None,
        description="Deletes one of the viewer's boards with all its pins.",
    )
    create_pin: mutations.PinPayload | None = strawberry.field(
        resolver=mutations.create_pin,
        graphql_type=PinPayload | None,
        description="Creates a pin on one of the viewer's boards.",
    )
    update_pin: mutations.PinPayload | None = strawberry.field(
        resolver=mutations.update_pin,
        graphql_type=PinPayload | None,
        description="Changes a pin on one of the viewer's boards.",
    )
    delete_pin: mutations.DeletePinPayload | None = strawberry.field(
        resolver=mutations.delete_pin,
        graphql_type=DeletePinPayload | None,
        description="Deletes a pin on one of the viewer's boards.",
    )
    move_pin: mutations.MovePinPayload | None = strawberry.field(
        resolver=mutations.move_pin,
        graphql_type=MovePinPayload | None,
        description="Moves a pin of the viewer's onto another of the viewer's boards.",
    )
    save_pin: mutations.PinPayload | None = strawberry.field(
        resolver=mutations.save_pin,
        graphql_type=PinPayload | None,
        description="Saves (repins) a pin the viewer may see onto one of the viewer's boards; "
        "saving it onto the same board again returns the first save.",
    )
    add_comment: mutations.CommentPayload | None = strawberry.field(
        resolver=mutations.add_comment,
        graphql_type=CommentPayload | None,
        description="Adds the viewer's comment to a pin the viewer may see.",
    )
    delete_comment: mutations.DeleteCommentPayload | None = strawberry.field(
        resolver=mutations.delete_comment,
        graphql_type=DeleteCommentPayload | None,
        description="Deletes a comment: the viewer's own, or one on a pin of the viewer's.",
    )
    follow_user: mutations.FollowPayload | None = strawberry.field(
        resolver=mutations.follow_user,
        graphql_type=FollowPayload | None,
        description="The viewer follows a user (already following: no change).",
    )
    unfollow_user: mutations.FollowPayload | None = strawberry.field(
        resolver=mutations.unfollow_user,
        graphql_type=FollowPayload | None,
        description="The viewer stops following a user (not following: no change).",
    )
