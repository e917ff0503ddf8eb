"""`pinql clients add|list|set|rotate|remove`: the registered clients, their policies and
keys (kept in PostgreSQL; server/client_keys.py says how requests prove them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from db import clients as registry
from server.cli.common import fail, on_database
from server.client_keys import KEY_HEADER, key_hash, new_key
from server.persisted.policy import ANONYMOUS, ClientPolicy, Mode, check_client_name

T = TypeVar("T")

DEFAULT_GRACE_HOURS = 24.0
"""How long a rotated-out key keeps working: long enough to deploy the new one."""

app = typer.Typer(
    help="Registered clients: each proves its name (apollographql-client-name) with its key "
    f"({KEY_HEADER}) and gets its persisted-query policy.",
    no_args_is_help=True,
)


def _name(value: str) -> str:
    try:
        check_client_name(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if value == ANONYMOUS:
        raise typer.BadParameter(
            "anonymous is the client of requests that name none: its policy is "
            "PINQL_ANONYMOUS_POLICY"
        )
    return value


Name = Annotated[str, typer.Argument(callback=_name, metavar="NAME", help="The client, e.g. web.")]
PolicyMode = Annotated[
    Mode,
    typer.Option(
        "--policy",
        help="open: any text and APQ; apq: persisted documents only; safelist: registered "
        "documents only.",
    ),
]
NoApq = Annotated[bool, typer.Option("--no-apq", help="Refuse APQ (an open client).")]
LogUnknown = Annotated[
    bool,
    typer.Option(help="Log every operation the client runs that is not registered for it."),
]


def _policy(mode: Mode, no_apq: bool, log_unknown: bool) -> ClientPolicy:
    try:
        return ClientPolicy(mode=mode, apq=not no_apq, log_unknown=log_unknown)
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


@app.command("add")
def clients_add(
    name: Name, mode: PolicyMode, no_apq: NoApq = False, log_unknown: LogUnknown = False
) -> None:
    """Register a client and print its key (only now: pinql keeps its hash)."""
    policy, key = _policy(mode, no_apq, log_unknown), new_key()
    if not on_database(
        lambda conn: registry.add(conn, name, policy.model_dump_json(), key_hash(key))
    ):
        raise fail(f"client {name!r} exists: `pinql clients rotate {name}` gives it a new key")
    typer.echo(f"added client {name} ({_describe(policy)}); its key, shown once:", err=True)
    typer.echo(key)


@app.command("list")
def clients_list() -> None:
    """Show the registered clients, their policies and keys' ages (never the keys)."""
    rows = on_database(registry.clients)
    if not rows:
        typer.echo("no clients are registered (pinql clients add NAME --policy ...)")
        return
    width = max(len(row.name) for row in rows)
    for row in rows:
        policy = _describe(ClientPolicy.model_validate_json(row.policy))
        line = f"{row.name:<{width}}  {policy:<28}  added {_day(row.created_at)}"
        if row.rotated_at is not None:
            line += f", key rotated {_day(row.rotated_at)}"
        if row.previous_expires_at is not None and row.previous_expires_at > datetime.now(UTC):
            line += f", previous key valid until {row.previous_expires_at:%Y-%m-%d %H:%M %Z}"
        typer.echo(line)


@app.command("set")
def clients_set(
    name: Name, mode: PolicyMode, no_apq: NoApq = False, log_unknown: LogUnknown = False
) -> None:
    """Change a client's policy (workers apply it within seconds)."""
    policy = _policy(mode, no_apq, log_unknown)
    if not on_database(lambda conn: registry.set_policy(conn, name, policy.model_dump_json())):
        raise fail(f"no client named {name!r}")
    typer.echo(f"client {name}: {_describe(policy)}")


@app.command("rotate")
def clients_rotate(
    name: Name,
    grace_hours: Annotated[
        float,
        typer.Option(
            min=0, max=24 * 90, help="Hours the current key keeps working beside the new one."
        ),
    ] = DEFAULT_GRACE_HOURS,
) -> None:
    """Give a client a new key and print it; the current key keeps working for the grace
    period (a key rotated out earlier stops at once)."""
    key = new_key()
    if not on_database(lambda conn: registry.rotate(conn, name, key_hash(key), grace_hours * 3600)):
        raise fail(f"no client named {name!r}")
    typer.echo(
        f"client {name} has a new key; the previous one works for {grace_hours:g} more "
        "hours. The new key, shown once:",
        err=True,
    )
    typer.echo(key)


@app.command("remove")
def clients_remove(name: Name) -> None:
    """Forget a client: its key stops working within seconds (its registered operations
    stay, for when it is added again)."""
    if not on_database(lambda conn: registry.remove(conn, name)):
        raise fail(f"no client named {name!r}")
    typer.echo(f"removed client {name}")


def _describe(policy: ClientPolicy) -> str:
    extras = [] if policy.apq or policy.mode is not Mode.OPEN else ["no APQ"]
    if policy.log_unknown:
        extras.append("logs unknown operations")
    return f"policy {policy.mode.value}" + (f" ({', '.join(extras)})" if extras else "")


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"
