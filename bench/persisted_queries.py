"""Benchmarks the HomeFeed operation sent as full query text vs. as an Apollo persisted query.

One run: make sure the scale-10 data set is in `pinql_bench`, serve the app with uvicorn
(one worker, Redis-backed persisted queries), check one request of each kind, then drive each
variant with wrk (text never seen before, cached text, hash-only POST, hash-only GET) in
interleaved rounds and print median requests/s and p50/p99 latency as a markdown table.

    .venv/bin/python bench/persisted_queries.py [--duration 10 --rounds 3 --connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import shlex
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file (DEVELOPERS.md): import from the repository
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import asyncpg
import httpx
import redis

from bench.dataset import (
    DATABASE,
    DATABASE_URL,
    FOLLOWEE_COUNT,
    REDIS_URL,
    SCALE,
    TOP_FOLLOWER,
    ensure_dataset,
)
from bench.machine import cpu_model
from bench.operations import ACCEPT, OPERATIONS_DIR
from bench.processes import serving
from bench.wrk import UNIQUE_MARK, WrkRequest, WrkResult, find_wrk, run_wrk, write_script
from server.auth import issue_token

OPERATION = OPERATIONS_DIR / "HomeFeed.graphql"
VARIABLES: dict[str, Any] = {"first": 20}
APP = "server.app:create_app"
Variant = WrkRequest


def parse_args() -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of every variant, interleaved (medians kept)"
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores are shared)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per variant")
    return parser.parse_args()


async def _viewer(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        user_id = int(await conn.fetchval(TOP_FOLLOWER))
        return user_id, int(await conn.fetchval(FOLLOWEE_COUNT, user_id))
    finally:
        await conn.close()


FRESH_MARK = f"\n# request {UNIQUE_MARK}"
"""Ends each never-seen-before text with a different comment."""


def variants(query: str, sha256: str, token: str) -> dict[str, Variant]:
    """The ways the bench sends the operation, by name."""
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256}}
    full = {"query": query, "variables": VARIABLES}
    hashed = {"extensions": apq, "variables": VARIABLES}
    get_query = urllib.parse.urlencode(
        {
            "extensions": json.dumps(apq, separators=(",", ":")),
            "variables": json.dumps(VARIABLES, separators=(",", ":")),
        }
    )
    fresh = {"query": query + FRESH_MARK, "variables": VARIABLES}
    return {
        "full_fresh": Variant(
            "POST full text, never seen before",
            "POST",
            "/graphql",
            _json(fresh),
            headers,
            unique=True,
        ),
        "full": Variant("POST full query text", "POST", "/graphql", _json(full), headers),
        "apq_post": Variant("POST APQ hash only", "POST", "/graphql", _json(hashed), headers),
        "apq_get": Variant("GET APQ hash only", "GET", f"/graphql?{get_query}", None, headers),
    }


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def send(client: httpx.Client, base: str, variant: Variant) -> httpx.Response:
    """One request of `variant`, as wrk sends it."""
    headers = dict(variant.headers)
    if variant.body is not None:
        headers["Content-Type"] = "application/json"
    return client.request(
        variant.method, base + variant.path, content=variant.body, headers=headers
    )


def _data(response: httpx.Response, what: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or "errors" in body or not body.get("data"):
        raise SystemExit(f"{what}: HTTP {response.status_code}: {response.text[:2000]}")
    return body


def _not_found(response: httpx.Response, what: str) -> None:
    body = response.json()
    errors = body.get("errors") or [{}]
    if errors[0].get("message") != "PersistedQueryNotFound" or "data" in body:
        raise SystemExit(f"{what}: expected PersistedQueryNotFound, got {response.text[:2000]}")


def check_requests(base: str, all_variants: dict[str, Variant], query: str) -> int:
    """One request of each kind answers as it should; returns the feed's page size."""
    hashed = all_variants["apq_post"]
    registration = Variant(
        "POST APQ query + hash",
        "POST",
        "/graphql",
        _json({"query": query, **json.loads(hashed.body or b"{}")}),
        hashed.headers,
    )
    with httpx.Client(timeout=30) as client:
        _not_found(send(client, base, hashed), "hash-only POST first")
        _not_found(send(client, base, all_variants["apq_get"]), "hash-only GET first")
        full = _data(send(client, base, all_variants["full"]), "full text")
        registered = _data(send(client, base, registration), "APQ registration")
        post = _data(send(client, base, hashed), "hash-only POST")
        get = _data(send(client, base, all_variants["apq_get"]), "hash-only GET")
    for name, body in (("registration", registered), ("hash-only POST", post), ("GET", get)):
        if body["data"] != full["data"]:  # extensions.cost may differ
            raise SystemExit(f"{name} answered differently from the full text: {body}")
    edges: list[object] = full["data"]["homeFeed"]["edges"]
    if not edges:
        raise SystemExit("the viewer's home feed is empty: the bench would measure nothing")
    return len(edges)


def main() -> int:
    """Runs the whole bench; 1 when any measured response was not a good 200."""
    started = time.monotonic()
    args = parse_args()
    wrk = find_wrk()
    counts = ensure_dataset()
    viewer_id, followees = asyncio.run(_viewer(DATABASE_URL))
    redis.Redis.from_url(REDIS_URL).flushdb()
    secret = secrets.token_hex(20)
    token = issue_token(viewer_id, secret, 3600)
    query = OPERATION.read_text(encoding="utf-8")
    sha256 = hashlib.sha256(query.encode()).hexdigest()
    all_variants = variants(query, sha256, token)
    results: dict[str, list[WrkResult]] = {key: [] for key in all_variants}
    with tempfile.TemporaryDirectory(prefix="pinql-bench-") as tmp:
        directory = Path(tmp)
        env = {
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "PINQL_SECRET": secret,
            "PINQL_RATE_LIMIT": "false",  # one client from one address
        }
        with serving(APP, env, directory / "server.log") as server:
            base = server.base
            page = check_requests(base, all_variants, query)
            print(f"checks passed: viewer {viewer_id} follows {followees}; page of {page} pins")
            keys = list(all_variants)
            scripts = {k: write_script(directory / f"{k}.lua", all_variants[k]) for k in keys}
            for round_ in range(args.rounds):
                # Rotate the order so no variant always runs first (or right after another).
                for key in keys[round_ % len(keys) :] + keys[: round_ % len(keys)]:
                    name = all_variants[key].name
                    if args.warmup > 0:
                        warm = run_wrk(
                            wrk, scripts[key], base, args.warmup, args.connections, args.threads
                        )
                        print(f"warm-up {name}: {warm.requests_per_second:.0f} req/s")
                    result = run_wrk(
                        wrk, scripts[key], base, args.duration, args.connections, args.threads
                    )
                    results[key].append(result)
                    print(f"round {round_ + 1} {name}: {result.requests_per_second:.1f} req/s")
            log = (directory / "server.log").read_text(errors="replace").strip()
    print()
    report(args, results, all_variants, counts, viewer_id, followees)
    if log:
        print(f"\nserver log (warnings and errors):\n{log[-4000:]}")
    failures = [
        f"{all_variants[k].name}: {p}"
        for k, runs in results.items()
        for r in runs
        for p in r.failures
    ]
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"\ntotal runtime: {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


def report(
    args: argparse.Namespace,
    results: dict[str, list[WrkResult]],
    all_variants: dict[str, Variant],
    counts: dict[str, int],
    viewer_id: int,
    followees: int,
) -> None:
    """Prints the markdown table (medians over the rounds), the machine facts and commands."""

    def median(key: str, field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in results[key]))

    full = median("full", "requests_per_second")
    print("| variant | req/s (median) | req/s (min-max) | p50 | p99 | ratio to full text |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, runs in results.items():
        rates = [r.requests_per_second for r in runs]
        rps = median(key, "requests_per_second")
        print(
            f"| {all_variants[key].name} | {rps:.1f} | {min(rates):.1f} to {max(rates):.1f} "
            f"| {median(key, 'p50_ms'):.1f} ms | {median(key, 'p99_ms'):.1f} ms "
            f"| {rps / full:.2f} |"
        )
    print()
    print(f"- nproc: {len(os.sched_getaffinity(0))}; CPU: {cpu_model()}")
    print(
        f"- data set `{DATABASE}` (scale {SCALE}): "
        + ", ".join(f"{n:,} {t}" for t, n in counts.items())
    )
    print(
        f"- viewer: user {viewer_id}, follows {followees} users; variables {json.dumps(VARIABLES)}"
    )
    for key, variant in all_variants.items():
        size = len(variant.body) if variant.body is not None else len(variant.path)
        unit = "body" if variant.body is not None else "path + query string"
        runs = results[key]
        print(
            f"- {variant.name}: {size} bytes of {unit}; "
            f"{sum(r.requests for r in runs):,} requests, "
            f"{sum(r.good_bodies for r in runs):,} HTTP 200 with data and no errors, "
            f"{sum(r.bad_bodies for r in runs)} other, {sum(r.non_2xx for r in runs)} non-2xx, "
            f"{sum(r.socket_errors for r in runs)} socket errors"
        )
    print(
        "- server: uvicorn, 1 worker, uvloop + httptools, rate limiting off; "
        f"wrk {args.threads} thread(s), "
        f"{args.connections} connections; {args.rounds} interleaved rounds of {args.duration} s "
        f"per variant, each after {args.warmup} s of warm-up; wrk, PostgreSQL and Redis share "
        "the same cores"
    )
    print(f"- command: {shlex.join(sys.orig_argv)}")
    for key, runs in results.items():
        print(f"- wrk ({key}): {runs[0].command}")


if __name__ == "__main__":
    sys.exit(main())
