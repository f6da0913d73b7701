"""Which lines of a file still import the legacy module (for ``--delete-legacy``).

Read with ``ast`` over the final text (after the rules ran): every import form - ``import L``,
``import L as m``, ``from L import x``, ``from P import S`` (``P.S`` is ``L``), relative forms
resolved against the file's package, at any depth (functions, ``try``/``except``, ``if``) -
and ``importlib.import_module("L")`` / ``__import__("L")`` with a literal path.
"""

from __future__ import annotations

import ast

from codemods.engine import FileInfo


def legacy_import_lines(source: str, info: FileInfo, module: str) -> list[int]:
    """The line numbers of ``source`` that import ``module``; empty when it does not parse."""
    last = module.rpartition(".")[2]
    if last not in source:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    parent = module.rpartition(".")[0]
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name == module or alias.name.startswith(module + ".") for alias in node.names):
                lines.add(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, info)
            if base is None:
                continue
            if _same(base, module, node.level) or (
                _same(base, parent, node.level) and any(alias.name == last for alias in node.names)
            ):
                lines.add(node.lineno)
        elif isinstance(node, ast.Call) and _imports_by_name(node, module):
            lines.add(node.lineno)
    return sorted(lines)


def _absolute(node: ast.ImportFrom, info: FileInfo) -> str | None:
    if not node.level:
        return node.module or ""
    package = info.package
    if package is None:
        return None
    parts = package.split(".")
    keep = len(parts) - (node.level - 1)
    if keep <= 0:
        return None
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def _same(resolved: str, target: str, level: int) -> bool:
    """Whether ``resolved`` is ``target``; a relative import may resolve under an outer folder name."""
    return bool(resolved and target) and (resolved == target or (level > 0 and resolved.endswith("." + target)))


def _imports_by_name(call: ast.Call, module: str) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in {"import_module", "__import__"} or not call.args:
        return False
    first = call.args[0]
    return isinstance(first, ast.Constant) and first.value == module
