"""/metrics on a port of its own (PINQL_METRICS_PORT), so the public port never serves it:
in prod by default, since what it says (clients, operations, pool and cache sizes) is for
operators, and a scraper of the public port could fill its label slots.

One worker serves it from its own event loop (`listen`: an asyncio server speaking just
enough HTTP/1.1, parsed by h11, for `GET /metrics`). Under `pinql serve --workers N` the
supervisor serves it instead (`serve_summed`: prometheus-client's threaded server over the
multiprocess directory every worker writes to), so one port answers for every worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

import h11
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger("pinql.metrics")

HOST = "0.0.0.0"  # noqa: S104 (the port is meant for the operators' network, not the public)
PATH = b"/metrics"
REQUEST_SECONDS = 5.0
"""How long a scrape may take to send its request."""
MAX_REQUEST_BYTES = 16 * 1024


async def listen(exposition: Callable[[], bytes], port: int) -> asyncio.Server:
    """Serves `GET /metrics` with `exposition()` on `port` (all interfaces), in this event
    loop; anything else is 404 (405 for another method). Close the server to stop."""
    return await asyncio.start_server(
        lambda reader, writer: _answer(reader, writer, exposition), HOST, port
    )


async def _answer(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, exposition: Callable[[], bytes]
) -> None:
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
    try:
        async with asyncio.timeout(REQUEST_SECONDS):
            request = await _request(reader, connection)
        if request is None:
            return
        status, body, content_type = _response(request, exposition)
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"connection", b"close"),
        ]
        writer.write(connection.send(h11.Response(status_code=status, headers=headers)) or b"")
        writer.write(connection.send(h11.Data(data=body)) or b"")
        writer.write(connection.send(h11.EndOfMessage()) or b"")
        await writer.drain()
    except (TimeoutError, ConnectionError, h11.ProtocolError):
        pass  # a scraper that hung up, stalled or spoke nonsense gets no answer
    finally:
        writer.close()


async def _request(reader: asyncio.StreamReader, connection: h11.Connection) -> h11.Request | None:
    while True:
        event = connection.next_event()
        if isinstance(event, h11.Request):
            return event
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(4096))
            continue
        return None  # the peer closed before a whole request


def _response(request: h11.Request, exposition: Callable[[], bytes]) -> tuple[int, bytes, bytes]:
    if request.target.split(b"?", 1)[0] != PATH:
        return 404, b"not found: this port serves GET /metrics only\n", b"text/plain"
    if request.method != b"GET":
        return 405, b"GET /metrics only\n", b"text/plain"
    return 200, exposition(), CONTENT_TYPE_LATEST.encode()


def serve_summed(directory: str, port: int) -> WSGIServer:
    """Serves `GET /metrics` summed over the workers writing to the multiprocess
    `directory`, on `port` (all interfaces), from a thread of this process. Call
    `shutdown()` on the server to stop."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    server, _ = start_http_server(port, HOST, registry)
    return server
