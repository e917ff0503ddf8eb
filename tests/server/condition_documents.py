"""Query documents whose shape hangs on Boolean condition variables, for planning tests.

`condition_document` writes a valid query against schema.graphql with N variables
`$c1..$cN: Boolean!`, read by `@include(if: $cK)` and `@skip(if: $cK)` at every level: on
root fields, nested objects and connections, inside named fragments spread from several
places, on fragments spread inside fragments, and on inline fragments. Fragments come in
levels: a level-k fragment on User, Board or Pin spreads its own level k-1 fragment and
those of its neighbours (four or five spreads), so the selection the document asks for
grows about fivefold per level while its text grows linearly: a small text that is
expensive to expand. Every page asks for `first: 1`, so the requested cost stays small.

The directives take the variables in turn (c1, c2, ... cN, c1, ...), @include on the first
round, @skip on the second, and so on; one directive per selection. The same arguments
always give the same text. The objects the documents name are tests/world.py's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from resolvers.ids import encode_global_id
from tests import world

ARGUMENTS = {
    "user": "String!",
    "nobody": "String!",
    "pin": "ID!",
    "missing": "ID!",
    "board": "ID!",
    "first": "Int!",
}
"""The variables of the root fields' arguments, and their types."""
ARGUMENT_VALUES = {
    "user": world.USERNAMES[world.OTTO],
    "nobody": "nobody",
    "pin": encode_global_id("Pin", world.P1),
    "missing": encode_global_id("Pin", 999_999),
    "board": encode_global_id("Board", world.OLIVE_PUBLIC),
    "first": 1,
}
"""What each is sent as: tests/world.py's objects, and a user and a pin it does not have."""
LEVELS = 4
"""Fragment levels: as deep as PINQL_MAX_DEPTH (15) lets them go."""
ROOTS = (
    "user(username: $nobody) {c} {{ id ...U4 }}",
    "node(id: $missing) {{ __typename ... on Pin {c} {{ ...P4 }} ... on Board {{ ...B4 }} }}",
    "pin(id: $pin) {{ ...P1 ... on Pin {c} {{ savedFrom {{ ...P3 }} }} }}",
    "viewer {c} {{ ...U1 }}",
    "board(id: $board) {c} {{ ...B2 }}",
    "pins(first: $first) {c} {{ totalCount edges {{ cursor node {{ ...P2 }} }} "
    "pageInfo {c} {{ hasNextPage endCursor }} }}",
    "homeFeed(first: 1) {{ nodes {{ ...P1 }} }}",
    "again: pin(id: $pin) {c} {{ ...P0 board {{ ...B1 }} }}",
    "nodes(ids: [$pin, $missing]) {{ id ... on Pin {c} {{ ...P0 creator {{ ...U1 }} }} }}",
    "latest: pins(first: 1) {{ nodes {{ ... {c} {{ ...P1 }} }} }}",
    "me: viewer {{ ... on User {c} {{ ...U2 }} }}",
    "someone: user(username: $user) {c} {{ ...U1 boards(first: 1) {{ nodes {{ ...B3 }} }} }}",
    "saved: pin(id: $pin) {{ savedFrom {c} {{ ...P3 }} comments(first: 1) {c} {{ "
    "nodes {{ ... on Comment {{ id }} }} }} }}",
)
"""The root fields a document may select, in order. The first three spread the top level's
fragments where tests/world.py has nothing (a user and a node that do not exist, the pin
world.P1 was not saved from): planned whole, executed hardly at all. The others find data
with shallower fragments."""


@dataclass
class _Conditions:
    """Hands out `@include(if: $cK)` / `@skip(if: $cK)`, the variables in turn."""

    n: int
    _next: count[int] = field(default_factory=count)

    def __format__(self, spec: str) -> str:
        i = next(self._next)
        directive = "include" if (i // self.n) % 2 == 0 else "skip"
        return f"@{directive}(if: $c{i % self.n + 1})"


@dataclass(frozen=True, slots=True)
class ConditionDocument:
    """A query document and what to send with it."""

    text: str
    conditions: int
    arguments: tuple[str, ...]
    """The variables of ARGUMENTS the document reads."""

    @property
    def names(self) -> list[str]:
        """The condition variables, c1..cN."""
        return [f"c{k}" for k in range(1, self.conditions + 1)]

    def variables(self, values: dict[str, bool]) -> dict[str, Any]:
        """The request's variables for these condition values."""
        return {**{name: ARGUMENT_VALUES[name] for name in self.arguments}, **values}

    def variants(self, how_many: int, seed: int = 0) -> list[dict[str, Any]]:
        """`how_many` distinct sets of variables: every condition true, every one false,
        alternating, then random (seeded) values."""
        names = self.names
        chosen = [
            dict.fromkeys(names, True),
            dict.fromkeys(names, False),
            {name: i % 2 == 0 for i, name in enumerate(names)},
        ]
        rng = random.Random(seed)
        while len(chosen) < min(how_many, 2 ** len(names)):
            values = {name: rng.random() < 0.5 for name in names}
            if values not in chosen:
                chosen.append(values)
        return [self.variables(values) for values in chosen[:how_many]]

    def with_comment(self, n: int) -> str:
        """The same document with a `# comment` appended: a new text, so a new hash."""
        return f"{self.text}# sent again ({n})\n"


def condition_document(
    conditions: int, *, roots: int = len(ROOTS), wide: bool = False
) -> ConditionDocument:
    """A query reading `conditions` Boolean variables with the first `roots` (3..13) of
    ROOTS; `wide` fragments spread one more fragment of the level below each."""
    if not 1 <= conditions <= 99 or not 3 <= roots <= len(ROOTS):
        raise ValueError(
            f"conditions must be 1..99 and roots 3..{len(ROOTS)}, got {conditions}, {roots}"
        )
    c = _Conditions(conditions)
    fragments = [line for k in range(LEVELS + 1) for line in _level(k, c, wide)]
    root = "\n".join(f"  {line.format(c=c)}" for line in ROOTS[:roots])
    used = [name for name in ARGUMENTS if f"${name}" in root]
    definitions = [f"$c{k}: Boolean!" for k in range(1, conditions + 1)]
    definitions += [f"${name}: {ARGUMENTS[name]}" for name in used]
    header = f"query Conditions({', '.join(definitions)})"
    text = f"{header} {{\n{root}\n}}\n\n" + "\n".join(fragments) + "\n"
    return ConditionDocument(text, conditions, tuple(used))


def _level(k: int, c: _Conditions, wide: bool) -> list[str]:
    """The level-k fragments on User, Board and Pin (level 0: their own fields only)."""
    if k == 0:
        return [
            f"fragment U0 on User {{ id username displayName {c} avatarUrl {c} }}",
            f"fragment B0 on Board {{ id name {c} privacy pinCount {c} }}",
            f"fragment P0 on Pin {{ id title {c} image {{ url width {c} height }} }}",
        ]
    j = k - 1
    user = (
        f"fragment U{k} on User {{ ...U{j} followerCount {c} "
        f"boards(first: 1) {c} {{ nodes {{ ...B{j} }} }} "
        f"pins(first: 1) {{ edges {{ node {{ ...P{j} }} }} }} "
        f"... {c} {{ following(first: 1) {{ totalCount nodes {{ ...U{j} }} }} }}"
    )
    board = (
        f"fragment B{k} on Board {{ ...B{j} owner {c} {{ ...U{j} }} "
        f"pins(first: 1) {c} {{ nodes {{ ...P{j} }} }}"
    )
    pin = (
        f"fragment P{k} on Pin {{ ...P{j} creator {{ ...U{j} }} board {c} {{ ...B{j} }} "
        f"savedFrom {c} {{ ...P{j} }} "
        f"comments(first: 1) {c} {{ nodes {{ id text {c} author {{ ...U{j} }} }} }}"
    )
    if wide:
        user += f" followers(first: 1) {c} {{ nodes {{ ...U{j} }} }}"
        board += f" ... on Board {c} {{ pins(first: 1) {{ edges {{ node {{ ...P{j} }} }} }} }}"
        pin += f" ... {c} {{ board {{ owner {{ ...U{j} }} }} }}"
    return [f"{user} }}", f"{board} }}", f"{pin} }}"]
