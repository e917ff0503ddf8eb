"""Builds the Strawberry schema, and prints it as the SDL contract (schema.graphql)."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry

from schema.mutations import Mutation
from schema.nodes import Board, Comment, Pin, User
from schema.query import Query


@cache
def build_schema() -> strawberry.Schema:
    """The process's schema (built once: building it is not cheap). schema/execution.py
    runs documents against it."""
    return strawberry.Schema(query=Query, mutation=Mutation, types=[User, Board, Pin, Comment])


def print_schema() -> str:
    """The schema as SDL, as committed in schema.graphql."""
    return build_schema().as_str() + "\n"


__all__: list[Any] = ["build_schema", "print_schema"]
