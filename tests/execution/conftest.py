"""Fixtures of the execution tests: the demo data set's subjects, as the schema tests use them."""

from tests.schema.conftest import picks, subjects

__all__ = ["picks", "subjects"]
