"""Migrate Python files off the legacy ``structlog_config`` module: ``python -m codemods.apply PATH...``.

PATHs are files or folders (searched recursively for ``*.py``; ``.git``, virtualenvs - a folder
holding ``pyvenv.cfg``, ``venv``, ``.venv`` -, ``build``, ``dist``, ``__pycache__``,
``node_modules`` and ``site-packages`` folders are skipped). Files are rewritten in place
unless ``--check`` or ``--diff`` is given.

Exit codes:
  0  nothing to change
  1  files were changed (with --check / --diff: would be changed)
  2  errors: a file could not be read, decoded or parsed (reported as path:line:col: message
     and left untouched; the other files are still processed), or a usage error

On stderr: one line per changed file with the edits per rule, the findings the rules left for
review (``path:line: reason [rule]``: code they could not rewrite safely and left as it is;
findings do not change the exit code), errors, and a summary per rule.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import os
import re
import stat
import sys
import tempfile
import tokenize
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from codemods._engine import FileInfo, Options, fix_source
from codemods.fixers import FIXERS
from compat.mapping import LEGACY_MODULE

SKIP_DIRS = frozenset({".git", "venv", ".venv", "build", "dist", "__pycache__", "node_modules", "site-packages"})
"""Folder names never searched (a folder holding ``pyvenv.cfg`` is skipped too)."""

_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class Job:
    """One file to process."""

    path: str
    data: bytes
    info: FileInfo
    rules: tuple[str, ...]
    options: Options
    write: bool
    diff: bool


@dataclass
class Outcome:
    """What happened to one file."""

    path: str
    changed: bool = False
    deleted: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    error: str | None = None
    diff: str = ""


# -- finding the files --------------------------------------------------------------------------------


def iter_python_files(root: Path) -> Iterator[Path]:
    """``*.py`` files under ``root`` (a file is yielded as is), skipping ``SKIP_DIRS`` and virtualenvs."""
    if not root.is_dir():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        for filename in sorted(filenames):
            if filename.endswith(".py"):
                yield Path(dirpath, filename)


def file_info(path: Path, root: Path, options: Options) -> FileInfo:
    """Where ``path`` sits: its dotted name from the ``__init__.py`` files above it and from ``root``.

    The file is the legacy module when either name (or the one relative to ``root`` without a
    leading ``src``) is ``options.module``.
    """
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        if folder.parent == folder:
            break
        folder = folder.parent
    by_packages = ".".join(parts)
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        relative = Path(path.name)
    rel_parts = list(relative.with_suffix("").parts)
    if rel_parts and rel_parts[-1] == "__init__":
        rel_parts.pop()
    by_root = ".".join(rel_parts)
    without_src = ".".join(rel_parts[1:]) if rel_parts[:1] == ["src"] else by_root
    candidates = [c for c in (by_packages, by_root, without_src) if c]
    module_name = by_packages if "." in by_packages or (is_package and by_packages) else (without_src or by_packages)
    return FileInfo(
        path=str(path),
        module_name=module_name or None,
        is_package=is_package,
        is_legacy=options.module in candidates,
    )


# -- one file -------------------------------------------------------------------------------------------


def _split_lines(text: str) -> list[str]:
    lines = re.findall(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$", text)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _diff(path: str, old: str, new: str | None) -> str:
    return "".join(
        difflib.unified_diff(
            _split_lines(old), _split_lines(new or ""), fromfile=path, tofile=path if new is not None else "/dev/null"
        )
    )


def write_atomic(path: str, data: bytes) -> None:
    """Replace the file's content through a temporary file in the same folder, keeping its mode."""
    real = os.path.realpath(path)
    mode = stat.S_IMODE(os.stat(real).st_mode)
    folder, name = os.path.split(real)
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".codemods-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _decode(data: bytes) -> tuple[str, str]:
    """The text and encoding of Python source bytes (PEP 263 declaration or BOM, default UTF-8)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def _position_of(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def _syntax_error(text: str, path: str, error: cst.ParserSyntaxError) -> str:
    """``line:col: message`` for a file libcst cannot parse, in Python's own words when Python agrees."""
    try:
        compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        return f"{python_error.lineno or 1}:{python_error.offset or 1}: {python_error.msg}; file left unchanged"
    where = f"{error.editor_line}:{error.editor_column}"
    return f"{where}: libcst cannot parse this file ({error.message}); file left unchanged"


def process(job: Job) -> Outcome:
    """Rewrite one file (or, in check/diff mode, tell what would change)."""
    outcome = Outcome(job.path)
    try:
        text, encoding = _decode(job.data)
    except SyntaxError as error:
        outcome.error = f"{job.path}:{error.lineno or 1}:1: {error.msg}"
        return outcome
    except UnicodeDecodeError as error:
        line, column = _position_of(job.data, error.start)
        outcome.error = f"{job.path}:{line}:{column}: cannot decode the file: {error.reason}"
        return outcome
    fixers = [FIXERS[name] for name in job.rules]
    try:
        result = fix_source(text, job.info, fixers, job.options)
    except cst.ParserSyntaxError as error:
        outcome.error = f"{job.path}:{_syntax_error(text, job.path, error)}"
        return outcome
    except Exception as error:  # noqa: BLE001  (one odd file must not stop the run)
        outcome.error = f"{job.path}:1:1: internal error, file left unchanged: {type(error).__name__}: {error}"
        return outcome
    outcome.findings = [str(finding) for finding in result.findings]
    if result.delete:
        outcome.changed = outcome.deleted = True
        outcome.counts = result.counts
        if job.diff:
            outcome.diff = _diff(job.path, text, None)
        if job.write:
            os.unlink(job.path)
        return outcome
    if result.source is None:
        return outcome
    try:
        new_data = result.source.encode(encoding)
    except UnicodeEncodeError as error:
        outcome.error = f"{job.path}:1:1: the rewritten file cannot be encoded as {encoding}: {error.reason}"
        return outcome
    if new_data == job.data:
        return outcome
    outcome.changed = True
    outcome.counts = result.counts
    if job.diff:
        outcome.diff = _diff(job.path, text, result.source)
    if job.write:
        try:
            write_atomic(job.path, new_data)
        except OSError as error:
            outcome.error = f"{job.path}:1:1: cannot write the file: {error}"
            outcome.changed = False
    return outcome


# -- the command line -----------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    rules = "\n".join(f"  {name:<15} {fixer.summary}" for name, fixer in FIXERS.items())
    parser = argparse.ArgumentParser(
        prog="python -m codemods.apply",
        description="Rewrite Python files from the legacy structlog_config module to newlog.",
        epilog=f"rules (in the order they run):\n{rules}\n\n"
        "exit codes:\n"
        "  0  nothing to change\n"
        "  1  files changed (with --check/--diff: would change)\n"
        "  2  errors: a file could not be read or parsed (path:line:col: message; the other\n"
        "     files are still processed), or a usage error\n\n"
        "findings (path:line: reason [rule]) are what the rules left as is for a human to review;\n"
        "they do not change the exit code.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to rewrite")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    parser.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    parser.add_argument("--only", action="append", default=[], metavar="RULE", help="run only this rule (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="RULE", help="skip this rule (repeatable)")
    parser.add_argument(
        "--module",
        default=LEGACY_MODULE,
        metavar="DOTTED",
        help=f"the legacy module's dotted path (default: {LEGACY_MODULE})",
    )
    parser.add_argument(
        "--delete-legacy", action="store_true", help="delete the legacy module instead of writing a stub"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N", help="worker processes (default: CPU count)"
    )
    return parser


def _rules(parser: argparse.ArgumentParser, only: Sequence[str], exclude: Sequence[str]) -> tuple[str, ...]:
    valid = ", ".join(FIXERS)
    for name in [*only, *exclude]:
        if name not in FIXERS:
            parser.error(f"unknown rule {name!r}; valid rules: {valid}")
    chosen = [name for name in FIXERS if (not only or name in only) and name not in exclude]
    if not chosen:
        parser.error(f"no rule left to run; valid rules: {valid}")
    return tuple(chosen)


def _triggers(rules: Iterable[str], options: Options) -> tuple[bytes, ...]:
    return tuple({trigger.encode() for name in rules for trigger in FIXERS[name].triggers(options)})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    rules = _rules(parser, args.only, args.exclude)
    if not _DOTTED.match(args.module):
        parser.error(f"--module {args.module!r} is not a dotted module path (like {LEGACY_MODULE})")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    options = Options(module=args.module, delete_legacy=args.delete_legacy)
    triggers = _triggers(rules, options)
    write = not (args.check or args.diff)

    errors: list[str] = []
    scanned: list[Path] = []
    found = _discover(args.paths, triggers, rules, options, write, args.diff, errors, scanned)
    outcomes = _run(found, args.jobs)
    return _report(outcomes, errors, len(scanned), len(outcomes), rules, check=not write)


def _discover(
    paths: Sequence[str],
    triggers: tuple[bytes, ...],
    rules: tuple[str, ...],
    options: Options,
    write: bool,
    diff: bool,
    errors: list[str],
    scanned: list[Path],
) -> Iterator[Job]:
    """The files worth parsing: they contain a trigger word of a rule, or are the legacy module."""
    seen: set[str] = set()
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            errors.append(f"{raw}:1:1: no such file or folder")
            continue
        base = root if root.is_dir() else Path.cwd()
        for path in iter_python_files(root):
            key = os.path.abspath(path)
            if key in seen:
                continue
            seen.add(key)
            scanned.append(path)
            try:
                data = path.read_bytes()
            except OSError as error:
                errors.append(f"{path}:1:1: cannot read the file: {error.strerror or error}")
                continue
            triggered = any(trigger in data for trigger in triggers)
            if triggered or options.module_last in (path.stem, path.parent.name):
                info = file_info(path, base, options)
                if triggered or info.is_legacy:
                    yield Job(str(path), data, info, rules, options, write, diff)


_BATCH = 4
"""Files per task sent to a worker process."""


def _run(jobs: Iterable[Job], workers: int) -> list[Outcome]:
    """Process the jobs, in worker processes when ``workers`` > 1 (started once a second job shows up,
    while the folders are still being searched)."""
    if workers <= 1:
        return [process(job) for job in jobs]
    pending: list[Job] = []
    futures = []
    pool: ProcessPoolExecutor | None = None
    try:
        for job in jobs:
            pending.append(job)
            if pool is None and len(pending) >= 2:
                pool = ProcessPoolExecutor(max_workers=workers)
            if pool is not None and len(pending) >= _BATCH:
                futures.append(pool.submit(_process_batch, pending))
                pending = []
        if pool is None:
            return [process(job) for job in pending]
        if pending:
            futures.append(pool.submit(_process_batch, pending))
        return [outcome for future in futures for outcome in future.result()]
    finally:
        if pool is not None:
            pool.shutdown()


def _process_batch(jobs: Sequence[Job]) -> list[Outcome]:
    return [process(job) for job in jobs]


def _report(
    outcomes: Sequence[Outcome], errors: list[str], scanned: int, parsed: int, rules: Sequence[str], *, check: bool
) -> int:
    out, err = sys.stdout, sys.stderr
    per_rule: dict[str, list[int]] = {name: [0, 0] for name in rules}
    changed = 0
    findings = 0
    for outcome in outcomes:
        if outcome.diff:
            out.write(outcome.diff)
        if outcome.error:
            errors.append(outcome.error)
        for finding in outcome.findings:
            err.write(finding + "\n")
        findings += len(outcome.findings)
        if outcome.changed:
            changed += 1
            verb = "would delete" if outcome.deleted and check else "deleted" if outcome.deleted else ""
            details = ", ".join(f"{rule} {n}" for rule, n in outcome.counts.items() if n)
            err.write(f"{outcome.path}: {verb + ': ' if verb else ''}{details}\n")
            for rule, n in outcome.counts.items():
                if n and rule in per_rule:
                    per_rule[rule][0] += n
                    per_rule[rule][1] += 1
    for error in errors:
        err.write(error + "\n")
    verb = "would change" if check else "changed"
    rule_summary = ", ".join(f"{rule}: {n} edits in {files} files" for rule, (n, files) in per_rule.items() if n)
    err.write(
        f"{changed} file{'s' if changed != 1 else ''} {verb}"
        + (f" ({rule_summary})" if rule_summary else "")
        + f"; {findings} finding{'s' if findings != 1 else ''} to review; "
        f"{len(errors)} error{'s' if len(errors) != 1 else ''}; {scanned} files scanned, {parsed} examined\n"
    )
    if errors:
        return 2
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
