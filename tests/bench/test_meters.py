"""A run ends once its server has answered what wrk left in flight (bench/meters.py
`Meter.settle`): while a backend of the database is busy, or the workers keep answering."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from bench.counters import WorkerCounters
from bench.meters import Meter


@pytest.fixture
def meter(migrated_database: str, tmp_path: Path) -> Iterator[Meter]:
    """A meter of the workers counting in `tmp_path`, on the migrated database."""
    with asyncio.Runner() as runner:
        conn: asyncpg.Connection = runner.run(asyncpg.connect(migrated_database))
        try:
            yield Meter(tmp_path, migrated_database.rsplit("/", 1)[1], runner, conn)
        finally:
            runner.run(conn.close())


def _in_thread(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_an_idle_server_settles_at_once(meter: Meter) -> None:
    assert meter.settle() < 0.5


def _sleep_on(database_url: str, seconds: float) -> Callable[[], None]:
    """A statement that keeps a backend of the database busy for `seconds`."""

    async def sleep() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f"select pg_sleep({seconds})")
        finally:
            await conn.close()

    return lambda: asyncio.run(sleep())


def _busy(meter: Meter) -> int:
    """Busy backends of the meter's database, whoever they serve."""
    every = "select count(*) from pg_stat_activity where datname = $1 and state = 'active'"
    return int(meter.runner.run(meter.conn.fetchval(every, meter.database)))


def test_settling_waits_for_a_workers_busy_backend(meter: Meter, migrated_database: str) -> None:
    WorkerCounters(meter.counters_dir)  # this process is the worker: its connections count
    started = time.monotonic()
    thread = _in_thread(_sleep_on(migrated_database, 0.8))
    while not _busy(meter):
        assert time.monotonic() - started < 5, "the sleeping statement never started"
        time.sleep(0.01)

    assert meter.backends()  # the sleeping one
    waited = meter.settle()
    thread.join()

    assert time.monotonic() - started >= 0.8
    assert waited >= 0.4


def test_another_clients_busy_backend_is_not_the_servers(
    meter: Meter, migrated_database: str
) -> None:
    """Another server, or another engineer's benchmark on the same database, is not
    metered and does not hold a run (its connections are not the workers')."""
    script = (
        "import asyncio, sys, asyncpg\n"
        "async def main():\n"
        "    conn = await asyncpg.connect(sys.argv[1])\n"
        "    await conn.execute('select pg_sleep(2)')\n"
        "asyncio.run(main())\n"
    )
    WorkerCounters(meter.counters_dir)
    other = subprocess.Popen([sys.executable, "-c", script, migrated_database])  # noqa: S603
    try:
        started = time.monotonic()
        while not _busy(meter):
            assert time.monotonic() - started < 5, "the sleeping statement never started"
            time.sleep(0.01)

        assert meter.backends() == set()
        assert meter.settle() < 0.5
    finally:
        other.kill()
        other.wait()


def test_settling_waits_while_the_workers_answer(meter: Meter) -> None:
    counters = WorkerCounters(meter.counters_dir)

    def answer() -> None:  # a worker answering one request every 20 ms for 0.6 s
        for _ in range(30):
            counters.count_request()
            time.sleep(0.02)

    thread = _in_thread(answer)
    waited = meter.settle()
    thread.join()

    assert waited >= 0.5
    assert meter.snapshot().counts[next(iter(meter.workers()))].requests == 30


def test_settling_gives_up_with_a_warning(meter: Meter, capsys: pytest.CaptureFixture[str]) -> None:
    counters = WorkerCounters(meter.counters_dir)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            counters.count_request()
            time.sleep(0.01)

    thread = _in_thread(answer)
    try:
        assert meter.settle(timeout=0.3) < 1
    finally:
        stop.set()
        thread.join()
    assert "still busy 0.3 s after the run" in capsys.readouterr().out
