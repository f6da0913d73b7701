"""``python -m compat.characterize``: record what YOUR app's logging does before the switch, compare after it.

::

    python -m compat.characterize record --app 'yourpkg:create_app' --database sqlite:////tmp/before.db before.json
    python -m compat.characterize compare before.json --database sqlite:////tmp/after.db   # records again, compares
    python -m compat.characterize compare before.json after.json                             # or compare two records
    python -m compat.characterize scenario --app 'yourpkg:create_app' -o characterize.toml   # a starter scenario
    python -m compat.characterize deltas                                                     # every allowed delta

``record`` loads the app as ``flask --app`` does (with ``--config`` / ``--database`` pinned in
``app.config`` from its creation on, CSRF protection off for the kit's client), then records
start-up, the legacy-API program through the old module path (``--module``; in a request, a
test request context, an app context and outside both) and the scenario (``--scenario``
file; without one, the starter: a GET of every route without arguments). Every step stores
what a user observes: responses (status, body, selected headers), log rows, printed events,
warnings, return values, and what it raised.

Exit codes: 0 recorded / no differences beyond the allowed deltas; 1 differences (compare);
2 a problem to fix first (a wrong option, the app does not load, no log table, a request step
answered by a guard such as CSRF or login_required, an unreadable record); 3 an internal
error of the kit (a bug: please report the traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from compat.characterize.compare import compare
from compat.characterize.errors import KitError
from compat.characterize.loading import parse_setting
from compat.characterize.program import PLACES
from compat.characterize.recorder import FORMAT
from compat.characterize.report import DEFAULT_TEXT_LIMIT, format_text, to_json
from compat.characterize.runner import Run, RunSettings, record
from compat.characterize.scenario import Scenario, Step, dump, load
from compat.mapping import LEGACY_MODULE

EXIT_OK, EXIT_DIFFERENCES, EXIT_PROBLEM, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
PROG = "python -m compat.characterize"


def _add_target_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Options that say how to load the app and where it writes (record, compare, scenario)."""
    parser.add_argument(
        "--app", required=defaults, help="the app as 'flask --app' takes it: 'pkg:create_app', 'pkg:app', 'wsgi.py'..."
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="pin app.config[KEY] from the app's creation on (KEY:=JSON for a typed value); repeatable",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="a throw-away database: pins SQLALCHEMY_DATABASE_URI (and sets DATABASE_URL); checked after loading",
    )
    parser.add_argument("--create-tables", action="store_true", default=None, help="run db.create_all() before the first step")
    parser.add_argument("--login", metavar="HOOK", help="'flask-login' (the session holds the user id) or 'pkg.module:function(client, user)'")
    parser.add_argument("--user", metavar="USER", help="the user logged-in steps run as (what the login hook takes)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Record what the legacy logging API and your app do before the switch; compare after it.",
        epilog="Exit codes: 0 ok, 1 differences, 2 a problem to fix first, 3 a bug of the kit, 130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    rec = commands.add_parser("record", help="record the app's behaviour (before the switch)")
    _add_target_options(rec, defaults=True)
    rec.add_argument("--module", default=LEGACY_MODULE, help=f"the old import path (default {LEGACY_MODULE})")
    rec.add_argument("--scenario", type=Path, help="a scenario file (TOML) of the app's requests, CLI commands and callables")
    rec.add_argument("--no-starter", action="store_true", help="without --scenario: do not request the URL map's routes")
    rec.add_argument("--skip", action="append", default=[], metavar="ACTION", help="skip program actions (name or glob); repeatable")
    rec.add_argument("--no-program", action="store_true", help="do not run the legacy-API program (scenario only)")
    rec.add_argument("out", type=Path, help="where to write the record, e.g. before.json")

    cmp = commands.add_parser("compare", help="compare a record with a new run (or with a second record)")
    cmp.add_argument("before", type=Path, help="the record made before the switch")
    cmp.add_argument("after", type=Path, nargs="?", help="a second record; omitted: record now, with the before-record's steps")
    _add_target_options(cmp, defaults=False)
    cmp.add_argument("--module", help="override the old module path stored in the before-record")
    cmp.add_argument("--save", type=Path, help="also write the new record here")
    cmp.add_argument("--format", choices=("text", "json"), default="text", help="the report's format (json: for tools)")
    cmp.add_argument("--deltas", action="store_true", help="also list the allowed deltas that applied, with counts and reasons")
    cmp.add_argument("--limit", type=int, help=f"groups shown per list (text default {DEFAULT_TEXT_LIMIT}, json: all; 0: all)")

    sce = commands.add_parser("scenario", help="write a starter scenario from the app's URL map")
    _add_target_options(sce, defaults=True)
    sce.add_argument("-o", "--output", type=Path, help="the file to write (default: stdout); an existing file is not overwritten")

    commands.add_parser("deltas", help="list every allowed delta with its reason")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except KitError as exc:
        print(f"compat.characterize: error: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        print("compat.characterize: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # noqa: BLE001 - a bug of the kit: say so, with what is needed to fix it
        print(
            "compat.characterize: internal error - this is a bug of the kit, not of your app; please report it with this traceback:",
            file=sys.stderr,
        )
        traceback.print_exc()
        return EXIT_BUG


def _pins(args: argparse.Namespace) -> dict[str, Any]:
    return dict(parse_setting(text) for text in args.config)


def _record(args: argparse.Namespace) -> int:
    scenario = load(args.scenario) if args.scenario else None
    settings = RunSettings(
        app=args.app,
        module=args.module,
        scenario=scenario,
        starter=not args.no_starter,
        login=args.login,
        user=args.user,
        skip=args.skip,
        program=not args.no_program,
        pins=_pins(args),
        database=args.database,
        create_tables=bool(args.create_tables),
    )
    run = record(settings)
    _write(args.out, run.document)
    _print_record_summary(run, args.out)
    if run.problems:
        _print_problems(run.problems, "the record is written but unusable: compare refuses it until these steps reach their views")
        return EXIT_PROBLEM
    return EXIT_OK


def _print_record_summary(run: Run, out: Path) -> None:
    document = run.document
    steps = document["steps"]
    rows = sum(len(step["rows"]) for step in steps)
    kinds: dict[str, int] = {}
    for step in steps:
        kinds[step["kind"]] = kinds.get(step["kind"], 0) + 1
    raised = [step for step in steps if "raised" in step]
    served = document.get("served_by") or "nothing (old path not imported)"
    print(
        f"recorded {len(steps)} steps ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), {rows} log rows, "
        f"old path served by {served} -> {out}"
    )
    if document["settings"].get("rows_before"):
        print(
            f"warning: the log table already held rows (ids up to {document['settings']['rows_before']}) before this run: the "
            "database is not empty, and what earlier runs left there can change what the steps answer (give an empty --database)"
        )
    if document.get("skipped"):
        print(f"skipped actions: {', '.join(document['skipped'])}")
    for note in document["guards"]["csrf_off"]:
        print(f"CSRF off for the kit's client: {note}")
    if document["guards"]["config_writes_ignored"]:
        print(f"pinned settings the app tried to overwrite (kept): {', '.join(sorted(document['guards']['config_writes_ignored']))}")
    if raised:
        print(f"{len(raised)} step(s) raised (recorded as their outcome):")
        for step in raised[:10]:
            print(f"  {step['name']}: {step['raised']['type']}: {step['raised']['message'][:200]}")
        if len(raised) > 10:
            print(f"  ... and {len(raised) - 10} more")


def _print_problems(problems: list[str], headline: str) -> None:
    print(f"compat.characterize: error: {len(problems)} step(s) did not reach what they characterize; {headline}:", file=sys.stderr)
    for problem in problems[:50]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > 50:
        print(f"  ... and {len(problems) - 50} more", file=sys.stderr)


def _write(path: Path, document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False)
    try:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        raise KitError(f"cannot write {path}: {exc.strerror or exc}") from None


def read_record(path: Path, *, after: bool = False) -> dict[str, Any]:
    """Return the record in ``path``; :class:`KitError` if it is not a usable record of this kit.

    A before-record must have no step answered by a guard it does not allow; in an ``after``
    record such steps are what the comparison reports.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KitError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise KitError(f"{path} is not JSON ({exc}); give a file written by 'record'") from None
    if not isinstance(document, dict) or "steps" not in document or "format" not in document:
        raise KitError(f"{path} is not a characterization record; give a file written by '{PROG} record'")
    if document["format"] != FORMAT:
        raise KitError(f"{path} was written by another version of the kit (format {document['format']}, this one reads {FORMAT}): record again")
    if document.get("problems") and not after:
        raise KitError(
            f"{path} records {len(document['problems'])} step(s) answered by a guard instead of their view (first: "
            f"{document['problems'][0]}): fix the record first (see '{PROG} record')"
        )
    return document


def _compare(args: argparse.Namespace) -> int:
    before = read_record(args.before)
    if args.after is not None:
        after = read_record(args.after, after=True)
    else:
        run = record(_replay_settings(before, args))
        after = run.document
        if args.save:
            _write(args.save, after)
    report = compare(before, after)
    if after.get("problems"):
        shown = "; ".join(problem.split(" - ", 1)[0] for problem in after["problems"][:3])
        more = f" (and {len(after['problems']) - 3} more)" if len(after["problems"]) > 3 else ""
        report.notes.append(f"{len(after['problems'])} step(s) no longer reach their view after the switch: {shown}{more}")
    if args.format == "json":
        print(json.dumps({"before": _origin(before), "after": _origin(after), **to_json(report, limit=args.limit or None)}, indent=1, ensure_ascii=False))
    else:
        print(f"before: old path served by {before.get('served_by')}; after: served by {after.get('served_by')}")
        limit = DEFAULT_TEXT_LIMIT if args.limit is None else args.limit
        print(format_text(report, limit=limit or None, show_deltas=args.deltas))
    return EXIT_OK if report.ok else EXIT_DIFFERENCES


def _origin(document: dict[str, Any]) -> dict[str, Any]:
    return {"app": document.get("app_spec"), "served_by": document.get("served_by"), "steps": len(document["steps"])}


def _replay_settings(before: dict[str, Any], args: argparse.Namespace) -> RunSettings:
    stored = before.get("settings") or {}
    scenario = Scenario.from_json(before.get("scenario") or {})
    pins = {**stored.get("pins", {}), **_pins(args)}
    database = args.database
    if database is None and stored.get("database"):
        raise KitError(
            f"the before-record ran on --database {stored['database']}: give compare an empty database of its own with "
            "--database (replaying the steps on the data the first run left would change what they answer)"
        )
    return RunSettings(
        app=args.app or before["app_spec"],
        module=args.module or before["legacy_module"],
        login=args.login or scenario.login,
        user=args.user or scenario.user,
        program=bool(before.get("program", True)),
        actions=list(before.get("actions") or []),
        places=list(before.get("places") or PLACES),
        variant=before.get("variant") or {},
        steps=list(scenario.steps),
        pins=pins,
        database=database,
        create_tables=bool(stored.get("create_tables")) if args.create_tables is None else args.create_tables,
        old_path_may_be_gone=True,
    )


def _scenario(args: argparse.Namespace) -> int:
    from compat.characterize.loading import load_app
    from compat.characterize.places import ENDPOINT
    from compat.characterize.recorder import capture
    from compat.characterize.scenario import starter

    if args.login and not args.user:
        raise KitError("--login needs --user (the user the logged-in steps run as)")
    if args.output is not None and args.output.exists():
        raise KitError(f"{args.output} exists: give another --output (the kit does not overwrite a team's scenario)")
    with capture():
        app, _ = load_app(args.app, _pins(args), args.database)
    steps: tuple[Step, ...] = starter(app, args.user if args.login else None, skip_endpoints=frozenset({ENDPOINT}))
    text = dump(steps, login=args.login, user=args.user, app_spec=args.app)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {len(steps)} steps to {args.output}")
    return EXIT_OK


def _deltas(args: argparse.Namespace) -> int:
    from compat.characterize.deltas import DELTAS

    for item in DELTAS:
        print(f"{item.name}{' (client-visible)' if item.client_visible else ''}: {item.reason}")
    return EXIT_OK


_COMMANDS = {"record": _record, "compare": _compare, "scenario": _scenario, "deltas": _deltas}
