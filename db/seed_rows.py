"""The demo data set's rows, generated from its counts and a random seed: the same seed gives
the same users, boards, pins, comments and follows (db/seed.py loads them)."""

from __future__ import annotations

import math
import random
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from db.seed_words import (
    BOARD_DESCRIPTIONS,
    CITIES,
    COMMENT_FOLLOWUPS,
    COMMENT_OPENERS,
    DESCRIPTION_TEMPLATES,
    FIRST_NAMES,
    HANDLE_WORDS,
    INTERESTS,
    LAST_NAMES,
    ROLES,
    SEASONS,
    TITLE_TEMPLATES,
    TOPICS,
    Topic,
)

# "Now" for the data set: every timestamp falls in the year before it.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
_START = ANCHOR - timedelta(days=365)
_YEAR_US = 365 * 86_400 * 1_000_000
# Users sign up in the first 80% of the year; children land after their parents but at
# most a second before the anchor (plus 1 µs per generation), so nothing passes "now".
_USERS_UNTIL = _YEAR_US * 4 // 5
_LATEST = _YEAR_US - 1_000_000

IMAGES = "https://images.pinql.example"
_WIDTHS = (236, 474, 564, 600, 736, 800, 1000, 1080, 1200)
# Height / width: mostly portrait, as pins are.
_ASPECTS = (0.6, 0.75, 1.0, 1.25, 1.33, 1.4, 1.5, 1.5, 1.78, 2.0, 2.5)
_LISTICLE_SIZES = (5, 7, 10, 12, 15, 20, 25)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SECRET_SHARE = 0.1
REPIN_SHARE = 0.1

# The data set's tables, in the order they are loaded (each after those it references).
TABLES = ("users", "boards", "pins", "comments", "follows")

USER_COLUMNS = ("id", "username", "display_name", "email", "bio", "avatar_url", "created_at")
BOARD_COLUMNS = ("id", "owner_id", "name", "description", "privacy", "created_at")
PIN_COLUMNS = (
    "id", "board_id", "creator_id", "title", "description", "link", "image_url",
    "image_width", "image_height", "dominant_color", "saved_from_id", "created_at",
)  # fmt: skip
COMMENT_COLUMNS = ("id", "pin_id", "author_id", "text", "created_at")
FOLLOW_COLUMNS = ("id", "follower_id", "followee_id", "created_at")
COLUMNS = (USER_COLUMNS, BOARD_COLUMNS, PIN_COLUMNS, COMMENT_COLUMNS, FOLLOW_COLUMNS)

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SeedCounts:
    """How many rows of each table the data set holds."""

    users: int
    boards: int
    pins: int
    comments: int
    follows: int


def generate(
    counts: SeedCounts, rng: random.Random
) -> list[tuple[str, Sequence[str], Iterable[Row]]]:
    user_rows, user_times = _users(rng, counts.users)
    # Active users own more boards and write more comments.
    activity = _zipf_cum_weights(rng, counts.users, offset=10, exponent=0.5)
    board_rows, board_times, board_topics = _boards(rng, counts.boards, user_times, activity)
    pin_rows, pin_times, popularity = _pins(rng, counts.pins, board_rows, board_times, board_topics)
    comment_rows = _comments(rng, counts.comments, pin_times, popularity, user_times, activity)
    follow_rows = _follows(rng, counts.follows, user_times)
    rows = (user_rows, board_rows, pin_rows, comment_rows, follow_rows)
    return list(zip(TABLES, COLUMNS, rows, strict=True))


def _zipf_cum_weights(rng: random.Random, n: int, *, offset: int, exponent: float) -> list[float]:
    """Cumulative (rank + offset) ** -exponent over n shuffled items: a few heavy, most light."""
    ranks = list(range(n))
    rng.shuffle(ranks)
    if exponent == 0.5:
        # sqrt is correctly rounded everywhere, so the weights are the same on every platform.
        return list(accumulate(1.0 / math.sqrt(rank + offset) for rank in ranks))
    return list(accumulate(1.0 / (rank + offset) ** exponent for rank in ranks))


def _after(parent: int, fraction: float) -> int:
    """A moment strictly after `parent`, `fraction` of the way from it to the latest moment."""
    return parent + 1 + int(max(0, _LATEST - parent) * fraction)


def _at(moment: int) -> datetime:
    return _START + timedelta(microseconds=moment)


def _fork(rng: random.Random) -> random.Random:
    """A generator of its own for rows built lazily, so when they are built changes nothing."""
    return random.Random(rng.getrandbits(64))


def _sorted_by_time(times: list[int], *columns: list[int]) -> list[list[int]]:
    """Reorders `times` ascending and each column alongside it (ties keep generation order)."""
    order = sorted(range(len(times)), key=times.__getitem__)
    return [[column[i] for i in order] for column in (times, *columns)]


def _users(rng: random.Random, n: int) -> tuple[list[Row], list[int]]:
    times = sorted(int(rng.random() * _USERS_UNTIL) for _ in range(n))
    taken: set[str] = set()
    rows: list[Row] = []
    for i, moment in enumerate(times):
        user_id = i + 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = _unique(rng, _username(rng, first.lower(), last.lower()), taken)
        avatar = f"{IMAGES}/avatars/{user_id}.jpg" if rng.random() < 0.85 else None
        name, email = f"{first} {last}", f"{username}@example.com"
        rows.append((user_id, username, name, email, _bio(rng), avatar, _at(moment)))
    return rows, times


def _username(rng: random.Random, first: str, last: str) -> str:
    pattern = rng.randrange(7)
    if pattern == 0:
        handle = first + last
    elif pattern == 1:
        handle = f"{first}.{last}"
    elif pattern == 2:
        handle = f"{first}_{last}"
    elif pattern == 3:
        handle = first + last[0]
    elif pattern == 4:
        handle = first[0] + last
    elif pattern == 5:
        handle = f"{first}.{rng.choice(HANDLE_WORDS)}"
    else:
        handle = f"{last}.{first}"
    if rng.random() < 0.3:
        handle += str(rng.randrange(1, 100))
    return handle


def _unique(rng: random.Random, handle: str, taken: set[str]) -> str:
    candidate = handle
    while candidate in taken:
        candidate = f"{handle[:25]}{rng.randrange(1, 10_000)}"
    taken.add(candidate)
    return candidate


def _bio(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.15:
        return ""
    if kind < 0.45:
        return f"{rng.choice(ROLES)} in {rng.choice(CITIES)}."
    if kind < 0.8:
        return f"{rng.choice(ROLES)} in {rng.choice(CITIES)}. {rng.choice(INTERESTS)}."
    return f"{rng.choice(INTERESTS)}."


def _boards(
    rng: random.Random, n: int, user_times: list[int], activity: list[float]
) -> tuple[list[Row], list[int], list[Topic]]:
    owners = rng.choices(range(len(user_times)), cum_weights=activity, k=n)
    # Most boards are made soon after their owner signs up.
    times = [_after(user_times[owner], rng.random() ** 2) for owner in owners]
    times, owners = _sorted_by_time(times, owners)
    secret = set(rng.sample(range(n), round(n * SECRET_SHARE)))
    names: set[tuple[int, str]] = set()
    rows: list[Row] = []
    topics: list[Topic] = []
    for i, (owner, moment) in enumerate(zip(owners, times, strict=True)):
        topic = rng.choice(TOPICS)
        name = rng.choice(topic.boards)
        for _ in range(3):  # a few tries at a name the owner has not used yet, then a number
            if (owner, name) not in names:
                break
            topic = rng.choice(TOPICS)
            name = rng.choice(topic.boards)
        base, number = name, 2
        while (owner, name) in names:
            name, number = f"{base} {number}", number + 1
        names.add((owner, name))
        description = rng.choice(BOARD_DESCRIPTIONS) if rng.random() < 0.5 else ""
        privacy = "SECRET" if i in secret else "PUBLIC"
        rows.append((i + 1, owner + 1, name, description, privacy, _at(moment)))
        topics.append(topic)
    return rows, times, topics


def _pins(
    rng: random.Random,
    n: int,
    board_rows: list[Row],
    board_times: list[int],
    board_topics: list[Topic],
) -> tuple[Iterator[Row], list[int], list[float]]:
    weights = _zipf_cum_weights(rng, len(board_times), offset=10, exponent=0.5)
    boards = rng.choices(range(len(board_times)), cum_weights=weights, k=n)
    times = [_after(board_times[board], rng.random()) for board in boards]
    times, boards = _sorted_by_time(times, boards)
    # Popular pins collect most comments and saves.
    popularity = _zipf_cum_weights(rng, n, offset=50, exponent=1.0)
    # A repin saves a strictly older pin, popular ones more often; -1 marks an original.
    saved_from = [-1] * n
    has_earlier = bisect_right(times, times[0])
    for i in rng.sample(range(has_earlier, n), min(n - has_earlier, round(n * REPIN_SHARE))):
        earlier = bisect_left(times, times[i])
        source = bisect_right(popularity, rng.random() * popularity[earlier - 1])
        saved_from[i] = min(source, earlier - 1)
    creators = [board_rows[board][1] for board in boards]
    topics = [board_topics[board] for board in boards]
    rows = _pin_rows(_fork(rng), boards, creators, topics, saved_from, times)
    return rows, times, popularity


def _pin_rows(
    rng: random.Random,
    boards: list[int],
    creators: list[object],
    topics: list[Topic],
    saved_from: list[int],
    times: list[int],
) -> Iterator[Row]:
    sources = set(saved_from)
    contents: dict[int, Row] = {}
    for i, (board, creator, topic, source, moment) in enumerate(
        zip(boards, creators, topics, saved_from, times, strict=True)
    ):
        # A repin shows the saved pin's image and text.
        content = contents[source] if source >= 0 else _pin_content(rng, topic, i + 1)
        if i in sources:
            contents[i] = content
        saved_from_id = source + 1 if source >= 0 else None
        yield (i + 1, board + 1, creator, *content, saved_from_id, _at(moment))


def _pin_content(rng: random.Random, topic: Topic, pin_id: int) -> Row:
    """Title, description, link, image url, width, height and color of an original pin."""
    words = {
        "adj": rng.choice(topic.adjectives),
        "noun": rng.choice(topic.nouns),
        "n": rng.choice(_LISTICLE_SIZES),
        "season": rng.choice(SEASONS),
    }
    title = _capitalized(rng.choice(TITLE_TEMPLATES).format_map(words))
    description = ""
    if rng.random() < 0.75:
        description = _capitalized(rng.choice(DESCRIPTION_TEMPLATES).format_map(words))
    link = None
    if rng.random() < 0.8:
        scheme = "http" if rng.random() < 0.1 else "https"
        slug = _NOT_SLUG.sub("-", title.lower()).strip("-")
        link = f"{scheme}://{rng.choice(topic.domains)}/{slug}"
    width = rng.choice(_WIDTHS)
    height = round(width * rng.choice(_ASPECTS))
    bits = rng.getrandbits(24)
    # Muted channels (0x20..0xdf), as photos' dominant colors are.
    red, green, blue = ((bits >> shift & 0xFF) * 3 // 4 + 0x20 for shift in (16, 8, 0))
    color = f"#{red:02x}{green:02x}{blue:02x}"
    return (title, description, link, f"{IMAGES}/pins/{pin_id}.jpg", width, height, color)


def _capitalized(text: str) -> str:
    return text[0].upper() + text[1:]


def _comments(
    rng: random.Random,
    n: int,
    pin_times: list[int],
    popularity: list[float],
    user_times: list[int],
    activity: list[float],
) -> Iterator[Row]:
    pins = rng.choices(range(len(pin_times)), cum_weights=popularity, k=n)
    authors = rng.choices(range(len(user_times)), cum_weights=activity, k=n)
    # Most comments come soon after the pin (and after the author signed up).
    times = [
        _after(max(pin_times[pin], user_times[author]), rng.random() ** 3)
        for pin, author in zip(pins, authors, strict=True)
    ]
    times, pins, authors = _sorted_by_time(times, pins, authors)
    return _comment_rows(_fork(rng), pins, authors, times)


def _comment_rows(
    rng: random.Random, pins: list[int], authors: list[int], times: list[int]
) -> Iterator[Row]:
    for i, (pin, author, moment) in enumerate(zip(pins, authors, times, strict=True)):
        text = rng.choice(COMMENT_OPENERS)
        if rng.random() < 0.35:
            text = f"{text} {rng.choice(COMMENT_FOLLOWUPS)}"
        yield (i + 1, pin + 1, author + 1, text, _at(moment))


def _follows(rng: random.Random, n: int, user_times: list[int]) -> Iterator[Row]:
    users = len(user_times)
    weights = _zipf_cum_weights(rng, users, offset=10, exponent=1.0)
    # Followers per followee: Zipf-like, capped at everyone else (drawn again past the cap).
    followers_of = [0] * users
    missing = n
    while missing:
        for followee in rng.choices(range(users), cum_weights=weights, k=missing):
            if followers_of[followee] < users - 1:
                followers_of[followee] += 1
                missing -= 1
    followers: list[int] = []
    followees: list[int] = []
    for followee, count in enumerate(followers_of):
        # Distinct followers, never the followee: sample the others, skipping its own index.
        for other in rng.sample(range(users - 1), count):
            followers.append(other + (other >= followee))
            followees.append(followee)
    times = [
        _after(max(user_times[a], user_times[b]), rng.random())
        for a, b in zip(followers, followees, strict=True)
    ]
    times, followers, followees = _sorted_by_time(times, followers, followees)
    return (
        (i + 1, follower + 1, followee + 1, _at(moment))
        for i, (follower, followee, moment) in enumerate(
            zip(followers, followees, times, strict=True)
        )
    )
