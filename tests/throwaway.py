"""Servers of a test's own, for outage tests: a redis-server or a PostgreSQL on a spare port,
started and stopped by its PID (never the suite's Redis or PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayRedis:
    """A redis-server of this test's own, started and stopped by its PID."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Starts it and waits until it answers PING."""
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed"
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        arguments += ["--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(  # noqa: S603
            [executable, *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Stops it (SIGTERM to its PID) and waits for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def _postgres_bindir() -> Path:
    """The directory of the newest installed PostgreSQL's initdb and postgres."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("postgres")
    assert on_path, "PostgreSQL's server binaries (initdb, postgres) are not installed"
    return Path(on_path).parent


class ThrowawayPostgres:
    """A PostgreSQL of this test's own, in a temporary directory, on a spare port.

    As root its files belong to, and its processes run as, the `postgres` OS user (PostgreSQL
    refuses to run as root). `stop()` shuts it down fast by its PID; `start()` again brings
    it back on the same port and data, as a restarted server would come back.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.user = "postgres" if os.geteuid() == 0 else None
        # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
        self.directory = Path(tempfile.mkdtemp(prefix="pinql-pg-"))
        if self.user is not None:
            shutil.chown(self.directory, self.user)
        self.data = self.directory / "data"
        self.bindir = _postgres_bindir()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        initdb = [str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust"]
        try:  # about half a second: no template to cache
            subprocess.run(  # noqa: S603
                [*initdb, "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"],
                user=self.user,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        """Its URL (database `postgres`, superuser `postgres`)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Starts it and waits until it accepts connections."""
        settings = ["listen_addresses=127.0.0.1", f"port={self.port}"]
        settings += [f"unix_socket_directories={self.directory}", "fsync=off"]
        settings += ["synchronous_commit=off", "full_page_writes=off", "max_connections=30"]
        options = [arg for setting in settings for arg in ("-c", setting)]
        self._log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [str(self.bindir / "postgres"), "-D", str(self.data), *options],
            user=self.user,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self._accepts_connections():
                return
            time.sleep(0.05)
        log = (self.directory / "server.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise AssertionError(f"PostgreSQL did not start on port {self.port}:\n{log}")

    def _accepts_connections(self) -> bool:
        """pg_isready's answer: the server is up and out of recovery."""
        ready = subprocess.run(  # noqa: S603
            [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return ready.returncode == 0

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster's PID): sessions are ended, the data kept."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        """Stops it and deletes its directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A running ThrowawayPostgres, stopped and deleted at the end whatever happens."""
    server = ThrowawayPostgres(free_port())
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
