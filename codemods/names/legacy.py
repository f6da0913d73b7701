"""What refers to the legacy module in a file: the imports of it, and the uses of the names they bind.

Every import form counts: ``from L import a, b as c`` (also relative, resolved against the
file's package), ``from L import *``, ``import L``, ``import L as m``, ``from P import S``
(``P.S`` is ``L``), at any depth (functions, ``try``, ``if TYPE_CHECKING``).

Uses of a bound name are found in two ways. A cheap textual gate first: when every
occurrence of the name in the file is followed by ``(``, ``.`` or ``[`` (and is not a
``def``/``class`` name or an import), no statement can rebind it, so every ``Name`` node
with that value is a use. Otherwise libcst's ``ScopeProvider`` decides, over the
statements that mention the name: only accesses whose every possible assignment is a
legacy import count, and anything ambiguous makes the caller fall back to a safe form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Union

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods.engine import IMPORT_LINE, FileInfo, FileState, Pruned, word_pattern

ImportNode = Union[cst.Import, cst.ImportFrom]


@dataclass
class NameBinding:
    """``from L import name [as local]``."""

    index: int
    node: cst.ImportFrom
    alias: cst.ImportAlias
    name: str
    local: str
    module_level: bool


@dataclass
class ModuleBinding:
    """A name bound to the legacy module object: ``import L as m``, ``from P import S``, ``import L``."""

    index: int
    node: ImportNode
    alias: cst.ImportAlias
    local: str
    chain: str | None
    """For a plain ``import L``: the dotted path every use goes through (``local`` is its root)."""
    module_level: bool


@dataclass
class StarImport:
    """``from L import *``."""

    index: int
    node: cst.ImportFrom
    module_level: bool


@dataclass
class LegacyImports:
    names: list[NameBinding] = field(default_factory=list)
    modules: list[ModuleBinding] = field(default_factory=list)
    stars: list[StarImport] = field(default_factory=list)
    indices: set[int] = field(default_factory=set)
    """Top-level statements that hold a legacy import (at any depth)."""
    pure_indices: set[int] = field(default_factory=set)
    """Top-level lines made of legacy imports only (their text says nothing about uses)."""

    @property
    def import_nodes(self) -> set[int]:
        """Ids of every import statement that imports the legacy module."""
        return {id(b.node) for b in [*self.names, *self.modules, *self.stars]}

    def __bool__(self) -> bool:
        return bool(self.names or self.modules or self.stars)


def resolve_from(node: cst.ImportFrom, info: FileInfo) -> str | None:
    """Return the absolute dotted module an ``ImportFrom`` reads from, or None if it cannot tell."""
    module = get_full_name_for_node(node.module) if node.module is not None else ""
    if not node.relative:
        return module
    package = info.package
    if package is None:
        return None
    parts = package.split(".")
    keep = len(parts) - (len(node.relative) - 1)
    if keep <= 0:
        return None
    return ".".join(parts[:keep] + ([module] if module else []))


def same_module(resolved: str | None, target: str, relative: bool) -> bool:
    """Whether ``resolved`` is ``target``; a relative import may resolve under an outer folder name."""
    if not resolved or not target:
        return False
    return resolved == target or (relative and resolved.endswith("." + target))


class _Collector(Pruned, cst.CSTVisitor):
    def __init__(self, state: FileState) -> None:
        self.state = state
        self.legacy = state.options.module
        self.parent = state.options.module_parent
        self.last = state.options.module_last
        self.found = LegacyImports()
        self.depth = 0
        self.index = 0

    def _enter(self, node: cst.CSTNode) -> None:
        self.depth += 1

    def _leave(self, node: cst.CSTNode) -> None:
        self.depth -= 1

    visit_FunctionDef = visit_ClassDef = _enter  # type: ignore[assignment]
    leave_FunctionDef = leave_ClassDef = _leave  # type: ignore[assignment]

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        """Imports are small statements: look at them without walking the expressions of the line."""
        for small in node.body:
            if isinstance(small, cst.Import):
                self.visit_Import(small)
            elif isinstance(small, cst.ImportFrom):
                self.visit_ImportFrom(small)
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            full = get_full_name_for_node(alias.name)
            if full != self.legacy:
                continue
            if alias.asname is not None:
                local = get_full_name_for_node(alias.asname.name) or ""
                chain = None
            else:
                local, chain = full.partition(".")[0], full
            self.found.modules.append(ModuleBinding(self.index, node, alias, local, chain, self.depth == 0))
            self.found.indices.add(self.index)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        resolved = resolve_from(node, self.state.info)
        relative = bool(node.relative)
        if same_module(resolved, self.legacy, relative):
            self.found.indices.add(self.index)
            if isinstance(node.names, cst.ImportStar):
                self.found.stars.append(StarImport(self.index, node, self.depth == 0))
                return False
            for alias in node.names:
                name = get_full_name_for_node(alias.name) or ""
                local = get_full_name_for_node(alias.asname.name) if alias.asname else name
                self.found.names.append(NameBinding(self.index, node, alias, name, local or name, self.depth == 0))
        elif same_module(resolved, self.parent, relative) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if get_full_name_for_node(alias.name) != self.last:
                    continue
                local = get_full_name_for_node(alias.asname.name) if alias.asname else self.last
                binding = ModuleBinding(self.index, node, alias, local or self.last, None, self.depth == 0)
                self.found.modules.append(binding)
                self.found.indices.add(self.index)
        return False


def collect(state: FileState) -> LegacyImports:
    """Find every import of the legacy module in the file (cached while those statements stay the same)."""
    pattern = word_pattern([state.options.module_last])
    hot = state.hot(pattern)
    statements = [state.body[i] for i in hot]
    previous = state.memo.get("legacy-imports")
    if previous is not None and previous[0] == hot and all(a is b for a, b in zip(previous[1], statements)):
        return previous[2]  # type: ignore[no-any-return]
    collector = _Collector(state)
    state.visit(hot, collector, pattern)
    found = collector.found
    import_ids = found.import_nodes
    for i in found.indices:
        stmt = state.body[i]
        if isinstance(stmt, cst.SimpleStatementLine) and all(id(small) in import_ids for small in stmt.body):
            found.pure_indices.add(i)
    state.memo["legacy-imports"] = (hot, statements, found)
    return found


# -- uses of a bound name -------------------------------------------------------------------


@dataclass(frozen=True)
class Uses:
    """The nodes that use a binding.

    After the textual gate: every ``Name`` called ``name``, or every dotted ``chain`` (the
    ``a.b.c`` of a plain ``import a.b.c``); after scope analysis: exact node ids.
    """

    name: str | None = None
    ids: frozenset[int] = frozenset()
    chain: str | None = None

    def __contains__(self, node: object) -> bool:
        if id(node) in self.ids:
            return True
        if self.name is not None and isinstance(node, cst.Name):
            return node.value == self.name
        if self.chain is not None and isinstance(node, cst.Attribute):
            return get_full_name_for_node(node) == self.chain
        return False


def occurrences(state: FileState, name: str, skip: Iterable[int]) -> Iterable[tuple[str, int, int]]:
    """``(statement text, start, end)`` of each identifier occurrence of ``name`` (attribute names aside)."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")
    skipped = set(skip)
    for i in range(len(state.body)):
        if i in skipped:
            continue
        text = state.text(i)
        if name not in text:
            continue
        for match in pattern.finditer(text):
            start = match.start()
            j = start - 1
            while j >= 0 and text[j] in " \t":
                j -= 1
            if j >= 0 and text[j] == ".":
                continue
            yield text, start, match.end()


def only_loads(state: FileState, name: str, followers: str, skip: Iterable[int]) -> bool:
    """The textual gate: every identifier occurrence of ``name`` is followed by one of ``followers``."""
    for text, start, end in occurrences(state, name, skip):
        line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
        prefix = text[line_start:start]
        if re.search(r"\b(?:def|class)[ \t]+$", prefix) or IMPORT_LINE.match(prefix):
            return False
        k = end
        while k < len(text) and text[k] in " \t":
            k += 1
        if k >= len(text) or text[k] not in followers:
            return False
    return True


def mentioned(state: FileState, name: str, skip: Iterable[int] = ()) -> bool:
    """Whether ``name`` occurs as an identifier (not an attribute name) outside the ``skip`` statements."""
    return next(iter(occurrences(state, name, skip)), None) is not None


def scope_uses(state: FileState, local: str, import_nodes: Iterable[ImportNode]) -> frozenset[int] | None:
    """The exact uses of ``local`` as bound by ``import_nodes``, or None when some use may mean something else."""
    nodes = list(import_nodes)
    node_ids = {id(node) for node in nodes}
    scopes = state.scopes(word_pattern([local.partition(".")[0]]))
    uses: set[int] = set()
    for node in nodes:
        scope = scopes.get(node)
        if scope is None:
            return None
        for assignment in scope.assignments[local]:
            if getattr(assignment, "node", None) is not node:
                continue
            for access in assignment.references:
                if isinstance(access.node, cst.Attribute) and _root_shadowed(access, local, node_ids):
                    continue
                if any(id(getattr(referent, "node", None)) not in node_ids for referent in access.referents):
                    return None
                if not isinstance(access.node, (cst.Name, cst.Attribute)):
                    return None
                uses.add(id(access.node))
    return frozenset(uses)


def _root_shadowed(access: object, dotted: str, node_ids: set[int]) -> bool:
    """Whether the first name of a dotted access (``app`` of ``app.utils.x``) means something else there.

    libcst resolves a dotted access by its whole dotted name, so a parameter called ``app``
    does not hide a module-level ``import app.utils.x`` from it: check the root name itself.
    """
    root = dotted.partition(".")[0]
    scope = getattr(access, "scope", None)
    if scope is None:
        return False
    return any(id(getattr(assignment, "node", None)) not in node_ids for assignment in scope[root])


def other_root_uses(state: FileState, binding: ModuleBinding) -> bool:
    """For a plain ``import a.b.c``: whether ``a`` or ``a.b`` are used for something else."""
    assert binding.chain is not None
    found = collect(state)
    root, _, rest = binding.chain.partition(".")
    others = re.compile(rf"(?<![\w.]){re.escape(root)}(?!\w)(?!\s*\.\s*{_dots(rest)}(?!\w))")
    if not any(others.search(state.text(i)) for i in range(len(state.body)) if i not in found.pure_indices):
        return False
    scopes = state.scopes(word_pattern([binding.local]))
    scope = scopes.get(binding.node)
    if scope is None:
        return True
    parts = binding.chain.split(".")
    for n in range(1, len(parts)):
        for assignment in scope.assignments[".".join(parts[:n])]:
            if getattr(assignment, "node", None) is binding.node and assignment.references:
                return True
    return False


def _dots(dotted: str) -> str:
    return r"\s*\.\s*".join(re.escape(part) for part in dotted.split("."))


def find_module_uses(state: FileState, key: str, bindings: Iterable[ImportNode]) -> Uses | None:
    """Uses of a module binding (``key`` is its local name, or the dotted path of a plain import)."""
    nodes = list(bindings)
    if "." not in key:
        return find_uses(state, key, nodes, ".")
    found = collect(state)
    root, _, rest = key.partition(".")
    node_ids = {id(node) for node in nodes}
    rebound = any(b.local == root and id(b.node) not in node_ids for b in [*found.names, *found.modules])
    if not rebound and only_loads(state, root, ".", found.pure_indices):
        return Uses(chain=key)
    ids = scope_uses(state, key, nodes)
    return None if ids is None else Uses(ids=ids)


def find_uses(state: FileState, local: str, bindings: Iterable[ImportNode], followers: str) -> Uses | None:
    """Uses of ``local`` bound by the legacy imports ``bindings``: gate first, then scope analysis."""
    found = collect(state)
    nodes = list(bindings)
    node_ids = {id(node) for node in nodes}
    rebound = any(b.local == local and id(b.node) not in node_ids for b in [*found.names, *found.modules])
    if not rebound and only_loads(state, local, followers, found.pure_indices):
        return Uses(name=local)
    ids = scope_uses(state, local, nodes)
    return None if ids is None else Uses(ids=ids)


def declares_all(state: FileState) -> bool:
    """Whether the module defines ``__all__``."""
    return bool(state.hot(word_pattern(["__all__"])))


def reexported(state: FileState) -> set[str]:
    """Names listed in the module's ``__all__`` (assignments, ``+=``, ``.append``/``.extend``)."""
    key = ("__all__", state.version)
    cached = state.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    names: set[str] = set()
    for i in state.hot(word_pattern(["__all__"])):
        stmt = state.body[i]
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in small.targets
            ):
                value = small.value
            elif isinstance(small, (cst.AugAssign, cst.AnnAssign)) and isinstance(small.target, cst.Name):
                if small.target.value == "__all__":
                    value = small.value
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                func = small.value.func
                if (
                    isinstance(func, cst.Attribute)
                    and isinstance(func.value, cst.Name)
                    and func.value.value == "__all__"
                    and small.value.args
                ):
                    value = small.value.args[0].value
            names.update(_strings_in(value))
    state.cache[key] = names
    return names


def _strings_in(value: cst.BaseExpression | None) -> Iterable[str]:
    if isinstance(value, cst.SimpleString):
        evaluated = value.evaluated_value
        if isinstance(evaluated, str):
            yield evaluated
    elif isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        for element in value.elements:
            yield from _strings_in(element.value)
    elif isinstance(value, cst.BinaryOperation):
        yield from _strings_in(value.left)
        yield from _strings_in(value.right)
