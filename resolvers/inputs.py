"""The mutations' input objects (Relay style: one input argument per mutation)."""

from __future__ import annotations

import strawberry

from loaders.rows import BoardPrivacy
from resolvers import arguments  # noqa: F401 (registers BoardPrivacy with Strawberry first)

DEFAULT_COLOR = "#e0e0e0"


@strawberry.input(description="A new board of the viewer's.")
class CreateBoardInput:
    name: str = strawberry.field(description="1..100 characters (surrounding spaces trimmed).")
    description: str = strawberry.field(default="", description="At most 500 characters.")
    privacy: BoardPrivacy = strawberry.field(
        default=BoardPrivacy.PUBLIC, description="PUBLIC, or SECRET (only the viewer sees it)."
    )


@strawberry.input(description="Changes to one of the viewer's boards; null leaves a field as is.")
class UpdateBoardInput:
    board_id: strawberry.ID = strawberry.field(description="The board's global ID.")
    name: str | None = strawberry.field(default=None, description="1..100 characters.")
    description: str | None = strawberry.field(default=None, description="At most 500 characters.")
    privacy: BoardPrivacy | None = strawberry.field(
        default=None, description="Making a board SECRET hides it and its pins from everyone else."
    )


@strawberry.input(description="One of the viewer's boards to delete, with all its pins.")
class DeleteBoardInput:
    board_id: strawberry.ID = strawberry.field(description="The board's global ID.")


@strawberry.input(description="A new pin on one of the viewer's boards.")
class CreatePinInput:
    board_id: strawberry.ID = strawberry.field(description="The board to pin onto.")
    title: str = strawberry.field(description="1..100 characters.")
    image_url: str = strawberry.field(description="The image: an http or https URL.")
    image_width: int = strawberry.field(description="Pixels, 1..20000.")
    image_height: int = strawberry.field(description="Pixels, 1..20000.")
    description: str = strawberry.field(default="", description="At most 500 characters.")
    link: str | None = strawberry.field(
        default=None, description="Where the pin leads: an http or https URL."
    )
    dominant_color: str = strawberry.field(
        default=DEFAULT_COLOR, description="`#rrggbb`, shown while the image loads."
    )


@strawberry.input(description="Changes to a pin on one of the viewer's boards; null: as is.")
class UpdatePinInput:
    pin_id: strawberry.ID = strawberry.field(description="The pin's global ID.")
    title: str | None = strawberry.field(default=None, description="1..100 characters.")
    description: str | None = strawberry.field(default=None, description="At most 500 characters.")
    link: str | None = strawberry.field(
        default=None, description="An http or https URL; an empty string removes the link."
    )


@strawberry.input(description="A pin on one of the viewer's boards to delete.")
class DeletePinInput:
    pin_id: strawberry.ID = strawberry.field(description="The pin's global ID.")


@strawberry.input(description="Moves a pin of the viewer's onto another of the viewer's boards.")
class MovePinInput:
    pin_id: strawberry.ID = strawberry.field(description="The pin's global ID.")
    board_id: strawberry.ID = strawberry.field(description="The board to move it to.")


@strawberry.input(description="Saves (repins) a pin the viewer may see onto a board of theirs.")
class SavePinInput:
    pin_id: strawberry.ID = strawberry.field(description="The pin to save.")
    board_id: strawberry.ID = strawberry.field(description="One of the viewer's boards.")


@strawberry.input(description="The viewer's comment on a pin.")
class AddCommentInput:
    pin_id: strawberry.ID = strawberry.field(description="The pin's global ID.")
    text: str = strawberry.field(description="1..1000 characters.")


@strawberry.input(description="A comment to delete: the viewer's own, or one on a pin of theirs.")
class DeleteCommentInput:
    comment_id: strawberry.ID = strawberry.field(description="The comment's global ID.")


@strawberry.input(description="A user to follow, or to stop following.")
class FollowInput:
    user_id: strawberry.ID = strawberry.field(description="The user's global ID.")
