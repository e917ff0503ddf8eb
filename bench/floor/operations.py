"""The floor of each benchmarked operation: its statements in pinql's batches and order, its
`data` built from the records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bench.floor.request import (
    BOARD_COUNTS,
    BOARD_PINS_PAGES,
    BOARD_PREVIEW,
    BOARDS,
    BOARDS_PAGES,
    COMMENT_COUNTS,
    COMMENTS_PAGES,
    CREATOR_PINS_PAGES,
    FOLLOWER_COUNTS,
    FOLLOWING_COUNTS,
    HOME_FEED_PAGES,
    PIN_COUNTS,
    PINS,
    PROFILE_PINS,
    SAVE_COUNTS,
    USER_BY_USERNAME,
    FloorError,
    FloorRequest,
    Json,
    end_cursor,
    required,
)
from loaders.global_ids import decode_id_of, encode_global_id
from loaders.paging import encode_cursor, page_args


async def home_feed(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """HomeFeed: 5 statements."""
    if q.viewer is None:
        raise FloorError(401, "homeFeed needs a signed-in viewer: send a bearer token")
    args = page_args(variables.get("first", 20), variables.get("after"))
    await q.load_users([q.viewer])
    (page,) = await q.pages(HOME_FEED_PAGES, [(0, args)])
    rows = page[: args.first]
    await q.load_users(r["creator_id"] for r in rows)
    pin_ids = [r["id"] for r in rows]
    saves = await q.counts(SAVE_COUNTS, pin_ids)
    comments = await q.counts(COMMENT_COUNTS, pin_ids)
    return {
        "viewer": q.user(q.viewer, "username", "avatarUrl"),
        "homeFeed": {
            "edges": [
                {"cursor": encode_cursor(r["position"]), "node": q.pin_card(r, saves, comments)}
                for r in rows
            ],
            "pageInfo": {"hasNextPage": len(page) > args.first, "endCursor": end_cursor(rows)},
        },
    }


async def board_page(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """BoardPage: 9 statements signed in, 8 anonymous."""
    board_id = decode_id_of("Board", required(variables, "boardId"), "boardId")
    args = page_args(variables.get("first", 30), variables.get("after"))
    found = await q.fetch(BOARDS, [board_id])
    if not found:
        return {"board": None}
    board = found[0]
    pin_count = await q.count(PIN_COUNTS, board_id)
    await q.load_users([board["owner_id"]])
    (page,) = await q.pages(BOARD_PINS_PAGES, [(board_id, args)])
    owner = q.user(board["owner_id"], "username", "displayName", "avatarUrl")
    if owner is not None:
        owner["viewerIsFollowing"] = await q.viewer_follows(board["owner_id"])
        owner["followerCount"] = await q.count(
            FOLLOWER_COUNTS, board["owner_id"], viewer_scoped=False
        )
    total = await q.count(PIN_COUNTS, board_id)  # the connection's own count loader
    rows = page[: args.first]
    await q.load_users(r["creator_id"] for r in rows)
    pin_ids = [r["id"] for r in rows]
    saves = await q.counts(SAVE_COUNTS, pin_ids)
    comments = await q.counts(COMMENT_COUNTS, pin_ids)
    return {
        "board": {
            "id": encode_global_id("Board", board_id),
            "name": board["name"],
            "description": board["description"],
            "privacy": board["privacy"],
            "pinCount": pin_count,
            "createdAt": board["created_at"],
            "owner": owner,
            "pins": {
                "totalCount": total,
                "edges": [
                    {"cursor": encode_cursor(r["position"]), "node": q.pin_card(r, saves, comments)}
                    for r in rows
                ],
                "pageInfo": {
                    "hasNextPage": len(page) > args.first,
                    "hasPreviousPage": args.after is not None,
                    "startCursor": encode_cursor(rows[0]["position"]) if rows else None,
                    "endCursor": end_cursor(rows),
                },
            },
        }
    }


async def profile_page(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """ProfilePage: 11 statements signed in, 10 anonymous."""
    username = required(variables, "username")
    boards_args = page_args(variables.get("boardsFirst", 12), None)
    if "\x00" in username:  # as resolvers/query.py: no username holds NUL
        return {"user": None}
    found = [r for r in await q.fetch(USER_BY_USERNAME, [username]) if r["username"] == username]
    if not found:
        return {"user": None}
    user_id = found[0]["id"]
    q.users[user_id] = found[0]
    user = q.user(user_id, "username", "displayName", "bio", "avatarUrl", "email", "createdAt")
    assert user is not None
    user["followerCount"] = await q.count(FOLLOWER_COUNTS, user_id, viewer_scoped=False)
    user["followingCount"] = await q.count(FOLLOWING_COUNTS, user_id, viewer_scoped=False)
    user["viewerIsFollowing"] = await q.viewer_follows(user_id)
    (boards_page,) = await q.pages(BOARDS_PAGES, [(user_id, boards_args)])
    (pins_page,) = await q.pages(CREATOR_PINS_PAGES, [(user_id, PROFILE_PINS)])
    board_count = await q.count(BOARD_COUNTS, user_id)
    boards = boards_page[: boards_args.first]
    board_ids = [b["id"] for b in boards]
    pin_counts = await q.counts(PIN_COUNTS, board_ids)
    previews = await q.pages(BOARD_PINS_PAGES, [(b, BOARD_PREVIEW) for b in board_ids])
    pins = pins_page[: PROFILE_PINS.first]
    await q.load_users(r["creator_id"] for r in pins)
    pin_ids = [r["id"] for r in pins]
    saves = await q.counts(SAVE_COUNTS, pin_ids)
    comments = await q.counts(COMMENT_COUNTS, pin_ids)
    user["boards"] = {
        "totalCount": board_count,
        "nodes": [
            {
                "id": encode_global_id("Board", b["id"]),
                "name": b["name"],
                "privacy": b["privacy"],
                "pinCount": pin_counts.get(b["id"], 0),
                "pins": {
                    "nodes": [
                        {
                            "id": encode_global_id("Pin", p["id"]),
                            "image": {"url": p["image_url"], "dominantColor": p["dominant_color"]},
                        }
                        for p in preview[: BOARD_PREVIEW.first]
                    ]
                },
            }
            for b, preview in zip(boards, previews, strict=True)
        ],
    }
    user["pins"] = {"nodes": [q.pin_card(r, saves, comments) for r in pins]}
    return {"user": user}


async def pin_close_up(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """PinCloseUp: 8 statements signed in for a repin, 7 anonymous; 1 fewer for an original."""
    pin_id = decode_id_of("Pin", required(variables, "pinId"), "pinId")
    comments_args = page_args(variables.get("commentsFirst", 10), None)
    found = await q.fetch(PINS, [pin_id])
    if not found:
        return {"pin": None}
    pin = found[0]
    save_count = await q.count(SAVE_COUNTS, pin_id)
    await q.load_users([pin["creator_id"], pin["b_owner_id"]])
    source = None
    if pin["saved_from_id"] is not None:
        sources = await q.fetch(PINS, [pin["saved_from_id"]])
        source = sources[0] if sources else None
    comment_count = await q.count(COMMENT_COUNTS, pin_id)
    (page,) = await q.pages(COMMENTS_PAGES, [(pin_id, comments_args)])
    creator = q.user(pin["creator_id"], "username", "displayName", "avatarUrl")
    if creator is not None:
        creator["viewerIsFollowing"] = await q.viewer_follows(pin["creator_id"])
    comments = page[: comments_args.first]
    source_creators = [] if source is None else [source["creator_id"]]
    await q.load_users([*source_creators, *(c["author_id"] for c in comments)])
    owner = q.user(pin["b_owner_id"], "username")
    saved_from = None
    if source is not None:
        source_creator = q.user(source["creator_id"], "username")
        saved_from = {
            "id": encode_global_id("Pin", source["id"]),
            "title": source["title"],
            "creator": None if source_creator is None else {"username": source_creator["username"]},
        }
    return {
        "pin": {
            "id": encode_global_id("Pin", pin_id),
            "title": pin["title"],
            "description": pin["description"],
            "link": pin["link"],
            "image": {
                "url": pin["image_url"],
                "width": pin["image_width"],
                "height": pin["image_height"],
                "dominantColor": pin["dominant_color"],
            },
            "createdAt": pin["created_at"],
            "saveCount": save_count,
            "creator": creator,
            "board": {
                "id": encode_global_id("Board", pin["b_id"]),
                "name": pin["b_name"],
                "owner": None if owner is None else {"username": owner["username"]},
            },
            "savedFrom": saved_from,
            "commentCount": comment_count,
            "comments": {
                "edges": [
                    {
                        "cursor": encode_cursor(c["position"]),
                        "node": {
                            "id": encode_global_id("Comment", c["id"]),
                            "text": c["text"],
                            "createdAt": c["created_at"],
                            "author": q.user(c["author_id"], "username", "avatarUrl"),
                        },
                    }
                    for c in comments
                ],
                "pageInfo": {
                    "hasNextPage": len(page) > comments_args.first,
                    "endCursor": end_cursor(comments),
                },
            },
        }
    }


FloorOperation = Callable[[FloorRequest, Mapping[str, Any]], Awaitable[Json]]
OPERATIONS: dict[str, FloorOperation] = {
    "feed": home_feed,
    "board": board_page,
    "profile": profile_page,
    "pin": pin_close_up,
}
"""The floor of each benchmarked operation, by the benchmark's key (route /floor/<key>)."""
