"""Fault-injection TCP proxies, for tests of what a write does when the network fails at the
worst moment.

`CommitCut` sits between pinql and PostgreSQL. It speaks just enough of PostgreSQL's wire
protocol to see each message the client sends (the startup exchange, then type byte,
length, body), so a test can lose the answer to one COMMIT: the COMMIT reaches the server,
which commits, and the client's connection is closed instead of answered. Connect with
`sslmode=disable` (the proxy must read the messages).

`ReplyCut` sits between pinql and Redis (or any request-reply protocol) and loses the reply
to one request (Redis runs the command, the client never hears of it), or passes only part
of it.

Both can also cut connections as they open (`refuse`) and freeze (`freeze`/`thaw`: nothing
passes either way, connections stay open, as with a server that stopped answering)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from tests.conftest import emptied_redis, redis_url

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


class _Proxy:
    """A TCP proxy on 127.0.0.1 to `upstream` (host, port): `_up` forwards what a client
    sends, and may set its connection's `cut`; from then on what the server answers is
    dropped, and the client's socket closed with the first of it."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.cuts = 0
        self.refuse = 0
        """Connections to cut as they open, before anything passes (counted in `cuts`)."""
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def freeze(self) -> None:
        """From now on nothing passes, either way, until `thaw`."""
        self._flowing.clear()

    def thaw(self) -> None:
        """What was held passes, and everything after it."""
        self._flowing.set()

    async def start(self) -> int:
        """Starts listening; its port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        """Stops listening and cuts every connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _up(
        self,
        client: asyncio.StreamReader,
        to_server: asyncio.StreamWriter,
        cut: asyncio.Event,
        half: asyncio.Event,
    ) -> None:
        """Forwards what the client sends; sets `cut` to lose the server's next answer with
        the connection, `half` to pass its first half first."""
        raise NotImplementedError

    async def _accept(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        if self.refuse > 0:
            self.refuse -= 1
            self.cuts += 1
            to_client.close()
            self._tasks.discard(task)
            return
        server, to_server = await asyncio.open_connection(*self.upstream)
        cut, half = asyncio.Event(), asyncio.Event()
        down = asyncio.create_task(self._down(server, to_client, cut, half))
        try:
            await self._up(client, to_server, cut, half)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            down.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await down
            for writer in (to_client, to_server):
                writer.close()
            self._tasks.discard(task)

    async def _down(
        self,
        server: asyncio.StreamReader,
        to_client: asyncio.StreamWriter,
        cut: asyncio.Event,
        half: asyncio.Event,
    ) -> None:
        while data := await server.read(65536):
            await self._flowing.wait()
            if cut.is_set():
                if half.is_set():  # a reply cut midway: what a client can parse, it must not
                    to_client.write(data[: max(1, len(data) // 2)])
                    await to_client.drain()
                break  # the answer (the rest of it) is lost with the connection
            to_client.write(data)
            await to_client.drain()
        to_client.close()  # (the server closed, or the connection is cut)


class CommitCut(_Proxy):
    """A proxy on 127.0.0.1 to `upstream` (host, port). While `armed`, the next COMMIT a
    client sends is forwarded and then its connection is cut: what the server answers is
    dropped and the client's socket closed (`cuts` counts them). While `armed_after`, the
    COMMIT and its answer pass, and the connection is cut when the client sends its next
    message (a read of what was just written). While `cut_before` is n, the n-th message any
    client sends from then on is not sent: its connection is cut instead (the server rolls
    back what it had not committed). Anything else passes."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream)
        self.armed = False
        self.armed_after = False
        self.cut_before: int | None = None

    async def _up(
        self,
        client: asyncio.StreamReader,
        to_server: asyncio.StreamWriter,
        cut: asyncio.Event,
        half: asyncio.Event,
    ) -> None:
        started = committed = False
        while True:
            if not started:  # the startup exchange: length, then a code and its body
                head = await client.readexactly(4)
                body = await client.readexactly(int.from_bytes(head, "big") - 4)
                started = int.from_bytes(body[:4], "big") not in (SSL_REQUEST, GSSENC_REQUEST)
                message = head + body
            else:
                kind = await client.readexactly(1)
                head = await client.readexactly(4)
                body = await client.readexactly(int.from_bytes(head, "big") - 4)
                message = kind + head + body
                if committed and kind != b"X":
                    self.cuts += 1
                    return  # cut before the message leaves
                if self.cut_before is not None:
                    self.cut_before -= 1
                    if self.cut_before <= 0:
                        self.cut_before = None
                        self.cuts += 1
                        return  # cut before the message leaves
                commit = kind == b"Q" and body.lstrip().upper().startswith(b"COMMIT")
                if commit and self.armed:
                    self.armed = False
                    self.cuts += 1
                    cut.set()  # before it leaves: its answer must not get through
                elif commit and self.armed_after:
                    self.armed_after = False
                    committed = True
            to_server.write(message)
            await to_server.drain()


class ReplyCut(_Proxy):
    """A byte-level proxy on 127.0.0.1 to `upstream` (host, port), for any request-reply
    protocol (Redis's RESP). While `armed`, the next request a client sends is forwarded,
    then its reply is dropped and its connection cut (`cuts` counts them): the server did
    the work, the client never hears of it. While `armed_half`, the same, but the first half
    of the reply gets through before the cut. Anything else passes."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream)
        self.armed = False
        self.armed_half = False
        self.lost: list[bytes] = []
        """The requests whose replies were lost (whole or in part)."""

    async def _up(
        self,
        client: asyncio.StreamReader,
        to_server: asyncio.StreamWriter,
        cut: asyncio.Event,
        half: asyncio.Event,
    ) -> None:
        while data := await client.read(65536):
            await self._flowing.wait()
            if self.armed or self.armed_half:
                if self.armed_half:
                    half.set()
                self.armed = self.armed_half = False
                self.cuts += 1
                self.lost.append(data)
                cut.set()  # before it leaves: its reply must not get through
            to_server.write(data)
            await to_server.drain()


@contextlib.asynccontextmanager
async def proxied_redis(db: int) -> AsyncIterator[tuple[ReplyCut, str]]:
    """A ReplyCut in front of the suite's Redis logical database `db` (emptied first), and
    the Redis URL through it."""
    async with emptied_redis(db):
        pass
    parts = urlsplit(redis_url(db))
    proxy = ReplyCut((parts.hostname or "127.0.0.1", parts.port or 6379))
    port = await proxy.start()
    try:
        yield proxy, parts._replace(netloc=f"127.0.0.1:{port}").geturl()
    finally:
        await proxy.close()
