"""One file through the rules: read, decode, rewrite, encode, diff - never written here.

``examine(job)`` runs in a worker process and returns an ``Outcome``: the new bytes (or a
deletion, or one new file), the edits per rule, the findings and the unified diff. Only the
parent process writes (``codemods.files.replace``), so a worker can be stopped at any moment
without leaving anything half-done on disk.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import io
import os
import re
import tokenize
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import libcst as cst

from codemods.engine import FileState, Reparse
from codemods.files import fingerprint
from codemods.fixers import FIXERS
from codemods.names.importers import legacy_import_lines
from codemods.names.legacy import collect
from codemods.names.plan import finish
from codemods.model import FileInfo, Finding, Fixer, FixResult, Job, Options, Outcome, file_info
from codemods.startup import WRITER_WORDS


def fix_source(
    source: str, info: FileInfo, fixers: Sequence[Fixer], options: Options = Options(), *, lazy: bool = True
) -> FixResult:
    """Apply ``fixers`` (in order) to ``source``; return the new source, or None if nothing changed.

    ``lazy``: parse only the statements the rules read (see ``FileState``); False parses the whole
    file up front (the fallback, and a reference for tests). Raises ``libcst.ParserSyntaxError``
    when the source does not parse.
    """
    if info.is_legacy:
        for fixer in fixers:
            if fixer.replace_file is None:
                continue
            rewrite = fixer.replace_file(source, info, options)
            if rewrite is None:
                return FixResult(None)
            counts = Counter({fixer.name: 1})
            findings = [Finding(info.path, line, fixer.name, message) for line, message in rewrite.findings]
            if rewrite.kept is not None:
                return FixResult(None, findings=findings, error=f"{info.path}: {rewrite.kept}")
            if rewrite.text is None:
                return FixResult(None, counts=counts, delete=True, new_file=rewrite.new_file)
            return FixResult(rewrite.text, counts=counts, new_file=rewrite.new_file)

    if not any(trigger in source for fixer in fixers for trigger in fixer.triggers(options)):
        return FixResult(None)
    try:
        state = _run_fixers(FileState(source, info, options, lazy=lazy), fixers)
    except Reparse:  # a statement did not parse on its own: parse the whole file
        state = _run_fixers(FileState(source, info, options, lazy=False), fixers)
    new_source = state.code()
    return FixResult(
        new_source if new_source != source else None,
        findings=sorted(state.findings, key=lambda f: (f.line, f.rule, f.message)),
        counts=state.counts,
        imports_legacy=bool(state.memo.get("imports-legacy")),
    )


def _run_fixers(state: FileState, fixers: Sequence[Fixer]) -> FileState:
    state.memo["imports-legacy"] = bool(collect(state))
    for fixer in fixers:
        if fixer.fix is not None:
            fixer.fix(state)
    finish(state)
    return state


def triggers(rules: Sequence[str], options: Options) -> tuple[bytes, ...]:
    """The words (as bytes) without which no selected rule can change a file."""
    return tuple({trigger.encode() for name in rules for trigger in FIXERS[name].triggers(options)})


def examine(job: Job) -> Outcome:
    """Read one file and tell what the rules would make of it (in any process; writes nothing)."""
    outcome = Outcome(job.path)
    path = Path(job.path)
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as error:
        outcome.error = f"{job.path}: cannot read the file: {error.strerror or error}"
        return outcome
    options = job.options
    if options.startup_functions is None:  # the start-up analysis is still running (``codemods.runner.run``)
        if "global-context" in job.rules and any(word in data for word in WRITER_WORDS):
            outcome.deferred = True
            return outcome
        options = dataclasses.replace(options, startup_functions=frozenset())  # none of them matters here
    words = triggers(job.rules, options) + ((options.module_last.encode(),) if options.delete_legacy else ())
    triggered = any(word in data for word in words)
    maybe_legacy = options.module_last in (path.stem, path.parent.name)
    if not triggered and not maybe_legacy:
        return outcome
    info = file_info(path, Path(job.root), options)
    outcome.is_legacy = info.is_legacy
    if not triggered and not info.is_legacy:
        return outcome
    outcome.examined = True
    outcome.fingerprint = fingerprint(data, stat)
    try:
        text, encoding = decode(data)
    except SyntaxError as error:
        outcome.error = f"{job.path}:{error.lineno or 1}:1: {error.msg}"
        return outcome
    except UnicodeDecodeError as error:
        line, column = _position_of(data, error.start)
        outcome.error = f"{job.path}:{line}:{column}: cannot decode the file: {error.reason}"
        return outcome
    try:
        result = fix_source(text, info, [FIXERS[name] for name in job.rules], options)
    except cst.ParserSyntaxError as error:
        outcome.error = f"{job.path}:{_syntax_error(text, job.path, error)}"
        return outcome
    except RecursionError:
        outcome.error = f"{job.path}:1:1: the file is nested too deeply for libcst; file left unchanged"
        return outcome
    except Exception as error:  # noqa: BLE001  (one odd file must not stop the run)
        outcome.error = f"{job.path}:1:1: internal error, file left unchanged: {type(error).__name__}: {error}"
        return outcome
    outcome.findings = [str(finding) for finding in result.findings]
    if result.error is not None:
        outcome.error = result.error
        return outcome
    outcome.mentions_module = result.imports_legacy
    outcome.counts = {rule: n for rule, n in result.counts.items() if n}
    if result.new_file is not None:
        try:
            outcome.new_file_data = result.new_file.text.encode(encoding)
        except UnicodeEncodeError as error:
            outcome.error = f"{job.path}: the new file cannot be encoded as {encoding}: {error.reason}"
            return outcome
        outcome.new_file = result.new_file
    if result.delete:
        outcome.changed = outcome.deleted = True
        if job.diff:
            outcome.diff = unified_diff(job.path, text, None)
        _diff_new_file(job, outcome)
        return outcome
    final = text if result.source is None else result.source
    if options.delete_legacy and not info.is_legacy:
        outcome.importers = legacy_import_lines(final, info, options.module)
    if result.source is None:
        outcome.counts = {}
        return outcome
    try:
        new_data = result.source.encode(encoding)
    except UnicodeEncodeError as error:
        outcome.error = f"{job.path}:1:1: the rewritten file cannot be encoded as {encoding}: {error.reason}"
        return outcome
    if new_data == data:
        outcome.counts = {}
        return outcome
    outcome.changed = True
    outcome.new_data = new_data
    if job.diff:
        outcome.diff = unified_diff(job.path, text, result.source)
    _diff_new_file(job, outcome)
    return outcome


def _diff_new_file(job: Job, outcome: Outcome) -> None:
    if job.diff and outcome.new_file is not None:
        target = os.path.join(os.path.dirname(job.path), outcome.new_file.path)
        outcome.diff += unified_diff(target, None, outcome.new_file.text)


def decode(data: bytes) -> tuple[str, str]:
    """The text and encoding of Python source bytes (PEP 263 declaration or BOM, default UTF-8)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def _split_lines(text: str) -> list[str]:
    lines = re.findall(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$", text)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    """A unified diff of one file (``old`` None: created; ``new`` None: deleted)."""
    return "".join(
        difflib.unified_diff(
            _split_lines(old or ""),
            _split_lines(new or ""),
            fromfile=path if old is not None else "/dev/null",
            tofile=path if new is not None else "/dev/null",
        )
    )


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
