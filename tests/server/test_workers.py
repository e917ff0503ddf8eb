"""`pinql serve --workers N`: N processes on one socket, each with a pool of its own, and a
graceful shutdown (SIGTERM or Ctrl-C) that finishes in-flight requests, refuses new
connections, closes the pools and exits 0."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import httpx
import psutil
import pytest
import redis
from typer.testing import CliRunner

from resolvers.ids import encode_global_id
from server.cli import app
from tests import world
from tests.conftest import MakeDatabase, new_database
from tests.support import SECRET
from tests.throwaway import ThrowawayRedis, free_port

STARTUP_SECONDS = 120
PINS = "{ pins(first: 1) { nodes { id } } }"
NEWEST_PIN = encode_global_id("Pin", world.newest_first(world.visible_pins(None))[0])
# Backends of a database waiting for a lock.
LOCK_WAITS = "select count(*) from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'"
# The app's connections to a database, not counting the asking one (nor `$2`).
APP_BACKENDS = (
    "select count(*) from pg_stat_activity where datname = $1 "
    "and pid <> pg_backend_pid() and pid <> $2"
)


class Served:
    """A running `pinql serve` and everything it printed (read by a thread as it comes)."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    @property
    def output(self) -> str:
        """What it printed so far."""
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, pattern: str, count: int = 1) -> list[re.Match[str]]:
        """Waits until `count` printed lines match `pattern`; their matches."""
        deadline = time.monotonic() + STARTUP_SECONDS
        with self._changed:
            while True:
                found = [m for line in self.lines if (m := re.search(pattern, line))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._changed.wait(1)):
                    raise AssertionError(f"never printed {pattern!r} x{count}:\n{self.output}")
                self._changed.wait(left)

    def workers(self) -> list[psutil.Process]:
        """The worker processes: uvicorn's spawned children, or this process with one."""
        parent = psutil.Process(self.process.pid)
        spawned = [
            child
            for child in parent.children()
            if any("spawn_main" in part for part in child.cmdline())
        ]
        return spawned or [parent]

    def ready(self, workers: int) -> list[psutil.Process]:
        """Waits until every worker has started its app; the worker processes."""
        self.wait_for(r"Application startup complete", count=workers)
        found = self.workers()
        assert len(found) == workers, self.output
        return found


class Start(Protocol):
    def __call__(self, *arguments: str, **env: str) -> Served: ...


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Starts `pinql serve --port <free port> ARGUMENTS` with `env`; kills what is left."""
    started: list[Served] = []

    def run(*arguments: str, **env: str) -> Served:
        port = free_port()
        environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        environ.update(PINQL_SECRET=SECRET, PINQL_DATA_DIR=str(tmp_path / "data"), **env)
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port), *arguments],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        served = Served(process, port)
        started.append(served)
        return served

    yield run
    for served in started:  # never leave a server or a worker behind, even when a test failed
        if served.process.poll() is None:
            for worker in served.workers():
                if worker.pid != served.process.pid:
                    worker.kill()
            served.process.kill()
            served.process.wait()


def refused(port: int) -> bool:
    """Whether a new connection to `port` is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def post_on_new_connection(
    served: Served, workers: list[psutil.Process], token: str | None = None
) -> tuple[dict[str, Any], int]:
    """POSTs `PINS` on a new connection; the response body and the PID of the worker that
    holds the connection's server end."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        connection.connect()
        assert connection.sock is not None
        client_port = connection.sock.getsockname()[1]
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        query = PINS if token is None else "{ viewer { username } " + PINS[1:]
        connection.request("POST", "/graphql", json.dumps({"query": query}), headers)
        response = connection.getresponse()
        body: dict[str, Any] = json.loads(response.read())
        assert response.status == 200, body
        owners = [  # the connection is kept alive: its server end is still open
            worker.pid
            for worker in workers
            for held in worker.net_connections(kind="tcp")
            if held.laddr.port == served.port and held.raddr and held.raddr.port == client_port
        ]
        assert len(owners) == 1, owners
        return body, owners[0]
    finally:
        connection.close()


def served_by_each(
    served: Served, workers: list[psutil.Process], token: str | None = None
) -> list[dict[str, Any]]:
    """One request answered by each worker in turn (the others paused meanwhile, so only that
    one can accept it); their bodies."""
    bodies = []
    for worker in workers:
        others = [other for other in workers if other.pid != worker.pid]
        for other in others:
            other.suspend()
        try:
            body, owner = post_on_new_connection(served, workers, token)
        finally:
            for other in others:
                other.resume()
        assert owner == worker.pid
        bodies.append(body)
    return bodies


def gone(processes: list[psutil.Process], timeout: float = 10) -> bool:
    """Whether every process has exited (and been reaped) within `timeout`."""
    deadline = time.monotonic() + timeout
    while any(psutil.pid_exists(process.pid) for process in processes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def blocked(
    in_flight: asyncio.Task[httpx.Response], monitor: asyncpg.Connection, database: str
) -> None:
    """Waits until the request's statement waits for a lock in `database` (`monitor` is a
    connection outside any transaction: pg_stat_activity is read once per transaction)."""
    while not await monitor.fetchval(LOCK_WAITS, database):
        assert not in_flight.done(), in_flight.result().text
        await asyncio.sleep(0.02)


async def eventually(read: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    """Whether `read()` gives `expected` within 5 s."""
    deadline = time.monotonic() + 5
    while await read() != expected:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--workers", "0"], "--workers must be 1..64, got 0"),
        (["--workers", "65"], "--workers must be 1..64, got 65"),
        (["--graceful-timeout", "-1"], "--graceful-timeout must be 0..3600 seconds, got -1"),
    ],
)
def test_serve_refuses_worker_counts_and_timeouts_out_of_range(
    arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["serve", *arguments])
    assert result.exit_code == 2
    assert message in result.output


async def test_each_worker_serves_requests_with_a_pool_of_its_own(
    start: Start, make_database: MakeDatabase
) -> None:
    url = await new_database(make_database, with_world=True)
    served = start("--workers", "2", DATABASE_URL=url, PINQL_DB_POOL_MIN="2", PINQL_DB_POOL_MAX="2")
    served.wait_for(r"2 worker processes, each with a pool of up to 2 PostgreSQL connections")
    workers = await asyncio.to_thread(served.ready, 2)

    bodies = served_by_each(served, workers)
    assert [len(body["data"]["pins"]["nodes"]) for body in bodies] == [1, 1]
    # Each worker opened its own pool (PINQL_DB_POOL_MAX is per worker), and the one
    # connection of its own (db/health.py: readiness, the registered clients): 2 x (2 + 1).
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval(APP_BACKENDS, url.rsplit("/", 1)[1], 0) == 6
    finally:
        await conn.close()
    # Settings reach every worker through the environment; so does a fresh metrics directory.
    environments = [worker.environ() for worker in workers]
    assert {env["DATABASE_URL"] for env in environments} == {url}
    metrics = {env["PROMETHEUS_MULTIPROC_DIR"] for env in environments}
    assert len(metrics) == 1
    (metrics_dir,) = metrics
    assert await asyncio.to_thread(Path(metrics_dir).is_dir)

    served.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(served.process.wait, 60) == 0
    assert not await asyncio.to_thread(Path(metrics_dir).exists), "metrics dir outlived serve"


@pytest.mark.parametrize("workers", [2, 1])
async def test_sigterm_finishes_in_flight_requests_closes_pools_and_exits_0(
    start: Start, make_database: MakeDatabase, throwaway_redis: ThrowawayRedis, workers: int
) -> None:
    url = await new_database(make_database, with_world=True)
    database = url.rsplit("/", 1)[1]
    # The lock below holds a request in flight: no lock_timeout may end its wait.
    served = start(
        "--workers",
        str(workers),
        DATABASE_URL=url,
        REDIS_URL=throwaway_redis.url,
        PINQL_LOCK_TIMEOUT_MS="0",
    )
    processes = await asyncio.to_thread(served.ready, workers)

    monitor = await asyncpg.connect(url)
    locker = await asyncpg.connect(url)
    locked = locker.transaction()
    await locked.start()
    await locker.execute("lock table pins in access exclusive mode")
    locker_pid = locker.get_server_pid()
    async with httpx.AsyncClient(timeout=30) as client:
        in_flight = asyncio.create_task(
            client.post(f"http://127.0.0.1:{served.port}/graphql", json={"query": PINS})
        )
        await blocked(in_flight, monitor, database)
        served.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # Draining: new connections are refused while the request is still running.
        while not refused(served.port):
            assert time.monotonic() - signalled < 5, "still accepting connections"
            await asyncio.sleep(0.02)
        assert not in_flight.done()
        await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - signalled)))
        assert not in_flight.done()
        assert served.process.poll() is None
        await locked.rollback()
        response = await in_flight

    assert response.status_code == 200, response.text
    assert response.json()["data"]["pins"]["nodes"] == [{"id": NEWEST_PIN}]
    assert await asyncio.to_thread(served.process.wait, 60) == 0
    assert gone(processes), "a worker outlived pinql serve"
    assert refused(served.port)
    # Backends and Redis clients end as the workers' goodbyes arrive: give them a moment.
    try:
        assert await eventually(lambda: monitor.fetchval(APP_BACKENDS, database, locker_pid), 0), (
            "the app left PostgreSQL connections open"
        )
    finally:
        await monitor.close()
        await locker.close()
    with redis.Redis.from_url(throwaway_redis.url) as own:

        async def redis_clients() -> int:
            return len(own.client_list())

        assert await eventually(redis_clients, 1), "the app left Redis connections open"
    output = served.output
    # Each worker ran its lifespan's shutdown (pool, Redis clients) after the drain, in time.
    assert output.count("Application shutdown complete.") == workers, output
    for process in processes:
        assert f"Finished server process [{process.pid}]" in output
    assert "timeout graceful shutdown exceeded" not in output
    assert "Traceback" not in output


async def test_graceful_timeout_bounds_the_drain(start: Start, make_database: MakeDatabase) -> None:
    url = await new_database(make_database, with_world=True)
    database = url.rsplit("/", 1)[1]
    # The lock below holds a request in flight for good: no lock_timeout may end its wait.
    served = start(
        "--workers", "2", "--graceful-timeout", "1", DATABASE_URL=url, PINQL_LOCK_TIMEOUT_MS="0"
    )
    processes = await asyncio.to_thread(served.ready, 2)

    monitor = await asyncpg.connect(url)
    locker = await asyncpg.connect(url)
    try:
        async with locker.transaction():
            await locker.execute("lock table pins in access exclusive mode")
            async with httpx.AsyncClient(timeout=30) as client:
                in_flight = asyncio.create_task(
                    client.post(f"http://127.0.0.1:{served.port}/graphql", json={"query": PINS})
                )
                await blocked(in_flight, monitor, database)
                signalled = time.monotonic()
                served.process.send_signal(signal.SIGTERM)
                # The lock is held for good: 1 s after its worker got SIGTERM, uvicorn cancels
                # the request and answers a bare 500 (hence the warning at startup).
                response = await in_flight
                answered = time.monotonic() - signalled
                assert (response.status_code, response.text) == (500, "Internal Server Error")
                assert 1 <= answered < 10
                assert await asyncio.to_thread(served.process.wait, 60) == 0
        assert gone(processes)
        assert await eventually(
            lambda: monitor.fetchval(APP_BACKENDS, database, locker.get_server_pid()), 0
        )
    finally:
        await monitor.close()
        await locker.close()
    output = served.output
    assert "--graceful-timeout (1 s) is shorter than PINQL_REQUEST_TIMEOUT_SECONDS (10 s)" in output
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in output
    assert output.count("Application shutdown complete.") == 2, output


def test_embedded_postgres_started_once_for_all_workers_and_ctrl_c(
    start: Start, tmp_path: Path
) -> None:
    served = start("--workers", "2", PINQL_DEMO_SCALE="0.005")
    token = served.wait_for(r"dev token \((\S+)\): (\S+)")[0]
    workers = served.ready(2)
    urls = {worker.environ()["DATABASE_URL"] for worker in workers}
    assert len(urls) == 1  # the embedded server the parent started
    bodies = served_by_each(served, workers, token.group(2))
    assert {body["data"]["viewer"]["username"] for body in bodies} == {token.group(1)}

    pid_file = tmp_path / "data" / "postgres" / "postmaster.pid"
    postgres = psutil.Process(int(pid_file.read_text().splitlines()[0]))
    # Ctrl-C in a terminal signals the whole foreground group: the parent and every worker.
    for process in [psutil.Process(served.process.pid), *workers]:
        process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=60) == 0
    assert gone(workers)
    assert gone([postgres], timeout=15), "embedded PostgreSQL outlived pinql serve"
    assert served.output.count("Application shutdown complete.") == 2, served.output
