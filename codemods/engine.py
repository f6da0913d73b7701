"""The parsed file the rules edit (``FileState``), the rule type (``Fixer``) and what they share.

A file is cut into top-level statements with ``ast`` (fast, in C) and each statement keeps the
slice of source it came from. A rule finds the statements it cares about with a regular
expression over that text ("hot" statements); only those are parsed with libcst, each as a
module of its own, and visited - inside them, only the nested statements whose lines match
(``FileState.prune``). The output reuses the original text of every statement no rule touched:
only edited statements are generated again. Custom code, for a measured reason: parsing a whole
file with libcst costs more than the rest of the run and about 13 KB of memory per line
(``benchmarks/bench_codemods.py``: a 50,000-line file), so the engine parses what the rules
read. When a statement cannot be parsed on its own the whole file is parsed instead (``lazy=False``,
the same code path with every statement parsed up front).

Scope analysis (libcst's ``ScopeProvider``) runs on demand, over a module made of the
statements that mention the names in question: that is exact for those names (a statement
that binds or uses a name contains it) and keeps the cost of metadata proportional to what
is ambiguous, not to the size of the file. Most files never need it: a textual gate
(``codemods.names.legacy.only_loads``) proves the simple cases.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Union, overload

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, Scope, ScopeProvider

from codemods.model import (  # noqa: F401  (the rules import the shared types from here)
    FileInfo,
    FileRewrite,
    Finding,
    Fixer,
    FixResult,
    NewFile,
    Options,
    dotted_name,
    file_info,
)

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
    """How many lines ``text`` holds (``\\r\\n``, ``\\n`` and ``\\r`` each end one)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _positions(statement: cst.BaseStatement) -> Mapping[cst.CSTNode, CodeRange]:
    """Where each node of a top-level ``statement`` sits, counted from the statement's first line (1)."""
    return MetadataWrapper(cst.Module(body=[statement]), unsafe_skip_copy=True).resolve(PositionProvider)


class _Tracer(cst.CSTTransformer):
    """Run a transformer and note, for each node it makes, the node of the file as read it came from.

    Findings name lines of the file the user has, not of a tree a rule has already edited
    (an unwrapped debug guard or a split import above a node moves it). libcst makes a new
    node for every node a transformer visits, so the link is recorded in ``on_leave``.
    """

    def __init__(self, inner: cst.CSTTransformer, origins: dict[int, tuple[cst.CSTNode, cst.CSTNode]]) -> None:
        super().__init__()
        self.inner = inner
        self.origins = origins

    def on_visit(self, node: cst.CSTNode) -> bool:
        return self.inner.on_visit(node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.inner.on_visit_attribute(node, attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        self.inner.on_leave_attribute(original_node, attribute)

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        result = self.inner.on_leave(original_node, updated_node)
        known = self.origins.get(id(original_node))
        origin = original_node if known is None else known[1]
        made = result.nodes if isinstance(result, cst.FlattenSentinel) else (result,)
        for node in made:
            # a node already traced (a child a rule moved up) keeps its own, closer, origin;
            # the entry pins ``node``, so its id cannot be reused by another node
            if isinstance(node, cst.CSTNode) and node is not original_node and id(node) not in self.origins:
                self.origins[id(node)] = (node, origin)
        return result


class Reparse(Exception):
    """A statement parsed on its own did not give back its text: parse the whole file instead."""


class _Body(Sequence[cst.BaseStatement]):
    """The top-level statements of a ``FileState``; a statement is parsed when it is first read."""

    def __init__(self, state: FileState) -> None:
        self._state = state

    def __len__(self) -> int:
        return len(self._state._nodes)

    @overload
    def __getitem__(self, index: int) -> cst.BaseStatement: ...

    @overload
    def __getitem__(self, index: slice) -> list[cst.BaseStatement]: ...

    def __getitem__(self, index: int | slice) -> cst.BaseStatement | list[cst.BaseStatement]:
        if isinstance(index, slice):
            return [self._state._node(i) for i in range(len(self))[index]]
        return self._state._node(index if index >= 0 else len(self) + index)

    def __iter__(self) -> Iterator[cst.BaseStatement]:
        for i in range(len(self)):
            yield self._state._node(i)


class FileState:
    """One file being rewritten: its current top-level statements, their text, findings and pending imports.

    By default (``lazy``) the file is cut into top-level statements with ``ast`` and a statement
    is parsed with libcst only when a rule reads it: a rule reads the statements whose text
    matches its words, so a big file costs little more than ``ast`` - in time and memory. Each
    statement is parsed as a module of its own and must give back exactly its text, else
    ``Reparse`` is raised and the caller starts again with the whole file parsed at once.
    """

    def __init__(self, source: str, info: FileInfo, options: Options, *, lazy: bool = True) -> None:
        self.source = source
        self.info = info
        self.options = options
        self.changed = False
        self.findings: list[Finding] = []
        self.counts: Counter[str] = Counter()
        self.wanted_imports: dict[str, list[str]] = {}
        self.released: set[str] = set()
        self.migration: object | None = None
        """The names the rules decided to move to newlog (``codemods.names.plan.Migration``)."""
        self.version = 0
        self.cache: dict[object, object] = {}
        """Analysis results, valid until the statements change (cleared by ``set_body``)."""
        self.memo: dict[str, object] = {}
        """Analysis results that check for themselves whether they are still valid."""
        self._spans: dict[int, tuple[int, int]] = {}
        self._ast: dict[int, list[ast.stmt]] = {}
        self._first_lines: dict[int, int] = {}
        """id(top-level statement as read) -> its first line in the file as read."""
        self._origins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = {}
        """id(node a rule made) -> (that node, the node as read it came from); see ``_Tracer``."""
        self._read_positions: dict[int, Mapping[cst.CSTNode, CodeRange]] = {}
        sliced = _ast_slices(source) if lazy else None
        self.lazy = sliced is not None
        if sliced is not None:
            self._start_lazy(source, *sliced)
        else:
            self._start_eager(source)

    def _start_eager(self, source: str) -> None:
        module = cst.parse_module(source)
        self.module = module
        self._nodes: list[cst.BaseStatement | None] = list(module.body)
        self._modules: list[cst.Module] = [module] * len(module.body)
        self._header = "".join(module.code_for_node(line) for line in module.header)
        self._footer = "".join(module.code_for_node(line) for line in module.footer)
        sliced = _source_slices(source, module, self._header, self._footer)
        if sliced is not None:
            self._texts: list[str | None] = list(sliced[0])
            self._spans = {id(stmt): span for stmt, span in zip(module.body, sliced[1])}
            self._ast = {id(stmt): group for stmt, group in zip(module.body, sliced[2])}
        else:
            self._texts = [module.code_for_node(stmt) for stmt in module.body]
        self._number_lines()
        self._incremental = self._assemble() == source
        self.original_ids = {id(stmt) for stmt in module.body}
        self._first_lines = {id(stmt): line for stmt, line in zip(module.body, self.lines)}

    def _start_lazy(self, source: str, texts: list[str], indent: str, newline: str) -> None:
        self._nodes = [None] * len(texts)
        self._texts = list(texts)
        self.module = cst.Module(body=[], default_indent=indent, default_newline=newline)
        self._modules = [self.module] * len(texts)
        self._header = self._footer = ""
        self._incremental = True
        self.original_ids = set()
        self._parsed: list[cst.BaseStatement] = []
        try:
            first = cst.parse_module(texts[0])
            last = cst.parse_module(texts[-1]) if len(texts) > 1 else first
        except cst.ParserSyntaxError:
            raise Reparse() from None
        self._header = "".join(first.code_for_node(line) for line in first.header)
        self._footer = "".join(last.code_for_node(line) for line in last.footer)
        if not texts[0].startswith(self._header) or not texts[-1].endswith(self._footer):
            raise Reparse()
        self._texts[0] = texts[0][len(self._header) :]
        self._texts[-1] = self._texts[-1][: len(self._texts[-1]) - len(self._footer)]
        self._originals = list(self._texts)
        self._number_lines()

    def _number_lines(self) -> None:
        self.lines: list[int] = []
        line = 1 + count_lines(self._header)
        for text in self._texts:
            self.lines.append(line)
            line += count_lines(text or "")

    def _node(self, index: int) -> cst.BaseStatement:
        node = self._nodes[index]
        if node is None:
            text = self._texts[index]
            assert text is not None
            try:
                mini = cst.parse_module(text)
            except cst.ParserSyntaxError:
                raise Reparse() from None  # the whole file decides: an error there, or a context this slice lacked
            if len(mini.body) != 1 or mini.footer:
                raise Reparse()
            node = mini.body[0]
            if mini.header:  # the lines above a statement are its leading lines (EmptyLine nodes either way)
                node = node.with_changes(leading_lines=[*mini.header, *getattr(node, "leading_lines", ())])
            # libcst gives back exactly the text it parsed, so no generated code is compared here (that
            # would double the parsing cost); tests run every rewrite both ways and compare the results.
            self._nodes[index] = node
            self._modules[index] = mini
            self.original_ids.add(id(node))
            self._first_lines[id(node)] = self.lines[index]  # unedited statements keep their line
            self._parsed.append(node)  # kept alive: an id in ``original_ids`` must never be reused
        return node

    @property
    def body(self) -> _Body:
        """The top-level statements (parsed as they are read)."""
        return _Body(self)

    # -- text of statements ---------------------------------------------------------------
    def text(self, index: int) -> str:
        """The source text of top-level statement ``index`` (its own text while it is unchanged)."""
        text = self._texts[index]
        if text is None:
            text = self._texts[index] = self._modules[index].code_for_node(self._node(index))
        return text

    def edited(self) -> list[int]:
        """The indices of the top-level statements a rule has replaced or added."""
        return [i for i, node in enumerate(self._nodes) if node is not None and id(node) not in self.original_ids]

    def hot(self, pattern: re.Pattern[str]) -> list[int]:
        """Return the indices of the top-level statements whose text matches ``pattern``."""
        key = ("hot", pattern.pattern)
        cached = self.cache.get(key)
        if cached is None:
            cached = self.cache[key] = [i for i in range(len(self._nodes)) if pattern.search(self.text(i))]
        return list(cached)  # type: ignore[call-overload]

    def _assemble(self) -> str:
        code = self._header + "".join(self.text(i) for i in range(len(self._nodes))) + self._footer
        if not self.lazy and not self.module.has_trailing_newline:
            for newline in ("\r\n", "\n", "\r"):
                if code.endswith(newline):
                    code = code[: -len(newline)]
                    break
        return code

    def code(self) -> str:
        """The file's source as the rules left it."""
        if not self.changed:
            return self.source
        if self._incremental:
            return self._assemble()
        return self.module.with_changes(body=list(self.body)).code

    # -- edits ----------------------------------------------------------------------------
    def apply(self, replacements: Mapping[int, Replacement]) -> None:
        """Replace top-level statements by index (a statement, a list of them, or [] to delete)."""
        if not replacements:
            return
        if not self.lazy:
            body: list[cst.BaseStatement] = []
            body_lines: list[int] = []
            for i, stmt in enumerate(self.body):
                new = replacements.get(i, stmt)
                statements = [new] if isinstance(new, cst.BaseStatement) else new
                body.extend(statements)
                body_lines.extend([self.lines[i]] * len(statements))
            self._set_body(body, body_lines)
            return
        nodes: list[cst.BaseStatement | None] = []
        texts: list[str | None] = []
        modules: list[cst.Module] = []
        lines: list[int] = []
        for i in range(len(self._nodes)):
            if i not in replacements:
                nodes.append(self._nodes[i])
                texts.append(self._texts[i])
                modules.append(self._modules[i])
                lines.append(self.lines[i])
                continue
            new = replacements[i]
            for stmt in [new] if isinstance(new, cst.BaseStatement) else new:
                nodes.append(stmt)
                texts.append(None)
                modules.append(self._modules[i])
                lines.append(self.lines[i])
        self._replace_lists(nodes, texts, modules, lines)

    def insert(self, index: int, statements: Sequence[cst.BaseStatement]) -> None:
        """Insert new top-level statements before statement ``index``."""
        if not self.lazy:
            body = list(self.body)
            self.set_body([*body[:index], *statements, *body[index:]])
            return
        line = self.lines[index] if index < len(self.lines) else (self.lines[-1] if self.lines else 1)
        self._replace_lists(
            [*self._nodes[:index], *statements, *self._nodes[index:]],
            [*self._texts[:index], *[None] * len(statements), *self._texts[index:]],
            [*self._modules[:index], *[self.module] * len(statements), *self._modules[index:]],
            [*self.lines[:index], *[line] * len(statements), *self.lines[index:]],
        )

    def _replace_lists(
        self,
        nodes: list[cst.BaseStatement | None],
        texts: list[str | None],
        modules: list[cst.Module],
        lines: list[int],
    ) -> None:
        self._nodes, self._texts, self._modules, self.lines = nodes, texts, modules, lines
        self.changed = True
        self.version += 1
        self.cache.clear()

    def set_body(self, body: Sequence[cst.BaseStatement]) -> None:
        """Replace the top-level statements; statements kept from before keep their text and line."""
        self._set_body(body, None)

    def _set_body(self, body: Sequence[cst.BaseStatement], new_lines: Sequence[int] | None) -> None:
        """``set_body``; ``new_lines``: the line of each statement of ``body`` (a replacement takes the
        line of the statement it replaces), else a new statement takes the line of the one before."""
        current = list(self.body)
        if len(body) == len(current) and all(a is b for a, b in zip(body, current)):
            return
        old = {id(stmt): i for i, stmt in enumerate(current)}
        if self._spans and self._incremental and not self.lazy:
            self._verify_boundaries(body, old)
        texts: list[str | None] = []
        modules: list[cst.Module] = []
        lines: list[int] = []
        line = self.lines[0] if self.lines else 1
        for position, stmt in enumerate(body):
            i = old.get(id(stmt))
            if i is not None:
                line = self.lines[i]
            elif new_lines is not None:
                line = new_lines[position]
            texts.append(self._texts[i] if i is not None else None)
            modules.append(self._modules[i] if i is not None else self.module)
            lines.append(line)
        self._replace_lists(list(body), texts, modules, lines)

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
    ) -> dict[int, Replacement]:
        """Visit the statements at ``indices`` with ``transformer``; keep the ones it did not change.

        The transformer tells whether it changed something through a ``changed`` attribute that
        it sets; ``transformer.index`` is the index of the statement being visited. With a
        ``pattern``, nested statements none of whose lines match it are not visited (see ``prune``).
        Returns the replacements made, by index (``[]``: removed).
        """
        replacements: dict[int, Replacement] = {}
        for i in indices:
            transformer.index = i  # type: ignore[attr-defined]
            transformer.changed = False  # type: ignore[attr-defined]
            transformer.prune = self.prune(i, pattern)  # type: ignore[attr-defined]
            result = self.body[i].visit(_Tracer(transformer, self._origins))
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
        return replacements

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
        if pattern is None:
            return frozenset()
        node = self.body[index]
        text = self.text(index)
        first = self.lines[index]
        group = self._ast.get(id(node))
        if group is None and self.lazy and id(node) in self.original_ids:
            try:
                group = ast.parse(text).body  # lines counted from the statement's first line
            except (SyntaxError, ValueError, RecursionError):
                group = None
            first = 1
        if group is None:
            return frozenset()
        starts = [match.end() for match in _NEWLINE.finditer(text)]
        lines = {first + bisect.bisect_right(starts, match.start()) for match in pattern.finditer(text)}
        skipped: set[int] = set()
        _prune_statement(node, group, lines, skipped, top=True)
        return frozenset(skipped)

    # -- analysis -------------------------------------------------------------------------
    def scopes(self, pattern: re.Pattern[str]) -> Mapping[cst.CSTNode, Scope | None]:
        """Scope metadata for the statements matching ``pattern`` (plus any star import)."""
        key = ("scopes", pattern.pattern, self.version)
        cached = self.cache.get(key)
        if cached is None:
            chosen = [
                self.body[i]
                for i in range(len(self._nodes))
                if pattern.search(self.text(i)) or _STAR.search(self.text(i))
            ]
            wrapper = MetadataWrapper(cst.Module(body=chosen), unsafe_skip_copy=True)
            cached = self.cache[key] = wrapper.resolve(ScopeProvider)
        return cached  # type: ignore[return-value]

    def origin(self, node: cst.CSTNode) -> cst.CSTNode:
        """The node of the file as read that ``node`` was made from (``node`` itself if no rule made it)."""
        known = self._origins.get(id(node))
        return node if known is None else known[1]

    def line_of(self, index: int, node: cst.CSTNode | None = None) -> int:
        """The line of ``node`` (inside the top-level statement ``index``) in the file as read.

        Positions are taken in the statement as read, whatever the rules changed since, so a
        finding names the line the user sees. A node no rule derived from the file as read (one
        a rule wrote) gets its line in the statement as it is now.
        """
        statement = self.body[index]
        read = self.origin(statement)
        first = self._first_lines.get(id(read))
        if first is not None:
            positions = self._read_positions.get(id(read))
            if positions is None:
                positions = self._read_positions[id(read)] = _positions(read)
            target = read if node is None else self.origin(node)
            if target in positions:
                return first + positions[target].start.line - 1
        positions = _positions(statement)
        target = node if node is not None and node in positions else statement
        return self.lines[index] + positions[target].start.line - 1

    def report(self, rule: str, index: int, node: cst.CSTNode | None, message: str) -> None:
        """Record a finding at ``node`` of statement ``index`` (its line in the file as read)."""
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


_COMPOUND = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try,
    ast.TryStar, ast.With, ast.AsyncWith, ast.Match,
)  # fmt: skip
_INDENT = re.compile(r":[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n)(?:[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n))*([ \t]+)\S")


def _ast_slices(source: str) -> tuple[list[str], str, str] | None:
    """The source cut into top-level statements with ``ast`` (no libcst parse), plus the file's indent and newline.

    The first slice keeps the lines above it (the module header) and the last the lines below
    it (the footer); between two statements, comment lines indented under the first belong to
    its block, the other blank and comment lines to the second. None when the file does not
    lend itself to it (no trailing newline, ``ast`` refuses it, a form feed...).
    """
    if not source.endswith(("\n", "\r")) or "\f" in source:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if not tree.body:
        return None
    spans: list[tuple[int, int, bool]] = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        end = node.end_lineno or node.lineno
        compound = isinstance(node, _COMPOUND)
        if spans and not compound and not spans[-1][2] and start == spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]), False)  # ``a = 1; b = 2``: one line
        else:
            spans.append((start, end, compound))
    del tree
    lines = _LINE.findall(source)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    boundaries = [0]
    for (_, end, compound), (start, _, _) in zip(spans, spans[1:]):
        if start <= end:
            return None
        cut = end
        if compound:
            for number in range(end + 1, start):
                if _INDENTED_COMMENT.match(lines[number - 1]):
                    cut = number
        boundaries.append(offsets[cut])
    boundaries.append(len(source))
    newline = _NEWLINE.search(source)
    indent = _INDENT.search(source)
    return (
        [source[b:c] for b, c in zip(boundaries, boundaries[1:])],
        indent.group(1) if indent else "    ",
        newline.group(0) if newline else "\n",
    )


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
