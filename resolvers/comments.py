"""Comment fields that need a loader: author and pin."""

from __future__ import annotations

from loaders.rows import CommentRow
from resolvers.fields import keyed

author = keyed(CommentRow, lambda loaders: loaders.user_by_id, lambda comment: comment.author_id)
"""The user who wrote the comment."""

pin = keyed(CommentRow, lambda loaders: loaders.pin_by_id, lambda comment: comment.pin_id)
"""The pin the comment is on."""
