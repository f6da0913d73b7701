"""Record one characterization step: run it, capture what it printed, flush, read the new log rows.

A *document* is the JSON a run produces: a header and a list of steps. Each step holds
what a user can observe, normalized (see ``normalize``): ``rows`` written to the log table,
``printed`` events, ``warnings``, ``result`` (a value returned or a JSON response body),
``status`` / ``headers`` for requests, and ``meta`` (what the allowed deltas need to know,
never compared on its own).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from compat.characterize.normalize import mask, normalize_row, normalize_warnings, parse_printed

FORMAT = 1
FLUSH_TIMEOUT = 30.0


class KitError(Exception):
    """A problem the user has to fix (wrong --app, no flask-sqlalchemy, no log table); exit code 2."""


def flush_pipeline(timeout: float = FLUSH_TIMEOUT) -> None:
    """Wait until newlog has written every queued event (nothing to do when newlog is not in use)."""
    newlog = sys.modules.get("newlog")
    if newlog is not None and not newlog.flush(timeout):
        raise KitError(f"newlog did not write all queued log events within {timeout:.0f}s: see newlog.health()")


@contextlib.contextmanager
def capture() -> Iterator[dict[str, Any]]:
    """Capture what the block prints and the warnings it emits into the yielded dict (``printed``, ``warnings``).

    Output is captured at the file descriptors 1 and 2 when the streams have them, so that
    stdlib handlers created during the block (``logging.basicConfig`` binds ``sys.stderr``)
    keep writing to the real stream in later steps.
    """
    captured: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught, _captured_output() as read:
        warnings.simplefilter("always")
        try:
            yield captured
        finally:
            captured["printed"] = read
    captured["printed"] = parse_printed(captured["printed"]())
    captured["warnings"] = normalize_warnings(caught)


@contextlib.contextmanager
def _captured_output() -> Iterator[Callable[[], str]]:
    try:
        descriptors = (sys.stdout.fileno(), sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        descriptors = None
    if descriptors is None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield lambda: out.getvalue() + "\n" + err.getvalue()
        return
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(fd) for fd in descriptors]
        for fd in descriptors:
            os.dup2(sink.fileno(), fd)
        text: list[str] = []
        try:
            yield lambda: "".join(text)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip(descriptors, saved):
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            text.append(sink.read().decode("utf-8", "backslashreplace"))


class LogTable:
    """Reads the rows an app's log table gained since the last read (the first read: since now, or all)."""

    def __init__(self, app: Any, name: str | None = None, *, from_start: bool = False) -> None:
        db = app.extensions.get("sqlalchemy")
        if db is None:
            raise KitError(
                f"the app {app.name!r} has no flask-sqlalchemy extension (app.extensions['sqlalchemy']): "
                "the legacy module writes through flask-sqlalchemy; call db.init_app(app) in the factory"
            )
        self.name = name or app.config.get("LOG_TABLE", "unified_logs")
        with app.app_context():
            self.engine = db.engine
        if not sa.inspect(self.engine).has_table(self.name):
            raise KitError(
                f"the log table {self.name!r} does not exist in {self.engine.url.render_as_string(hide_password=True)}: "
                "create it as the app does (migrations or db.create_all()) or point DATABASE_URL at the app's database"
            )
        self.table = sa.Table(self.name, sa.MetaData(), autoload_with=self.engine)
        self.last_id = 0 if from_start else self._max_id()

    def _max_id(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.max(self.table.c.id))).scalar() or 0

    def schema(self) -> dict[str, str]:
        """Return ``{column: type}`` of the table as the database reports it."""
        columns = sa.inspect(self.engine).get_columns(self.name)
        return {column["name"]: _type_name(column["type"]) for column in columns}

    def new_rows(self) -> list[dict[str, Any]]:
        """Return the rows added since the previous call, in id order, normalized."""
        query = sa.select(self.table).where(self.table.c.id > self.last_id).order_by(self.table.c.id)
        with self.engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(query).mappings()]
        if rows:
            self.last_id = rows[-1]["id"]
        return [normalize_row(row) for row in rows]


def _type_name(column_type: Any) -> str:
    try:
        return str(column_type)
    except Exception:  # noqa: BLE001 - types that cannot compile without a dialect
        return type(column_type).__name__


class Recorder:
    """Runs steps and collects them into a characterization document."""

    def __init__(self, table: LogTable, api: Any, **header: Any) -> None:
        self.table = table
        self.api = api
        self.steps: list[dict[str, Any]] = []
        self.header = {"format": FORMAT, **header}

    def step(self, name: str, place: str, run: Callable[[], Any], **meta: Any) -> dict[str, Any]:
        """Run ``run()`` as the step ``name`` (numbered: ``007 name``) and record it.

        ``run`` may return ``result``, ``status``, ``headers`` and ``meta`` (merged into ``meta``).
        """
        before = self.probe()
        with capture() as captured:
            observed = run() or {}
        flush_pipeline()
        after = self.probe()
        step: dict[str, Any] = {"name": f"{len(self.steps):03d} {name}", "place": place}
        for field in ("status", "headers", "result"):
            if field in observed:
                step[field] = mask(observed[field])
        step["rows"] = self.table.new_rows()
        step["printed"] = captured["printed"]
        step["warnings"] = captured["warnings"]
        step["meta"] = {
            "global_context": mask(before["global_context"]),
            "debug": before["debug"] or after["debug"],
            **meta,
            **observed.get("meta", {}),
        }
        self.steps.append(step)
        return step

    def probe(self) -> dict[str, Any]:
        """Return the legacy module's process-wide state: its global context and the debug switch."""
        return {"global_context": dict(self.api._global_context), "debug": bool(self.api.should_log_debug())}

    def document(self, **extra: Any) -> dict[str, Any]:
        """Return the document: the header, ``schema`` of the log table and the steps."""
        return {**self.header, **extra, "table": self.table.name, "schema": self.table.schema(), "steps": self.steps}
