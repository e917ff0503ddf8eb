"""Where the database is: DATABASE_URL, or an embedded PostgreSQL (pgserver) under the data dir."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from server.settings import Settings

log = logging.getLogger("pinql")


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """The database to use, and whether pinql started it (embedded) for this process."""

    url: str
    embedded: bool


@contextmanager
def database_target(settings: Settings) -> Iterator[DatabaseTarget]:
    """DATABASE_URL when set; otherwise starts the embedded server and stops it on exit.

    The embedded server is shared: a second pinql process on the same data dir reuses it,
    and it stops when the last one exits (pgserver counts its users).
    """
    if settings.database_url is not None:
        yield DatabaseTarget(settings.database_url, embedded=False)
        return
    import warnings

    # pgserver logs every initdb/pg_ctl step at INFO, and platformdirs warns when
    # XDG_RUNTIME_DIR is unset: keep its warnings and errors only.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # only the embedded default needs it

    data_dir = Path(settings.data_dir).resolve() / "postgres"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield DatabaseTarget(server.get_uri(), embedded=True)
    finally:
        server.cleanup()
