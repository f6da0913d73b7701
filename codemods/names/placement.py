"""Put the import statements the rules wrote where isort / ruff (``I001``) would put them.

Custom code, because libcst's ``AddImportsVisitor`` appends new imports after the last import
at the top of the module and knows no sections: ``from newlog import ...`` would land among the
application's own imports (and its ``RemoveImportsVisitor`` needs scope metadata for the whole
module, which the engine avoids for speed - see ``benchmarks/bench_codemods.py``).

The model is ruff's isort defaults: sections future, standard library, third party, first
party, local (relative) imports, one blank line between sections, none inside; in a section,
``import x`` lines before ``from x import ...`` lines, each group ordered by module name
(case-insensitively); the names of a ``from`` import ordered constants, classes, then the rest;
``as`` imports on lines of their own; a line longer than the project's line length wrapped in
parentheses, one name per line, with a trailing comma. First party: the file's own top-level
package and every package or module beside it (ruff's ``src = ["."]``).

Only the statements the rules wrote ("ours") move. The blank lines of a block are laid out
again only when the block was already laid out that way without them; a block that was not
keeps its lines, and ours go where they sort.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node

FUTURE, STDLIB, THIRD_PARTY, FIRST_PARTY, LOCAL = range(5)

_STDLIB = frozenset(sys.stdlib_module_names)
_BLANK = cst.EmptyLine(indent=False)


@dataclass(frozen=True)
class Style:
    """What decides where an import goes in one file."""

    first_party: frozenset[str] = frozenset()
    line_length: int = 88
    indent: str = "    "


def section(stmt: cst.CSTNode, style: Style) -> int:
    """The isort section of an import line."""
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else stmt
    if isinstance(small, cst.ImportFrom):
        if small.relative:
            return LOCAL
        module = get_full_name_for_node(small.module) if small.module is not None else ""
    elif isinstance(small, cst.Import):
        module = get_full_name_for_node(small.names[0].name) or ""
    else:
        return THIRD_PARTY
    top = (module or "").partition(".")[0]
    if top == "__future__":
        return FUTURE
    if top in style.first_party:
        return FIRST_PARTY
    if top in _STDLIB:
        return STDLIB
    return THIRD_PARTY


def is_import_line(stmt: cst.BaseStatement) -> bool:
    """A line made of one ``import`` / ``from ... import`` statement."""
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))
    )


def _module(small: cst.Import | cst.ImportFrom) -> str:
    if isinstance(small, cst.Import):
        return get_full_name_for_node(small.names[0].name) or ""
    dots = "." * len(small.relative)
    return dots + (get_full_name_for_node(small.module) if small.module is not None else "")


def _first_name(small: cst.Import | cst.ImportFrom) -> str:
    if isinstance(small, cst.Import) or isinstance(small.names, cst.ImportStar):
        return ""
    return get_full_name_for_node(small.names[0].name) or ""


def _sort_key(stmt: cst.SimpleStatementLine, style: Style) -> tuple[int, int, str, str, str]:
    small = stmt.body[0]
    assert isinstance(small, (cst.Import, cst.ImportFrom))
    module = _module(small)
    return (section(stmt, style), isinstance(small, cst.ImportFrom), module.lower(), module, _first_name(small))


def member_key(name: str) -> tuple[int, str, str]:
    """ruff's ``order-by-type``: CONSTANTS, then Classes, then everything else, each case-insensitively."""
    if name.isupper() and len(name) > 1:
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, name.lower(), name


def _blank_lines(stmt: cst.BaseStatement) -> int:
    return sum(1 for line in getattr(stmt, "leading_lines", ()) if line.comment is None)


def _laid_out(block: Sequence[cst.SimpleStatementLine], style: Style) -> bool:
    """Whether ``block`` is ordered and has exactly one blank line between sections (none inside one)."""
    keys = [_sort_key(stmt, style) for stmt in block]
    if keys != sorted(keys):
        return False
    for previous, current in zip(keys, keys[1:]):
        blanks = _blank_lines(block[keys.index(current)])
        if blanks != (1 if current[0] != previous[0] else 0):
            return False
    return True


def _without_blanks(stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    return stmt.with_changes(leading_lines=[line for line in stmt.leading_lines if line.comment is not None])


def _with_blank(stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    return stmt.with_changes(leading_lines=[_BLANK, *_without_blanks(stmt).leading_lines])


def place(body: Sequence[cst.BaseStatement], ours: set[int], style: Style) -> list[cst.BaseStatement]:
    """``body`` with the import lines in ``ours`` moved into place in their import block (merged, wrapped)."""
    result: list[cst.BaseStatement] = []
    i = 0
    while i < len(body):
        if not is_import_line(body[i]):
            result.append(body[i])
            i += 1
            continue
        j = i
        while j < len(body) and is_import_line(body[j]):
            j += 1
        block = list(body[i:j])
        if any(id(stmt) in ours for stmt in block):
            block = _place_block(block, ours, style)  # type: ignore[arg-type]
        result.extend(block)
        i = j
    return result


def _place_block(block: list[cst.SimpleStatementLine], ours: set[int], style: Style) -> list[cst.SimpleStatementLine]:
    head = [line for line in block[0].leading_lines if line.comment is None]
    theirs: list[cst.SimpleStatementLine] = []
    handed: list[cst.EmptyLine] = []
    for stmt in block:  # the blank lines above one of ours stay where they were, with the next line
        if id(stmt) in ours:
            handed = handed or [line for line in stmt.leading_lines if line.comment is None]
        elif handed and not _blank_lines(stmt):
            theirs.append(stmt.with_changes(leading_lines=[*handed, *stmt.leading_lines]))
            handed = []
        else:
            theirs.append(stmt)
            handed = []
    laid_out = not theirs or _laid_out(theirs, style)
    theirs, added, touched = _merge(theirs, [stmt for stmt in block if id(stmt) in ours])
    placed = list(theirs)
    for stmt in added:
        key = _sort_key(stmt, style)
        position = next((k for k, other in enumerate(placed) if _sort_key(other, style) > key), len(placed))
        placed.insert(position, stmt)
    mine = [any(stmt is new for new in added) for stmt in placed]
    wrap_it = [mine[k] or id(stmt) in touched for k, stmt in enumerate(placed)]
    sections = [section(stmt, style) for stmt in placed]
    for k, stmt in enumerate(placed):
        if k == 0:
            stmt = stmt.with_changes(leading_lines=[*head, *_without_blanks(stmt).leading_lines])
        elif laid_out or mine[k] or mine[k - 1] or stmt is theirs[0]:
            stmt = _with_blank(stmt) if sections[k] != sections[k - 1] else _without_blanks(stmt)
        placed[k] = wrap(stmt, style) if wrap_it[k] else stmt
    return placed


def _merge(
    theirs: list[cst.SimpleStatementLine], mine: list[cst.SimpleStatementLine]
) -> tuple[list[cst.SimpleStatementLine], list[cst.SimpleStatementLine], set[int]]:
    """Fold each of our ``from M import a, b`` lines into another ``from M import ...`` line of the block
    (``as`` names stay on lines of their own); return their lines, our remaining lines, the ids of merged lines."""
    theirs = list(theirs)
    added: list[cst.SimpleStatementLine] = []
    touched: set[int] = set()
    for stmt in [piece for line in mine for piece in _split_as_names(line)]:
        small = stmt.body[0]
        if isinstance(small, cst.ImportFrom) and _mergeable(small):
            module = _module(small)
            index = next((k for k, other in enumerate(theirs) if _same_from(other, module)), None)
            if index is not None:
                theirs[index] = _join(theirs[index], small)
                touched.add(id(theirs[index]))
                continue
            index = next((k for k, other in enumerate(added) if _same_from(other, module)), None)
            if index is not None:
                added[index] = _join(added[index], small)
                continue
        added.append(_sorted_names(stmt))
    return theirs, added, touched


def _split_as_names(stmt: cst.SimpleStatementLine) -> list[cst.SimpleStatementLine]:
    """``from M import a as b, c`` as ``from M import c`` and ``from M import a as b`` (isort keeps ``as`` apart)."""
    small = stmt.body[0]
    if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar) or _has_comment(small):
        return [stmt]
    plain = [alias for alias in small.names if alias.asname is None]
    aliased = [alias for alias in small.names if alias.asname is not None]
    if not plain or not aliased:
        return [stmt]
    lines = [stmt.with_changes(body=[_with_names(small, [get_full_name_for_node(a.name) or "" for a in plain])])]
    for alias in aliased:
        single = small.with_changes(names=[alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)], lpar=None, rpar=None)
        lines.append(cst.SimpleStatementLine(body=[single], trailing_whitespace=stmt.trailing_whitespace))
    return lines


def _same_from(stmt: cst.SimpleStatementLine, module: str) -> bool:
    small = stmt.body[0]
    return isinstance(small, cst.ImportFrom) and _mergeable(small) and _module(small) == module


def _mergeable(node: cst.ImportFrom) -> bool:
    return not isinstance(node.names, cst.ImportStar) and all(alias.asname is None for alias in node.names)


def _join(stmt: cst.SimpleStatementLine, extra: cst.ImportFrom) -> cst.SimpleStatementLine:
    """``stmt`` (a ``from M import ...`` line) with the names of ``extra`` added in order."""
    node = stmt.body[0]
    assert isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar)
    assert not isinstance(extra.names, cst.ImportStar)
    present = {get_full_name_for_node(alias.name) for alias in node.names}
    new = [get_full_name_for_node(alias.name) or "" for alias in extra.names]
    names = [name for name in dict.fromkeys(new) if name not in present]
    if not names:
        return stmt
    existing = [get_full_name_for_node(alias.name) or "" for alias in node.names]
    if existing == sorted(existing, key=member_key) and not _has_comment(node):
        return stmt.with_changes(body=[_with_names(node, sorted([*existing, *names], key=member_key))])
    return stmt.with_changes(body=[_appended(node, names)])


def _appended(node: cst.ImportFrom, names: Sequence[str]) -> cst.ImportFrom:
    """``node`` with ``names`` added after its own, which keep their order and the comments between them."""
    assert not isinstance(node.names, cst.ImportStar)
    old = list(node.names)
    if len(old) >= 2:
        separator = _plain(old[-2].comma)
    elif node.lpar is not None and isinstance(node.lpar.whitespace_after, cst.ParenthesizedWhitespace):
        separator = _plain(cst.Comma(whitespace_after=node.lpar.whitespace_after))
    else:
        separator = cst.MaybeSentinel.DEFAULT
    if isinstance(separator, cst.MaybeSentinel):
        separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    aliases = [*old[:-1], old[-1].with_changes(comma=separator)]
    aliases += [cst.ImportAlias(name=cst.Name(name), comma=separator) for name in names]
    aliases[-1] = aliases[-1].with_changes(comma=old[-1].comma)
    return node.with_changes(names=aliases)


def _plain(comma: cst.Comma | cst.MaybeSentinel) -> cst.Comma | cst.MaybeSentinel:
    """A separator like ``comma`` without the comment lines it carries."""
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        space = comma.whitespace_after
        return comma.with_changes(
            whitespace_after=space.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        )
    return comma


def _with_names(node: cst.ImportFrom, names: Sequence[str]) -> cst.ImportFrom:
    """``node`` importing ``names`` instead, keeping its parentheses and separators where it had them."""
    assert not isinstance(node.names, cst.ImportStar)
    old = list(node.names)
    if any(_has_comment(alias) for alias in old):
        separator = old[-2].comma if len(old) >= 2 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    elif len(old) >= 2:
        separator = old[-2].comma
    elif node.lpar is not None and isinstance(node.lpar.whitespace_after, cst.ParenthesizedWhitespace):
        separator = cst.Comma(whitespace_after=node.lpar.whitespace_after)
    else:
        separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    trailing = old[-1].comma
    aliases = [cst.ImportAlias(name=cst.Name(name), comma=separator) for name in names]
    aliases[-1] = aliases[-1].with_changes(comma=trailing)
    return node.with_changes(names=aliases)


def _has_comment(node: cst.CSTNode) -> bool:
    return "#" in cst.Module([]).code_for_node(node)


def _sorted_names(stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """Our ``from`` line with its names in isort order, unless comments sit between them."""
    node = stmt.body[0]
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
        return stmt
    names = [get_full_name_for_node(alias.name) or "" for alias in node.names]
    if names == sorted(names, key=member_key) or _has_comment(node) or any(a.asname for a in node.names):
        return stmt
    return stmt.with_changes(body=[_with_names(node, sorted(names, key=member_key))])


def wrap(stmt: cst.SimpleStatementLine, style: Style, indent: str = "") -> cst.SimpleStatementLine:
    """A ``from`` import longer than the line length, in parentheses with one name per line."""
    node = stmt.body[0]
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar) or node.lpar is not None:
        return stmt
    code = cst.Module([]).code_for_node(stmt.with_changes(leading_lines=[]))
    if len(indent) + len(code.rstrip("\r\n")) <= style.line_length:
        return stmt
    inner = cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), indent=True, last_line=cst.SimpleWhitespace(style.indent)
    )
    closing = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True)
    aliases = [alias.with_changes(comma=cst.Comma(whitespace_after=inner)) for alias in node.names]
    aliases[-1] = aliases[-1].with_changes(comma=cst.Comma(whitespace_after=closing))
    return stmt.with_changes(
        body=[
            node.with_changes(
                names=aliases,
                lpar=cst.LeftParen(whitespace_after=inner),
                rpar=cst.RightParen(),
                whitespace_after_import=cst.SimpleWhitespace(" "),
            )
        ]
    )


_LEGACY_WORDS = re.compile(r"legacy|structlog_config", re.IGNORECASE)
_STAR_CODES = {"F401", "F403", "F405"}


def clean_comment(comment: str, module: str, *, was_star: bool) -> str | None:
    """A comment of a rewritten legacy import: None when it was about the legacy module (or only silenced
    star-import warnings that no longer apply), else the comment, without codes that no longer apply."""
    last = module.rpartition(".")[2]
    if _LEGACY_WORDS.search(comment) or last in comment or module in comment:
        if not re.match(r"#\s*(noqa|type:|pragma|pylint|isort|fmt)", comment):
            return None
    match = re.match(r"#\s*noqa\s*:\s*([A-Z0-9, ]+)(.*)$", comment)
    if match and was_star:
        codes = [code.strip() for code in match.group(1).split(",") if code.strip()]
        kept = [code for code in codes if code not in _STAR_CODES - {"F401"}]
        if not kept:
            return None
        return f"# noqa: {', '.join(kept)}{match.group(2)}"
    return comment
