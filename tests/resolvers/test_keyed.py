"""Every plain function marked `by_key` does what its mark says: the fast path asks the
mark's loader for the mark's keys (`SqlLoader.ask`) instead of calling the function, so the
two must load the same."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace
from typing import cast

import pytest

from db.pool import Session
from loaders import Loaders
from loaders.waves import Pending
from resolvers import boards, comments, connections, nodes, pins, query, users
from resolvers.keyed import by_key_of

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

    assert type(called) is Pending
    # the one load asked for, from the mark's loader, for the mark's key
    assert loaders.planned is not None
    assert [(type(loader), dict(loader.pending)) for loader in loaders.planned.waiting] == [
        (type(getattr(loaders, mark.loader)), {42: called})
    ]


def test_asking_for_keys_asks_once_for_those_not_known() -> None:
    loaders = planned_loaders()
    counts = loaders.save_count_by_pin_id
    counts.prime(1, 5)

    assert counts.ask([1, 1]) is True  # all known: nothing asked for
    assert counts.ask([1, 2, 3, 2]) is False
    assert counts.ask([3]) is False

    assert loaders.planned is not None
    assert loaders.planned.waiting == [counts]
    assert counts.pending == {2: None, 3: None}
    single = counts.load(2)  # a load of an asked-for key: its Pending, for that wave
    assert counts.pending == {2: single, 3: None}
