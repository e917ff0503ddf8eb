"""Write privacy, property-based: random sequences of writes by four users through the
GraphQL API, then every read of every viewer (and every mutation payload) is checked against
the rules applied to the database's rows.

Hypothesis draws a program: writes (createBoard PUBLIC/SECRET, updateBoard privacy flips,
createPin, savePin, movePin, addComment, deleteComment, deletePin, deleteBoard, followUser,
unfollowUser), each by some user and about some object created so far (deleted ones too), and
a random `nodes(ids:)` read. Each example starts from an empty database (TRUNCATE ... RESTART
IDENTITY on this module's own database) holding four users, who first make a PUBLIC and a
SECRET board, a pin on each and a comment on each pin.

The oracle is the database, not a model: after each write the rows are read with plain SQL
(`State`) and the README's rules are applied to them in Python (`Sight`). Then:
- the write was accepted exactly when the rules allow it (owner-only writes, visible pins),
  refused with NOT_FOUND for a hidden object (the same words as for a missing one), FORBIDDEN
  only for an object the writer may see, and a refused write changed no row;
- no response (payloads included) holds, for its viewer, a SECRET board of someone else, a
  pin on one, a comment on such a pin, another user's email, or their IDs, names or texts;
  every count and list equals what the rules give (pinCount, saveCount, commentCount,
  totalCount of boards, pins, comments, followers), savedFrom is null where its pin is hidden,
  and node(id), nodes(ids), board(id) and pin(id) are null exactly for hidden objects.

pytest-asyncio runs Hypothesis tests written as `async def` (it wraps Hypothesis'
`inner_test`), so each example runs on the suite's session loop with the module's client.
Bounded for CI: 25 derandomized examples of 10..40 writes (about 20 s), no example database,
and no shrinking (with ~0.5 s per example it could run for minutes; a failure's message names
the write or read, viewer and path). To shrink one locally, add Phase.shrink to `phases`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from resolvers.ids import decode_global_id, encode_global_id
from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient, serve

USERS = {1: "amy", 2: "ben", 3: "cat", 4: "dan"}
VIEWERS: list[int | None] = [None, *USERS]
PAGE = 100  # every list is asked with first: 100, more than a program can make
MAX_NODES = 100
MISSING = 1_000_000  # picked when nothing of a type was made yet: a missing object
NODE_TYPES = ("User", "Board", "Pin", "Comment")

# ---- the GraphQL documents ----------------------------------------------------------------------

FRAGMENTS = {
    "UserShallow": """fragment UserShallow on User {
        __typename id username email followerCount followingCount viewerIsFollowing }""",
    "BoardShallow": """fragment BoardShallow on Board {
        __typename id name privacy pinCount owner { __typename id email } }""",
    "PinShallow": """fragment PinShallow on Pin {
        __typename id title saveCount commentCount board { __typename id privacy }
        creator { __typename id email } savedFrom { __typename id } }""",
    "CommentShallow": """fragment CommentShallow on Comment {
        __typename id text author { __typename id email } pin { __typename id commentCount } }""",
    "PinFull": f"""fragment PinFull on Pin {{
        ...PinShallow savedFrom {{ ...PinShallow }} board {{ ...BoardShallow }}
        creator {{ ...UserShallow }}
        comments(first: {PAGE}) {{ totalCount nodes {{ ...CommentShallow }} }} }}""",
    "BoardFull": f"""fragment BoardFull on Board {{
        ...BoardShallow owner {{ ...UserShallow }}
        pins(first: {PAGE}) {{ totalCount nodes {{ ...PinShallow }} }} }}""",
    "CommentFull": """fragment CommentFull on Comment {
        ...CommentShallow pin { ...PinFull } author { ...UserShallow } }""",
    "UserFull": f"""fragment UserFull on User {{
        ...UserShallow
        boards(first: {PAGE}) {{ totalCount nodes {{ ...BoardFull }} }}
        pins(first: {PAGE}) {{ totalCount nodes {{ ...PinFull }} }}
        followers(first: {PAGE}) {{ totalCount nodes {{ ...UserShallow }} }}
        following(first: {PAGE}) {{ totalCount nodes {{ ...UserShallow }} }} }}""",
    "AnyNode": """fragment AnyNode on Node {
        __typename id ... on User { ...UserFull } ... on Board { ...BoardFull }
        ... on Pin { ...PinFull } ... on Comment { ...CommentFull } }""",
}
SPREAD = re.compile(r"\.\.\.(\w+)")


def document(operation: str) -> str:
    """`operation` and every fragment it spreads, directly or through other fragments."""
    needed: list[str] = []
    pending = SPREAD.findall(operation)
    while pending:
        name = pending.pop()
        if name in FRAGMENTS and name not in needed:
            needed.append(name)
            pending.extend(SPREAD.findall(FRAGMENTS[name]))
    return "\n".join([operation, *(FRAGMENTS[n] for n in sorted(needed))])


ERRORS = "userErrors { field message code }"
PAYLOADS = {
    "createBoard": f"board {{ ...BoardFull }} {ERRORS}",
    "updateBoard": f"board {{ ...BoardFull }} {ERRORS}",
    "deleteBoard": f"deletedBoardId deletedPinCount owner {{ ...UserFull }} {ERRORS}",
    "createPin": f"pin {{ ...PinFull }} {ERRORS}",
    "savePin": f"pin {{ ...PinFull }} {ERRORS}",
    "movePin": f"pin {{ ...PinFull }} previousBoard {{ ...BoardFull }} {ERRORS}",
    "deletePin": f"deletedPinId board {{ ...BoardFull }} {ERRORS}",
    "addComment": f"comment {{ ...CommentFull }} pin {{ ...PinFull }} {ERRORS}",
    "deleteComment": f"deletedCommentId pin {{ ...PinFull }} {ERRORS}",
    "followUser": f"user {{ ...UserFull }} viewer {{ ...UserFull }} {ERRORS}",
    "unfollowUser": f"user {{ ...UserFull }} viewer {{ ...UserFull }} {ERRORS}",
}
INPUT_TYPES = {
    "createBoard": "CreateBoardInput",
    "updateBoard": "UpdateBoardInput",
    "deleteBoard": "DeleteBoardInput",
    "createPin": "CreatePinInput",
    "savePin": "SavePinInput",
    "movePin": "MovePinInput",
    "deletePin": "DeletePinInput",
    "addComment": "AddCommentInput",
    "deleteComment": "DeleteCommentInput",
    "followUser": "FollowInput",
    "unfollowUser": "FollowInput",
}
MUTATIONS = {
    name: document(
        f"mutation($input: {INPUT_TYPES[name]}!) {{ {name}(input: $input) {{ {payload} }} }}"
    )
    for name, payload in PAYLOADS.items()
}
PRELUDE_BOARDS = document(
    """mutation { public: createBoard(input: {name: "$NAME public", privacy: PUBLIC}) {
        board { id } userErrors { code } }
      secret: createBoard(input: {name: "$NAME secret", privacy: SECRET}) {
        board { id } userErrors { code } } }"""
)
PIN_INPUT = 'title: $T, imageUrl: "https://img.example/p.jpg", imageWidth: 10, imageHeight: 10'
PRELUDE_PINS = f"""mutation($public: ID!, $secret: ID!, $p: String!, $s: String!) {{
    public: createPin(input: {{boardId: $public, {PIN_INPUT.replace("$T", "$p")}}}) {{
        pin {{ id }} userErrors {{ code }} }}
    secret: createPin(input: {{boardId: $secret, {PIN_INPUT.replace("$T", "$s")}}}) {{
        pin {{ id }} userErrors {{ code }} }} }}"""
PRELUDE_COMMENTS = """mutation($public: ID!, $secret: ID!, $p: String!, $s: String!) {
    public: addComment(input: {pinId: $public, text: $p}) {
        comment { id } userErrors { code } }
    secret: addComment(input: {pinId: $secret, text: $s}) {
        comment { id } userErrors { code } } }"""
USERS_QUERY = " ".join(
    f'u{u}: user(username: "{name}") {{ ...UserFull }}' for u, name in USERS.items()
)
EVERYTHING = document(
    f"""query($ids: [ID!]!) {{ viewer {{ ...UserFull }} {USERS_QUERY}
        pins(first: {PAGE}) {{ totalCount nodes {{ ...PinFull }} }}
        nodes(ids: $ids) {{ ...AnyNode }} }}"""
)
HOME_FEED = document(f"{{ homeFeed(first: {PAGE}) {{ totalCount nodes {{ ...PinFull }} }} }}")
NODES = document("query($ids: [ID!]!) { nodes(ids: $ids) { ...AnyNode } }")


def gid(type_name: str, id: int) -> str:
    """The global ID the API gives the `type_name` row `id`."""
    return encode_global_id(type_name, id)


# ---- the oracle: rows, and the rules applied to them --------------------------------------------


@dataclass(frozen=True)
class State:
    """Every row that privacy depends on, read with plain SQL."""

    emails: dict[int, str]
    boards: dict[int, tuple[int, str, str]]  # id: (owner, privacy, name)
    pins: dict[int, tuple[int, int, int | None]]  # id: (board, creator, saved from)
    comments: dict[int, tuple[int, int, str]]  # id: (pin, author, text)
    follows: tuple[tuple[int, int], ...]  # (follower, followee), oldest follow first

    @classmethod
    async def read(cls, conn: asyncpg.Connection) -> State:
        """The database's rows now."""
        users = await conn.fetch("select id, email from users")
        boards = await conn.fetch("select id, owner_id, privacy::text, name from boards")
        pins = await conn.fetch("select id, board_id, creator_id, saved_from_id from pins")
        comments = await conn.fetch("select id, pin_id, author_id, text from comments")
        follows = await conn.fetch("select follower_id, followee_id from follows order by id")
        return cls(
            emails={r[0]: r[1] for r in users},
            boards={r[0]: (r[1], r[2], r[3]) for r in boards},
            pins={r[0]: (r[1], r[2], r[3]) for r in pins},
            comments={r[0]: (r[1], r[2], r[3]) for r in comments},
            follows=tuple((r[0], r[1]) for r in follows),
        )

    def owner_of_pin(self, pin: int) -> int | None:
        """The owner of the board the pin is on (None: no such pin)."""
        return self.boards[self.pins[pin][0]][0] if pin in self.pins else None


def newest_first(ids: Iterable[int]) -> list[int]:
    """Ids as every list serves them: newest (highest) first."""
    return sorted(ids, reverse=True)


class Sight:
    """What one viewer may see of a State: the README's privacy rules, applied to rows."""

    def __init__(self, state: State, viewer: int | None) -> None:
        self.state = state
        self.viewer = viewer
        self.boards = {
            b
            for b, (owner, privacy, _) in state.boards.items()
            if privacy == "PUBLIC" or owner == viewer
        }
        self.pins = {p for p, (board, _, _) in state.pins.items() if board in self.boards}
        self.comments = {c for c, (pin, _, _) in state.comments.items() if pin in self.pins}

    def sees(self, type_name: str, id: int) -> bool:
        """Whether the viewer may see the `type_name` row `id` (users: whether it exists)."""
        if type_name == "User":
            return id in self.state.emails
        if type_name == "Board":
            return id in self.boards
        if type_name == "Pin":
            return id in self.pins
        return id in self.comments

    def boards_of(self, user: int) -> list[int]:
        """The user's boards the viewer may see."""
        return newest_first(b for b in self.boards if self.state.boards[b][0] == user)

    def pins_by(self, user: int) -> list[int]:
        """The pins the user created that the viewer may see."""
        return newest_first(p for p in self.pins if self.state.pins[p][1] == user)

    def pins_on(self, board: int) -> list[int]:
        """The pins of a board the viewer may see (all of its pins)."""
        return newest_first(p for p in self.pins if self.state.pins[p][0] == board)

    def comments_on(self, pin: int) -> list[int]:
        """The comments of a pin the viewer may see (all of them)."""
        return newest_first(c for c in self.comments if self.state.comments[c][0] == pin)

    def saved_from(self, pin: int) -> int | None:
        """The pin it was saved from, if the viewer may see that one."""
        source = self.state.pins[pin][2]
        return source if source in self.pins else None

    def save_count(self, pin: int) -> int:
        """Its repins on boards the viewer may see."""
        return sum(1 for p in self.pins if self.state.pins[p][2] == pin)

    def latest(self) -> list[int]:
        """Every pin the viewer may see."""
        return newest_first(self.pins)

    def home_feed(self) -> list[int]:
        """The pins the viewer may see by the users the viewer follows."""
        followees = {b for a, b in self.state.follows if a == self.viewer}
        return newest_first(p for p in self.pins if self.state.pins[p][1] in followees)

    def followers(self, user: int) -> list[int]:
        """The user's followers, most recent follow first."""
        return [a for a, b in reversed(self.state.follows) if b == user]

    def following(self, user: int) -> list[int]:
        """The users the user follows, most recent follow first."""
        return [b for a, b in reversed(self.state.follows) if a == user]

    def forbidden_strings(self) -> dict[str, str]:
        """Strings no response to this viewer may hold, and what each one is."""
        hidden: dict[str, str] = {}
        for user, email in self.state.emails.items():
            if user != self.viewer:
                hidden[email] = f"the email of user {user}"
        for b, (_, _, name) in self.state.boards.items():
            if b not in self.boards:
                hidden[gid("Board", b)] = f"the ID of hidden board {b}"
                hidden[name] = f"the name of hidden board {b}"
        for p in self.state.pins.keys() - self.pins:
            hidden[gid("Pin", p)] = f"the ID of hidden pin {p}"
        for c, (_, _, text) in self.state.comments.items():
            if c not in self.comments:
                hidden[gid("Comment", c)] = f"the ID of hidden comment {c}"
                hidden[text] = f"the text of hidden comment {c}"
        return hidden


class Checker:
    """Checks one response to one viewer against that viewer's Sight."""

    def __init__(self, sight: Sight) -> None:
        self.sight = sight
        self.state = sight.state
        self.forbidden = sight.forbidden_strings()

    def response(self, data: Any, where: str) -> None:
        """Every object in `data` is visible and right, and no hidden string appears."""
        self.strings(data, where)
        self.value(data, where)

    def strings(self, value: Any, path: str) -> None:
        """No string value in the response is a hidden object's ID, name, text or email."""
        if isinstance(value, str):
            if value in self.forbidden:
                pytest.fail(f"{path} leaks {self.forbidden[value]}: {value!r}", pytrace=False)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.strings(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.strings(item, f"{path}[{i}]")

    def value(self, value: Any, path: str) -> None:
        """Checks every node object (it has `__typename`) found in `value`."""
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.value(item, f"{path}[{i}]")
        elif isinstance(value, dict):
            if "__typename" in value:
                self.node(value, path)
            else:
                for key, item in value.items():
                    self.value(item, f"{path}.{key}")

    def node(self, obj: dict[str, Any], path: str) -> None:
        """A node: visible to the viewer, and each of its fields as the rules say."""
        type_name, id = decode_global_id(obj["id"])
        path = f"{path}<{type_name} {id}>"
        assert obj["__typename"] == type_name, path
        assert self.sight.sees(type_name, id), f"{path} is hidden from viewer {self.sight.viewer}"
        lists = {
            "User": self.user,
            "Board": self.board,
            "Pin": self.pin,
            "Comment": self.comment,
        }[type_name](id, obj, path)
        for key, item in obj.items():
            if key in lists:
                self.connection(item, lists[key], f"{path}.{key}")
            else:
                self.value(item, f"{path}.{key}")

    def connection(self, conn: dict[str, Any], expected: tuple[str, list[int]], path: str) -> None:
        """A connection lists exactly the expected rows, and counts them."""
        type_name, ids = expected
        assert conn["totalCount"] == len(ids), path
        assert [n["id"] for n in conn["nodes"]] == [gid(type_name, i) for i in ids[:PAGE]], path
        self.value(conn["nodes"], f"{path}.nodes")

    def user(self, id: int, obj: dict[str, Any], path: str) -> dict[str, tuple[str, list[int]]]:
        """Checks a User's fields; the lists its connections must hold."""
        sight = self.sight
        if "email" in obj:
            own = self.state.emails[id] if id == sight.viewer else None
            assert obj["email"] == own, f"{path}.email"
        if "username" in obj:
            assert obj["username"] == USERS[id], path
        if "followerCount" in obj:
            assert obj["followerCount"] == len(sight.followers(id)), path
            assert obj["followingCount"] == len(sight.following(id)), path
            following = sight.viewer is not None and id in sight.following(sight.viewer)
            assert obj["viewerIsFollowing"] == following, path
        return {
            "boards": ("Board", sight.boards_of(id)),
            "pins": ("Pin", sight.pins_by(id)),
            "followers": ("User", sight.followers(id)),
            "following": ("User", sight.following(id)),
        }

    def board(self, id: int, obj: dict[str, Any], path: str) -> dict[str, tuple[str, list[int]]]:
        """Checks a Board's fields; the lists its connections must hold."""
        owner, privacy, name = self.state.boards[id]
        if "privacy" in obj:
            assert obj["privacy"] == privacy, path
        if "name" in obj:
            assert obj["name"] == name, path
        if "pinCount" in obj:
            assert obj["pinCount"] == len(self.sight.pins_on(id)), f"{path}.pinCount"
        if "owner" in obj:
            assert obj["owner"]["id"] == gid("User", owner), path
        return {"pins": ("Pin", self.sight.pins_on(id))}

    def pin(self, id: int, obj: dict[str, Any], path: str) -> dict[str, tuple[str, list[int]]]:
        """Checks a Pin's fields; the lists its connections must hold."""
        board, creator, _ = self.state.pins[id]
        if "board" in obj:
            assert obj["board"]["id"] == gid("Board", board), path
        if "creator" in obj:
            assert obj["creator"]["id"] == gid("User", creator), path
        if "savedFrom" in obj:
            source = self.sight.saved_from(id)
            shown = obj["savedFrom"] and obj["savedFrom"]["id"]
            assert shown == (source and gid("Pin", source)), f"{path}.savedFrom"
        if "saveCount" in obj:
            assert obj["saveCount"] == self.sight.save_count(id), f"{path}.saveCount"
        if "commentCount" in obj:
            assert obj["commentCount"] == len(self.sight.comments_on(id)), f"{path}.commentCount"
        return {"comments": ("Comment", self.sight.comments_on(id))}

    def comment(self, id: int, obj: dict[str, Any], path: str) -> dict[str, tuple[str, list[int]]]:
        """Checks a Comment's fields (it has no connections)."""
        pin, author, text = self.state.comments[id]
        if "text" in obj:
            assert obj["text"] == text, path
        if "pin" in obj:
            assert obj["pin"]["id"] == gid("Pin", pin), path
        if "author" in obj:
            assert obj["author"]["id"] == gid("User", author), path
        return {}

    def by_id(self, got: Any, asked: str, path: str) -> None:
        """A lookup by global ID: the object if the viewer may see it, else null."""
        type_name, id = decode_global_id(asked)
        if self.sight.sees(type_name, id):
            assert got is not None and got["id"] == asked, f"{path}: {type_name} {id} is missing"
        else:
            assert got is None, f"{path}: hidden or missing {type_name} {id} was served"


# ---- programs -----------------------------------------------------------------------------------

WRITE_KINDS = (
    # weighted by repetition: more creating than deleting, so states grow interesting
    ("createBoard", 2),
    ("updateBoard", 3),
    ("createPin", 3),
    ("savePin", 4),
    ("movePin", 2),
    ("addComment", 4),
    ("deleteComment", 3),
    ("deletePin", 1),
    ("deleteBoard", 1),
    ("followUser", 2),
    ("unfollowUser", 1),
)


@dataclass(frozen=True)
class Write:
    """One drawn write: who does it (`actor`, or the object's owner when `as_owner`), about
    which objects (`a`, `b` pick among those made so far), and `flag` (SECRET for new boards;
    for deleteComment, pick among the comments that still exist)."""

    kind: str
    actor: int
    a: int
    b: int
    flag: bool
    as_owner: bool


@dataclass(frozen=True)
class Program:
    """The writes, then a `nodes(ids:)` read of the drawn (type, pick) objects."""

    writes: list[Write]
    picks: list[tuple[str, int]]


programs = st.builds(
    Program,
    writes=st.lists(
        st.builds(
            Write,
            kind=st.sampled_from([k for k, weight in WRITE_KINDS for _ in range(weight)]),
            actor=st.sampled_from(list(USERS)),
            a=st.integers(0, 63),
            b=st.integers(0, 63),
            flag=st.booleans(),
            as_owner=st.booleans(),
        ),
        min_size=10,
        max_size=40,
    ),
    picks=st.lists(st.tuples(st.sampled_from(NODE_TYPES), st.integers(0, 63)), max_size=20),
)


@dataclass
class Known:
    """Every ID the API handed out in this example (deleted objects stay: they are asked too)."""

    ids: dict[str, list[int]] = field(
        default_factory=lambda: {"User": list(USERS), "Board": [], "Pin": [], "Comment": []}
    )
    counter: int = 0

    def pick(self, type_name: str, index: int) -> int | None:
        """The `index`-th known object of a type (cyclically), None if there is none yet."""
        ids = self.ids[type_name]
        return ids[index % len(ids)] if ids else None

    def add(self, global_id: str) -> None:
        """Remembers an ID from a payload."""
        type_name, id = decode_global_id(global_id)
        if id not in self.ids[type_name]:
            self.ids[type_name].append(id)

    def label(self, kind: str) -> str:
        """A new, unique board name or comment text."""
        self.counter += 1
        return f"{kind} {self.counter}"

    def every_id(self) -> list[str]:
        """The global ID of every object ever made, in creation order per type."""
        return [gid(t, i) for t in NODE_TYPES for i in self.ids[t]]


@dataclass(frozen=True)
class Plan:
    """A drawn write made concrete: the mutation, its input, and what the rules expect."""

    mutation: str
    actor: int
    input: dict[str, Any]
    refusal: tuple[str, str] | None  # (field, code) the rules refuse it with, if they do


NOT_FOUND_WHAT = {"boardId": "board", "pinId": "pin", "commentId": "comment", "userId": "user"}


def board_rule(sight: Sight, board: int, field: str) -> tuple[str, str] | None:
    """The refusal of an owner-only write to `board` (None: allowed)."""
    if board not in sight.boards:
        return (field, "NOT_FOUND")
    if sight.state.boards[board][0] != sight.viewer:
        return (field, "FORBIDDEN")
    return None


def pin_rule(sight: Sight, pin: int) -> tuple[str, str] | None:
    """The refusal of an owner-only write to `pin` (None: allowed)."""
    if pin not in sight.pins:
        return ("pinId", "NOT_FOUND")
    if sight.state.owner_of_pin(pin) != sight.viewer:
        return ("pinId", "FORBIDDEN")
    return None


def plan(write: Write, state: State, known: Known) -> Plan:
    """The concrete mutation for `write` in `state`, and the rules' verdict on it."""
    board = known.pick("Board", write.a) or MISSING
    other_board = known.pick("Board", write.b) or MISSING
    pin = known.pick("Pin", write.a) or MISSING
    comment = known.pick("Comment", write.a) or MISSING
    if write.flag and state.comments:  # half the time, one that still exists
        comment = sorted(state.comments)[write.a % len(state.comments)]
    actor = write.actor
    kind = write.kind

    def owner(default: int | None) -> int:
        return default if write.as_owner and default is not None else actor

    if kind == "createBoard":
        privacy = "SECRET" if write.flag else "PUBLIC"
        return Plan(kind, actor, {"name": known.label("board"), "privacy": privacy}, None)
    if kind in ("updateBoard", "deleteBoard", "createPin"):
        actor = owner(state.boards[board][0] if board in state.boards else None)
        refusal = board_rule(Sight(state, actor), board, "boardId")
        inputs: dict[str, Any] = {"boardId": gid("Board", board)}
        if kind == "updateBoard":
            current = state.boards[board][1] if board in state.boards else "PUBLIC"
            inputs["privacy"] = {"PUBLIC": "SECRET", "SECRET": "PUBLIC"}[current]
        if kind == "createPin":
            n = known.label("pin")
            inputs |= {
                "title": n,
                "imageUrl": f"https://img.example/{n.replace(' ', '-')}.jpg",
                "imageWidth": 100,
                "imageHeight": 100,
            }
        return Plan(kind, actor, inputs, refusal)
    if kind in ("deletePin", "movePin"):
        actor = owner(state.owner_of_pin(pin))
        sight = Sight(state, actor)
        refusal = pin_rule(sight, pin)
        if kind == "deletePin":
            return Plan(kind, actor, {"pinId": gid("Pin", pin)}, refusal)
        own = sorted(b for b, (board_owner, _, _) in state.boards.items() if board_owner == actor)
        target = own[write.b % len(own)] if write.as_owner and own else other_board
        refusal = refusal or board_rule(sight, target, "boardId")
        return Plan(
            kind, actor, {"pinId": gid("Pin", pin), "boardId": gid("Board", target)}, refusal
        )
    if kind == "savePin":
        actor = owner(state.boards[other_board][0] if other_board in state.boards else None)
        sight = Sight(state, actor)
        refusal = None if pin in sight.pins else ("pinId", "NOT_FOUND")
        refusal = refusal or board_rule(sight, other_board, "boardId")
        inputs = {"pinId": gid("Pin", pin), "boardId": gid("Board", other_board)}
        return Plan(kind, actor, inputs, refusal)
    if kind == "addComment":
        actor = owner(state.owner_of_pin(pin))
        refusal = None if pin in Sight(state, actor).pins else ("pinId", "NOT_FOUND")
        return Plan(kind, actor, {"pinId": gid("Pin", pin), "text": known.label("note")}, refusal)
    if kind == "deleteComment":
        author = state.comments[comment][1] if comment in state.comments else None
        actor = owner(author)
        refusal = None
        if comment not in Sight(state, actor).comments:
            refusal = ("commentId", "NOT_FOUND")
        elif actor not in (author, state.owner_of_pin(state.comments[comment][0])):
            refusal = ("commentId", "FORBIDDEN")
        return Plan(kind, actor, {"commentId": gid("Comment", comment)}, refusal)
    user = list(USERS)[write.a % len(USERS)]
    refusal = ("userId", "SELF_FOLLOW") if user == actor else None
    return Plan(kind, actor, {"userId": gid("User", user)}, refusal)


def check_effect(done: Plan, payload: dict[str, Any], before: State, after: State) -> None:
    """An accepted write changed the rows as it says; a refused one changed none."""
    if done.refusal is not None:
        assert after == before, f"refused {done.mutation} wrote to the database"
        return
    actor, inputs = done.actor, done.input
    kind = done.mutation

    def id_of(key: str) -> int:
        return decode_global_id(inputs[key]).id

    if kind == "createBoard":
        [new] = after.boards.keys() - before.boards.keys()
        assert after.boards[new] == (actor, inputs["privacy"], inputs["name"])
        assert payload["board"]["id"] == gid("Board", new)
    elif kind == "updateBoard":
        assert after.boards[id_of("boardId")][1] == inputs["privacy"]
    elif kind == "deleteBoard":
        board = id_of("boardId")
        assert board not in after.boards
        gone = [p for p, (b, _, _) in before.pins.items() if b == board]
        assert payload["deletedPinCount"] == len(gone)
        assert not set(gone) & after.pins.keys()
    elif kind == "createPin":
        [new] = after.pins.keys() - before.pins.keys()
        assert after.pins[new] == (id_of("boardId"), actor, None)
    elif kind == "savePin":
        saved = decode_global_id(payload["pin"]["id"]).id
        assert after.pins[saved] == (id_of("boardId"), actor, id_of("pinId"))
    elif kind == "movePin":
        assert after.pins[id_of("pinId")][0] == id_of("boardId")
    elif kind == "deletePin":
        assert id_of("pinId") not in after.pins
    elif kind == "addComment":
        [new] = after.comments.keys() - before.comments.keys()
        assert after.comments[new] == (id_of("pinId"), actor, inputs["text"])
    elif kind == "deleteComment":
        assert id_of("commentId") not in after.comments
    elif kind == "followUser":
        assert after.follows.count((actor, id_of("userId"))) == 1
    else:
        assert (actor, id_of("userId")) not in after.follows


# ---- running a program --------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    """This module's own database, migrated; each example empties it."""
    return await new_database(make_database, with_world=False)


@pytest.fixture(scope="module")
async def client(database: str) -> AsyncIterator[GraphQLClient]:
    """pinql on the module's database, with room for read_everything(): one operation asks for
    every object of every user (50 aliased root fields, millions by the cost model), far past
    the default limits."""
    limits = {"PINQL_MAX_ALIASES": 1000, "PINQL_MAX_ROOT_FIELDS": 1000}
    async with serve(
        database, PINQL_MAX_QUERY_COST=10**8, PINQL_RATE_LIMIT=False, **limits
    ) as client:
        yield client


async def reset(sql: asyncpg.Connection) -> None:
    """An empty database holding USERS, with ids 1..4."""
    await sql.execute("truncate users, boards, pins, comments, follows restart identity cascade")
    await sql.executemany(
        "insert into users (username, display_name, email) values ($1, $2, $3)",
        [(name, name.title(), f"{name}@example.com") for name in USERS.values()],
    )


async def prelude(client: GraphQLClient, known: Known) -> None:
    """Each user makes a PUBLIC and a SECRET board, a pin on each, and comments on both."""
    for user, name in USERS.items():
        boards = await client.data(PRELUDE_BOARDS.replace("$NAME", f"board of {name}"), viewer=user)
        pins = await client.data(
            PRELUDE_PINS,
            {
                "public": boards["public"]["board"]["id"],
                "secret": boards["secret"]["board"]["id"],
                "p": known.label("pin"),
                "s": known.label("pin"),
            },
            viewer=user,
        )
        comments = await client.data(
            PRELUDE_COMMENTS,
            {
                "public": pins["public"]["pin"]["id"],
                "secret": pins["secret"]["pin"]["id"],
                "p": known.label("note"),
                "s": known.label("note"),
            },
            viewer=user,
        )
        for data, node in ((boards, "board"), (pins, "pin"), (comments, "comment")):
            for alias in ("public", "secret"):
                assert data[alias]["userErrors"] == [], data
                known.add(data[alias][node]["id"])


def remember(value: Any, known: Known) -> None:
    """Adds every node ID found in a payload to `known`."""
    if isinstance(value, list):
        for item in value:
            remember(item, known)
    elif isinstance(value, dict):
        if "__typename" in value:
            known.add(value["id"])
        for item in value.values():
            remember(item, known)


async def run_write(
    client: GraphQLClient, sql: asyncpg.Connection, write: Write, known: Known, before: State
) -> State:
    """Does one write through the API, checks its verdict, effect and payload; the new state."""
    done = plan(write, before, known)
    data = await client.data(MUTATIONS[done.mutation], {"input": done.input}, viewer=done.actor)
    payload: dict[str, Any] = data[done.mutation]
    after = await State.read(sql)
    where = f"{done.mutation} by {done.actor} with {done.input}"
    if done.refusal is None:
        assert payload["userErrors"] == [], f"{where}: refused, though the rules allow it"
    else:
        field, code = done.refusal
        [error] = payload["userErrors"]
        assert (error["field"], error["code"]) == done.refusal, f"{where}: {error}"
        if code == "NOT_FOUND":
            # a hidden object is refused in the very words used for a missing one
            assert error["message"] == f"{field}: no {NOT_FOUND_WHAT[field]} with this ID exists"
    check_effect(done, payload, before, after)
    Checker(Sight(after, done.actor)).response(payload, where)
    remember(payload, known)
    return after


async def read_everything(
    client: GraphQLClient, state: State, known: Known, picks: list[tuple[str, int]]
) -> None:
    """Every viewer reads everything, by every path; each response is checked."""
    every_id = known.every_id()
    picked = [gid(t, i) for t, index in picks if (i := known.pick(t, index)) is not None]
    by_alias = [f'n{i}: node(id: "{g}") {{ ...AnyNode }}' for i, g in enumerate(every_id)] + [
        f'{t[0].lower()}{i}: {t.lower()}(id: "{gid(t, i)}") {{ ...{t}Full }}'
        for t in ("Board", "Pin")
        for i in known.ids[t]
    ]
    for viewer in VIEWERS:
        check = Checker(Sight(state, viewer))
        where = f"viewer {viewer}"

        data = await client.data(EVERYTHING, {"ids": every_id[:MAX_NODES]}, viewer=viewer)
        check.response(data, where)
        if viewer is None:
            assert data["viewer"] is None
        else:
            assert data["viewer"]["id"] == gid("User", viewer)
        for user in USERS:
            assert data[f"u{user}"]["id"] == gid("User", user)
        check.connection(data["pins"], ("Pin", check.sight.latest()), f"{where} pins")
        for got, asked in zip(data["nodes"], every_id, strict=False):
            check.by_id(got, asked, f"{where} nodes")

        data = await client.data(NODES, {"ids": picked}, viewer=viewer)
        check.response(data, where)
        for got, asked in zip(data["nodes"], picked, strict=True):
            check.by_id(got, asked, f"{where} picked nodes")

        for start in range(0, len(by_alias), 50):
            chunk = by_alias[start : start + 50]
            data = await client.data(document("{ " + " ".join(chunk) + " }"), viewer=viewer)
            check.response(data, where)
            for alias in chunk:
                name = alias.split(":")[0]
                asked = alias.split('"')[1]
                check.by_id(data[name], asked, f"{where} {name}")

        if viewer is None:
            body = await client.execute(HOME_FEED)
            assert body["data"] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
        else:
            data = await client.data(HOME_FEED, viewer=viewer)
            check.response(data, where)
            expected = ("Pin", check.sight.home_feed())
            check.connection(data["homeFeed"], expected, f"{where} homeFeed")


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: it could take minutes (see above)
)
@given(program=programs)
async def test_no_viewer_ever_sees_what_is_hidden_from_them(
    client: GraphQLClient, sql: asyncpg.Connection, program: Program
) -> None:
    await reset(sql)
    known = Known()
    await prelude(client, known)
    state = await State.read(sql)
    for write in program.writes:
        state = await run_write(client, sql, write, known, state)
    await read_everything(client, state, known, program.picks)
