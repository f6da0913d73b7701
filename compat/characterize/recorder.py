"""Record one characterization step: run it, capture what it printed, flush, read the new log rows.

A *document* is the JSON a run produces: a header and a list of steps. Each step holds
what a user can observe, normalized (see ``normalize``): ``rows`` written to the log table,
``printed`` events, ``warnings``, ``result`` (a value returned or a response body),
``raised`` (what the step raised, as its outcome), ``status`` / ``headers`` /
``answered_by`` for requests, ``meta`` (what the allowed deltas need to know, never
compared on its own) and ``detail`` (for the reader, never compared).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import sys
import tempfile
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from compat.characterize.errors import KitError
from compat.characterize.normalize import mask, normalize_row, normalize_warnings, outcome, parse_printed

FORMAT = 2
FLUSH_TIMEOUT = 30.0


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
    """Reads the rows an app's log table gained since the last read.

    The table is looked up in every flask-sqlalchemy bind of the app (a log model with a
    ``__bind_key__`` lives in another database). ``since`` is the id after which rows are
    new (default: the current maximum, so the first read returns what comes next).
    """

    def __init__(self, app: Any, name: str | None = None, *, since: int | None = None) -> None:
        db = app.extensions.get("sqlalchemy")
        if db is None:
            raise KitError(
                f"the app {app.name!r} has no flask-sqlalchemy extension (app.extensions['sqlalchemy']): "
                "the legacy module writes through flask-sqlalchemy; call db.init_app(app) in the factory"
            )
        self.name = name or app.config.get("LOG_TABLE", "unified_logs")
        with app.app_context():
            engines = dict(db.engines)
            binds = [key for key, metadata in db.metadatas.items() if self.name in metadata.tables]
            self.engine = engines.get(binds[0] if binds else None, db.engine)
        where = self.engine.url.render_as_string(hide_password=True)
        try:
            exists = sa.inspect(self.engine).has_table(self.name)
        except sa.exc.SQLAlchemyError as exc:
            raise KitError(f"cannot reach the app's database {where}: {type(exc).__name__}: {exc.args[0] if exc.args else exc}") from None
        if not exists:
            raise KitError(
                f"the log table {self.name!r} does not exist in {where}: create it as the app does (migrations, "
                "db.create_all()) or pass --create-tables (db.create_all() before the first step)"
            )
        self.table = sa.Table(self.name, sa.MetaData(), autoload_with=self.engine)
        keys = list(self.table.primary_key.columns)
        self.id_column = keys[0] if len(keys) == 1 else self.table.c.get("id")
        if self.id_column is None:
            raise KitError(f"the log table {self.name!r} has no single primary key (nor an 'id' column) to read new rows by")
        self.last_id = self.max_id() if since is None else since
        self.last_id_at_start = since or 0
        """The highest row id before the app was loaded (0: an empty table, or not known without --database)."""

    def max_id(self) -> int:
        """Return the highest row id in the table (0 when empty)."""
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.max(self.id_column))).scalar() or 0

    def schema(self) -> dict[str, str]:
        """Return ``{column: type}`` of the table as the database reports it."""
        columns = sa.inspect(self.engine).get_columns(self.name)
        return {column["name"]: _type_name(column["type"]) for column in columns}

    def new_rows(self) -> list[dict[str, Any]]:
        """Return the rows added since the previous call, in id order, normalized."""
        query = sa.select(self.table).where(self.id_column > self.last_id).order_by(self.id_column)
        try:
            with self.engine.connect() as connection:
                rows = [dict(row) for row in connection.execute(query).mappings()]
        except sa.exc.SQLAlchemyError as exc:
            raise KitError(f"reading the log table {self.name!r} failed: {type(exc).__name__}: {exc.args[0] if exc.args else exc}") from None
        if rows:
            self.last_id = rows[-1][self.id_column.name]
        return [normalize_row({k: v for k, v in row.items() if k != self.id_column.name}) for row in rows]


def max_id_before_loading(database: str, table: str, engine_options: dict[str, Any] | None = None) -> int:
    """Return the highest id of ``table`` in ``database`` before the app is loaded (0: no table yet).

    ``engine_options`` are the app's ``SQLALCHEMY_ENGINE_OPTIONS`` the kit pins (a schema set
    through ``connect_args`` is then the one read).
    """
    engine = sa.create_engine(database, **(engine_options or {}))
    try:
        if not sa.inspect(engine).has_table(table):
            return 0
        reflected = sa.Table(table, sa.MetaData(), autoload_with=engine)
        keys = list(reflected.primary_key.columns)
        column = keys[0] if len(keys) == 1 else reflected.c.get("id")
        if column is None:
            return 0
        with engine.connect() as connection:
            return connection.execute(sa.select(sa.func.max(column))).scalar() or 0
    except sa.exc.SQLAlchemyError as exc:
        raise KitError(f"--database: cannot read {sa.engine.make_url(database).render_as_string(hide_password=True)}: {exc}") from None
    finally:
        engine.dispose()


def _type_name(column_type: Any) -> str:
    try:
        return str(column_type)
    except Exception:  # noqa: BLE001 - types that cannot compile without a dialect
        return type(column_type).__name__


class LegacyState:
    """The legacy module's process-wide state, seen through the old path (``api`` None: the path is gone).

    The global context found right after start-up is restored before every step, so that
    steps are independent: what one step bound into the legacy process-wide dict (the
    legacy leak between requests, a documented defect) does not reach the next step.
    """

    def __init__(self, api: Any | None) -> None:
        self.api = api
        self.startup = self._context()

    def _context(self) -> dict[str, Any] | None:
        try:
            return dict(self.api._global_context) if self.api is not None else None
        except Exception:  # noqa: BLE001 - a module without (a readable) _global_context
            return None

    def reset(self) -> None:
        """Restore the global context start-up left (nothing to do when it is unchanged)."""
        if self.startup is None or self._context() == self.startup:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context = self.api._global_context
            context.clear()
            context.update(self.startup)

    def probe(self) -> dict[str, Any]:
        """Return the global context and the debug switch (``should_log_debug()``) as they are now."""
        if self.api is None:
            return {"global_context": {}, "debug": False}
        try:
            debug = bool(self.api.should_log_debug())
        except Exception:  # noqa: BLE001
            debug = False
        return {"global_context": self._context() or {}, "debug": debug}


class Recorder:
    """Runs steps and collects them into a characterization document.

    A step's own exception (the program action's, the app's, a callable's) is the step's
    recorded outcome (``raised``: type and message) and the run goes on; only a
    :class:`KitError` (the kit cannot go on) stops it. Each step runs in an empty
    ``contextvars`` context, as a request in a new worker thread or greenlet does: what
    start-up bound in ContextVars is not seen, process-wide state is.
    """

    def __init__(self, table: LogTable, state: LegacyState, **header: Any) -> None:
        self.table = table
        self.state = state
        self.steps: list[dict[str, Any]] = []
        self.header = {"format": FORMAT, **header}
        self._names: Counter[str] = Counter()

    def step(self, name: str, kind: str, place: str, run: Callable[[], Any], **meta: Any) -> dict[str, Any]:
        """Run ``run()`` as the step ``name`` and record it; a repeated name gets `` #2``, `` #3``...

        ``run`` may return ``result``, ``status``, ``headers``, ``answered_by``, ``printed``
        (more text to parse as printed output), ``printed_events`` / ``warnings`` (already
        parsed), ``detail`` (kept, never compared) and ``meta`` (merged into ``meta``).
        """
        self._names[name] += 1
        if self._names[name] > 1:
            name = f"{name} #{self._names[name]}"
        self.state.reset()
        before = self.state.probe()
        with capture() as captured:
            try:
                observed = contextvars.Context().run(run) or {}
            except (KeyboardInterrupt, KitError):
                raise
            except BaseException as exc:  # noqa: BLE001 - the step's outcome, whatever it raised (SystemExit too)
                observed = {"raised": outcome(exc), "detail": {"raised_at": _where(exc)}}
        flush_pipeline()
        after = self.state.probe()
        step: dict[str, Any] = {"name": name, "kind": kind, "place": place}
        for key in ("raised", "status", "answered_by", "headers", "result"):
            if key in observed:
                step[key] = mask(observed[key]) if key != "raised" else observed[key]
        step["rows"] = self.table.new_rows()
        printed = {tuple(item) for item in captured["printed"] + list(observed.get("printed_events", []))}
        if observed.get("printed"):
            printed |= {tuple(item) for item in parse_printed(str(observed["printed"]))}
        step["printed"] = [list(item) for item in sorted(printed)]
        step["warnings"] = sorted(set(captured["warnings"]) | set(observed.get("warnings", [])))
        step["meta"] = {
            "global_context": mask(before["global_context"]),
            "debug": before["debug"] or after["debug"],
            **mask(meta),
            **mask(observed.get("meta", {})),
        }
        if observed.get("detail"):
            step["detail"] = mask(observed["detail"])
        self.steps.append(step)
        return step

    def document(self, **extra: Any) -> dict[str, Any]:
        """Return the document: the header, ``schema`` of the log table and the steps."""
        return {**self.header, **extra, "table": self.table.name, "schema": self.table.schema(), "steps": self.steps}


def _where(exc: BaseException) -> str | None:
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
