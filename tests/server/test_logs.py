"""server/logs.py: redaction, request ids, access lines without query strings, and a real
`pinql serve` whose output holds no token, e-mail or variables."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from execution.documents import sha256_hex
from server.auth import issue_token
from server.logs import (
    ACCESS,
    FORMAT,
    AccessPathFilter,
    RedactingFilter,
    RequestIdFilter,
    configure,
    new_request_id,
    redact,
    request_id,
)
from server.settings import LogFormat
from tests import world
from tests.conftest import MakeDatabase, new_database
from tests.server.test_serve import Served, _free_port
from tests.support import SECRET

ROOT = Path(__file__).resolve().parents[2]
JWT = issue_token(world.ADA, SECRET, 1234)


# ---- redact ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {JWT}", "Authorization: Bearer [REDACTED]"),
        ("retrying with Bearer abc123XYZ now", "retrying with Bearer [REDACTED] now"),
        (f"token {JWT} in prose", "token [REDACTED] in prose"),
        ("alg none: eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "alg none: [REDACTED]"),
        ("user a@b.c and first.last+tag@mail.example.com", "user [EMAIL] and [EMAIL]"),
        ("Key (email)=(bob@example.org) already exists.", "Key (email)=([EMAIL]) already exists."),
        (
            '{"email": "a@b.c", "password": "hunter2", "name": "x"}',
            '{"email": "[EMAIL]", "password": "[REDACTED]", "name": "x"}',
        ),
        ('{"password": "a\\"b,c", "n": 1}', '{"password": "[REDACTED]", "n": 1}'),
        (
            "{'password': 'hunter2', 'authorization': 'Bearer xyz', 'n': 1}",
            "{'password': '[REDACTED]', 'authorization': '[REDACTED]', 'n': 1}",
        ),
        (
            "/graphql?password=hunter2&access_token=abc&first=5",
            "/graphql?password=[REDACTED]&access_token=[REDACTED]&first=5",
        ),
        (
            "password=hunter2 secret: s3cr3t PINQL_SECRET=topsecret api_key=k1",
            "password=[REDACTED] secret: [REDACTED] PINQL_SECRET=[REDACTED] api_key=[REDACTED]",
        ),
        ("authorization: Basic dXNlcjpwYXNz", "authorization: Basic [REDACTED]"),
        ("x-api-key: pinql_A1b2_C3-d4A1b2_C3-d4A1b2_C3-d4A1b2_C3-d4xyz", "x-api-key: [REDACTED]"),
        (
            "client key pinql_A1b2_C3-d4A1b2_C3-d4A1b2_C3-d4A1b2_C3-d4xyz in prose",
            "client key [REDACTED] in prose",
        ),
        (
            "[(b'authorization', b'Basic dXNlcjpwYXNz'), (b'host', b'x')]",
            "[(b'authorization', b'[REDACTED]'), (b'host', b'x')]",
        ),
        (
            "connecting to postgresql://alice:pa55@db.example.com:5432/pinql",
            "connecting to postgresql://alice:[REDACTED]@db.example.com:5432/pinql",
        ),
        ("redis://:pa55@127.0.0.1:6379/0", "redis://:[REDACTED]@127.0.0.1:6379/0"),
    ],
)
def test_redact_replaces_secrets_and_emails(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # a second pass (a second handler) changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "Document contains more than 5000 tokens",
        "tokens: 5000, max_tokens=5000 token_ttl_seconds=3600",
        "bearer token has expired",
        "bearer token is invalid: Signature verification failed",
        "connecting to postgresql://alice@db.example.com:5432/pinql",
        "Redis is unreachable (Error 111 connecting to 127.0.0.1:6379.): refusing keyed mutations",
        "unexpected error at ['createBoard', 'board']",
        "eyJhbGciOiJIUzI1NiJ9 alone is no token",
        "user@localhost",
        '127.0.0.1:5000 - "POST /graphql HTTP/1.1" 200',
    ],
)
def test_redact_leaves_near_misses_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "a@" + "b." * 50_000 + "1",
        "eyJ" + "a." * 50_000,
        "a://" * 30_000 + "@",
        "x@" * 50_000,
        "Bearer " * 30_000,
        '"password": "' + "\\" * 50_000,
        "'token', " * 20_000,
        "-" * 100_000 + "token",
    ],
)
def test_redact_stays_linear_on_hostile_lines(text: str) -> None:
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 0.5  # ~0.03 s; a backtracking regex takes seconds


# ---- filters ------------------------------------------------------------------------------------


def _record(
    msg: str, *args: object, name: str = "pinql.test", exc: BaseException | None = None
) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def _failure() -> ValueError:
    try:
        raise ValueError(f"no user ada@example.com for Bearer {JWT}")
    except ValueError as exc:
        return exc


def test_redacting_filter_rewrites_message_and_traceback_for_any_formatter() -> None:
    record = _record("signing in %s with %r", "ada@example.com", {"password": "hunter2"})
    record.exc_info = (ValueError, _failure(), _failure().__traceback__)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "signing in [EMAIL] with {'password': '[REDACTED]'}"
    assert record.args == ()
    assert record.exc_info is None  # nothing left to format unredacted
    assert record.exc_text is not None and "Traceback" in record.exc_text
    RequestIdFilter().filter(record)
    out = logging.Formatter(FORMAT).format(record)
    assert "ValueError: no user [EMAIL] for Bearer [REDACTED]" in out
    assert "ada@example.com" not in out and JWT not in out and "hunter2" not in out


def test_redacting_filter_survives_a_bad_format_call_without_its_arguments() -> None:
    record = _record("%s and %s", "ada@example.com")
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "%s and %s [unformattable arguments dropped]"


def test_request_id_filter_reads_the_context() -> None:
    record = _record("hello")
    RequestIdFilter().filter(record)
    assert record.__dict__["request_id"] == "-"

    def in_request() -> None:
        request_id.set("req-42")
        RequestIdFilter().filter(record)

    contextvars.copy_context().run(in_request)
    assert record.__dict__["request_id"] == "req-42"
    assert request_id.get() is None


@pytest.mark.parametrize("incoming", ["abc", "lb-1.2_X", "a" * 64, "0"])
def test_new_request_id_keeps_a_well_formed_incoming_id(incoming: str) -> None:
    assert new_request_id(incoming) == incoming


@pytest.mark.parametrize("incoming", [None, "", "a" * 65, "a b", "id\n", "é", "x;rm", "<script>"])
def test_new_request_id_replaces_a_missing_or_malformed_id(incoming: str | None) -> None:
    made = new_request_id(incoming)
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert new_request_id(incoming) != made


def test_access_path_filter_drops_the_query_string() -> None:
    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/graphql?query=%7B%20a%20%7D&variables=%7B%22email%22%3A%22a%40b.c%22%7D",
        "1.1",
        200,
        name="uvicorn.access",
    )
    assert AccessPathFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /graphql HTTP/1.1" 200'
    plain = _record('%s - "%s %s HTTP/%s" %d', "c", "GET", "/graphql", "1.1", 200)
    AccessPathFilter().filter(plain)
    assert plain.args == ("c", "GET", "/graphql", "1.1", 200)


# ---- configure(), applied in a process of its own ------------------------------------------------


def _logged(script: str, log_format: str = "text", *args: str) -> tuple[str, str]:
    """(stdout, stderr) of a Python process that applies configure() and runs `script`."""
    setup = "import logging, logging.config\nfrom server.logs import configure, request_id\n"
    setup += f"logging.config.dictConfig(configure('INFO', {log_format!r}))\n"
    done = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", setup + textwrap.dedent(script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout, done.stderr


def test_configure_redacts_tracebacks_in_the_formatted_output() -> None:
    _, err = _logged(
        f"""
        request_id.set("req-7")
        log = logging.getLogger("pinql.execution")
        try:
            raise RuntimeError("mail ada@example.com, header Authorization: Bearer {JWT}")
        except RuntimeError as exc:
            log.error("unexpected error at %s", ["createBoard"], exc_info=exc)
        logging.getLogger("uvicorn.error").exception("boom", exc_info=KeyError("a@b.c"))
        log.warning("Document contains more than %d tokens", 5000, stack_info=True)
        """
    )
    assert "RuntimeError: mail [EMAIL], header Authorization: Bearer [REDACTED]" in err
    assert re.search(
        r" ERROR pinql\.execution \[req-7\] unexpected error at \['createBoard'\]", err
    )
    assert "Traceback (most recent call last)" in err
    assert "KeyError: '[EMAIL]'" in err
    assert "Document contains more than 5000 tokens" in err
    assert "Stack (most recent call last)" in err
    for secret in ("ada@example.com", "a@b.c", JWT, JWT.rsplit(".", 1)[1]):
        assert secret not in err


def test_configure_writes_access_lines_to_stdout_without_query_strings() -> None:
    out, err = _logged(
        """
        access = logging.getLogger("uvicorn.access")
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    "/healthz?variables=%7B%7D&token=abc", "1.1", 200)
        # pinql.access writes the /graphql lines: uvicorn's are dropped, but for preflights
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    "/graphql?variables=%7B%7D", "1.1", 200)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "OPTIONS", "/graphql", "1.1", 200)
        logging.getLogger("asyncpg.pool").info("third-party info stays quiet")
        logging.getLogger("strawberry.execution").error("but its errors show: password=x")
        """
    )
    head = r"\S+ \S+ INFO uvicorn\.access \[-\] 127\.0\.0\.1:5000 - "
    assert re.fullmatch(
        rf"{head}\"GET /healthz HTTP/1\.1\" 200\n{head}\"OPTIONS /graphql HTTP/1\.1\" 200\n", out
    )
    assert "third-party" not in err
    assert "ERROR strawberry.execution [-] but its errors show: password=[REDACTED]" in err


def test_configure_is_a_dict_config_uvicorn_can_take() -> None:
    config = configure("debug")
    assert config["loggers"]["pinql"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.access"]["handlers"] == ["access"]
    for handler in config["handlers"].values():
        assert {"request_id", "redact"} <= set(handler["filters"])
    assert json.loads(json.dumps(config)) == config  # plain data: uvicorn's workers get a copy


def _json_lines(output: str) -> list[dict[str, Any]]:
    """Every line of `output`, each checked to be one JSON object."""
    lines = [json.loads(line) for line in output.splitlines()]
    assert all(isinstance(line, dict) for line in lines)
    return lines


def test_json_format_writes_one_object_per_line_with_redacted_exceptions() -> None:
    out, err = _logged(
        f"""
        request_id.set("req-7")
        log = logging.getLogger("pinql.execution")
        try:
            raise RuntimeError("mail ada@example.com, header Authorization: Bearer {JWT}")
        except RuntimeError as exc:
            log.error("unexpected error at %s", ["createBoard"], exc_info=exc)
        extra = {{"loader": "UserByIdLoader", "dsn": "postgresql://a:pw@h/d"}}
        log.warning("multi\\nline", extra=extra, stack_info=True)
        access = logging.getLogger("uvicorn.access")
        line = '%s - "%s %s HTTP/%s" %d'
        access.info(line, "127.0.0.1:5000", "GET", "/readyz?token=abc", "1.1", 200)
        access.info(line, "127.0.0.1:5000", "GET", "/graphql?query=x", "1.1", 200)
        """,
        "json",
    )
    error, warning = _json_lines(err)
    assert set(error) == {"time", "level", "logger", "request_id", "message", "exception"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", error["time"])
    assert error["level"] == "ERROR" and error["logger"] == "pinql.execution"
    assert error["request_id"] == "req-7"
    assert error["message"] == "unexpected error at ['createBoard']"
    assert error["exception"].startswith("Traceback (most recent call last)")
    assert (
        "RuntimeError: mail [EMAIL], header Authorization: Bearer [REDACTED]" in error["exception"]
    )
    assert warning["message"] == "multi\nline"
    assert warning["loader"] == "UserByIdLoader"
    assert warning["dsn"] == "postgresql://a:[REDACTED]@h/d"  # extra fields are redacted too
    assert warning["stack"].startswith("Stack (most recent call last)")
    (line,) = _json_lines(out)  # uvicorn's /graphql line is dropped: pinql.access has it
    assert line["logger"] == "uvicorn.access" and line["request_id"] == "req-7"
    assert line["message"] == '127.0.0.1:5000 - "GET /readyz HTTP/1.1" 200'
    for secret in ("ada@example.com", JWT, "pw@", "abc"):
        assert secret not in out + err


def test_configure_takes_the_format() -> None:
    text, as_json = configure("info", "text"), configure("info", LogFormat.JSON)
    assert text["formatters"]["default"]["()"] == "server.logs.TextFormatter"
    assert as_json["formatters"]["default"] == {"()": "server.logs.JsonFormatter"}
    assert as_json["loggers"][ACCESS] == {
        "handlers": ["access"],
        "level": "INFO",
        "propagate": False,
    }
    assert json.loads(json.dumps(as_json)) == as_json
    with pytest.raises(ValueError, match="'xml' is not a valid LogFormat"):
        configure("info", "xml")


ACCESS_RUN = """
import asyncio, json, sys
from tests.support import serve

QUERY = "query Pins($first: Int) { pins(first: $first) { totalCount } }"
FEED = "query Feed { pins(first: 2) { nodes { id creator { username } } } }"

async def main(url, token, feed_hash):
    async with serve(url, clients={"web": "open"}) as client:
        web = client.client("web", "1.4.0")
        print("KEY", client.keys["web"], file=sys.stderr)
        variables = json.dumps({"first": 1, "email": "a@b.c"})
        await client.http.get("/graphql", params={"query": QUERY, "variables": variables,
            "access_token": token}, headers={"Accept": "application/json", **web})
        await client.post(QUERY, {"first": 1, "email": "a@b.c"},
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "lb-req-42"})
        apq = {"persistedQuery": {"version": 1, "sha256Hash": feed_hash}}
        await client.http.post("/graphql", json={"query": FEED, "extensions": apq}, headers=web)
        await client.post(QUERY, headers={"Authorization": "Bearer nope"})
        await client.http.get("/healthz")

asyncio.run(main(*sys.argv[1:]))
"""
ACCESS_FIELDS = {
    "client",
    "client_version",
    "operation",
    "document_hash",
    "status",
    "duration_ms",
    "statements",
    "sql_ms",
    "cost",
    "execution",
    "execution_reason",
}


def test_json_access_line_per_request_has_every_field_and_no_secrets(fresh_database: str) -> None:
    feed = "query Feed { pins(first: 2) { nodes { id creator { username } } } }"
    out, err = _logged(ACCESS_RUN, "json", fresh_database, JWT, sha256_hex(feed))
    lines = _json_lines(out)
    [client_key] = [line.split()[1] for line in err.splitlines() if line.startswith("KEY ")]
    assert client_key not in out
    assert _json_lines("\n".join(e for e in err.splitlines() if not e.startswith("KEY "))) == []
    assert [line["logger"] for line in lines] == [ACCESS] * 4  # /healthz has no access line here
    get, post, apq, refused = lines
    for line in lines:
        assert set(line) == {"time", "level", "logger", "request_id", "message"} | ACCESS_FIELDS
        assert line["level"] == "INFO"
        assert re.fullmatch(r"(GET|POST) /graphql \d{3}", line["message"])
        assert line["duration_ms"] > 0
    query = "query Pins($first: Int) { pins(first: $first) { totalCount } }"
    assert get["message"] == "GET /graphql 200"
    assert get["client"] == "web" and get["client_version"] == "1.4.0"
    assert get["operation"] == "Pins" and get["document_hash"] == sha256_hex(query)
    assert get["status"] == 200 and get["execution"] == "fast" and get["cost"] == 1
    assert get["execution_reason"] == "planned"
    assert get["statements"] >= 1 and get["sql_ms"] > 0
    assert re.fullmatch(r"[0-9a-f]{32}", get["request_id"])
    assert post["request_id"] == "lb-req-42" and post["client"] == "anonymous"
    assert post["client_version"] is None
    assert apq["operation"] == "Feed" and apq["document_hash"] == sha256_hex(feed)
    assert apq["statements"] == 2 and apq["cost"] == 5
    assert refused["status"] == 401 and refused["operation"] is None
    assert refused["execution"] is None and refused["statements"] == 0 and refused["cost"] is None
    for leak in (JWT, JWT.rsplit(".", 1)[1], "a@b.c", "email", "variables", "nope"):
        assert leak not in out, f"{leak!r} was logged:\n{out}"


# ---- a real `pinql serve` -----------------------------------------------------------------------


@pytest.fixture
async def fresh_database(make_database: MakeDatabase) -> str:
    """A database of this test's own (it writes), holding tests/world.py."""
    return await new_database(make_database, with_world=True)


@pytest.fixture
def server(tmp_path: Path, fresh_database: str) -> Iterator[Served]:
    """`pinql serve` on the fresh database, its stderr merged into stdout."""
    port = _free_port()
    environ = dict(os.environ)
    environ.update(
        DATABASE_URL=fresh_database, PINQL_SECRET=SECRET, PINQL_DATA_DIR=str(tmp_path / "data")
    )
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process, port)
    yield served
    if process.poll() is None:  # never leave a server behind, even when the test failed
        process.kill()
        process.wait()


def _get(served: Served, params: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(
                f"http://127.0.0.1:{served.port}/graphql",
                params=params,
                headers={"Accept": "application/json"},
                timeout=10,
            )
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_logs_no_token_email_or_variables(server: Served) -> None:
    server.wait_for(r"Application startup complete")
    email = "ada.lovelace@example.org"
    got = _get(
        server,
        {
            "query": "query($first: Int) { pins(first: $first) { totalCount } }",
            "variables": json.dumps({"first": 1, "email": "a@b.c"}),
            "access_token": JWT,
        },
    )
    mutation = (
        "mutation($input: CreateBoardInput!) { createBoard(input: $input) "
        "{ board { name } userErrors { message } } }"
    )
    posted = httpx.post(
        f"http://127.0.0.1:{server.port}/graphql",
        json={"query": mutation, "variables": {"input": {"name": f"mail {email}"}}},
        headers={"Authorization": f"Bearer {JWT}", "X-Request-Id": "lb-req-42"},
        timeout=10,
    )
    server.process.send_signal(signal.SIGINT)
    rest, _ = server.process.communicate(timeout=30)
    output = "".join(server.output) + rest
    assert server.process.returncode == 0, output

    assert got.status_code == 200, output
    assert got.json()["data"]["pins"]["totalCount"] > 0
    assert posted.json()["data"]["createBoard"]["board"] == {"name": f"mail {email}"}, output
    assert posted.headers["X-Request-Id"] == "lb-req-42"
    # one pinql.access line per request; uvicorn's own /graphql lines are dropped
    access = re.findall(
        r" INFO pinql\.access \[(\S+)\] (\w+) (\S+) (\d+) client=anonymous ", output
    )
    assert len(access) == 2, output
    assert access[0][1:] == ("GET", "/graphql", "200"), output
    assert access[1] == ("lb-req-42", "POST", "/graphql", "200"), output
    assert "uvicorn.access" not in output
    assert "Shutting down" in output  # uvicorn's own lines go through configure() too
    for leak in (JWT, JWT.rsplit(".", 1)[1], "a@b.c", "a%40b.c", email, "variables", "query="):
        assert leak not in output, f"{leak!r} was logged:\n{output}"
