"""The report's parts about the peer (PostGraphile, bench/postgraphile/): pinql beside it per
operation, with the issue's targets against it as pass/fail columns, and what its rows are
(what it was sent, how to read them)."""

from __future__ import annotations

import json

from bench.operations import PEER, ROWS
from bench.postgraphile.peer import Peer
from bench.postgraphile.serving import IDLE_MS, processes
from bench.report_table import NONE, Measured, verdict

PEER_MIN_RATIO = 1.2
"""pinql's req/s at least this times PostGraphile's (issue 16)."""
HEADER = (
    "| operation | sent as | req/s | PostGraphile req/s | ÷ PostGraphile "
    f"| ≥ {PEER_MIN_RATIO}x PostGraphile | PG CPU ms/req | PostGraphile PG CPU ms/req "
    "| PG CPU ≤ PostGraphile |"
)
ALIGN = "|---|---|---:|---:|---:|:-:|---:|---:|:-:|"
UNTRUSTED = "⚠ errors"


def _found(results: list[Measured], operation: str, variant: str) -> Measured | None:
    return next((m for m in results if m.operation == operation and m.variant == variant), None)


def beside_peer(results: list[Measured], names: dict[str, str]) -> list[str]:
    """pinql's full text and hash only rows beside the peer's, per operation (`names`: each
    operation's key and name, in order), with the issue's targets against the peer; no
    lines without peer rows."""
    lines = []
    for key, name in names.items():
        peer = _found(results, key, PEER)
        if peer is None:
            continue
        for variant in ("text", "hash"):
            ours = _found(results, key, variant)
            if ours is not None:
                lines.append(_beside(ours, peer, name if variant == "text" else ""))
    return [HEADER, ALIGN, *lines] if lines else []


def _beside(ours: Measured, peer: Measured, name: str) -> str:
    rate, theirs = ours.wrk.requests_per_second, peer.wrk.requests_per_second
    ratio = f"{rate / theirs:.2f}x" if theirs else "n/a"
    if ours.wrk.errors or peer.wrk.errors:
        faster = lighter = UNTRUSTED
    else:
        faster = verdict(rate >= PEER_MIN_RATIO * theirs) if theirs else NONE
        lighter = verdict(ours.postgres_ms <= peer.postgres_ms)
    cells = [
        name,
        ROWS[ours.variant],
        f"{rate:.0f}",
        f"{theirs:.0f}",
        ratio,
        faster,
        f"{ours.postgres_ms:.2f}",
        f"{peer.postgres_ms:.2f}",
        lighter,
    ]
    return "| " + " | ".join(cells) + " |"


def peer_variables(peer: Peer, operation: str) -> str:
    """The variables the peer was sent for `operation`, as JSON."""
    body = peer.requests[operation].body
    assert body is not None
    return json.dumps(json.loads(body)["variables"])


def peer_sent(peer: Peer) -> str:
    """What was sent to the peer, and how it was served (a line of *What was sent*)."""
    versions = ", ".join(f"{name} {v}" for name, v in peer.versions.items())
    return (
        f"- PostGraphile (the peer: enforces no privacy rules; {versions}): "
        f"`{peer.server.command}` run in bench/postgraphile/ with NODE_ENV=production; each "
        "operation's query is bench/postgraphile/queries/<operation>.graphql, sent as "
        "`POST /graphql` with `query` and `variables` (no sign-in: the viewer is a variable)"
    )


def how_to_read_peer(peer: Peer | None, workers: int) -> list[str]:
    """What the PostGraphile rows are, what the peer does differently, and the targets
    against it (*How to read it*)."""
    if peer is None:
        return ["- No PostGraphile rows: the run left the peer out (`--no-peer`)."]
    served = processes(workers)
    return [
        f"- PostGraphile rows (the peer): PostGraphile {peer.versions['postgraphile']}, the "
        "GraphQL server a team would pick instead of pinql (a schema generated from "
        "PostgreSQL's; each root field of a query compiled into one SQL statement), served by "
        "its own command line against the same database (*What was sent*): production "
        "settings (no query log, no GraphiQL, no watch mode; the options its help recommends "
        "but `--no-ignore-indexes`, which would hide the filter on boards' privacy), "
        f"{served} node process{'es' if served > 1 else ''} (past one worker, a master and "
        f"`--cluster-workers` workers), each with a pool of {peer.pool_size} connections kept "
        f"{IDLE_MS // 1000} s idle, as each pinql worker's pool, and the connection-filter "
        "plugin. **It enforces no privacy rules**: it has no viewer (no JWT, no row-level "
        "security); its queries name the viewer by id and say in filters which rows a viewer "
        "may see where a list would otherwise hold secret ones. The subjects are public "
        "objects, so it answers the same objects as pinql: checked before measuring "
        "(bench/run.py, bench/postgraphile/answers.py) and by tests/bench/test_postgraphile.py.",
        "- What the peer does differently: counts come from pinql's counter tables through "
        "its relations (`boardCountByBoardId`, `pinCountByPinId`, `userCountByUserId`), as "
        "pinql reads them; a profile's board count and *viewerIsFollowing* are counted "
        "(`totalCount`), as pinql counts them; its save count is the public saves only (pinql "
        "adds the viewer's own secret repins: none here, or the check would fail); HomeFeed "
        "is a custom query on a SQL function in schema `postgraphile_peer` "
        "(bench/postgraphile/peer.sql) that reads the feed as pinql's feed statement does, "
        "run twice in its statement (the page, then whether a next page exists); NodeLookup "
        "is one `node(nodeId:)` root field per object (PostGraphile has no plural lookup): 12 "
        "statements, queued on the request's one connection.",
        "- PostGraphile's SQL/req: the statements its pg clients sent (`Client#query` calls, "
        "counted by bench/postgraphile/counters.cjs, preloaded into its processes) over the "
        "requests it answered (counted there as each response ended); its server CPU: all its "
        "node processes; its PG CPU: the backends serving its connections, matched by port as "
        "pinql's are.",
        f"- Targets beside PostGraphile (issue 16): pinql's req/s at least {PEER_MIN_RATIO}x "
        "PostGraphile's, and its PostgreSQL CPU per request at most PostGraphile's (no "
        "tolerance), for full text and hash only.",
    ]
