"""Builds the Strawberry schema, and prints it as the SDL contract (schema.graphql)."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from loaders.errors import PinqlError
from schema.nodes import Board, Comment, Pin, User
from schema.query import Query


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
    return PinqlSchema(query=Query, types=[User, Board, Pin, Comment])


def print_schema() -> str:
    """The schema as SDL, as committed in schema.graphql."""
    return build_schema().as_str() + "\n"


__all__: list[Any] = ["PinqlSchema", "build_schema", "print_schema"]
