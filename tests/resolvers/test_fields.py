"""Field declarations (resolvers/fields.py): what the engine derives from each declaration
agrees with the declaration itself, for every field of the schema."""

from __future__ import annotations

from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import pytest
from strawberry.types.field import StrawberryField

from db.pool import Database
from execution.sources import STRAWBERRY_DEFINITION
from loaders import Loaders
from loaders.paging import Edge
from loaders.rows import BoardPrivacy, BoardRow, CommentRow, Image, PinRow, UserRow
from resolvers.fields import Computed, Keyed, Loaded, attribute_read_by, declaration_of
from schema.build import build_schema

NOW = datetime(2026, 12, 7, tzinfo=UTC)
ROWS: dict[str, Any] = {
    "User": UserRow(7, "olive", "Olive", None, "", None, NOW),
    "Board": BoardRow(11, 7, "Sofas", "", BoardPrivacy.PUBLIC, NOW),
    "Pin": PinRow(13, 11, 7, "A sofa", "", None, Image("https://x", 1, 2, "#000000"), 5, NOW),
    "Comment": CommentRow(17, 13, 7, "Nice", NOW),
}


def declarations() -> list[tuple[str, Any]]:
    """Every schema field made from a declaration, as `Type.field`, with it."""
    found = []
    for type_name, graphql_type in build_schema()._schema.type_map.items():
        for name, field in getattr(graphql_type, "fields", {}).items():
            definition = field.extensions.get(STRAWBERRY_DEFINITION)
            if not isinstance(definition, StrawberryField) or definition.base_resolver is None:
                continue
            declaration = declaration_of(definition.base_resolver.wrapped_func)  # type: ignore[arg-type]
            if declaration is not None:
                found.append((f"{type_name}.{name}", declaration))
    return found


DECLARATIONS = declarations()


def test_every_field_with_a_resolver_outside_mutations_is_declared() -> None:
    declared = {name.split(".")[0] for name, _ in DECLARATIONS}
    assert {"Query", "User", "Board", "Pin", "Comment", "PinConnection", "PinEdge"} <= declared
    assert {type(d) for _, d in DECLARATIONS} == {Keyed, Loaded, Computed}


@pytest.mark.parametrize(
    ("name", "declaration"),
    [(n, d) for n, d in DECLARATIONS if isinstance(d, Keyed) and n.split(".")[0] in ROWS],
)
def test_a_keyed_fields_key_is_read_as_its_lambda_reads_it(name: str, declaration: Any) -> None:
    row = ROWS[name.split(".")[0]]
    assert declaration.key_of(row) == declaration.key(row)
    assert isinstance(declaration.key_of, attrgetter), name  # read in C, not by the lambda


@pytest.mark.parametrize(
    ("name", "declaration"), [(n, d) for n, d in DECLARATIONS if isinstance(d, Keyed)]
)
async def test_a_keyed_fields_loader_is_found_as_its_lambda_finds_it(
    name: str, declaration: Any, migrated_database: str
) -> None:
    database = await Database.connect(migrated_database, min_size=1, max_size=1)
    session = database.session()
    try:
        loaders = Loaders.build(session, None, planned=True)
        assert declaration.loader_of(loaders) is declaration.loader(loaders), name
        assert isinstance(declaration.loader_of, attrgetter), name  # read in C
    finally:
        await session.close()
        await database.close()


@pytest.mark.parametrize(
    ("name", "declaration"), [(n, d) for n, d in DECLARATIONS if isinstance(d, Computed)]
)
def test_a_computed_fields_fast_form_computes_what_it_does(name: str, declaration: Any) -> None:
    type_name = name.split(".")[0]
    parents: list[Any] = (
        [Edge(42, ROWS["Pin"])] if type_name.endswith("Edge") else [ROWS.get(type_name)]
    )
    for parent in filter(None, parents):
        if declaration.by is None:
            continue
        assert declaration.attribute is not None, name
        fast = declaration.by(type_name)(getattr(parent, declaration.attribute))
        assert fast == declaration.fn(parent), name


def test_an_attribute_read_is_found_in_a_lambdas_bytecode_only_when_that_is_all_it_does() -> None:
    assert attribute_read_by(lambda pin: pin.creator_id) == "creator_id"
    assert attribute_read_by(lambda pin: pin.creator_id or 0) is None
    assert attribute_read_by(lambda pin: pin.board.id) is None
    assert attribute_read_by(lambda pin, other: other.id) is None
