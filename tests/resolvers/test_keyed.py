"""Every plain function marked `by_key` does what its mark says: the fast path loads the
mark (`SqlLoader.load_all`) instead of calling the function, so the two must be the same."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace
from typing import Any, cast

import pytest

from db.pool import Session
from loaders import Loaders
from loaders.waves import Pending
from resolvers import boards, comments, connections, nodes, pins, query, users
from resolvers.keyed import ByKey, by_key_of

MODULES: tuple[ModuleType, ...] = (boards, comments, connections, nodes, pins, query, users)
MARKED = {
    f"{module.__name__}.{name}": (fn, mark)
    for module in MODULES
    for name, fn in vars(module).items()
    if callable(fn) and (mark := by_key_of(fn)) is not None
}


def planned_loaders() -> Loaders:
    # No statement is sent: loads are only asked for, and no wave runs.
    return Loaders.build(cast(Session, None), viewer_id=7, planned=True)


def test_the_count_and_row_fields_are_marked() -> None:
    assert set(MARKED) >= {
        "resolvers.pins.load_creator",
        "resolvers.pins.load_board",
        "resolvers.pins.load_save_count",
        "resolvers.pins.load_comment_count",
        "resolvers.boards.load_owner",
        "resolvers.boards.load_pin_count",
        "resolvers.users.load_follower_count",
        "resolvers.users.load_following_count",
        "resolvers.users.load_viewer_is_following",
        "resolvers.comments.load_author",
        "resolvers.comments.load_pin",
    }


@pytest.mark.parametrize("name", sorted(MARKED))
def test_a_marked_function_loads_what_its_mark_names(name: str) -> None:
    fn, mark = MARKED[name]
    loaders = planned_loaders()
    root = SimpleNamespace(**{mark.column: 42})

    called = fn(loaders, root)
    marked, _ = getattr(loaders, mark.loader).load_all([42])

    assert type(called) is Pending
    assert marked == [called]  # the same load of the same loader (a loader keeps one per key)


def test_a_mark_that_names_another_loader_is_caught() -> None:
    loaders = planned_loaders()
    root: Any = SimpleNamespace(id=42)
    called = pins.load_save_count(loaders, root)

    wrong: Any = ByKey("comment_count_by_pin_id", "id")
    loads, _ = getattr(loaders, wrong.loader).load_all([wrong.key_of(root)])
    assert loads != [called]
