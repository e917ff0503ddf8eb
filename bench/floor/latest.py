"""The floor of LatestPins (Explore): its statements in pinql's waves, its `data` from the
rows."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bench.floor.request import (
    B_ID,
    B_NAME,
    B_OWNER_ID,
    C_AUTHOR_ID,
    C_ID,
    C_TEXT,
    COMMENT_COUNTS,
    COMMENTS_PAGES,
    LATEST_PAGES,
    P_BOARD,
    P_CREATED_AT,
    P_CREATOR_ID,
    P_ID,
    P_IMAGE_HEIGHT,
    P_IMAGE_URL,
    P_IMAGE_WIDTH,
    P_TITLE,
    ROW,
    FloorRequest,
    Json,
    end_cursor,
)
from db.waves import Row
from loaders.paging import PageArgs
from resolvers.cursors import page_args
from resolvers.ids import encode_global_id

COMMENTS_PREVIEW = PageArgs(3, None)  # LatestPins's `comments(first: 3)` per pin


async def latest_pins(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """LatestPins: 3 round trips (2 when the comments' authors are all fetched already,
    1 for an empty page).

    1. the page of pins the viewer may see, with their boards (LATEST_PAGES);
    2. the pins' creators and their boards' owners (USERS), the pins' comment counts
       (COMMENT_COUNTS) and first 3 comments (COMMENTS_PAGES);
    3. the comments' authors not fetched yet (USERS).
    """
    args = page_args(variables.get("first", 30), variables.get("after"))
    page = await q.page(LATEST_PAGES, 0, args)
    rows = page[: args.first]
    pin_ids = [r[ROW + P_ID] for r in rows]
    _, comment_counts, previews = await asyncio.gather(
        q.load_users(
            [*(r[ROW + P_CREATOR_ID] for r in rows), *(r[ROW + P_BOARD + B_OWNER_ID] for r in rows)]
        ),
        q.counts(COMMENT_COUNTS, pin_ids),
        q.pages(COMMENTS_PAGES, [(pin_id, COMMENTS_PREVIEW) for pin_id in pin_ids]),
    )
    comments = [preview[: COMMENTS_PREVIEW.first] for preview in previews]
    await q.load_users(c[ROW + C_AUTHOR_ID] for shown in comments for c in shown)
    return {
        "pins": {
            "edges": [
                {"node": _pin(q, r, comment_counts, shown)}
                for r, shown in zip(rows, comments, strict=True)
            ],
            "pageInfo": {"hasNextPage": len(page) > args.first, "endCursor": end_cursor(rows)},
        }
    }


def _pin(q: FloorRequest, r: Row, comment_counts: dict[int, int], comments: list[Row]) -> Json:
    """One pin of the page: a paged pin row (its board's columns after the pin's)."""
    pin_id = r[ROW + P_ID]
    return {
        "id": encode_global_id("Pin", pin_id),
        "title": r[ROW + P_TITLE],
        "image": {
            "url": r[ROW + P_IMAGE_URL],
            "width": r[ROW + P_IMAGE_WIDTH],
            "height": r[ROW + P_IMAGE_HEIGHT],
        },
        "createdAt": r[ROW + P_CREATED_AT],
        "creator": q.user(r[ROW + P_CREATOR_ID], "username", "displayName", "avatarUrl"),
        "board": {
            "id": encode_global_id("Board", r[ROW + P_BOARD + B_ID]),
            "name": r[ROW + P_BOARD + B_NAME],
            "owner": q.user(r[ROW + P_BOARD + B_OWNER_ID], "username"),
        },
        "commentCount": comment_counts.get(pin_id, 0),
        "comments": {
            "nodes": [
                {
                    "id": encode_global_id("Comment", c[ROW + C_ID]),
                    "text": c[ROW + C_TEXT],
                    "author": q.user(c[ROW + C_AUTHOR_ID], "username"),
                }
                for c in comments
            ]
        },
    }
