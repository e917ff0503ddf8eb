"""The GraphQL schema: Strawberry types describing the graph's shape."""

from schema.build import build_schema

__all__ = ["build_schema"]
