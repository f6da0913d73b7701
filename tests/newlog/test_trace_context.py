"""Trace context: W3C ``traceparent`` ids per request, OpenTelemetry's ids when a span records, log_context anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import pytest
from flask import Flask
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import newlog
from newlog.tracing import TraceParent, incoming_trace_context, parse_traceparent
from tests.characterization.harness import ROOT, clean_env
from tests.support import printed_events, stored_rows

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
VALID = f"00-{TRACE}-{PARENT}-01"


# -- parsing the header -----------------------------------------------------------------------


def test_a_valid_traceparent_gives_its_ids() -> None:
    assert parse_traceparent(VALID) == TraceParent(TRACE, PARENT, sampled=True)
    assert parse_traceparent(f"00-{TRACE}-{PARENT}-00") == TraceParent(TRACE, PARENT, sampled=False)


def test_blanks_around_the_value_are_allowed() -> None:
    assert parse_traceparent(f" \t{VALID} ") == TraceParent(TRACE, PARENT, sampled=True)


def test_a_later_version_is_read_as_version_00_and_its_extra_fields_skipped() -> None:
    assert parse_traceparent(f"01-{TRACE}-{PARENT}-01") == TraceParent(TRACE, PARENT, sampled=True)
    assert parse_traceparent(f"cc-{TRACE}-{PARENT}-03-what-comes-later") == TraceParent(TRACE, PARENT, sampled=True)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        VALID.upper(),  # the specification says lower-case hex
        f"ff-{TRACE}-{PARENT}-01",  # version ff is forbidden
        f"00-{'0' * 32}-{PARENT}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"00-{TRACE[:-1]}-{PARENT}-01",  # trace id too short
        f"00-{TRACE}a-{PARENT}-01",  # trace id too long
        f"00-{TRACE}-{PARENT[:-1]}-01",  # parent id too short
        f"00-{TRACE}-{PARENT}-1",  # flags too short
        f"00-{TRACE}-{PARENT}",  # no flags
        f"00-{TRACE}-{PARENT}-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE}-{PARENT}-01 trailing",
        f"01-{TRACE}-{PARENT}-01x",  # a later version's extra fields start with "-"
        f"0-{TRACE}-{PARENT}-01",
        f"00_{TRACE}_{PARENT}_01",
        f"00-{TRACE[:-1]}g-{PARENT}-01",  # not hex
        f"00-{'٣' * 32}-{PARENT}-01",  # digits of another script are not hex digits
        f"00-{TRACE}-{PARENT}-01" + "-x" * 300,  # absurdly long
        f"01-{TRACE}-{PARENT}-01" + "-x" * 300,
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # not text
    ],
    ids=repr,
)
def test_a_malformed_traceparent_is_refused(value: Any) -> None:
    assert parse_traceparent(value) is None


def test_two_traceparent_headers_are_ambiguous_and_ignored() -> None:
    from werkzeug.datastructures import Headers

    assert incoming_trace_context(Headers([("traceparent", VALID)])) == {"trace_id": TRACE, "span_id": PARENT}
    assert incoming_trace_context(Headers([("traceparent", VALID), ("traceparent", VALID)])) == {}
    assert incoming_trace_context(Headers()) == {}


# -- requests ---------------------------------------------------------------------------------


def add_view(app: Flask, inside: Any = None) -> None:
    """/work logs one event (inside ``inside()``'s context manager when given)."""

    @app.get("/work")
    def work() -> str:
        if inside is None:
            newlog.log_info("working", module="orders")
        else:
            inside()
        return "done"


def test_a_request_with_a_traceparent_stores_and_prints_its_ids(make_app, database_url, capsys) -> None:
    app = make_app(database_url, LOG_RENDERER="json")
    add_view(app)

    app.test_client().get("/work", headers={"traceparent": VALID})

    (row,) = stored_rows(app)
    assert (row["context"]["trace_id"], row["context"]["span_id"]) == (TRACE, PARENT)
    (printed,) = [event for event in printed_events(capsys) if event["event"] == "working"]
    assert (printed["trace_id"], printed["span_id"]) == (TRACE, PARENT)


def contexts(app: Flask) -> list[dict[str, Any]]:
    """Return the context of every row stored so far."""
    return [row["context"] for row in stored_rows(app)]


@pytest.mark.parametrize(
    "header", [f"00-{'0' * 32}-{PARENT}-01", VALID.upper(), f"00-{TRACE}-{PARENT}-01-extra", "x" * 5000]
)
def test_a_request_with_a_malformed_traceparent_gets_no_trace_ids(make_app, header: str) -> None:
    app = make_app()
    add_view(app)

    assert app.test_client().get("/work", headers={"traceparent": header}).status_code == 200

    (context,) = contexts(app)
    assert "trace_id" not in context and "span_id" not in context


def test_trace_ids_end_with_their_request(make_app) -> None:
    app = make_app()
    add_view(app)
    client = app.test_client()

    client.get("/work", headers={"traceparent": VALID})
    client.get("/work")

    traced, untraced = contexts(app)
    assert traced["trace_id"] == TRACE
    assert "trace_id" not in untraced


def test_log_context_binds_trace_ids_outside_requests(make_app) -> None:
    app = make_app()
    failures: list[BaseException] = []

    def job() -> None:
        try:
            with newlog.log_context(trace_id="a" * 32, span_id="b" * 16):
                newlog.log_info("batch job step", module="jobs")
            newlog.log_info("after the block", module="jobs")
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failures.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()

    assert not failures
    inside, after = contexts(app)
    assert (inside["trace_id"], inside["span_id"]) == ("a" * 32, "b" * 16)
    assert "trace_id" not in after


# -- OpenTelemetry ----------------------------------------------------------------------------


@pytest.fixture
def tracer() -> Any:
    """A real OpenTelemetry SDK tracer (its provider is not made the global one)."""
    return TracerProvider().get_tracer("tests")


def ids_of(span: Any) -> tuple[str, str]:
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def test_nested_spans_each_give_their_span_id_and_share_the_trace_id(make_app, tracer) -> None:
    app = make_app()
    with tracer.start_as_current_span("checkout") as outer:
        newlog.log_info("in checkout")
        with tracer.start_as_current_span("charge card") as inner:
            newlog.log_info("in charge")
        newlog.log_info("back in checkout")
    newlog.log_info("no span")

    in_outer, in_inner, back, none = contexts(app)
    assert (in_outer["trace_id"], in_outer["span_id"]) == ids_of(outer)
    assert (in_inner["trace_id"], in_inner["span_id"]) == ids_of(inner)
    assert in_inner["trace_id"] == in_outer["trace_id"] and in_inner["span_id"] != in_outer["span_id"]
    assert (back["trace_id"], back["span_id"]) == ids_of(outer)
    assert "trace_id" not in none


def test_a_recording_span_wins_over_the_header_and_log_context(make_app, tracer) -> None:
    app = make_app()
    spans: list[Any] = []

    def inside() -> None:
        with newlog.log_context(trace_id="c" * 32, span_id="d" * 16), tracer.start_as_current_span("view") as span:
            spans.append(span)
            newlog.log_info("in the view's span")

    add_view(app, inside)
    app.test_client().get("/work", headers={"traceparent": VALID})

    (context,) = contexts(app)
    assert (context["trace_id"], context["span_id"]) == ids_of(spans[0])


def test_a_span_that_is_not_recording_leaves_the_header_ids(make_app) -> None:
    app = make_app()
    unsampled = TracerProvider(sampler=ALWAYS_OFF).get_tracer("tests")

    def inside() -> None:
        with unsampled.start_as_current_span("dropped") as span:
            assert not span.is_recording()
            newlog.log_info("in a span nobody records")

    add_view(app, inside)
    app.test_client().get("/work", headers={"traceparent": VALID})

    (context,) = contexts(app)
    assert (context["trace_id"], context["span_id"]) == (TRACE, PARENT)


def test_ids_given_to_the_call_itself_are_kept_inside_a_span(make_app, tracer) -> None:
    app = make_app()
    with tracer.start_as_current_span("outer"):
        newlog.log_info("relayed", trace_id="e" * 32, span_id="f" * 16)

    (context,) = contexts(app)
    assert (context["trace_id"], context["span_id"]) == ("e" * 32, "f" * 16)


def test_without_opentelemetry_the_header_still_binds_the_ids(tmp_path) -> None:
    script = f"""
import sys
sys.modules["opentelemetry"] = None  # as if it were not installed
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
import newlog
app = Flask("no_otel")
app.config.update(SQLALCHEMY_DATABASE_URI="sqlite:///{tmp_path / 'logs.db'}", LOG_RENDERER="json")
SQLAlchemy(app)
newlog.init_app(app)
app.get("/work")(lambda: newlog.log_info("working") or "done")
assert app.test_client().get("/work", headers={{"traceparent": "{VALID}"}}).status_code == 200
assert newlog.shutdown(10)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    (event,) = [json.loads(line) for line in result.stdout.splitlines() if '"working"' in line]
    assert (event["trace_id"], event["span_id"]) == (TRACE, PARENT)
