"""Run the rewrite rules over one file's source.

A file is parsed once with libcst (and once with ``ast``, which is much cheaper, for line
numbers). Each top-level statement keeps the slice of source it was parsed from, so a rule
finds the statements it cares about with a regular expression over that text ("hot"
statements) and visits only those - inside them, only the nested statements whose lines
match (``FileState.prune``) - and the output reuses the original text of every statement no
rule touched: only edited statements are generated again.

Scope analysis (libcst's ``ScopeProvider``) runs on demand, over a module made of the
statements that mention the names in question: that is exact for those names (a statement
that binds or uses a name contains it) and keeps the cost of metadata proportional to what
is ambiguous, not to the size of the file. Most files never need it: a textual gate
(``codemods.names.legacy.only_loads``) proves the simple cases.
"""

from __future__ import annotations

import ast
import bisect
import functools
import os
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, Scope, ScopeProvider

from compat.mapping import LEGACY_MODULE

@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line."""

    module: str = LEGACY_MODULE
    delete_legacy: bool = False
    startup_functions: frozenset[str] = frozenset()
    """Dotted names of the functions that run at start-up and write the legacy dict (``codemods.startup``)."""

    @property
    def module_parent(self) -> str:
        return self.module.rpartition(".")[0]

    @property
    def module_last(self) -> str:
        return self.module.rpartition(".")[2]


@dataclass(frozen=True)
class FileInfo:
    """Where a file sits: its display path, dotted name and package (for relative imports)."""

    path: str
    module_name: str | None = None
    is_package: bool = False
    is_legacy: bool = False
    first_party: frozenset[str] = frozenset()
    """Top-level names of the application's own modules (isort's first-party section)."""
    line_length: int = 88
    """The project's line length (ruff's, else black's, else 88)."""

    @property
    def package(self) -> str | None:
        if self.module_name is None:
            return None
        if self.is_package:
            return self.module_name
        return self.module_name.rpartition(".")[0] or None

    @classmethod
    def for_path(cls, path: str, options: Options = Options()) -> FileInfo:
        """Build the info of ``path`` taken relative to the import root (used by tests and ``fix_source``)."""
        parts = path.replace("\\", "/").removesuffix(".py").split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        dotted = ".".join(parts) or None
        return cls(
            path=path,
            module_name=dotted,
            is_package=is_package,
            is_legacy=dotted == options.module,
            first_party=frozenset({parts[0]}) if parts and parts[0] else frozenset(),
        )


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
    top = (module_name or "").partition(".")[0]
    return FileInfo(
        path=str(path),
        module_name=module_name or None,
        is_package=is_package,
        is_legacy=options.module in candidates,
        first_party=_modules_in(str(folder)) | ({top} if top else set()),
        line_length=_line_length(str(path.parent.resolve())),
    )


@functools.lru_cache(maxsize=1024)
def _modules_in(folder: str) -> frozenset[str]:
    """The top-level module names a folder provides (ruff's first-party rule with ``src = ["."]``)."""
    try:
        entries = os.scandir(folder)
    except OSError:
        return frozenset()
    names = set()
    with entries:
        for entry in entries:
            name = entry.name
            if name.endswith(".py") and name[:-3].isidentifier():
                names.add(name[:-3])
            elif name.isidentifier() and entry.is_dir():
                names.add(name)
    return frozenset(names)


@functools.lru_cache(maxsize=1024)
def _line_length(folder: str) -> int:
    """The line length of the nearest ruff / black configuration above ``folder`` (88 when none says)."""
    current = Path(folder)
    while True:
        for name, tables in (("ruff.toml", ((),)), (".ruff.toml", ((),)), ("pyproject.toml", (("tool", "ruff"), ("tool", "black")))):
            candidate = current / name
            if not candidate.is_file():
                continue
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for table in tables:
                section: object = data
                for key in table:
                    section = section.get(key, {}) if isinstance(section, dict) else {}
                if isinstance(section, dict):
                    value = section.get("line-length", section.get("line_length"))
                    if isinstance(value, int) and value > 0:
                        return value
            if name != "pyproject.toml" or (current / ".git").exists():
                return 88
        if current.parent == current or (current / ".git").exists():
            return 88
        current = current.parent



@dataclass(frozen=True)
class Finding:
    """Something a rule left as it is, for a human to review: ``path:line: message``."""

    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class NewFile:
    """A file a whole-file rule creates beside the one it replaces (written atomically, shown in the diff)."""

    path: str
    """Relative to the folder of the replaced file (``"newlog_settings.py"``), or absolute."""
    text: str


@dataclass(frozen=True)
class FileRewrite:
    """What a whole-file rule does to the file it owns: its new text (None deletes it), and maybe one new file."""

    text: str | None
    new_file: NewFile | None = None


@dataclass(frozen=True)
class Fixer:
    """One rewrite rule, declared by each ``codemods/fixers/<rule>.py`` as ``fixer = Fixer(...)``.

    ``triggers`` gives the (ASCII) words without which a file cannot need the rule: files with
    none of the words of the selected rules are not parsed. ``fix`` rewrites a parsed file
    through its ``FileState``. ``replace_file`` is for the rule that owns the legacy module
    itself: it receives that file's source before anything replaces it and returns a
    ``FileRewrite`` (or None to leave the file as it is); when it applies, no other rule runs
    on that file.
    """

    name: str
    summary: str
    triggers: Callable[[Options], tuple[str, ...]]
    fix: Callable[[FileState], None] | None = None
    replace_file: Callable[[str, FileInfo, Options], FileRewrite | None] | None = None


@dataclass
class FixResult:
    """The outcome for one file: the new source (None if unchanged), findings and edits per rule."""

    source: str | None
    findings: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    delete: bool = False
    new_file: NewFile | None = None
    imports_legacy: bool = False
    """The source imported the legacy module (any form) before the rules ran."""


Replacement = Union[cst.BaseStatement, Sequence[cst.BaseStatement]]

IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import\b")
"""The start of a line that is an import statement (up to the names it imports)."""


def word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """Return a regex matching any of ``words`` as a whole identifier."""
    alternatives = sorted({re.escape(word) for word in words}, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)")


def count_lines(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


class FileState:
    """One file being rewritten: its current top-level statements, their text, findings and pending imports."""

    def __init__(self, source: str, info: FileInfo, options: Options) -> None:
        self.source = source
        self.info = info
        self.options = options
        self.module = cst.parse_module(source)
        self.body: list[cst.BaseStatement] = list(self.module.body)
        self._header = "".join(self.module.code_for_node(line) for line in self.module.header)
        self._footer = "".join(self.module.code_for_node(line) for line in self.module.footer)
        sliced = _source_slices(source, self.module, self._header, self._footer)
        self._spans: dict[int, tuple[int, int]] = {}
        self._ast: dict[int, list[ast.stmt]] = {}
        if sliced is not None:
            self._texts: list[str | None] = list(sliced[0])
            self._spans = {id(stmt): span for stmt, span in zip(self.body, sliced[1])}
            self._ast = {id(stmt): group for stmt, group in zip(self.body, sliced[2])}
        else:
            self._texts = [self.module.code_for_node(stmt) for stmt in self.body]
        self.lines: list[int] = []
        line = 1 + count_lines(self._header)
        for text in self._texts:
            self.lines.append(line)
            line += count_lines(text or "")
        self._incremental = self._assemble() == source
        self.changed = False
        self.findings: list[Finding] = []
        self.counts: Counter[str] = Counter()
        self.wanted_imports: dict[str, list[str]] = {}
        self.released: set[str] = set()
        self.migration: object | None = None
        """The names the rules decided to move to newlog (``codemods.names.plan.Migration``)."""
        self.original_ids = {id(stmt) for stmt in self.module.body}
        self.version = 0
        self.cache: dict[object, object] = {}
        """Analysis results, valid until the statements change (cleared by ``set_body``)."""
        self.memo: dict[str, object] = {}
        """Analysis results that check for themselves whether they are still valid."""

    # -- text of statements ---------------------------------------------------------------
    def text(self, index: int) -> str:
        text = self._texts[index]
        if text is None:
            text = self._texts[index] = self.module.code_for_node(self.body[index])
        return text

    def hot(self, pattern: re.Pattern[str]) -> list[int]:
        """Return the indices of the top-level statements whose text matches ``pattern``."""
        key = ("hot", pattern.pattern)
        cached = self.cache.get(key)
        if cached is None:
            cached = self.cache[key] = [i for i in range(len(self.body)) if pattern.search(self.text(i))]
        return list(cached)  # type: ignore[call-overload]

    def _assemble(self) -> str:
        code = self._header + "".join(self.text(i) for i in range(len(self.body))) + self._footer
        if not self.module.has_trailing_newline:
            for newline in ("\r\n", "\n", "\r"):
                if code.endswith(newline):
                    code = code[: -len(newline)]
                    break
        return code

    def code(self) -> str:
        if not self.changed:
            return self.source
        if self._incremental:
            return self._assemble()
        return self.module.with_changes(body=self.body).code

    # -- edits ----------------------------------------------------------------------------
    def apply(self, replacements: Mapping[int, Replacement]) -> None:
        """Replace top-level statements by index (a statement, a list of them, or [] to delete)."""
        if not replacements:
            return
        body: list[cst.BaseStatement] = []
        for i, stmt in enumerate(self.body):
            new = replacements.get(i, stmt)
            body.extend([new] if isinstance(new, cst.BaseStatement) else new)
        self.set_body(body)

    def set_body(self, body: Sequence[cst.BaseStatement]) -> None:
        """Replace the top-level statements; statements kept from before keep their text and line."""
        if len(body) == len(self.body) and all(a is b for a, b in zip(body, self.body)):
            return
        old = {id(stmt): i for i, stmt in enumerate(self.body)}
        if self._spans and self._incremental:
            self._verify_boundaries(body, old)
        texts: list[str | None] = []
        lines: list[int] = []
        line = self.lines[0] if self.lines else 1
        for stmt in body:
            i = old.get(id(stmt))
            if i is not None:
                line = self.lines[i]
            texts.append(self._texts[i] if i is not None else None)
            lines.append(line)
        self.body, self._texts, self.lines = list(body), texts, lines
        self.changed = True
        self.version += 1
        self.cache.clear()

    def _verify_boundaries(self, body: Sequence[cst.BaseStatement], old: Mapping[int, int]) -> None:
        """Check the source slices around an edit against libcst's view of those statements.

        The slices come from line numbers (see ``_source_slices``); if libcst attaches a different
        number of blank/comment lines before (``leading_lines``) or after (block footers) one of
        them, the output is generated from the whole tree instead.
        """
        kept = {id(stmt) for stmt in body}
        to_check = [i for i, stmt in enumerate(self.body) if id(stmt) not in kept]
        previous: int | None = None
        inserted = False
        for stmt in body:
            i = old.get(id(stmt))
            if i is None:
                inserted = True
                if previous is not None:
                    to_check.append(previous)
                continue
            if inserted:
                to_check.append(i)
                inserted = False
            previous = i
        if inserted and previous is not None:
            to_check.append(previous)
        for i in to_check:
            stmt = self.body[i]
            span = self._spans.pop(id(stmt), None)
            if span is None:
                continue
            start, end = span
            last = self.lines[i] + count_lines(self._texts[i] or "") - 1
            if start - self.lines[i] != len(getattr(stmt, "leading_lines", ())) or last - end != _footer_lines(stmt):
                self._incremental = False
                return

    def transform(
        self, indices: Iterable[int], transformer: cst.CSTTransformer, pattern: re.Pattern[str] | None = None
    ) -> bool:
        """Visit the statements at ``indices`` with ``transformer``; keep the ones it did not change.

        The transformer tells whether it changed something through a ``changed`` attribute that
        it sets; ``transformer.index`` is the index of the statement being visited. With a
        ``pattern``, nested statements none of whose lines match it are not visited (see ``prune``).
        """
        replacements: dict[int, Replacement] = {}
        for i in indices:
            transformer.index = i  # type: ignore[attr-defined]
            transformer.changed = False  # type: ignore[attr-defined]
            transformer.prune = self.prune(i, pattern)  # type: ignore[attr-defined]
            result = self.body[i].visit(transformer)
            transformer.prune = frozenset()  # type: ignore[attr-defined]
            if not transformer.changed:  # type: ignore[attr-defined]
                continue
            if isinstance(result, cst.RemovalSentinel):
                replacements[i] = []
            elif isinstance(result, cst.FlattenSentinel):
                replacements[i] = list(result.nodes)
            else:
                replacements[i] = result
        self.apply(replacements)
        return bool(replacements)

    def visit(self, indices: Iterable[int], visitor: cst.CSTVisitor, pattern: re.Pattern[str] | None = None) -> None:
        """Visit the statements at ``indices`` (pruned like ``transform``)."""
        for i in indices:
            visitor.index = i  # type: ignore[attr-defined]
            visitor.prune = self.prune(i, pattern)  # type: ignore[attr-defined]
            self.body[i].visit(visitor)
            visitor.prune = frozenset()  # type: ignore[attr-defined]

    def prune(self, index: int, pattern: re.Pattern[str] | None) -> frozenset[int]:
        """Ids of the nested statements of statement ``index`` that no line matching ``pattern`` is in.

        Uses the statement's ``ast`` twin (same structure, with line numbers), so a visitor can
        skip most of a large class or function and still see every line that matters. Only for
        statements still as parsed; empty when it cannot tell.
        """
        group = self._ast.get(id(self.body[index]))
        if pattern is None or group is None:
            return frozenset()
        text = self.text(index)
        starts = [match.end() for match in _NEWLINE.finditer(text)]
        lines = {self.lines[index] + bisect.bisect_right(starts, match.start()) for match in pattern.finditer(text)}
        skipped: set[int] = set()
        _prune_statement(self.body[index], group, lines, skipped, top=True)
        return frozenset(skipped)

    # -- analysis -------------------------------------------------------------------------
    def scopes(self, pattern: re.Pattern[str]) -> Mapping[cst.CSTNode, Scope | None]:
        """Scope metadata for the statements matching ``pattern`` (plus any star import)."""
        key = ("scopes", pattern.pattern, self.version)
        cached = self.cache.get(key)
        if cached is None:
            chosen = [
                self.body[i]
                for i in range(len(self.body))
                if pattern.search(self.text(i)) or _STAR.search(self.text(i))
            ]
            wrapper = MetadataWrapper(cst.Module(body=chosen), unsafe_skip_copy=True)
            cached = self.cache[key] = wrapper.resolve(ScopeProvider)
        return cached  # type: ignore[return-value]

    def line_of(self, index: int, node: cst.CSTNode | None = None) -> int:
        """The line of ``node`` (inside the top-level statement ``index``) in the original file."""
        stmt = self.body[index]
        wrapper = MetadataWrapper(cst.Module(body=[stmt]), unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        target = node if node is not None and node in positions else stmt
        return self.lines[index] + positions[target].start.line - 1

    def report(self, rule: str, index: int, node: cst.CSTNode | None, message: str) -> None:
        finding = Finding(self.info.path, self.line_of(index, node), rule, message)
        if finding not in self.findings:
            self.findings.append(finding)

    # -- bookkeeping shared by the rules -------------------------------------------------
    def want_import(self, module: str, name: str) -> None:
        """Ask for ``from module import name`` at the top of the file (added by ``finish``)."""
        names = self.wanted_imports.setdefault(module, [])
        if name not in names:
            names.append(name)

    def release(self, local_name: str) -> None:
        """Say a rule removed uses of ``local_name``: ``finish`` drops its import if nothing uses it."""
        self.released.add(local_name)


_STAR = re.compile(r"\bimport[ \t]*\*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_INDENTED_COMMENT = re.compile(r"[ \t]+#")


def _source_slices(
    source: str, module: cst.Module, header: str, footer: str
) -> tuple[list[str], list[tuple[int, int]], list[list[ast.stmt]]] | None:
    """The source text of each top-level statement, cut at line numbers from Python's ``ast``.

    Much cheaper than generating each statement's code with libcst. Between two statements,
    comment lines indented under the first one belong to its block, the other blank and
    comment lines to the second (libcst's rule). None when the file does not lend itself to
    it (then the caller generates the text of each statement).
    """
    if not module.has_trailing_newline or not source.startswith(header) or not source.endswith(footer):
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    spans: list[tuple[int, int]] = []
    groups: list[list[ast.stmt]] = []
    position = 0
    for stmt in module.body:
        count = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        group = tree.body[position : position + count]
        if len(group) != count:
            return None
        position += count
        groups.append(group)
        first = group[0]
        start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", ())])
        spans.append((start, max(node.end_lineno or node.lineno for node in group)))
    if position != len(tree.body):
        return None
    lines = _LINE.findall(source)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    header_lines = count_lines(header)
    footer_start = len(source) - len(footer)
    boundaries = [len(header)]
    for stmt, (_, end), (start, _) in zip(module.body, spans, spans[1:]):
        cut = end
        if isinstance(stmt, cst.BaseCompoundStatement):
            for number in range(end + 1, start):
                if _INDENTED_COMMENT.match(lines[number - 1]):
                    cut = number
        boundaries.append(offsets[cut])
    boundaries.append(footer_start)
    if spans and spans[0][0] <= header_lines:
        return None
    if any(b > c for b, c in zip(boundaries, boundaries[1:])):
        return None
    return [source[b:c] for b, c in zip(boundaries, boundaries[1:])], spans, groups


def _footer_lines(stmt: cst.CSTNode) -> int:
    """How many blank/comment lines libcst attaches after the last line of a compound statement."""
    total = 0
    node: cst.CSTNode | None = stmt
    while node is not None:
        block = _last_block(node)
        if not isinstance(block, cst.IndentedBlock):
            return total
        total += len(block.footer)
        node = block.body[-1] if block.body else None
    return total


def _last_block(node: cst.CSTNode) -> cst.BaseSuite | None:
    if isinstance(node, cst.If) and node.orelse is not None:
        return _last_block(node.orelse)
    if isinstance(node, (cst.Try, cst.TryStar)):
        last = node.finalbody or node.orelse or (node.handlers[-1] if node.handlers else None)
        return None if last is None else last.body
    if isinstance(node, (cst.For, cst.While)) and node.orelse is not None:
        return node.orelse.body
    if isinstance(node, cst.Match):
        return node.cases[-1].body if node.cases else None
    body = getattr(node, "body", None)
    return body if isinstance(body, cst.BaseSuite) else None


def _prune_statement(
    node: cst.BaseStatement, group: Sequence[ast.stmt], lines: set[int], skipped: set[int], top: bool = False
) -> None:
    first = group[0]
    start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", ())])
    end = max(n.end_lineno or n.lineno for n in group)
    if not top and not any(start <= line <= end for line in lines):
        skipped.add(id(node))
        return
    if not isinstance(node, cst.BaseCompoundStatement) or len(group) != 1:
        return
    for cst_body, ast_body in _bodies(node, group[0]):
        _prune_body(cst_body, ast_body, lines, skipped)


def _prune_body(
    statements: Sequence[cst.BaseStatement], twins: Sequence[ast.stmt], lines: set[int], skipped: set[int]
) -> None:
    position = 0
    for statement in statements:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        group = twins[position : position + count]
        if len(group) != count:
            return
        position += count
        _prune_statement(statement, group, lines, skipped)


def _bodies(
    node: cst.BaseCompoundStatement, twin: ast.stmt
) -> list[tuple[Sequence[cst.BaseStatement], list[ast.stmt]]]:
    """The statement lists of a compound statement paired with its ``ast`` twin's (when they match)."""
    pairs: list[tuple[Sequence[cst.BaseStatement], list[ast.stmt]]] = []

    def add(suite: cst.BaseSuite | None, statements: list[ast.stmt] | None) -> None:
        if isinstance(suite, cst.IndentedBlock) and statements:
            pairs.append((suite.body, statements))

    add(getattr(node, "body", None), getattr(twin, "body", None))
    if isinstance(node, cst.If) and isinstance(twin, ast.If):
        if isinstance(node.orelse, cst.If) and len(twin.orelse) == 1:
            pairs.append(([node.orelse], twin.orelse))
        elif isinstance(node.orelse, cst.Else):
            add(node.orelse.body, twin.orelse)
    elif isinstance(node, (cst.For, cst.While)) and isinstance(node.orelse, cst.Else):
        add(node.orelse.body, getattr(twin, "orelse", None))
    elif isinstance(node, (cst.Try, cst.TryStar)) and isinstance(twin, (ast.Try, ast.TryStar)):
        for handler, twin_handler in zip(node.handlers, twin.handlers):
            add(handler.body, twin_handler.body)
        if node.orelse is not None:
            add(node.orelse.body, twin.orelse)
        if node.finalbody is not None:
            add(node.finalbody.body, twin.finalbody)
    elif isinstance(node, cst.Match) and isinstance(twin, ast.Match):
        for case, twin_case in zip(node.cases, twin.cases):
            add(case.body, twin_case.body)
    return pairs


class Pruned:
    """Mixin for the rules' visitors and transformers: skip the subtrees listed in ``prune``."""

    prune: frozenset[int] = frozenset()
    index = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.prune:
            return False
        return super().on_visit(node)  # type: ignore[misc,no-any-return]
