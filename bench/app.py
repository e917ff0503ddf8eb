"""The app the benchmark serves: pinql as configured by the environment, plus the floor routes
and the workers' counters.

    uvicorn --factory bench.app:create --workers N

The floor routes (`POST /floor/<operation>`, bench/floor/) share pinql's pool. When
PINQL_BENCH_COUNTERS names a directory, each worker counts its HTTP requests and the SQL
statements of its pool connections there (bench/counters.py); `GET /bench/stats` shows the
sums over every worker.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from bench import floor
from bench.counters import COUNTERS_ENV, WorkerCounters, read_counters, total
from server.app import create_app
from server.settings import Settings


def create() -> ASGIApp:
    """pinql with the floor routes (and counters when PINQL_BENCH_COUNTERS is set)."""
    settings = Settings()
    directory = os.environ.get(COUNTERS_ENV)
    counters = WorkerCounters(Path(directory)) if directory else None
    app = create_app(settings, connection_init=counters.attach if counters else None)
    bench_routes = floor.routes(settings.secret)
    if directory:
        bench_routes.append(Route("/bench/stats", _stats(Path(directory)), methods=["GET"]))
    app.router.routes[:0] = bench_routes
    return counters.counting(app) if counters else app


def _stats(directory: Path) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def stats(request: Request) -> JSONResponse:
        """Every worker's counts and their sum."""
        counts = read_counters(directory)
        return JSONResponse(
            {
                "workers": {str(pid): asdict(c) for pid, c in sorted(counts.items())},
                "total": asdict(total(counts)),
            }
        )

    return stats
