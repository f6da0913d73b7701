"""Import statements: build them, drop names from them, find where a new one goes.

Custom code where libcst's ``RemoveImportsVisitor`` would do the job: that visitor needs scope
and qualified-name metadata for the whole module, which costs more than parsing it
(``benchmarks/bench_codemods.py`` prints the figure) and which the engine avoids by reading only
the statements that mention a name; and, a formatting case, dropping a name must keep the
statement's parentheses, trailing comma and the comments between the other names
(``select_aliases``). Where new lines go is ``codemods.names.placement``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods.engine import FileState, Pruned, word_pattern
from codemods.names.legacy import reexported

AliasSpec = tuple[str, "str | None"]
"""``(name, asname)`` of one imported name."""


def dotted_expr(dotted: str) -> cst.Name | cst.Attribute:
    """``a.b.c`` as a libcst expression."""
    first, *rest = dotted.split(".")
    expr: cst.Name | cst.Attribute = cst.Name(first)
    for part in rest:
        expr = cst.Attribute(value=expr, attr=cst.Name(part))
    return expr


def make_alias(name: str, asname: str | None) -> cst.ImportAlias:
    """``name as asname`` (or ``name``) as an import alias node."""
    return cst.ImportAlias(
        name=dotted_expr(name),
        asname=cst.AsName(name=cst.Name(asname)) if asname else None,
    )


def alias_spec(alias: cst.ImportAlias) -> AliasSpec:
    """``(name, asname)`` of an import alias node."""
    name = get_full_name_for_node(alias.name) or ""
    asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
    return name, asname


def local_name(alias: cst.ImportAlias) -> str:
    """The name an import alias binds in the importing module."""
    name, asname = alias_spec(alias)
    return asname or name.partition(".")[0]


def select_aliases(
    aliases: Sequence[cst.ImportAlias], kept: Sequence[tuple[int, cst.ImportAlias]], parenthesized: bool
) -> list[cst.ImportAlias]:
    """The ``kept`` names (original index, possibly edited alias) with their commas made valid again.

    When names at the end are dropped, the last kept name takes the comma (and the
    whitespace before the closing parenthesis) of the last original name, so comments
    that introduced the dropped names go with them.
    """
    result = [alias for _, alias in kept]
    if not result:
        return result
    if not parenthesized:
        result[-1] = result[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    elif kept[-1][0] != len(aliases) - 1:
        result[-1] = result[-1].with_changes(comma=aliases[-1].comma)
    return result


def from_import_line(module: str, specs: Sequence[AliasSpec]) -> cst.SimpleStatementLine:
    """A new ``from module import names`` line."""
    return cst.SimpleStatementLine(
        body=[cst.ImportFrom(module=dotted_expr(module), names=[make_alias(*spec) for spec in specs])]
    )


def has_comments(node: cst.CSTNode) -> bool:
    """Whether any comment is attached to ``node`` or its children."""
    finder = _CommentFinder()
    node.visit(finder)
    return finder.found


class _CommentFinder(cst.CSTVisitor):
    # a visitor, not ``libcst.matchers.findall``: importing the matchers costs as much CPU as the
    # rest of libcst, and this runs on most files
    found = False

    def visit_Comment(self, node: cst.Comment) -> bool:
        self.found = True
        return False


def is_import_line(stmt: cst.BaseStatement) -> bool:
    """A line of import statements only (``import a; from b import c`` too)."""
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body
    )


def insertion_index(body: Sequence[cst.BaseStatement]) -> int:
    """Where a new top-level import goes: after the file's leading docstring and imports."""
    index = 0
    for i, stmt in enumerate(body):
        if i == 0 and _is_docstring(stmt):
            index = 1
            continue
        if is_import_line(stmt):
            index = i + 1
            continue
        break
    return index


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def move_comments(removed: cst.BaseStatement, following: cst.BaseStatement) -> cst.BaseStatement:
    """Give the comment lines above a removed statement to the statement that follows it."""
    leading = getattr(removed, "leading_lines", ())
    if not any(line.comment for line in leading):
        return following
    return following.with_changes(leading_lines=[*leading, *following.leading_lines])


def _without_leading_blank_lines(stmt: cst.BaseStatement) -> cst.BaseStatement:
    """The first statement of a file should not start with blank lines."""
    leading = list(getattr(stmt, "leading_lines", ()))
    while leading and leading[0].comment is None:
        leading.pop(0)
    return stmt.with_changes(leading_lines=leading)


# -- adding and dropping names at the end of a run ----------------------------------------------------


class _NameCounter(Pruned, cst.CSTVisitor):
    """Counts ``Name`` uses of some names outside import statements."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.used: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.used.add(node.value)


class _DropNames(Pruned, cst.CSTTransformer):
    """Removes the given local names from import statements (and lines/blocks left empty)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.changed = False
        self.index = 0

    def _filter(self, node: cst.Import | cst.ImportFrom) -> cst.Import | cst.ImportFrom | cst.RemovalSentinel:
        if isinstance(node.names, cst.ImportStar):
            return node
        kept = [(i, alias) for i, alias in enumerate(node.names) if local_name(alias) not in self.names]
        if len(kept) == len(node.names):
            return node
        self.changed = True
        if not kept:
            return cst.RemovalSentinel.REMOVE
        parenthesized = isinstance(node, cst.ImportFrom) and node.lpar is not None
        return node.with_changes(names=select_aliases(node.names, kept, parenthesized))

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import):  # type: ignore[no-untyped-def]
        return self._filter(updated_node)

    def leave_ImportFrom(  # type: ignore[no-untyped-def]
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ):
        return self._filter(updated_node)

    def leave_SimpleStatementLine(  # type: ignore[no-untyped-def]
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ):
        if not updated_node.body:
            return cst.RemovalSentinel.REMOVE
        return updated_node

    def leave_IndentedBlock(  # type: ignore[no-untyped-def]
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ):
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
        return updated_node


def unused_names(state: FileState, names: Iterable[str]) -> set[str]:
    """Those of ``names`` no code uses (import statements aside); names in ``__all__`` count as used.

    Meant for names a rule released (it removed uses of them), so they were imported for use
    in this file, not only to be re-exported, even from a package ``__init__``.
    """
    candidates = set(names) - reexported(state)
    if not candidates:
        return set()
    counter = _NameCounter(candidates)
    state.visit(state.hot(word_pattern(candidates)), counter, word_pattern(candidates))
    return candidates - counter.used


def drop_unused(state: FileState, names: Iterable[str]) -> None:
    """Remove ``names`` from the file's imports when no code uses them (re-exports are kept)."""
    unused = unused_names(state, names)
    if not unused:
        return
    dropper = _DropNames(unused)
    replacements: dict[int, object] = {}
    for i in state.hot(word_pattern(unused)):
        dropper.changed = False
        result = state.body[i].visit(dropper)
        if not dropper.changed:
            continue
        if isinstance(result, cst.RemovalSentinel):
            replacements[i] = []
            if i + 1 < len(state.body) and i + 1 not in replacements:
                following = move_comments(state.body[i], state.body[i + 1])
                if i == 0:
                    following = _without_leading_blank_lines(following)
                replacements[i + 1] = following
        else:
            replacements[i] = result
    state.apply(replacements)  # type: ignore[arg-type]
