"""/metrics on a port of its own (server/metrics_port.py): served there and not on the public
port, by one worker from its event loop or, summed over every worker, by `pinql serve`'s
supervisor; prod puts it there by default."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST

from server.cli.run import summed_metrics
from server.settings import METRICS_PORT, Settings
from tests.server.test_metrics import parse, run_worker, sample
from tests.support import SECRET, served
from tests.throwaway import free_port

QUERY = "query Count { pins(first: 1) { totalCount } }"


async def raw_exchange(port: int, request: bytes) -> bytes:
    """What the port answers to `request` sent as is (then nothing more), until it closes
    the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    writer.write_eof()
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    return answer


async def test_metrics_are_served_on_their_own_port_only(world_database: str) -> None:
    port = free_port()
    async with served(world_database, PINQL_METRICS_PORT=port) as (client, _):
        await client.data(QUERY)
        assert (await client.http.get("/metrics")).status_code == 404  # not on the public port
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as operator:
            scraped = await operator.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"] == CONTENT_TYPE_LATEST
            assert scraped.headers["cache-control"] == "no-store"
            labels = {"operation": "-", "client": "anonymous", "status": "200"}
            assert sample(parse(scraped.text), "pinql_requests_total", **labels) == 1
            assert (await operator.get("/graphql")).status_code == 404
            assert (await operator.post("/metrics")).status_code == 405
        assert await raw_exchange(port, b"\x16\x03\x01 not http\r\n\r\n") == b""
        assert await raw_exchange(port, b"GET /metrics HTTP/1.1\r\n") == b""  # hung up early
        assert (await operator_get(port)).status_code == 200  # still answering
    with pytest.raises(OSError):  # closed with the app
        await asyncio.open_connection("127.0.0.1", port)


async def operator_get(port: int) -> httpx.Response:
    async with httpx.AsyncClient() as operator:
        return await operator.get(f"http://127.0.0.1:{port}/metrics")


def test_prod_serves_metrics_on_their_own_port_by_default() -> None:
    def settings(**env: str) -> Settings:
        return Settings.model_validate({"PINQL_SECRET": SECRET, **env})

    assert settings().metrics_listen_port == 0
    assert settings(PINQL_ENV="prod").metrics_listen_port == METRICS_PORT
    assert settings(PINQL_ENV="prod", PINQL_METRICS_PORT="0").metrics_listen_port == 0
    assert settings(PINQL_METRICS_PORT="9100").metrics_listen_port == 9100


def test_the_supervisor_serves_every_workers_metrics_summed(
    tmp_path: Path, world_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_worker(tmp_path, world_database, 2, read=False)
    run_worker(tmp_path, world_database, 3, read=False)
    port = free_port()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = Settings.model_validate({"PINQL_SECRET": SECRET, "PINQL_METRICS_PORT": port})
    with summed_metrics(settings):
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert scraped.status_code == 200
    labels = {"operation": "-", "client": "anonymous", "status": "200"}
    assert sample(parse(scraped.text), "pinql_requests_total", **labels) == 5
    with pytest.raises(httpx.ConnectError):  # stopped with it
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
