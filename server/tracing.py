"""OpenTelemetry tracing (PINQL_OTEL): a `graphql.request` span per /graphql request and a
`db.query` child span per SQL statement, exported over OTLP/HTTP as the standard OTEL_*
variables configure it (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER...).

OpenTelemetry is the `otel` extra: it is imported only when tracing is on, and with tracing off
a request makes no tracer call at all. Spans carry statement texts (pinql binds every value
as a parameter) but never parameters, variables, headers or exception messages.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from db.pool import StatementHook
from server.metrics import RequestRecord

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

INSTALL = "pip install 'pinql[otel]'"
SERVICE_NAME = "pinql"


class Tracing:
    """Starts and ends the spans of requests and their statements, on a provider of its own
    (the process-wide one is left alone)."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry import propagate, trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.provider = provider
        self._tracer = provider.get_tracer("pinql")
        self._extract = propagate.extract
        self._in_context = trace.set_span_in_context
        self._server = SpanKind.SERVER
        self._client = SpanKind.CLIENT
        self._error = StatusCode.ERROR
        self._status = Status

    def start_request(self, method: str, headers: Mapping[str, str]) -> Span:
        """The span of one request, a child of the caller's (a `traceparent` header)."""
        return self._tracer.start_span(
            "graphql.request",
            context=self._extract(headers),
            kind=self._server,
            attributes={"http.request.method": method},
        )

    def statement_hook(self, request: Span) -> StatementHook | None:
        """What a Session reports its statements to: a `db.query` span each, under `request`
        (None when the request is not sampled)."""
        if not request.is_recording():
            return None
        parent = self._in_context(request)
        tracer, kind, error, status = self._tracer, self._client, self._error, self._status

        def statement(query: str, seconds: float, exception: BaseException | None) -> None:
            # asyncpg reports a statement just after it ends, with its duration
            end = time.time_ns()
            span = tracer.start_span(
                "db.query",
                context=parent,
                kind=kind,
                start_time=end - int(seconds * 1e9),
                attributes={"db.system": "postgresql", "db.statement": query},
            )
            if exception is not None:  # its type only: messages can quote row values
                span.set_status(status(error, type(exception).__name__))
            span.end(end_time=end)

        return statement

    def end_request(self, span: Span, record: RequestRecord) -> None:
        """Ends a request's span with what the request did."""
        attributes: dict[str, str | int] = {
            "http.response.status_code": record.status,
            "pinql.request_id": record.request_id,
            "pinql.statements": record.statements,
        }
        if record.operation is not None:
            attributes["graphql.operation.name"] = record.operation
        if record.client is not None:
            attributes["pinql.client.name"] = record.client
        if record.client_version is not None:
            attributes["pinql.client.version"] = record.client_version
        if record.document_hash is not None:
            attributes["graphql.document.sha256"] = record.document_hash
        if record.execution is not None:
            attributes["pinql.execution"] = record.execution
        span.set_attributes(attributes)
        if record.status >= 500:
            span.set_status(self._status(self._error, f"HTTP {record.status}"))
        span.end()

    def shutdown(self) -> None:
        """Exports what is left and stops the exporter."""
        self.provider.shutdown()


def setup_tracing(exporter: SpanExporter | None = None) -> Tracing:
    """Tracing to `exporter` (tests: spans exported as each ends), else to OTLP/HTTP in
    batches; RuntimeError naming the extra to install when OpenTelemetry is missing."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise RuntimeError(
            f"PINQL_OTEL=true needs OpenTelemetry, which is not installed ({exc.name} is "
            f"missing): {INSTALL}, or set PINQL_OTEL=false"
        ) from None
    service = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), shutdown_on_exit=False
    )
    if exporter is None:
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider)
