"""The processes a benchmark starts: checked commands, servers run until a block ends, and
pinql served by uvicorn."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
STARTUP_SECONDS = 60


def run_checked(
    command: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> str:
    """Runs a trusted command (argv, no shell); its stdout, or SystemExit with its output."""
    done = subprocess.run(  # noqa: S603
        command, env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"{shlex.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Server:
    """A running uvicorn: its base URL and the process this harness started."""

    base: str
    pid: int
    command: str
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)

    def terminate(self, timeout: float) -> float | None:
        """Sends SIGTERM to uvicorn (the master; with one worker, the worker itself) and
        waits for it to exit: the seconds that took, or None if it was still running after
        `timeout` seconds (the `serving` block's end then stops it)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - started


@contextmanager
def serving(
    app: str,
    env: Mapping[str, str],
    log_path: Path,
    *,
    workers: int = 1,
    ready: Callable[[], bool] | None = None,
    graceful_timeout: int | None = None,
    cwd: Path = ROOT,
) -> Iterator[Server]:
    """Runs `uvicorn --factory app` with `workers` processes on a free port of 127.0.0.1
    (uvloop, httptools, no access log) in `cwd` until the block ends. Ready once `/graphql`
    answers and `ready()` (if given) holds. `graceful_timeout`: uvicorn's
    --timeout-graceful-shutdown, the seconds in-flight requests get after SIGTERM (None:
    uvicorn's default, no limit)."""
    port = free_port()
    command = [
        str(VENV_BIN / "python"), "-m", "uvicorn", app, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if graceful_timeout is not None:
        command += ["--timeout-graceful-shutdown", str(graceful_timeout)]
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        answer = httpx.get(f"{base}/graphql", params={"query": "{__typename}"}, timeout=2)
        return answer.status_code == 200 and (ready is None or ready())

    with running(command, env, log_path, base, up, cwd=cwd) as server:
        yield server


@contextmanager
def running(
    command: list[str],
    env: Mapping[str, str],
    log_path: Path,
    base: str,
    up: Callable[[], bool],
    *,
    cwd: Path = ROOT,
    name: str = "server",
) -> Iterator[Server]:
    """Runs `command` (a server listening at `base`) in `cwd`, with `env` over this
    process's environment and its output in `log_path`, until the block ends (SIGTERM, then
    SIGKILL after 15 s). Ready once `up()` holds (an HTTP transport error: not yet); `name`
    labels it in what is printed."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        where = "" if cwd == ROOT else f" (in {cwd})"
        print(f"{name}: pid {process.pid}{where}: {shlex.join(command)}", flush=True)
        try:
            _wait_until_up(process, log_path, up)
            yield Server(base, process.pid, shlex.join(command), process)
        finally:
            _stop(process)
    print(f"{name}: pid {process.pid} stopped (exit {process.returncode})", flush=True)


def _wait_until_up(
    process: subprocess.Popen[bytes], log_path: Path, up: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the server exited ({process.returncode}) before answering; its log:\n"
                + log_path.read_text(errors="replace")
            )
        try:
            if up():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(
        f"the server was not ready within {STARTUP_SECONDS} s; its log:\n{log_path.read_text()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
