"""What a run cost: requests and statements (the workers' counters), CPU time of the server
workers, of the PostgreSQL backends serving them, of the harness and wrk, and of everything
else on the machine; RSS per worker; the load average.

CPU time is utime+stime from /proc/<pid>/stat (psutil) sampled before and after a run. The
backends are those pg_stat_activity lists for the database serving the workers' TCP
connections (matched by client port); one that appeared during the run counts from zero.

Each served app (this commit's, a baseline's) has a Meter of its own: its workers keep
their counters in their own directory, which also names their pids. A run ends once its
server has answered what the load generator left in flight (`Meter.settle`).
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from bench.counters import Counts, read_counters, total

# The PostgreSQL backends serving a database to the given client ports (the workers'),
# other than the one asking.
BACKENDS = """
    select pid from pg_stat_activity
    where datname = $1 and backend_type = 'client backend' and client_port = any($2::int[])
        and pid <> pg_backend_pid()
"""
# How many of them are running a statement (or are inside a transaction).
BUSY_BACKENDS = """
    select count(*) from pg_stat_activity
    where datname = $1 and backend_type = 'client backend' and client_port = any($2::int[])
        and pid <> pg_backend_pid() and state <> 'idle'
"""
# The TCP port PostgreSQL listens on (the workers' connections go to it).
SERVER_PORT = "select inet_server_port()"
SETTLE_POLL_SECONDS = 0.05
SETTLE_SECONDS = 60.0
"""Longest wait for a server to finish what a run left behind (past it: a warning)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Cumulative counters and CPU times at one moment."""

    at: float
    counts: dict[int, Counts]
    server_cpu: dict[int, float]
    postgres_cpu: dict[int, float]
    harness_cpu: float
    machine_busy: float


@dataclass(frozen=True, slots=True)
class Usage:
    """What happened between two snapshots."""

    seconds: float
    counts: Counts
    server_cpu: float
    postgres_cpu: float
    harness_cpu: float
    """This process and the children it reaped meanwhile (wrk)."""
    other_cpu: float
    """Every other CPU second of the machine: other processes, PostgreSQL's background
    processes, interrupts."""
    rss: dict[int, int]
    """Per worker pid, at the end."""
    load: float
    """The 1-minute load average at the end."""

    def __add__(self, later: Usage) -> Usage:
        """This usage and a later one's, as one (RSS and load: the later one's)."""
        return Usage(
            seconds=self.seconds + later.seconds,
            counts=self.counts + later.counts,
            server_cpu=self.server_cpu + later.server_cpu,
            postgres_cpu=self.postgres_cpu + later.postgres_cpu,
            harness_cpu=self.harness_cpu + later.harness_cpu,
            other_cpu=self.other_cpu + later.other_cpu,
            rss=later.rss,
            load=later.load,
        )

    def per_request_ms(self, cpu_seconds: float) -> float:
        """CPU milliseconds per request counted by the workers."""
        return 1000 * cpu_seconds / self.counts.requests if self.counts.requests else 0.0

    @property
    def statements_per_request(self) -> float:
        """SQL statements sent per request."""
        return self.counts.statements / self.counts.requests if self.counts.requests else 0.0


def _cpu(pids: set[int]) -> dict[int, float]:
    seconds = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[pid] = times.user + times.system
    return seconds


def _machine_busy() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq + t.steal)


def busy_cores(seconds: float) -> float:
    """How many cores the whole machine kept busy over the next `seconds`."""
    before = _machine_busy()
    time.sleep(seconds)
    return (_machine_busy() - before) / seconds


def _harness_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _ports(pids: set[int], server_port: int) -> list[int]:
    """The client ports of the TCP connections `pids` hold to `server_port`."""
    ports = []
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        ports += [c.laddr.port for c in connections if c.raddr and c.raddr.port == server_port]
    return ports


def _delta(after: dict[int, float], before: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class Meter:
    """Takes snapshots of the workers that keep counters in `counters_dir` and of the
    PostgreSQL backends serving them `database` (asked over `conn`, run by `runner`): the
    backends whose client ports are those of the workers' TCP connections to PostgreSQL,
    so another server, or another engineer's benchmark on the same database, is left out.
    """

    def __init__(
        self,
        counters_dir: Path,
        database: str,
        runner: asyncio.Runner,
        conn: asyncpg.Connection,
    ) -> None:
        self.counters_dir = counters_dir
        self.database = database
        self.runner = runner
        self.conn = conn
        self._server_port: int | None = None

    def workers(self) -> set[int]:
        """The pids of the server workers (each keeps a counter file)."""
        return set(read_counters(self.counters_dir))

    def ports(self) -> list[int]:
        """The client ports of the workers' connections to PostgreSQL."""
        if self._server_port is None:
            self._server_port = int(self.runner.run(self.conn.fetchval(SERVER_PORT)))
        return _ports(self.workers(), self._server_port)

    def backends(self) -> set[int]:
        """The pids of the PostgreSQL backends serving the workers the database."""
        rows = self.runner.run(self.conn.fetch(BACKENDS, self.database, self.ports()))
        return {int(r["pid"]) for r in rows}

    def settle(self, timeout: float = SETTLE_SECONDS) -> float:
        """Waits until the workers have answered what a run left in flight: wrk stops at
        its deadline without waiting for its last responses, and a server answers them
        anyway (a slow operation's for seconds), which would load the next run. Settled:
        none of the workers' backends busy, and no request answered, over two polls in a
        row. The seconds it took (a warning past `timeout`)."""
        started = time.monotonic()
        answered = total(read_counters(self.counters_dir)).requests
        quiet = 0
        while quiet < 2:
            if time.monotonic() - started > timeout:
                print(f"WARNING: the server was still busy {timeout:g} s after the run")
                break
            time.sleep(SETTLE_POLL_SECONDS)
            busy = self.runner.run(self.conn.fetchval(BUSY_BACKENDS, self.database, self.ports()))
            now = total(read_counters(self.counters_dir)).requests
            quiet = quiet + 1 if busy == 0 and now == answered else 0
            answered = now
        return time.monotonic() - started

    def snapshot(self) -> Snapshot:
        """Now."""
        counts = read_counters(self.counters_dir)
        return Snapshot(
            at=time.monotonic(),
            counts=counts,
            server_cpu=_cpu(set(counts)),
            postgres_cpu=_cpu(self.backends()),
            harness_cpu=_harness_cpu(),
            machine_busy=_machine_busy(),
        )

    def rss(self) -> dict[int, int]:
        """Resident memory per worker, in bytes."""
        sizes = {}
        for pid in self.workers():
            try:
                sizes[pid] = psutil.Process(pid).memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return sizes

    def usage(self, before: Snapshot, after: Snapshot) -> Usage:
        """What happened between `before` and `after` (RSS and load: now)."""
        server = _delta(after.server_cpu, before.server_cpu)
        postgres = _delta(after.postgres_cpu, before.postgres_cpu)
        harness = after.harness_cpu - before.harness_cpu
        busy = after.machine_busy - before.machine_busy
        return Usage(
            seconds=after.at - before.at,
            counts=total(after.counts) - total(before.counts),
            server_cpu=server,
            postgres_cpu=postgres,
            harness_cpu=harness,
            other_cpu=busy - server - postgres - harness,
            rss=self.rss(),
            load=os.getloadavg()[0],
        )
