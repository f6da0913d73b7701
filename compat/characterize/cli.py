"""``python -m compat.characterize``: record the legacy API's behaviour in YOUR app, then compare after the switch.

::

    python -m compat.characterize record --app 'yourpkg:create_app' before.json    # before the switch
    python -m compat.characterize compare before.json                                # after it (records again)
    python -m compat.characterize compare before.json after.json                     # or compare two records

``record`` creates the app with the factory (or takes the app object), imports the old
module path (``--module``, default ``app.utils.structlog_config``) and runs the
characterization program through it: inside a request, a test request context, an app
context and outside both. After each step it flushes newlog (if in use) and reads the new
rows of the app's log table. Run it against a development or test database that nothing
else writes to: the rows it logs stay in the table.

Exit codes: 0 recorded / no differences beyond the allowed deltas, 1 differences, 2 a
problem to fix first (wrong ``--app``, no flask-sqlalchemy, no log table, unreadable file).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from compat.characterize.compare import compare
from compat.characterize.deltas import DELTAS
from compat.characterize.program import PLACES, available_actions
from compat.characterize.recorder import FORMAT, KitError, LogTable, Recorder, capture, flush_pipeline
from compat.characterize.runner import add_program_route, record_program
from compat.mapping import LEGACY_MODULE


def load_app(spec: str) -> Any:
    """Return the Flask app named by ``spec`` ('module:factory' is called without arguments, 'module:app' is used)."""
    from flask import Flask

    module_name, _, attribute = spec.partition(":")
    names = [module_name, *attribute.split(".")]
    if not module_name or not attribute or not all(part.isidentifier() for name in names for part in name.split(".")):
        raise KitError(
            f"--app {spec!r} is not 'package.module:factory': give the module that defines the app factory "
            "and its name, e.g. --app 'app:create_app' or --app 'wsgi:app'"
        )
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise KitError(
                f"--app {spec!r}: no module named {exc.name!r} on sys.path; run the command from the directory "
                "that contains your package (or set PYTHONPATH)"
            ) from None
        raise KitError(f"--app {spec!r}: importing {module_name!r} failed: {_one_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - the user's module: show what it raised
        raise KitError(f"--app {spec!r}: importing {module_name!r} failed: {_one_line(exc)}") from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise KitError(f"--app {spec!r}: module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if isinstance(target, Flask):
        return target
    if not callable(target):
        raise KitError(f"--app {spec!r}: {attribute!r} is neither a Flask app nor a factory that returns one")
    try:
        app = target()
    except Exception as exc:  # noqa: BLE001 - the user's factory: show what it raised
        raise KitError(f"--app {spec!r}: calling {attribute}() failed: {_one_line(exc)}") from None
    if not isinstance(app, Flask):
        raise KitError(f"--app {spec!r}: {attribute}() returned {type(app).__name__}, not a Flask app")
    return app


def _one_line(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    location = f" ({where.filename}:{where.lineno})" if where else ""
    return f"{type(exc).__name__}: {exc}{location}"


def record(spec: str, module: str, actions: list[str] | None = None, places: list[str] | None = None) -> dict[str, Any]:
    """Create the app, run the program through the old path ``module`` and return the document."""
    with capture():  # what the factory prints is not part of the record (nor of the report)
        app = load_app(spec)
        flush_pipeline()  # what the factory logged is written before the first step starts
    table = LogTable(app)
    try:
        api = importlib.import_module(module)
    except ImportError as exc:
        raise KitError(
            f"cannot import the legacy module path {module!r}: {_one_line(exc)}; pass --module with the dotted path "
            "your code imports it from (during the switch it must still resolve: compat stub or compat.install())"
        ) from None
    names = actions if actions is not None else available_actions(api)
    missing = sorted(set(names) - set(available_actions(api)))
    if missing:
        raise KitError(f"{module} lacks names the before-run used (actions {', '.join(missing)}); is it the same app?")
    places = places or list(PLACES)
    served_by = getattr(api, "__spec__", None)
    recorder = Recorder(
        table,
        api,
        app_spec=spec,
        legacy_module=module,
        served_by=getattr(served_by, "name", module),
        target=getattr(served_by, "name", module),
    )
    if "request" in places:
        add_program_route(app, api)
    record_program(recorder, app, api, names, places, app.test_client())
    flush_pipeline()
    return recorder.document(actions=names, places=places)


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise KitError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise KitError(f"{path} is not JSON ({exc}); give a file written by 'record'") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or "steps" not in document:
        raise KitError(f"{path} is not a characterization record (format {FORMAT}); give a file written by 'record'")
    return document


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m compat.characterize",
        description="Record what the legacy logging API does in your app before the switch; compare after it.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    record_parser = commands.add_parser("record", help="record the legacy API's behaviour in your app")
    record_parser.add_argument("--app", required=True, help="'package.module:create_app' (called) or 'module:app'")
    record_parser.add_argument("--module", default=LEGACY_MODULE, help=f"the old import path (default {LEGACY_MODULE})")
    record_parser.add_argument("out", type=Path, help="where to write the record, e.g. before.json")
    compare_parser = commands.add_parser("compare", help="compare a record with a new run (or a second record)")
    compare_parser.add_argument("before", type=Path, help="the record made before the switch")
    compare_parser.add_argument("after", type=Path, nargs="?", help="a second record; omitted: record now")
    compare_parser.add_argument("--app", help="override the --app stored in the before-record")
    compare_parser.add_argument("--module", help="override the module path stored in the before-record")
    compare_parser.add_argument("--save", type=Path, help="also write the new record here")
    compare_parser.add_argument("--deltas", action="store_true", help="list the allowed deltas with their reasons")
    args = parser.parse_args(argv)
    try:
        if args.command == "record":
            document = record(args.app, args.module)
            args.out.write_text(json.dumps(document, indent=1, sort_keys=True, default=str))
            rows = sum(len(step["rows"]) for step in document["steps"])
            print(f"recorded {len(document['steps'])} steps, {rows} log rows, through {document['served_by']} -> {args.out}")
            return 0
        before = _read(args.before)
        if args.after is not None:
            after = _read(args.after)
        else:
            after = record(
                args.app or before["app_spec"], args.module or before["legacy_module"], before["actions"], before["places"]
            )
            if args.save:
                args.save.write_text(json.dumps(after, indent=1, sort_keys=True, default=str))
        report = compare(before, after)
        print(f"before: served by {before.get('served_by')}; after: served by {after.get('served_by')}")
        print(report.format())
        if args.deltas:
            print("\nallowed deltas:")
            for delta in DELTAS:
                print(f"  {delta.name}: {delta.reason}")
        return 0 if report.ok else 1
    except KitError as exc:
        print(f"compat.characterize: error: {exc}", file=sys.stderr)
        return 2
