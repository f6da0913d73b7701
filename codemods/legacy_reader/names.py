"""The names a legacy module binds: its imports (any form, resolved against its package), classes, helpers.

Also reads constants of the app's own modules from their source (``HttpStatus.BAD_REQUEST``
-> 400) - the app is never imported; the standard library is.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codemods.legacy_reader.model import Finding, Ref


class Unreadable(Exception):
    """The reader met a construct it does not understand (message: what, at which line)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class LocalClass:
    """A class defined in the legacy module: its constant attributes and (for a dataclass) its field order."""

    name: str
    constants: dict[str, Any]
    fields: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class LocalFunction:
    """A function defined in the legacy module."""

    node: ast.FunctionDef


class ModuleNames:
    """The module-level names of one legacy module, and where they come from.

    ``bindings`` maps a name to a :class:`Ref` (an import), a :class:`LocalClass`, a
    :class:`LocalFunction` or ``("assign", value node)``; ``nodes`` maps it to its
    definition. Findings go to ``findings``.
    """

    def __init__(
        self, path: Path, module: str, root: Path, findings: list[Finding], source: str | None = None
    ) -> None:
        self.path = path
        self.source = path.read_text(encoding="utf-8") if source is None else source
        self.tree = ast.parse(self.source, filename=str(path))
        self.module = module
        self.root = root
        self.findings = findings
        self.bindings: dict[str, Any] = {}
        self.nodes: dict[str, ast.AST] = {}
        self._constant_cache: dict[Ref, Any] = {}
        self._collect_module_bindings()

    def finding(self, line: int, message: str) -> None:
        """Record that ``message`` (``could not determine ...``) applies at ``line``."""
        self.findings.append(Finding(str(self.path), line, message))

    def bind_import(self, statement: ast.Import | ast.ImportFrom, bindings: dict[str, Any]) -> None:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    bindings.setdefault(alias.asname, Ref(alias.name))
                else:
                    top = alias.name.partition(".")[0]
                    bindings.setdefault(top, Ref(top))
            return
        base = self._absolute(statement.module, statement.level, statement.lineno)
        for alias in statement.names:
            if alias.name == "*":
                self.finding(statement.lineno, f"could not determine the names of 'from {base} import *'")
                continue
            bindings.setdefault(alias.asname or alias.name, Ref(base, alias.name))

    def _absolute(self, module: str | None, level: int, line: int) -> str:
        if not level:
            return module or ""
        package = self.module if self.path.stem == "__init__" else self.module.rpartition(".")[0]
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            self.finding(line, f"could not resolve a relative import of level {level} in {self.module}")
            return module or ""
        base = parts[: len(parts) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def normalized(self, ref: Ref) -> Ref:
        """``Ref("shop", "errors.ShopError")`` becomes ``Ref("shop.errors", "ShopError")`` if that module exists."""
        while ref.name:
            first, _, rest = ref.name.partition(".")
            module = f"{ref.module}.{first}" if ref.module else first
            if not self._is_module(module):
                break
            ref = Ref(module, rest)
        return ref

    def _is_module(self, module: str) -> bool:
        base = self.root.joinpath(*module.split("."))
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
        if (self.root / module.partition(".")[0]).exists():
            return False  # the app's own package: its files decide
        try:  # an installed library (werkzeug.exceptions): finding the spec imports its parent package, not the app
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    def _local_class(self, node: ast.ClassDef) -> LocalClass:
        constants: dict[str, Any] = {}
        fields: list[str] = []
        for item in node.body:
            if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                if isinstance(item.value, ast.Constant):
                    constants[item.targets[0].id] = item.value.value
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                fields.append(item.target.id)
                if isinstance(item.value, ast.Constant):
                    constants[item.target.id] = item.value.value
        return LocalClass(node.name, constants, tuple(fields), node.lineno)

    def function(self, name: str) -> ast.FunctionDef | None:
        node = self.nodes.get(name)
        return node if isinstance(node, ast.FunctionDef) else None

    def class_(self, name: str) -> ast.ClassDef | None:
        node = self.nodes.get(name)
        return node if isinstance(node, ast.ClassDef) else None

    def constant(self, ref: Ref, line: int) -> Any:
        """The value of a constant in another module (read from its source; the standard library is imported)."""
        if ref in self._constant_cache:
            return self._constant_cache[ref]
        value = self._read_constant(ref, line)
        self._constant_cache[ref] = value
        return value

    def _read_constant(self, ref: Ref, line: int) -> Any:
        top = ref.module.partition(".")[0]
        if top in sys.stdlib_module_names:
            value: Any = importlib.import_module(ref.module)
            for part in ref.name.split("."):
                value = getattr(value, part)
            return value
        base = self.root.joinpath(*ref.module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                tree = ast.parse(candidate.read_text(encoding="utf-8"))
                break
        else:
            raise Unreadable(f"could not find the source of {ref.module} under {self.root} to read {ref.name}", line)
        body: list[ast.stmt] = tree.body
        *owners, leaf = ref.name.split(".")
        for owner in owners:
            found = next((node for node in body if isinstance(node, ast.ClassDef) and node.name == owner), None)
            if found is None:
                raise Unreadable(f"could not find class {owner} in {ref.module}", line)
            body = found.body
        for node in body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            if any(isinstance(target, ast.Name) and target.id == leaf for target in targets):
                if isinstance(node.value, ast.Constant):  # type: ignore[union-attr]
                    return node.value.value  # type: ignore[union-attr]
        raise Unreadable(f"could not read the constant {ref.module}.{ref.name}", line)

    def _module_statements(self, body: list[ast.stmt]) -> Iterator[ast.stmt]:
        """Module-level statements, looking into ``if`` and ``try`` blocks (the first binding of a name wins)."""
        for statement in body:
            yield statement
            if isinstance(statement, ast.If):
                yield from self._module_statements(statement.body)
                yield from self._module_statements(statement.orelse)
            elif isinstance(statement, ast.Try):
                yield from self._module_statements(statement.body)
                for handler in statement.handlers:
                    yield from self._module_statements(handler.body)
                yield from self._module_statements(statement.orelse)

    def _collect_module_bindings(self) -> None:
        for statement in self._module_statements(self.tree.body):
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self.bind_import(statement, self.bindings)
            elif isinstance(statement, ast.ClassDef):
                self.bindings.setdefault(statement.name, self._local_class(statement))
                self.nodes.setdefault(statement.name, statement)
            elif isinstance(statement, ast.FunctionDef):
                self.bindings.setdefault(statement.name, LocalFunction(statement))
                self.nodes.setdefault(statement.name, statement)
            elif isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    if isinstance(target, ast.Name) and statement.value is not None:
                        self.nodes.setdefault(target.id, statement)
                        self.bindings.setdefault(target.id, ("assign", statement.value))
