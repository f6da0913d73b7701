"""Which functions run at start-up, across the scanned files (for the ``global-context`` rule).

A legacy ``_global_context[...] = ...`` write (or ``.update(...)``, or the legacy
``bind_context(...)``) that runs while the application starts - at module level, in the app
factory, or in a function the factory calls - was process-wide data: it reached every later
event of every thread. It must become ``newlog.set_static_context(...)``; a per-request
ContextVar binding would vanish from every request.

Start-up code is: module-level statements, and app factories (a module-level function called
``create_app``, or one whose own body calls ``Flask(...)``). A module-level function is run at
start-up when every call of it found in the scanned files is in start-up code (and there is
at least one). Calls are resolved statically: a name defined in the same file, imported with
``from X import f [as g]`` (relative too), or ``m.f()`` after ``import X as m`` /
``from P import m``. Calls inside nested functions (request hooks defined in the factory, views)
are not start-up code. What cannot be resolved (methods, dynamic calls) is not start-up, so the
rule keeps a per-request binding and reports it for review.

Only files that mention the names in question are read with ``ast``: first the files that write
the legacy dict or call a factory-looking name, then, round by round, the files that mention a
function found so far, until nothing new appears.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from codemods.model import Options, dotted_name

WRITER_WORDS = (b"_global_context", b"bind_context")
"""A file without these bytes cannot write the legacy dict: the analysis does not concern it."""
_FACTORY_WORDS = (b"create_app", b"Flask")
_MAX_ROUNDS = 8


class _Located(Protocol):
    path: str
    root: str


@dataclass
class _Function:
    writes: bool = False
    factory: bool = False
    calls: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class _Index:
    functions: dict[tuple[str, str], _Function] = field(default_factory=dict)
    """(module, function name) -> facts, for module-level functions of the files read."""
    sites: dict[tuple[str, str], list[tuple[str, str] | None]] = field(default_factory=dict)
    """Callee -> the function each call is made from (None: module level), ``("", "")`` for a nested function."""
    parsed: set[str] = field(default_factory=set)


_NESTED = ("", "")


def startup_functions(found: Sequence[_Located], module: str) -> frozenset[str]:
    """Dotted names (``pkg.mod.func``) of the module-level functions that run at start-up and write the legacy dict."""
    options = Options(module=module)
    index = _Index()
    texts: dict[str, bytes] = {}
    cache = _Cache()
    for item in found:
        data = cache.read(item.path)
        if data is not None and any(word in data for word in (*WRITER_WORDS, *_FACTORY_WORDS)):
            texts[item.path] = data
    if not any(word in data for data in texts.values() for word in WRITER_WORDS):
        return frozenset()
    by_path = {item.path: item for item in found}

    def read(paths: Iterable[str]) -> None:
        """The bytes of ``path`` (cached within the limit), None when it cannot be read."""
        for path in paths:
            if path in index.parsed:
                continue
            index.parsed.add(path)
            data = texts.get(path) or cache.read(path)
            if data is None:
                continue
            name, is_package = dotted_name(Path(path), Path(by_path[path].root), options)
            if name:
                package = name if is_package else name.rpartition(".")[0] or None
                _read_file(data, name, package, index)

    read(texts)
    known: set[tuple[str, str]] = set()
    for _ in range(_MAX_ROUNDS):
        grown = _interesting(index)
        names = sorted({name for _, name in grown - known})
        known = grown
        if not names:
            break
        words = [name.encode() for name in names]
        pattern = re.compile(rb"(?<!\w)(?:" + b"|".join(re.escape(word) for word in words) + rb")(?!\w)")
        fresh = []
        for item in found:
            if item.path in index.parsed:
                continue
            data = cache.read(item.path)
            if data is not None and any(word in data for word in words) and pattern.search(data):
                fresh.append(item.path)
        if not fresh:
            break
        read(fresh)
    startup = _startup(index)
    return frozenset(f"{mod}.{name}" for mod, name in startup if index.functions[(mod, name)].writes)


class _Cache:
    """File contents read once and kept while they fit in ``limit`` bytes (later rounds search them again)."""

    def __init__(self, limit: int = 64 * 1024 * 1024) -> None:
        self.limit = limit
        self.size = 0
        self.data: dict[str, bytes] = {}

    def read(self, path: str) -> bytes | None:
        """The bytes of ``path`` (cached within the limit), None when it cannot be read."""
        data = self.data.get(path)
        if data is not None:
            return data
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        if self.size + len(data) <= self.limit:
            self.data[path] = data
            self.size += len(data)
        return data


def _interesting(index: _Index) -> set[tuple[str, str]]:
    """Writers and the functions that call them, transitively (their call sites decide what is start-up)."""
    found = {key for key, facts in index.functions.items() if facts.writes}
    changed = True
    while changed:
        changed = False
        for key, facts in index.functions.items():
            if key not in found and facts.calls & found:
                found.add(key)
                changed = True
    return found


def _startup(index: _Index) -> set[tuple[str, str]]:
    """Factories, plus the functions all of whose known calls are made from start-up code (a greatest fixpoint)."""
    startup = set(index.functions)
    changed = True
    while changed:
        changed = False
        for key in list(startup):
            if index.functions[key].factory:
                continue
            sites = index.sites.get(key, [])
            if not sites or any(site is not None and site not in startup for site in sites):
                startup.discard(key)
                changed = True
    return startup


def _read_file(data: bytes, module: str, package: str | None, index: _Index) -> None:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError):
        return
    names = _Names(module, package)
    for node in tree.body:
        names.record(node)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.record(node)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            facts = index.functions.setdefault((module, node.name), _Function())
            facts.factory = node.name == "create_app"
            _walk_function(node, (module, node.name), facts, names, index)
        else:
            _walk_code(node, None, None, names, index)


def _walk_function(node: ast.AST, key: tuple[str, str], facts: _Function, names: _Names, index: _Index) -> None:
    for child in ast.iter_child_nodes(node):
        _walk_code(child, key, facts, names, index)


def _walk_code(
    node: ast.AST, key: tuple[str, str] | None, facts: _Function | None, names: _Names, index: _Index
) -> None:
    """Record the calls and writes of code run by ``key`` (None: module level), not entering nested functions."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if isinstance(current, ast.ClassDef):
                stack.extend(current.bases)
                stack.extend(current.body)
                continue
            body = [current.body] if isinstance(current, ast.Lambda) else current.body
            for inner in (n for statement in body for n in ast.walk(statement)):
                if isinstance(inner, ast.Call):  # a nested function runs later (a hook, a view): not start-up
                    target = names.resolve(inner.func)
                    if target is not None:
                        index.sites.setdefault(target, []).append(_NESTED)
            if isinstance(current, ast.Lambda):
                continue
            stack.extend(current.decorator_list)
            continue
        if isinstance(current, ast.Call):
            target = names.resolve(current.func)
            if target is not None:
                index.sites.setdefault(target, []).append(key)
                if facts is not None:
                    facts.calls.add(target)
            if facts is not None and _calls_flask(current.func):
                facts.factory = True
            if facts is not None and _writes_call(current):
                facts.writes = True
        elif facts is not None and isinstance(current, (ast.Assign, ast.AugAssign)):
            targets = current.targets if isinstance(current, ast.Assign) else [current.target]
            if any(isinstance(t, ast.Subscript) and _is_state(t.value) for t in targets):
                facts.writes = True
        stack.extend(ast.iter_child_nodes(current))


def _is_state(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "_global_context") or (
        isinstance(node, ast.Attribute) and node.attr == "_global_context"
    )


def _writes_call(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "update" and _is_state(func.value):
        return True
    return (isinstance(func, ast.Name) and func.id == "bind_context") or (
        isinstance(func, ast.Attribute) and func.attr == "bind_context"
    )


def _calls_flask(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "Flask") or (
        isinstance(func, ast.Attribute) and func.attr == "Flask" and isinstance(func.value, ast.Name)
    )


class _Names:
    """What the names of one module refer to: its own functions, imported functions and modules."""

    def __init__(self, module: str, package: str | None) -> None:
        self.module = module
        self.package = package
        self.functions: dict[str, tuple[str, str]] = {}
        self.modules: dict[str, str] = {}

    def record(self, node: ast.AST) -> None:
        """Note what a top-level statement of the module defines or imports."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.functions[node.name] = (self.module, node.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = self._absolute(node)
            if base is None:
                return
            for alias in node.names:
                local = alias.asname or alias.name
                self.functions[local] = (base, alias.name)
                self.modules[local] = f"{base}.{alias.name}" if base else alias.name

    def _absolute(self, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module or ""
        if self.package is None:
            return None
        parts = self.package.split(".")
        keep = len(parts) - (node.level - 1)
        if keep <= 0:
            return None
        return ".".join(parts[:keep] + ([node.module] if node.module else []))

    def resolve(self, func: ast.expr) -> tuple[str, str] | None:
        """The (module, function) a call's ``func`` names, when it can be told statically."""
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = self.modules.get(func.value.id)
            if module is not None:
                return (module, func.attr)
        return None
