"""The floors of SearchPage and RelatedPins: their statements in pinql's waves, their `data`
from the rows (ranked rows: loaders/search.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bench.floor.request import (
    B_ID,
    B_NAME,
    B_OWNER_ID,
    BOUND,
    COMMENT_COUNTS,
    FOLLOWER_COUNTS,
    P_CREATOR_ID,
    P_ID,
    PIN_COUNTS,
    PINS,
    RANKED,
    RELATED_PINS,
    SAVE_COUNTS,
    SCORE,
    SEARCH_BOARDS,
    SEARCH_PINS,
    SEARCH_USERS,
    U_AVATAR_URL,
    U_DISPLAY_NAME,
    U_ID,
    U_USERNAME,
    FloorRequest,
    Json,
    required,
)
from db.waves import Row
from loaders.rows import BOARD_WIDTH
from loaders.search import MixedPosition, SearchArgs, SearchPosition, mark_words
from resolvers.cursors import (
    decode_mixed_cursor,
    decode_search_cursor,
    encode_mixed_cursor,
    encode_search_cursor,
    page_args,
)
from resolvers.ids import decode_id_of, encode_global_id
from resolvers.search import SearchType, after_in, search_text, segments_of

PIN, BOARD, USER = SearchType.PIN, SearchType.BOARD, SearchType.USER


async def search_page(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """SearchPage: 2 round trips (none for a query without a letter or digit).

    1. the pin, board and user searches (SEARCH_PINS, SEARCH_BOARDS, SEARCH_USERS);
    2. the pins' creators and the boards' owners (USERS), the pins' save and comment counts
       (SAVE_COUNTS, COMMENT_COUNTS), the boards' pin counts (PIN_COUNTS) and the users'
       follower counts (FOLLOWER_COUNTS).
    """
    args = page_args(variables.get("first", 30), None)
    after = variables.get("after")
    position = None if after is None else decode_mixed_cursor(after)
    text = search_text(required(variables, "query"))
    if text is None:
        return {"search": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
    found = await asyncio.gather(
        *(
            q.ranked(sql, text, SearchArgs(args.first, after_in(position, kind)))
            for sql, kind in ((SEARCH_PINS, PIN), (SEARCH_BOARDS, BOARD), (SEARCH_USERS, USER))
        )
    )
    more = any(len(rows) > args.first for rows in found)
    pins, boards, users = (rows[: args.first] for rows in found)
    pins_bound = pins[0][BOUND] if pins else (position.pins_bound if position else 0)
    boards_bound = boards[0][BOUND] if boards else (position.boards_bound if position else 0)
    hits = sorted(
        (
            (MixedPosition(r[SCORE], kind.value, r[RANKED], pins_bound, boards_bound), kind, r)
            for kind, rows in ((PIN, pins), (BOARD, boards), (USER, users))
            for r in rows
        ),
        key=lambda hit: hit[0][:3],
        reverse=True,
    )
    more = more or len(hits) > args.first
    hits = hits[: args.first]
    shown = {kind: [r for _, k, r in hits if k is kind] for kind in (PIN, BOARD, USER)}
    pin_ids = [r[RANKED + P_ID] for r in shown[PIN]]
    counts: dict[str, dict[int, int]] = {}

    async def count(name: str, sql: str, ids: list[int], viewer_scoped: bool = True) -> None:
        counts[name] = await q.counts(sql, ids, viewer_scoped=viewer_scoped)

    fetches = {
        "users": lambda: q.load_users(
            [
                *(r[RANKED + P_CREATOR_ID] for r in shown[PIN]),
                *(r[RANKED + B_OWNER_ID] for r in shown[BOARD]),
            ]
        ),
        "saves": lambda: count("saves", SAVE_COUNTS, pin_ids),
        "comments": lambda: count("comments", COMMENT_COUNTS, pin_ids),
        "pin_counts": lambda: count(
            "pin_counts", PIN_COUNTS, [r[RANKED + B_ID] for r in shown[BOARD]]
        ),
        "followers": lambda: count(
            "followers", FOLLOWER_COUNTS, [r[RANKED + U_ID] for r in shown[USER]], False
        ),
    }
    # pinql asks each kind's loaders as it completes the kind's objects, in the order the
    # kinds first appear among the results, each in its selection's order
    asks = {PIN: ("users", "saves", "comments"), BOARD: ("pin_counts", "users")}
    kinds = dict.fromkeys(kind for _, kind, _ in hits)
    order = dict.fromkeys(name for kind in kinds for name in asks.get(kind, ("followers",)))
    await asyncio.gather(*(fetches[name]() for name in order))
    saves, comments = counts.get("saves", {}), counts.get("comments", {})
    pin_counts, followers = counts.get("pin_counts", {}), counts.get("followers", {})
    edges = []
    for hit_position, kind, r in hits:
        if kind is PIN:
            node = {"__typename": "Pin", **q.pin_card(r, saves, comments, RANKED)}
            highlight = r[-1]
        elif kind is BOARD:
            node = {
                "__typename": "Board",
                "id": encode_global_id("Board", r[RANKED + B_ID]),
                "name": r[RANKED + B_NAME],
                "pinCount": pin_counts.get(r[RANKED + B_ID], 0),
                "owner": q.username(r[RANKED + B_OWNER_ID]),
            }
            highlight = r[RANKED + BOARD_WIDTH]
        else:
            user_id = r[RANKED + U_ID]
            node = {
                "__typename": "User",
                "id": encode_global_id("User", user_id),
                "username": r[RANKED + U_USERNAME],
                "displayName": r[RANKED + U_DISPLAY_NAME],
                "avatarUrl": r[RANKED + U_AVATAR_URL],
                "followerCount": followers.get(user_id, 0),
            }
            highlight = mark_words(r[RANKED + U_DISPLAY_NAME], r[RANKED + U_USERNAME], text)
        edges.append(
            {
                "cursor": encode_mixed_cursor(hit_position),
                "highlight": [
                    {"text": s.text, "matched": s.matched} for s in segments_of(highlight)
                ],
                "node": node,
            }
        )
    end = encode_mixed_cursor(hits[-1][0]) if hits else None
    return {"search": {"edges": edges, "pageInfo": {"hasNextPage": more, "endCursor": end}}}


async def related_pins(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """RelatedPins: 3 round trips (1 for a pin the viewer may not see).

    1. the pin (PINS);
    2. its related pins, with their boards (RELATED_PINS);
    3. their creators (USERS), save and comment counts (SAVE_COUNTS, COMMENT_COUNTS).
    """
    pin_id = decode_id_of("Pin", required(variables, "pinId"), "pinId")
    first = page_args(variables.get("first", 30), None).first
    after = variables.get("after")
    args = SearchArgs(first, None if after is None else decode_search_cursor(after))
    if not await q.rows(PINS, [pin_id]):
        return {"pin": None}
    found = await q.ranked(RELATED_PINS, pin_id, args)
    rows = found[:first]
    ids = [r[RANKED + P_ID] for r in rows]
    _, saves, comments = await asyncio.gather(
        q.load_users(r[RANKED + P_CREATOR_ID] for r in rows),
        q.counts(SAVE_COUNTS, ids),
        q.counts(COMMENT_COUNTS, ids),
    )
    cursors = [_cursor(r) for r in rows]
    return {
        "pin": {
            "id": encode_global_id("Pin", pin_id),
            "related": {
                "edges": [
                    {"cursor": c, "node": q.pin_card(r, saves, comments, RANKED)}
                    for c, r in zip(cursors, rows, strict=True)
                ],
                "pageInfo": {
                    "hasNextPage": len(found) > first,
                    "endCursor": cursors[-1] if cursors else None,
                },
            },
        }
    }


def _cursor(r: Row) -> str:
    """A ranked pin row's cursor."""
    return encode_search_cursor(SearchPosition(r[SCORE], r[BOUND], r[RANKED + P_ID]))
