"""Run the rewrite rules over one file's source.

A file is parsed once with libcst. Its top-level statements keep the source text
they were parsed from, so a rule can find the statements it cares about with a
regular expression over that text ("hot" statements), visit only those, and the
output reuses the original text of every statement no rule touched. Scope
analysis (libcst's ``ScopeProvider``) runs on demand, over a module made of the
statements that mention the names in question only: that is exact for those
names (any statement that binds or uses a name contains it) and keeps the cost
of metadata proportional to what is rewritten, not to the size of the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, Scope, ScopeProvider

from compat.mapping import LEGACY_MODULE

DELETE = object()
"""Returned by a whole-file rule to delete the file."""


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line."""

    module: str = LEGACY_MODULE
    delete_legacy: bool = False

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
        return cls(path=path, module_name=dotted, is_package=is_package, is_legacy=dotted == options.module)


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
class Fixer:
    """One rewrite rule: its name, a one-line summary, the (ASCII) words that make a file worth parsing, the rewrite."""

    name: str
    summary: str
    triggers: Callable[[Options], tuple[str, ...]]
    fix: Callable[[FileState], None]
    replace_file: Callable[[str, FileInfo, Options], object] | None = None
    """For the legacy file itself: return its new text, ``DELETE``, or None to leave it."""


@dataclass
class FixResult:
    """The outcome for one file: the new source (None if unchanged), findings and edits per rule."""

    source: str | None
    findings: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    delete: bool = False


Replacement = Union[cst.BaseStatement, Sequence[cst.BaseStatement]]

_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import\b")


def word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """Return a regex matching any of ``words`` as a whole identifier."""
    alternatives = "|".join(sorted({re.escape(word) for word in words}, key=len, reverse=True))
    return re.compile(rf"(?<![\w]){'(?:' + alternatives + ')' if alternatives else '(?!)'}(?!\w)")


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
        self._texts: list[str | None] = [self.module.code_for_node(stmt) for stmt in self.body]
        self._header = "".join(self.module.code_for_node(line) for line in self.module.header)
        self._footer = "".join(self.module.code_for_node(line) for line in self.module.footer)
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
        """The names the rules decided to move to newlog (``codemods._migration.Migration``)."""
        self.original_ids = {id(stmt) for stmt in self.module.body}
        self.version = 0
        self._cache: dict[object, object] = {}

    # -- text of statements ---------------------------------------------------------------
    def text(self, index: int) -> str:
        text = self._texts[index]
        if text is None:
            text = self._texts[index] = self.module.code_for_node(self.body[index])
        return text

    def hot(self, pattern: re.Pattern[str]) -> list[int]:
        """Return the indices of the top-level statements whose text matches ``pattern``."""
        return [i for i in range(len(self.body)) if pattern.search(self.text(i))]

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
        self._cache.clear()

    def transform(self, indices: Iterable[int], transformer: cst.CSTTransformer) -> bool:
        """Visit the statements at ``indices`` with ``transformer``; keep the ones it did not change.

        The transformer tells whether it changed something through a ``changed`` attribute that
        it sets; ``transformer.index`` is the index of the statement being visited.
        """
        replacements: dict[int, Replacement] = {}
        for i in indices:
            transformer.index = i  # type: ignore[attr-defined]
            transformer.changed = False  # type: ignore[attr-defined]
            result = self.body[i].visit(transformer)
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

    # -- analysis -------------------------------------------------------------------------
    def scopes(self, pattern: re.Pattern[str]) -> Mapping[cst.CSTNode, Scope | None]:
        """Scope metadata for the statements matching ``pattern`` (plus any star import)."""
        key = ("scopes", pattern.pattern, self.version)
        cached = self._cache.get(key)
        if cached is None:
            chosen = [self.body[i] for i in range(len(self.body)) if pattern.search(self.text(i)) or _STAR.search(self.text(i))]
            wrapper = MetadataWrapper(cst.Module(body=chosen), unsafe_skip_copy=True)
            cached = self._cache[key] = wrapper.resolve(ScopeProvider)
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


def fix_source(
    source: str,
    info: FileInfo,
    fixers: Sequence[Fixer],
    options: Options = Options(),
) -> FixResult:
    """Apply ``fixers`` (in order) to ``source``; return the new source, or None if nothing changed.

    Raises ``libcst.ParserSyntaxError`` when the source does not parse.
    """
    if info.is_legacy:
        for fixer in fixers:
            if fixer.replace_file is None:
                continue
            outcome = fixer.replace_file(source, info, options)
            if outcome is None:
                return FixResult(None)
            counts = Counter({fixer.name: 1})
            if outcome is DELETE:
                return FixResult(None, counts=counts, delete=True)
            return FixResult(str(outcome), counts=counts)

    if not any(trigger in source for fixer in fixers for trigger in fixer.triggers(options)):
        return FixResult(None)

    from codemods._migration import finish  # noqa: PLC0415  (it builds on this module)

    state = FileState(source, info, options)
    for fixer in fixers:
        fixer.fix(state)
    finish(state)
    new_source = state.code()
    return FixResult(
        new_source if new_source != source else None,
        findings=sorted(state.findings, key=lambda f: (f.line, f.rule, f.message)),
        counts=state.counts,
    )
