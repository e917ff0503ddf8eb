"""Builds the Strawberry schema, and prints it as the SDL contract (schema.graphql)."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from loaders.errors import PinqlError
from schema.nodes import Board, Comment, Pin, User
from schema.query import Query


class MaskUnexpectedErrors(MaskErrors):
    """Replaces the message of any error that is not a PinqlError (a bug, a database fault)
    with `Internal server error`: the details go to the log, never to the client. Parse and
    validation errors (no original error) keep their messages."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, PinqlError | GraphQLError)


class PinqlSchema(strawberry.Schema):
    """The schema, logging only unexpected errors (expected ones carry an error code)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [e for e in errors if not isinstance(e.original_error, PinqlError)]
        super().process_errors(unexpected, execution_context)


@cache
def build_schema() -> PinqlSchema:
    """The process's schema (built once: building it is not cheap)."""
    return PinqlSchema(
        query=Query, types=[User, Board, Pin, Comment], extensions=[MaskUnexpectedErrors]
    )


def print_schema() -> str:
    """The schema as SDL, as committed in schema.graphql."""
    return build_schema().as_str() + "\n"


__all__: list[Any] = ["PinqlSchema", "build_schema", "print_schema"]
