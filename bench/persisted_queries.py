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
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis

from db.seed import BASE_COUNTS
from server.auth import issue_token

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
OPERATION = ROOT / "operations" / "HomeFeed.graphql"
SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "pinql_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
SCALE = 10
TABLES = ("users", "boards", "pins", "comments", "follows")
VARIABLES: dict[str, Any] = {"first": 20}
ACCEPT = "application/graphql-response+json, application/json;q=0.9"

# The user who follows the most users.
TOP_FOLLOWER = "select follower_id from follows group by 1 order by count(*) desc limit 1"
# How many users a user follows.
FOLLOWEE_COUNT = "select count(*) from follows where follower_id = $1"
# Whether a database of this name exists.
DATABASE_EXISTS = "select exists (select 1 from pg_database where datname = $1)"
# Whether the schema has been migrated (the users table exists).
HAS_USERS_TABLE = "select to_regclass('public.users') is not null"

# Per wrk thread: counts responses that are not HTTP 200 with `data` and no `errors`; done()
# prints the totals on a line the harness parses.
LUA_TEMPLATE = """\
wrk.method = {method}
wrk.path = {path}
wrk.headers["Authorization"] = {authorization}
wrk.headers["Accept"] = {accept}
{body}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads .. "-" .. math.random(1, 1000000000))
end

function init(args)
  good = 0
  bad = 0
end

function response(status, headers, body)
  if status == 200 and string.sub(body, 1, 9) == '{{"data":{{'
      and not string.find(body, '"errors"', 1, true) then
    good = good + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    b = b + t:get("bad")
  end
  io.write(string.format("BODIES good=%d bad=%d\\n", g, b))
end
"""


@dataclass(frozen=True, slots=True)
class Variant:
    """One way of sending the operation: an HTTP method, a path with query string, a body."""

    name: str
    method: str
    path: str
    body: bytes | None
    unique: bool = False
    """Each request's query text ends with a different comment, so it is never cached."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    good_bodies: int
    bad_bodies: int
    command: str

    @property
    def failures(self) -> list[str]:
        """Why this run cannot be trusted; empty when every response was a good 200."""
        problems = []
        if self.non_2xx:
            problems.append(f"{self.non_2xx} non-2xx/3xx responses")
        if self.socket_errors:
            problems.append(f"{self.socket_errors} socket errors (connect/read/write/timeout)")
        if self.bad_bodies:
            problems.append(f"{self.bad_bodies} responses without data or with errors")
        if self.good_bodies == 0:
            problems.append("no good response at all")
        return problems


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


def run_checked(command: list[str], env: dict[str, str] | None = None) -> str:
    """Runs a trusted command (argv, no shell); its stdout, or SystemExit with its output."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(
            f"{shlex.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


async def _table_counts(url: str) -> dict[str, int] | None:
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval(HAS_USERS_TABLE):
            return None
        return {t: int(await conn.fetchval(f"select count(*) from {t}")) for t in TABLES}
    finally:
        await conn.close()


async def _create_database_if_absent() -> bool:
    conn = await asyncpg.connect(f"{SERVER_URL}/postgres")
    try:
        if await conn.fetchval(DATABASE_EXISTS, DATABASE):
            return False
        await conn.execute(f'create database "{DATABASE}"')
        return True
    finally:
        await conn.close()


def ensure_dataset(database_url: str) -> dict[str, int]:
    """Creates and seeds `pinql_bench` at scale 10 unless it already holds that data set."""
    if asyncio.run(_create_database_if_absent()):
        print(f"created database {DATABASE}", flush=True)
    counts = asyncio.run(_table_counts(database_url))
    if counts is None or counts["users"] == 0:
        print(f"seeding {DATABASE} at scale {SCALE} (takes a minute or two) ...", flush=True)
        started = time.monotonic()
        env = {**os.environ, "DATABASE_URL": database_url}
        out = run_checked([str(VENV_BIN / "pinql"), "seed", "--scale", str(SCALE)], env)
        print(f"{out.strip()} (seed command: {time.monotonic() - started:.0f} s)", flush=True)
        counts = asyncio.run(_table_counts(database_url))
        assert counts is not None
    expected = {t: getattr(BASE_COUNTS, t) * SCALE for t in TABLES}
    if counts != expected:
        raise SystemExit(
            f"{DATABASE} holds {counts}, not the scale-{SCALE} data set {expected}: "
            f"drop it (dropdb -h 127.0.0.1 -U postgres {DATABASE}) and run again"
        )
    return counts


async def _viewer(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        user_id = int(await conn.fetchval(TOP_FOLLOWER))
        return user_id, int(await conn.fetchval(FOLLOWEE_COUNT, user_id))
    finally:
        await conn.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(database_url: str, secret: str, log_path: Path) -> Iterator[str]:
    """Runs uvicorn (one worker) on a free port until the block ends; yields its base URL."""
    port = free_port()
    command = [
        str(VENV_BIN / "python"), "-m", "uvicorn", "server.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "PINQL_SECRET": secret,
    }
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        print(f"server: pid {process.pid}: {shlex.join(command)}", flush=True)
        try:
            _wait_until_up(process, base, log_path)
            yield base
        finally:
            _stop(process)
    print(f"server: pid {process.pid} stopped (exit {process.returncode})", flush=True)


def _wait_until_up(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the server exited ({process.returncode}) before answering; its log:\n"
                + log_path.read_text(errors="replace")
            )
        try:
            answer = httpx.get(f"{base}/graphql", params={"query": "{__typename}"}, timeout=2)
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer within 60 s; its log:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


UNIQUE_MARK = "\n# request @@N@@"


def variants(query: str, sha256: str) -> dict[str, Variant]:
    """The ways the bench sends the operation, by name."""
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256}}
    full = {"query": query, "variables": VARIABLES}
    hashed = {"extensions": apq, "variables": VARIABLES}
    get_query = urllib.parse.urlencode(
        {
            "extensions": json.dumps(apq, separators=(",", ":")),
            "variables": json.dumps(VARIABLES, separators=(",", ":")),
        }
    )
    fresh = {"query": query + UNIQUE_MARK, "variables": VARIABLES}
    return {
        "full_fresh": Variant(
            "POST full text, never seen before", "POST", "/graphql", _json(fresh), unique=True
        ),
        "full": Variant("POST full query text", "POST", "/graphql", _json(full)),
        "apq_post": Variant("POST APQ hash only", "POST", "/graphql", _json(hashed)),
        "apq_get": Variant("GET APQ hash only", "GET", f"/graphql?{get_query}", None),
    }


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def send(client: httpx.Client, base: str, variant: Variant, token: str) -> httpx.Response:
    """One request of `variant`, as wrk sends it."""
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
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


def check_requests(base: str, token: str, all_variants: dict[str, Variant], query: str) -> int:
    """One request of each kind answers as it should; returns the feed's page size."""
    registration = Variant(
        "POST APQ query + hash",
        "POST",
        "/graphql",
        _json({"query": query, **json.loads(all_variants["apq_post"].body or b"{}")}),
    )
    with httpx.Client(timeout=30) as client:
        _not_found(send(client, base, all_variants["apq_post"], token), "hash-only POST first")
        _not_found(send(client, base, all_variants["apq_get"], token), "hash-only GET first")
        full = _data(send(client, base, all_variants["full"], token), "full text")
        registered = _data(send(client, base, registration, token), "APQ registration")
        post = _data(send(client, base, all_variants["apq_post"], token), "hash-only POST")
        get = _data(send(client, base, all_variants["apq_get"], token), "hash-only GET")
    for name, body in (("registration", registered), ("hash-only POST", post), ("GET", get)):
        if body != full:
            raise SystemExit(f"{name} answered differently from the full text: {body}")
    edges: list[object] = full["data"]["homeFeed"]["edges"]
    if not edges:
        raise SystemExit("the viewer's home feed is empty: the bench would measure nothing")
    return len(edges)


def _lua_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def write_script(directory: Path, key: str, variant: Variant, token: str) -> Path:
    """The wrk Lua script sending `variant`."""
    body = ""
    if variant.body is not None and variant.unique:
        before, after = variant.body.decode().split("@@N@@")
        body = (
            f'wrk.headers["Content-Type"] = "application/json"\n'
            "local sent = 0\n"
            "function request()\n"
            "  sent = sent + 1\n"
            f"  return wrk.format(nil, nil, nil, {_lua_string(before)} .. id .. '-' .. sent"
            f" .. {_lua_string(after)})\n"
            "end\n"
        )
    elif variant.body is not None:
        body = (
            f'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {_lua_string(variant.body.decode())}\n"
        )
    script = LUA_TEMPLATE.format(
        method=_lua_string(variant.method),
        path=_lua_string(variant.path),
        authorization=_lua_string(f"Bearer {token}"),
        accept=_lua_string(ACCEPT),
        body=body,
    )
    path = directory / f"{key}.lua"
    path.write_text(script)
    return path


_DURATION_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _DURATION_UNITS[match[2]]


def _search(pattern: str, output: str) -> re.Match[str]:
    match = re.search(pattern, output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"cannot find {pattern!r} in wrk's output:\n{output}")
    return match


def run_wrk(wrk: str, script: Path, base: str, seconds: int, args: argparse.Namespace) -> WrkResult:
    """Runs wrk once with `script` and parses what it printed."""
    command = [
        wrk, "--threads", str(args.threads), "--connections", str(args.connections),
        "--duration", f"{seconds}s", "--timeout", "10s", "--latency", "--script", str(script),
        f"{base}/graphql",
    ]  # fmt: skip
    output = run_checked(command)
    socket_errors = 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        socket_errors = sum(int(n) for n in errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    bodies = _search(r"^BODIES good=(\d+) bad=(\d+)$", output)
    return WrkResult(
        requests_per_second=float(_search(r"^Requests/sec:\s+([\d.]+)", output)[1]),
        p50_ms=_ms(_search(r"^\s+50%\s+(\S+)", output)[1]),
        p99_ms=_ms(_search(r"^\s+99%\s+(\S+)", output)[1]),
        requests=int(_search(r"^\s+(\d+) requests in", output)[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=socket_errors,
        good_bodies=int(bodies[1]),
        bad_bodies=int(bodies[2]),
        command=shlex.join(command),
    )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def main() -> int:
    """Runs the whole bench; 1 when any measured response was not a good 200."""
    started = time.monotonic()
    args = parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    database_url = f"{SERVER_URL}/{DATABASE}"
    counts = ensure_dataset(database_url)
    viewer_id, followees = asyncio.run(_viewer(database_url))
    redis.Redis.from_url(REDIS_URL).flushdb()
    secret = secrets.token_hex(20)
    token = issue_token(viewer_id, secret, 3600)
    query = OPERATION.read_text(encoding="utf-8")
    sha256 = hashlib.sha256(query.encode()).hexdigest()
    all_variants = variants(query, sha256)
    results: dict[str, list[WrkResult]] = {key: [] for key in all_variants}
    with tempfile.TemporaryDirectory(prefix="pinql-bench-") as tmp:
        directory = Path(tmp)
        with serving(database_url, secret, directory / "server.log") as base:
            page = check_requests(base, token, all_variants, query)
            print(f"checks passed: viewer {viewer_id} follows {followees}; page of {page} pins")
            keys = list(all_variants)
            scripts = {k: write_script(directory, k, all_variants[k], token) for k in keys}
            for round_ in range(args.rounds):
                # Rotate the order so no variant always runs first (or right after another).
                for key in keys[round_ % len(keys) :] + keys[: round_ % len(keys)]:
                    name = all_variants[key].name
                    if args.warmup > 0:
                        warm = run_wrk(wrk, scripts[key], base, args.warmup, args)
                        print(f"warm-up {name}: {warm.requests_per_second:.0f} req/s")
                    result = run_wrk(wrk, scripts[key], base, args.duration, args)
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
        f"- server: uvicorn, 1 worker, uvloop + httptools; wrk {args.threads} thread(s), "
        f"{args.connections} connections; {args.rounds} interleaved rounds of {args.duration} s "
        f"per variant, each after {args.warmup} s of warm-up; wrk, PostgreSQL and Redis share "
        "the same cores"
    )
    print(f"- command: {shlex.join(sys.orig_argv)}")
    for key, runs in results.items():
        print(f"- wrk ({key}): {runs[0].command}")


if __name__ == "__main__":
    sys.exit(main())
