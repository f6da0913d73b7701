"""The command line: ``python -m codemods.apply [options] PATH...`` (see ``codemods.apply``)."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codemods import files
from codemods.display import Display
from codemods.fixers import RULES
from codemods.model import Job, Options, Outcome
from codemods.runner import Interrupted, RunResult, Signals, run
from codemods.profile import locate as locate_profile
from codemods.startup import startup_functions
from compat.mapping import LEGACY_MODULE

_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what a shell reports for a command whose output pipe closed."""


def plural(n: int, word: str) -> str:
    """``1 file``, ``2 files``, ``1,234 files``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class _Parser(argparse.ArgumentParser):
    """Lists the rules with their summaries in ``--help`` only (loading the rules imports libcst)."""

    def format_help(self) -> str:
        """The help text, with the rules and their summaries."""
        from codemods.fixers import load  # noqa: PLC0415  (only --help needs the summaries)

        rules = "\n".join(f"  {name:<15} {fixer.summary}" for name, fixer in load().items())
        self.epilog = f"rules (in the order they run):\n{rules}\n\n{self.epilog}"
        return super().format_help()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m codemods.apply",
        description="Rewrite Python files from the legacy structlog_config module to newlog.",
        epilog="exit codes:\n"
        "  0    nothing to change\n"
        "  1    files changed (with --check/--diff: would change)\n"
        "  2    errors: a file could not be read, parsed or written (path:line:col: message or\n"
        "       path: reason; the other files are still processed), or a usage error\n"
        "  130  interrupted (Ctrl-C or SIGTERM): the summary says what was written\n\n"
        "findings (path:line: reason [rule]) are what the rules left as is for a human to review;\n"
        "they do not change the exit code.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="files or folders to rewrite (usually the project root)"
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    parser.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    parser.add_argument("--only", action="append", default=[], metavar="RULE", help="run only this rule (repeatable)")
    parser.add_argument("--skip", action="append", default=[], metavar="RULE", help="do not run this rule (repeatable)")
    parser.add_argument(
        "--exclude",
        action="append",
        default=None,
        metavar="PATTERN",
        help="files/folders to leave out, replacing the default list (as in ruff: a name or glob matches at any "
        "depth, a pattern with a slash is relative to the current folder); "
        f"default: {', '.join(files.DEFAULT_EXCLUDE)}",
    )
    parser.add_argument(
        "--extend-exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="files/folders to leave out in addition to the default list (repeatable)",
    )
    parser.add_argument(
        "--no-respect-gitignore", action="store_true", help="also process files the .gitignore files ignore"
    )
    parser.add_argument(
        "--module",
        default=None,
        metavar="DOTTED",
        help=f"the legacy module's dotted path (default: {LEGACY_MODULE})",
    )
    parser.add_argument(
        "--delete-legacy",
        action="store_true",
        help="delete the legacy module instead of writing a stub (refused while a file still imports it)",
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N", help="worker processes (default: CPU count)"
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the diff: auto (when stdout is a terminal), always, never",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display and no line per changed file")
    return parser


def _rules(parser: argparse.ArgumentParser, only: Sequence[str], skip: Sequence[str]) -> tuple[str, ...]:
    valid = ", ".join(RULES)
    for name in [*only, *skip]:
        if name not in RULES:
            parser.error(f"unknown rule {name!r}; valid rules: {valid}")
    chosen = [name for name in RULES if (not only or name in only) and name not in skip]
    if not chosen:
        parser.error(f"no rule left to run; valid rules: {valid}")
    return tuple(chosen)


@dataclass
class Report:
    """What the run did, for the summary."""

    check: bool
    changed: int = 0
    per_rule: dict[str, list[int]] = field(default_factory=dict)
    findings: int = 0
    errors: list[str] = field(default_factory=list)
    examined: int = 0
    something_imports: bool = False
    importers: list[str] = field(default_factory=list)
    deferred: list[Outcome] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        """Count a changed file and its edits per rule."""
        self.changed += 1
        for rule, n in outcome.counts.items():
            edits, in_files = self.per_rule.setdefault(rule, [0, 0])
            self.per_rule[rule] = [edits + n, in_files + 1]


class _Handler:
    """Takes each outcome in the parent: writes it (unless --check/--diff) and prints what happened."""

    def __init__(self, display: Display, report: Report, *, write: bool, roots: Sequence[str], quiet: bool) -> None:
        self.display = display
        self.report = report
        self.write = write
        self.roots = roots
        self.quiet = quiet

    def __call__(self, outcome: Outcome) -> None:
        report = self.report
        report.examined += outcome.examined
        if outcome.error:
            self._findings(outcome)
            self.error(outcome.error)
            return
        if outcome.is_legacy or outcome.changed or outcome.findings or outcome.mentions_module:
            report.something_imports = True
        report.importers += [f"{outcome.path}:{line}" for line in outcome.importers]
        if outcome.deleted:
            report.deferred.append(outcome)
            return
        if outcome.changed and self.write:
            try:
                self._write(outcome)
            except files.NotWritten as error:
                self.error(str(error))
                return
            except OSError as error:
                self.error(f"{outcome.path}: cannot write the file: {error.strerror or error}")
                return
        if outcome.changed:
            self._changed(outcome, "would change" if not self.write else "")
        self._findings(outcome)

    def _write(self, outcome: Outcome) -> None:
        assert outcome.fingerprint is not None
        if outcome.new_file is not None and outcome.new_file_data is not None:
            target = os.path.join(os.path.dirname(outcome.path), outcome.new_file.path)
            files.create(target, outcome.new_file_data, self.roots)
        if outcome.new_data is not None:
            files.replace(outcome.path, outcome.new_data, outcome.fingerprint, self.roots)

    def _changed(self, outcome: Outcome, verb: str) -> None:
        self.report.count(outcome)
        details = ", ".join(f"{rule} {n}" for rule, n in outcome.counts.items())
        if outcome.new_file is not None:
            created = os.path.join(os.path.dirname(outcome.path), outcome.new_file.path)
            details += f"; {'would create' if not self.write else 'created'} {created}"
        if not self.quiet:
            self.display.line(f"{outcome.path}: {verb + ': ' if verb else ''}{details}")
        if outcome.diff:
            self.display.diff(outcome.diff)

    def _findings(self, outcome: Outcome) -> None:
        for finding in outcome.findings:
            self.display.line(finding)
        self.report.findings += len(outcome.findings)

    def error(self, message: str) -> None:
        """Report an error (it makes the exit code 2)."""
        self.report.errors.append(message)
        self.display.line(message)

    def finish_deletions(self, module: str) -> None:
        """Delete (or, in check mode, count) the legacy file unless some file still imports it."""
        if not self.report.deferred:
            return
        if self.report.importers:
            for outcome in self.report.deferred:
                self.error(
                    f"{outcome.path}: not deleted: {plural(len(self.report.importers), 'import')} of {module} "
                    "remain (rewrite them, or migrate the whole project: pass its root):"
                )
            for where in self.report.importers:
                self.display.line(f"  {where}: imports {module}")
            return
        for outcome in self.report.deferred:
            if self.write:
                assert outcome.fingerprint is not None
                try:
                    if outcome.new_file is not None and outcome.new_file_data is not None:  # the profile module first
                        target = os.path.join(os.path.dirname(outcome.path), outcome.new_file.path)
                        files.create(target, outcome.new_file_data, self.roots)
                    files.remove(outcome.path, outcome.fingerprint)
                except (files.NotWritten, OSError) as error:
                    self.error(str(error) if isinstance(error, files.NotWritten) else f"{outcome.path}: {error}")
                    continue
            verb = "would delete" if not self.write else "deleted"
            self.report.count(outcome)
            if not self.quiet:
                self.display.line(
                    f"{outcome.path}: {verb}: " + ", ".join(f"{r} {n}" for r, n in outcome.counts.items())
                )
            if outcome.diff:
                self.display.diff(outcome.diff)


def _summary(report: Report, *, scanned: int, interrupted: bool, not_done: int) -> str:
    verb = "would change" if report.check else "changed"
    rules = ", ".join(
        f"{rule}: {plural(edits, 'edit')} in {plural(n, 'file')}" for rule, (edits, n) in report.per_rule.items() if n
    )
    text = (
        f"{plural(report.changed, 'file')} {verb}"
        + (f" ({rules})" if rules else "")
        + f"; {plural(report.findings, 'finding')} to review; {plural(len(report.errors), 'error')}; "
        f"{plural(scanned, 'file')} scanned, {report.examined:,} examined"
    )
    if interrupted:
        text = f"interrupted: {text}; {plural(not_done, 'file')} not processed"
    return text


def _closest_modules(paths: Sequence[files.Found], module: str) -> list[str]:
    """Imported module paths that look like ``module`` (for a ``--module`` typo)."""
    seen: set[str] = set()
    pattern = re.compile(rb"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import|import[ \t]+([\w.]+))", re.MULTILINE)
    for found in paths:
        try:
            data = Path(found.path).read_bytes()
        except OSError:
            continue
        for match in pattern.finditer(data):
            seen.add((match.group(1) or match.group(2)).decode("ascii", "replace"))
    return difflib.get_close_matches(module, sorted(seen), n=3, cutoff=0.6)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    rules = _rules(parser, args.only, args.skip)
    module = args.module or LEGACY_MODULE
    if not _DOTTED.match(module):
        parser.error(f"--module {module!r} is not a dotted module path (like {LEGACY_MODULE})")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    for pattern in args.exclude or ():
        if pattern in RULES and not os.path.exists(pattern):
            parser.error(
                f"--exclude takes paths and globs (as in ruff); to leave out the rule {pattern!r} use --skip {pattern}"
            )
    write = not (args.check or args.diff)
    with Signals() as signals:
        try:
            return _migrate(args, rules, module, write, signals)
        except BrokenPipeError:  # the reader went away (``--diff | head``): stop quietly, as other tools do
            devnull = os.open(os.devnull, os.O_WRONLY)
            for stream in (sys.stdout, sys.stderr):
                os.dup2(devnull, stream.fileno())
            return EXIT_BROKEN_PIPE


def _migrate(args: argparse.Namespace, rules: tuple[str, ...], module: str, write: bool, signals: Signals) -> int:
    """Find the files, run the rules over them, write, report; a signal anywhere ends it with exit 130."""
    report = Report(check=not write, per_rule={name: [0, 0] for name in rules})
    display = Display(total=0, color=args.color, quiet=True)
    found: list[files.Found] = []
    result = RunResult(0, interrupted=False)
    try:
        search = files.Search()
        found = list(
            files.find_files(
                args.paths,
                exclude=files.DEFAULT_EXCLUDE if args.exclude is None else args.exclude,
                extend_exclude=args.extend_exclude,
                respect_gitignore=not args.no_respect_gitignore,
                search=search,
            )
        )
        display = Display(total=len(found), color=args.color, quiet=args.quiet)
        for message in search.errors:
            report.errors.append(f"error: {message}")
            display.line(f"error: {message}")
        for note in search.notes:
            display.line(note)

        analyse = "global-context" in rules
        # the profile module is decided once, before any worker starts (it reads only the legacy module)
        profile = locate_profile(found, module) if "imports" in rules or "legacy-file" in rules else None
        options = Options(
            module=module,
            delete_legacy=args.delete_legacy,
            startup_functions=None if analyse else frozenset(),
            profile_module=profile,
        )
        jobs = [Job(f.path, f.root, rules, options, args.diff) for f in found]

        def full_options() -> Options:
            """The options with what runs at start-up (it reads the tree: the workers start meanwhile)."""
            return dataclasses.replace(options, startup_functions=startup_functions(found, module))

        handler = _Handler(display, report, write=write, roots=search.roots, quiet=args.quiet)
        with display:
            result = run(
                jobs,
                args.jobs,
                handler,
                options=full_options if analyse else None,
                preload=not display.live,  # on a terminal the display comes first, in a pipe the first line
                on_started=display.start,
                on_progress=display.advance,
                signals=signals,
            )
            display.stop()
            if result.failure is not None:
                handler.error(f"error: {result.failure}: {plural(len(found) - result.done, 'file')} not processed")
            elif not result.interrupted:
                with signals.critical():
                    handler.finish_deletions(module)
    except Interrupted:
        display.stop()
        result = RunResult(result.done, interrupted=True)
    if not result.interrupted and args.module and found and not report.something_imports:
        hint = _closest_modules(found, module)
        display.line(
            f"note: no file under {', '.join(args.paths)} imports {module} (--module), and none is that module: "
            "nothing to migrate" + (f"; did you mean {' or '.join(hint)}?" if hint else "; check the dotted path")
        )
    display.line(
        _summary(report, scanned=len(found), interrupted=result.interrupted, not_done=len(found) - result.done)
    )
    if result.interrupted:
        return EXIT_INTERRUPTED
    if report.errors:
        return 2
    return 1 if report.changed else 0
