"""The `pinql` command: serve, migrate, seed, token, schema export/check, clients
add/list/set/rotate/remove, operations register/list/explain, and check counters."""

from __future__ import annotations

import typer

from server.cli import check, clients, operations, run, schema
from server.cli.schema import schema_diff

app = typer.Typer(
    help="pinql: the GraphQL backend-for-frontend.", no_args_is_help=True, add_completion=False
)
for command in (run.serve, run.migrate, run.seed, run.token):
    app.command()(command)
app.add_typer(schema.app, name="schema")
app.add_typer(clients.app, name="clients")
app.add_typer(operations.app, name="operations")
app.add_typer(check.app, name="check")


def main() -> None:
    """Entry point of the `pinql` script."""
    app(prog_name="pinql")


__all__ = ["app", "main", "schema_diff"]
