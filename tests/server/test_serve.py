"""`pinql serve` as a user runs it: embedded PostgreSQL, demo data, token, GraphiQL, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import asyncpg
import httpx
import psutil
import pytest

from server.cli.run import CONNECTION_SLOTS
from tests import world
from tests.support import SECRET

STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Start(Protocol):
    def __call__(self, **env: str) -> Served: ...


class Served:
    """A running `pinql serve` subprocess and what it printed."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.output: list[str] = []

    def wait_for(self, pattern: str) -> re.Match[str]:
        """Reads output lines until one matches `pattern`."""
        deadline = time.monotonic() + STARTUP_SECONDS
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            self.output.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"never printed {pattern!r}:\n{''.join(self.output)}")

    def post(self, query: str, token: str | None = None) -> httpx.Response:
        """POSTs a query once the server answers."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        deadline = time.monotonic() + 30
        while True:
            try:
                return httpx.post(
                    f"http://127.0.0.1:{self.port}/graphql",
                    json={"query": query},
                    headers=headers,
                    timeout=10,
                )
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Start]:
    started: list[subprocess.Popen[str]] = []

    def start(**env: str) -> Served:
        port = _free_port()
        environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        environ.update(PINQL_SECRET=SECRET, PINQL_DATA_DIR=str(tmp_path / "data"), **env)
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return Served(process, port)

    yield start
    for process in started:  # never leave a server behind, even when a test failed
        if process.poll() is None:
            process.kill()
            process.wait()


def _stop(served: Served) -> None:
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=30) == 0


def test_serve_starts_embedded_postgres_seeds_and_stops_everything_on_ctrl_c(
    serve: Start, tmp_path: Path
) -> None:
    served = serve(PINQL_DEMO_SCALE="0.005")
    served.wait_for(r"loaded SeedCounts")
    url = served.wait_for(r"pinql is serving (\S+)")
    assert url.group(1) == f"http://127.0.0.1:{served.port}/graphql"
    token = served.wait_for(r"dev token \((\S+)\): (\S+)")
    username, bearer = token.group(1), token.group(2)
    served.wait_for(r"and try: ")

    response = served.post("{ viewer { username } pins(first: 2) { totalCount } }", bearer)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["viewer"]["username"] == username
    assert data["pins"]["totalCount"] > 0
    page = httpx.get(
        f"http://127.0.0.1:{served.port}/graphql", headers={"Accept": "text/html"}, timeout=10
    )
    assert page.status_code == 200
    assert "pinql GraphiQL" in page.text

    pid_file = tmp_path / "data" / "postgres" / "postmaster.pid"
    postgres_pid = int(pid_file.read_text().splitlines()[0])
    assert psutil.pid_exists(postgres_pid)
    _stop(served)
    deadline = time.monotonic() + 15
    while psutil.pid_exists(postgres_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not psutil.pid_exists(postgres_pid), "embedded PostgreSQL outlived pinql serve"


def test_serve_uses_database_url_without_seeding(serve: Start, world_database: str) -> None:
    served = serve(DATABASE_URL=world_database)
    served.wait_for(r"pinql is serving")
    token = served.wait_for(r"dev token \((\S+)\): (\S+)")
    response = served.post(
        "{ viewer { username } pins(first: 100) { totalCount } }", token.group(2)
    )
    data = response.json()["data"]
    assert data["viewer"]["username"] == token.group(1)
    viewer = {name: id for id, name in world.USERNAMES.items()}[token.group(1)]
    assert data["pins"]["totalCount"] == len(world.visible_pins(viewer))  # nothing was seeded
    assert not any("SeedCounts" in line for line in served.output)
    _stop(served)


@pytest.mark.parametrize("over", [True, False])
async def test_serve_warns_when_its_connections_could_pass_postgresql_s(
    serve: Start, world_database: str, over: bool
) -> None:
    """Each worker may open PINQL_DB_POOL_MAX pool connections and one for /readyz."""
    conn = await asyncpg.connect(world_database)
    try:
        slots = await conn.fetchval(CONNECTION_SLOTS)
    finally:
        await conn.close()
    pool_max = slots if over else slots - 1  # one worker: pool_max + 1 connections
    served = serve(DATABASE_URL=world_database, PINQL_DB_POOL_MAX=str(pool_max))
    served.wait_for(r"pinql is serving")
    warned = f"the pools may open {pool_max + 1} connections" in "".join(served.output)
    assert warned is over, "".join(served.output)
    assert served.post("{ __typename }").status_code == 200
    _stop(served)
