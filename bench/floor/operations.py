"""The floors of the four screens (HomeFeed, BoardPage, ProfilePage, PinCloseUp): each one's
statements in pinql's waves (one round trip per level of the query, the statements of a
level in pinql's order), its `data` built from the rows."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bench.floor.request import (
    B_CREATED_AT,
    B_DESCRIPTION,
    B_ID,
    B_NAME,
    B_OWNER_ID,
    B_PRIVACY,
    BOARD_COUNTS,
    BOARD_PINS_PAGES,
    BOARD_PREVIEW,
    BOARDS,
    BOARDS_PAGES,
    C_AUTHOR_ID,
    C_CREATED_AT,
    C_ID,
    C_TEXT,
    COMMENT_COUNTS,
    COMMENTS_PAGES,
    CREATOR_PINS_PAGES,
    FOLLOWER_COUNTS,
    FOLLOWING_COUNTS,
    HOME_FEED_PAGES,
    P_BOARD,
    P_CREATED_AT,
    P_CREATOR_ID,
    P_DESCRIPTION,
    P_DOMINANT_COLOR,
    P_ID,
    P_IMAGE_HEIGHT,
    P_IMAGE_URL,
    P_IMAGE_WIDTH,
    P_LINK,
    P_SAVED_FROM_ID,
    P_TITLE,
    PIN_COUNTS,
    PINS,
    PROFILE_PINS,
    ROW,
    SAVE_COUNTS,
    U_ID,
    U_USERNAME,
    USER_BY_USERNAME,
    FloorError,
    FloorRequest,
    Json,
    cursor,
    end_cursor,
    required,
)
from resolvers.cursors import page_args
from resolvers.ids import decode_id_of, encode_global_id


async def home_feed(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """HomeFeed: 2 round trips (anonymous: 401, no SQL).

    1. the viewer (USERS) and the feed's page (HOME_FEED_PAGES);
    2. the page's creators not fetched yet (USERS), its save and comment counts (an empty
       page: no second round trip).
    """
    if q.viewer is None:
        raise FloorError(401, "homeFeed needs a signed-in viewer: send a bearer token")
    args = page_args(variables.get("first", 20), variables.get("after"))
    _, page = await asyncio.gather(q.load_users([q.viewer]), q.page(HOME_FEED_PAGES, 0, args))
    rows = page[: args.first]
    pin_ids = [r[ROW + P_ID] for r in rows]
    _, saves, comments = await asyncio.gather(
        q.load_users([r[ROW + P_CREATOR_ID] for r in rows]),
        q.counts(SAVE_COUNTS, pin_ids),
        q.counts(COMMENT_COUNTS, pin_ids),
    )
    return {
        "viewer": q.user(q.viewer, "username", "avatarUrl"),
        "homeFeed": {
            "edges": [{"cursor": cursor(r), "node": q.pin_card(r, saves, comments)} for r in rows],
            "pageInfo": {"hasNextPage": len(page) > args.first, "endCursor": end_cursor(rows)},
        },
    }


async def board_page(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """BoardPage: 3 round trips (1 for a board the viewer may not see).

    1. the board (BOARDS);
    2. its pin count (PIN_COUNTS), its owner (USERS), its page of pins (BOARD_PINS_PAGES);
    3. whether the viewer follows the owner (VIEWER_FOLLOWS, signed in only), the owner's
       follower count (FOLLOWER_COUNTS), the pins' totalCount (PIN_COUNTS again: the
       connection's own count loader), the pins' creators not fetched yet (USERS), their
       save and comment counts.
    """
    board_id = decode_id_of("Board", required(variables, "boardId"), "boardId")
    args = page_args(variables.get("first", 30), variables.get("after"))
    found = await q.rows(BOARDS, [board_id])
    if not found:
        return {"board": None}
    board = found[0]
    owner_id = board[B_OWNER_ID]
    pin_count, _, page = await asyncio.gather(
        q.count(PIN_COUNTS, board_id),
        q.load_users([owner_id]),
        q.page(BOARD_PINS_PAGES, board_id, args),
    )
    owner = q.user(owner_id, "username", "displayName", "avatarUrl")
    owner_ids = [] if owner is None else [owner_id]
    rows = page[: args.first]
    pin_ids = [r[ROW + P_ID] for r in rows]
    followed, followers, total, _, saves, comments = await asyncio.gather(
        q.viewer_follows(owner_ids),
        q.counts(FOLLOWER_COUNTS, owner_ids, viewer_scoped=False),
        q.count(PIN_COUNTS, board_id),
        q.load_users([r[ROW + P_CREATOR_ID] for r in rows]),
        q.counts(SAVE_COUNTS, pin_ids),
        q.counts(COMMENT_COUNTS, pin_ids),
    )
    if owner is not None:
        owner["viewerIsFollowing"] = owner_id in followed
        owner["followerCount"] = followers.get(owner_id, 0)
    return {
        "board": {
            "id": encode_global_id("Board", board_id),
            "name": board[B_NAME],
            "description": board[B_DESCRIPTION],
            "privacy": board[B_PRIVACY],
            "pinCount": pin_count,
            "createdAt": board[B_CREATED_AT],
            "owner": owner,
            "pins": {
                "totalCount": total,
                "edges": [
                    {"cursor": cursor(r), "node": q.pin_card(r, saves, comments)} for r in rows
                ],
                "pageInfo": {
                    "hasNextPage": len(page) > args.first,
                    "hasPreviousPage": args.after is not None,
                    "startCursor": cursor(rows[0]) if rows else None,
                    "endCursor": end_cursor(rows),
                },
            },
        }
    }


async def profile_page(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """ProfilePage: 3 round trips (1 for no such user).

    1. the user (USER_BY_USERNAME);
    2. their follower and following counts (FOLLOWER_COUNTS, FOLLOWING_COUNTS), whether the
       viewer follows them (VIEWER_FOLLOWS, signed in only), their page of boards
       (BOARDS_PAGES) and of pins (CREATOR_PINS_PAGES);
    3. their boards' totalCount (BOARD_COUNTS), the boards' pin counts (PIN_COUNTS) and
       4-pin previews (BOARD_PINS_PAGES), the pins' creators not fetched yet (USERS: none,
       the user is), the pins' save and comment counts.
    """
    username = required(variables, "username")
    boards_args = page_args(variables.get("boardsFirst", 12), None)
    if "\x00" in username:  # as resolvers/query.py: no username holds NUL
        return {"user": None}
    found = [r for r in await q.fetch(USER_BY_USERNAME, [username]) if r[U_USERNAME] == username]
    if not found:
        return {"user": None}
    user_id = found[0][U_ID]
    q.users[user_id] = found[0]
    user = q.user(user_id, "username", "displayName", "bio", "avatarUrl", "email", "createdAt")
    assert user is not None
    followers, following, followed, boards_page, pins_page = await asyncio.gather(
        q.count(FOLLOWER_COUNTS, user_id, viewer_scoped=False),
        q.count(FOLLOWING_COUNTS, user_id, viewer_scoped=False),
        q.viewer_follows([user_id]),
        q.page(BOARDS_PAGES, user_id, boards_args),
        q.page(CREATOR_PINS_PAGES, user_id, PROFILE_PINS),
    )
    user["followerCount"] = followers
    user["followingCount"] = following
    user["viewerIsFollowing"] = user_id in followed
    boards = boards_page[: boards_args.first]
    board_ids = [b[ROW + B_ID] for b in boards]
    pins = pins_page[: PROFILE_PINS.first]
    pin_ids = [r[ROW + P_ID] for r in pins]
    board_count, pin_counts, previews, _, saves, comments = await asyncio.gather(
        q.count(BOARD_COUNTS, user_id),
        q.counts(PIN_COUNTS, board_ids),
        q.pages(BOARD_PINS_PAGES, [(b, BOARD_PREVIEW) for b in board_ids]),
        q.load_users([r[ROW + P_CREATOR_ID] for r in pins]),
        q.counts(SAVE_COUNTS, pin_ids),
        q.counts(COMMENT_COUNTS, pin_ids),
    )
    user["boards"] = {
        "totalCount": board_count,
        "nodes": [
            {
                "id": encode_global_id("Board", board_id),
                "name": b[ROW + B_NAME],
                "privacy": b[ROW + B_PRIVACY],
                "pinCount": pin_counts.get(board_id, 0),
                "pins": {
                    "nodes": [
                        {
                            "id": encode_global_id("Pin", p[ROW + P_ID]),
                            "image": {
                                "url": p[ROW + P_IMAGE_URL],
                                "dominantColor": p[ROW + P_DOMINANT_COLOR],
                            },
                        }
                        for p in preview[: BOARD_PREVIEW.first]
                    ]
                },
            }
            for b, board_id, preview in zip(boards, board_ids, previews, strict=True)
        ],
    }
    user["pins"] = {"nodes": [q.pin_card(r, saves, comments) for r in pins]}
    return {"user": user}


async def pin_close_up(q: FloorRequest, variables: Mapping[str, Any]) -> Json:
    """PinCloseUp: 3 round trips (1 for a pin the viewer may not see; 2 when the third has
    nothing to fetch).

    1. the pin, with its board (PINS);
    2. its save count (SAVE_COUNTS), its creator and its board's owner (USERS), the pin it
       was saved from (PINS, a repin only), its comment count (COMMENT_COUNTS) and its page
       of comments (COMMENTS_PAGES);
    3. whether the viewer follows the creator (VIEWER_FOLLOWS, signed in only), the
       saved-from pin's creator and the comments' authors not fetched yet (USERS).
    """
    pin_id = decode_id_of("Pin", required(variables, "pinId"), "pinId")
    comments_args = page_args(variables.get("commentsFirst", 10), None)
    found = await q.rows(PINS, [pin_id])
    if not found:
        return {"pin": None}
    pin = found[0]
    creator_id = pin[P_CREATOR_ID]
    owner_id = pin[P_BOARD + B_OWNER_ID]
    saved_from_id = pin[P_SAVED_FROM_ID]
    save_count, _, sources, comment_count, page = await asyncio.gather(
        q.count(SAVE_COUNTS, pin_id),
        q.load_users([creator_id, owner_id]),
        q.rows(PINS, [] if saved_from_id is None else [saved_from_id]),
        q.count(COMMENT_COUNTS, pin_id),
        q.page(COMMENTS_PAGES, pin_id, comments_args),
    )
    source = sources[0] if sources else None
    creator = q.user(creator_id, "username", "displayName", "avatarUrl")
    comments = page[: comments_args.first]
    source_creators = [] if source is None else [source[P_CREATOR_ID]]
    followed, _ = await asyncio.gather(
        q.viewer_follows([] if creator is None else [creator_id]),
        q.load_users([*source_creators, *(c[ROW + C_AUTHOR_ID] for c in comments)]),
    )
    if creator is not None:
        creator["viewerIsFollowing"] = creator_id in followed
    owner = q.user(owner_id, "username")
    saved_from = None
    if source is not None:
        source_creator = q.user(source[P_CREATOR_ID], "username")
        saved_from = {
            "id": encode_global_id("Pin", source[P_ID]),
            "title": source[P_TITLE],
            "creator": None if source_creator is None else {"username": source_creator["username"]},
        }
    return {
        "pin": {
            "id": encode_global_id("Pin", pin_id),
            "title": pin[P_TITLE],
            "description": pin[P_DESCRIPTION],
            "link": pin[P_LINK],
            "image": {
                "url": pin[P_IMAGE_URL],
                "width": pin[P_IMAGE_WIDTH],
                "height": pin[P_IMAGE_HEIGHT],
                "dominantColor": pin[P_DOMINANT_COLOR],
            },
            "createdAt": pin[P_CREATED_AT],
            "saveCount": save_count,
            "creator": creator,
            "board": {
                "id": encode_global_id("Board", pin[P_BOARD + B_ID]),
                "name": pin[P_BOARD + B_NAME],
                "owner": None if owner is None else {"username": owner["username"]},
            },
            "savedFrom": saved_from,
            "commentCount": comment_count,
            "comments": {
                "edges": [
                    {
                        "cursor": cursor(c),
                        "node": {
                            "id": encode_global_id("Comment", c[ROW + C_ID]),
                            "text": c[ROW + C_TEXT],
                            "createdAt": c[ROW + C_CREATED_AT],
                            "author": q.user(c[ROW + C_AUTHOR_ID], "username", "avatarUrl"),
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
