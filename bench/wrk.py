"""Driving a server with wrk: a Lua script per request kind, one run, its numbers parsed.

The script counts, per wrk thread, the responses that are not HTTP 200 with a body
starting `{"data":{` and holding no `"errors"`, and prints them with the latency
percentiles (p50/p95/p99 from wrk's histogram, in microseconds) on lines parsed here.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import run_checked

TIMEOUT_SECONDS = 30
"""wrk's wait for a response, past the server's own deadlines (a free pool connection within
5 s, the operation within 10 s): a slow operation's late answer (its 503 or 504) is counted
as what it is, not as a socket timeout."""
UNIQUE_MARK = "@@N@@"
"""In a `unique` request's body: replaced by a different string in each request."""

LUA_TEMPLATE = """\
wrk.method = {method}
wrk.path = {path}
{headers}
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
  io.write(string.format("LATENCY_US p50=%d p95=%d p99=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass(frozen=True, slots=True)
class WrkRequest:
    """What wrk sends, over and over: method, path with query string, headers, body."""

    name: str
    method: str
    path: str
    body: bytes | None
    headers: Mapping[str, str] = field(default_factory=dict)
    unique: bool = False
    """The body holds UNIQUE_MARK, replaced in each request (a text never seen before)."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    good_bodies: int
    bad_bodies: int
    command: str

    @property
    def errors(self) -> int:
        """Responses that were not a good 200 with data, plus socket errors."""
        return self.bad_bodies + self.socket_errors

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


def find_wrk() -> str:
    """wrk's path, or SystemExit saying how to install it."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return wrk


def lua_string(text: str) -> str:
    """`text` as a Lua long-bracket string literal."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def write_script(path: Path, request: WrkRequest) -> Path:
    """Writes the wrk Lua script sending `request` to `path`."""
    headers = dict(request.headers)
    body = ""
    if request.body is not None:
        headers.setdefault("Content-Type", "application/json")
        text = request.body.decode()
        if request.unique:
            before, after = text.split(UNIQUE_MARK)
            body = (
                "local sent = 0\n"
                "function request()\n"
                "  sent = sent + 1\n"
                f"  return wrk.format(nil, nil, nil, {lua_string(before)} .. id .. '-' .. sent"
                f" .. {lua_string(after)})\n"
                "end\n"
            )
        else:
            body = f"wrk.body = {lua_string(text)}\n"
    path.write_text(
        LUA_TEMPLATE.format(
            method=lua_string(request.method),
            path=lua_string(request.path),
            headers="\n".join(
                f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items()
            ),
            body=body,
        )
    )
    return path


def wrk_command(
    wrk: str, script: Path, base: str, seconds: float, connections: int, threads: int
) -> list[str]:
    """The wrk command line of one run."""
    return [
        wrk, "--threads", str(threads), "--connections", str(connections),
        "--duration", f"{seconds:g}s", "--timeout", f"{TIMEOUT_SECONDS:g}s", "--latency",
        "--script", str(script),
        base,
    ]  # fmt: skip


def run_wrk(
    wrk: str, script: Path, base: str, seconds: float, connections: int, threads: int = 1
) -> WrkResult:
    """Runs wrk once with `script` against `base` and parses what it printed."""
    command = wrk_command(wrk, script, base, seconds, connections, threads)
    return parse_output(run_checked(command), shlex.join(command))


def start_wrk(
    wrk: str, script: Path, base: str, seconds: float, connections: int, threads: int = 1
) -> tuple[subprocess.Popen[str], str]:
    """Starts wrk in the background (parse its stdout with `parse_output` when it ends)."""
    command = wrk_command(wrk, script, base, seconds, connections, threads)
    process = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, shlex.join(command)


def combined(results: list[WrkResult]) -> WrkResult:
    """Several runs of one request as one: counts and time add up; the latency percentiles
    are the means of the runs that had responses (wrk reports no histogram to merge; one
    without any reports 0)."""
    first = results[0]
    if len(results) == 1:
        return first
    requests = sum(r.requests for r in results)
    seconds = sum(r.seconds for r in results)
    timed = [r for r in results if r.requests] or results
    return WrkResult(
        requests_per_second=requests / seconds if seconds else 0.0,
        p50_ms=sum(r.p50_ms for r in timed) / len(timed),
        p95_ms=sum(r.p95_ms for r in timed) / len(timed),
        p99_ms=sum(r.p99_ms for r in timed) / len(timed),
        requests=requests,
        seconds=seconds,
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        good_bodies=sum(r.good_bodies for r in results),
        bad_bodies=sum(r.bad_bodies for r in results),
        command=first.command,
    )


_DURATION_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _search(pattern: str, output: str) -> re.Match[str]:
    match = re.search(pattern, output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"cannot find {pattern!r} in wrk's output:\n{output}")
    return match


def parse_output(output: str, command: str) -> WrkResult:
    """The numbers in wrk's output (with the script's BODIES and LATENCY_US lines)."""
    socket_errors = 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        socket_errors = sum(int(n) for n in errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    bodies = _search(r"^BODIES good=(\d+) bad=(\d+)$", output)
    latency = _search(r"^LATENCY_US p50=(\d+) p95=(\d+) p99=(\d+)$", output)
    done = _search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output)
    return WrkResult(
        requests_per_second=float(_search(r"^Requests/sec:\s+([\d.]+)", output)[1]),
        p50_ms=int(latency[1]) / 1000,
        p95_ms=int(latency[2]) / 1000,
        p99_ms=int(latency[3]) / 1000,
        requests=int(done[1]),
        seconds=float(done[2]) * _DURATION_UNITS[done[3]] / 1000,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=socket_errors,
        good_bodies=int(bodies[1]),
        bad_bodies=int(bodies[2]),
        command=command,
    )
