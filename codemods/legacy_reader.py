"""Read a legacy ``structlog_config`` module's couplings to its application, without importing it.

A real copy of the legacy module is coupled to its app: it imports the app's message
catalogue, error enums, base exception, status mapper, log model and time helpers, and
hard-codes a display name and environment rules. ``read_legacy_module(path)`` parses the
file and returns :class:`LegacyCouplings`: where each piece comes from (module + name,
relative imports resolved against the file's package; any import form, imports inside
functions and ``try/except ImportError`` included), the variant, the classification
rules of ``_classify_error`` (evaluated branch by branch; an HTTP branch once per status
code), the payload shape of ``enhanced_error_handler``, the suggestions, the id and
timestamp formats, and the identity rules. Whatever it cannot read becomes a
:class:`Finding` ``path:line: could not determine X`` - never a silent default.

``render_profile_module(couplings)`` returns the Python source of a small configuration
module that builds the app's ``newlog.error_profile.ErrorProfile`` (``PROFILE``) from
those couplings, plus ``DISPLAY_NAME`` and the identity rules.

The standard library's ``ast`` is used rather than libcst: nothing is rewritten here, and
``ast`` gives line numbers and ``ast.unparse`` for the expressions carried over.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from newlog.error_profile import CONTEXT_KEYS, META_KEYS, TOP_LEVEL_KEYS, PayloadShape, Text

__all__ = [
    "Code",
    "Finding",
    "IdentityRule",
    "LegacyCouplings",
    "OutcomeSpec",
    "Ref",
    "RuleSpec",
    "read_legacy_module",
    "render_profile_module",
]

HTTP_EXCEPTION = ("werkzeug.exceptions", "HTTPException")
HTTP_CODES = range(100, 600)
OLDER_ONLY = frozenset({"bind_context", "LogContext", "with_log_context", "set_debug_logging_enabled", "_debug_logging_enabled", "error_monitor"})
IDENTITY_KEYS = ("app_name", "app_version", "environment", "host")


# -- what the reader returns ------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A name imported from another module: ``module`` and the dotted ``name`` in it ("" for the module itself)."""

    module: str
    name: str = ""

    def attribute(self, attr: str) -> Ref:
        """Return the reference to ``attr`` of this one."""
        return Ref(self.module, f"{self.name}.{attr}" if self.name else attr)

    def __str__(self) -> str:
        return f"{self.module}:{self.name}" if self.name else self.module


@dataclass(frozen=True)
class Finding:
    """Something the reader could not determine, and where."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Code:
    """Python source carried over from the legacy module: an expression, the imports and helper definitions it needs."""

    expression: str
    refs: tuple[tuple[str, Ref], ...] = ()
    definitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutcomeSpec:
    """A rule's answer as read: values are literals or :class:`Ref` s; ``status_code`` None is the HTTP code."""

    status_code: Any
    category: Any
    severity: Any
    message_key: str | None
    message: Text
    recoverable: bool


@dataclass(frozen=True)
class RuleSpec:
    """One classification branch as read (see ``newlog.error_profile.Rule``); ``line`` is where it starts."""

    line: int
    outcome: OutcomeSpec | None = None
    classes: tuple[Ref, ...] = ()
    codes: tuple[int, int] | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentityRule:
    """How the legacy module filled one identity field of every event (``app_name``, ``environment``...).

    ``value`` is the literal when it is one; ``code`` the expression otherwise; ``fallback``
    what it used outside an app context; ``request_only`` whether it was only set inside a request.
    """

    key: str
    line: int
    value: Any = None
    code: Code | None = None
    fallback: Code | None = None
    request_only: bool = False


@dataclass
class LegacyCouplings:
    """Everything ``read_legacy_module`` found in one legacy module (see the module docstring)."""

    path: str
    module: str
    variant: Literal["older", "newer"] | None = None
    catalogue: Ref | None = None
    catalogue_default: Text | None = None
    category_enum: Ref | None = None
    severity_enum: Ref | None = None
    base_error: Ref | None = None
    status_mapper: Ref | None = None
    log_model: Ref | None = None
    log_level: Ref | None = None
    db: Ref | None = None
    rules: tuple[RuleSpec, ...] = ()
    http_default_code: int = 500
    suggestions: tuple[tuple[Any, tuple[Any, ...]], ...] = ()
    default_suggestions: tuple[Any, ...] = ()
    payload: PayloadShape | None = None
    error_id: Code | None = None
    now: Code | None = None
    format_timestamp: Code | None = None
    display_name: str | None = None
    identity: dict[str, IdentityRule] = field(default_factory=dict)
    double_call: bool = False
    findings: list[Finding] = field(default_factory=list)

    def imports(self) -> dict[str, Ref]:
        """Return the app pieces found, by role (catalogue, enums, base error, mapper, log model, LogLevel, db)."""
        roles = {
            "catalogue": self.catalogue,
            "category_enum": self.category_enum,
            "severity_enum": self.severity_enum,
            "base_error": self.base_error,
            "status_mapper": self.status_mapper,
            "log_model": self.log_model,
            "log_level": self.log_level,
            "db": self.db,
        }
        return {role: ref for role, ref in roles.items() if ref is not None}


# -- values the evaluation works with --------------------------------------------------------


class Unreadable(Exception):
    """The reader met a construct it does not understand (message: what, at which line)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class HttpCode(int):
    """The HTTP code of the error being classified (an int that remembers where it came from)."""


@dataclass(frozen=True)
class ErrorAttr:
    """``error.<name>``, read from the error being classified."""

    name: str


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


@dataclass(frozen=True)
class Template:
    """An f-string of literal text and the HTTP code: ``errors.http.{code}``."""

    text: str


@dataclass(frozen=True)
class Outcome:
    """The raw fields of a ``return ErrorMetadata(...)`` / ``return {...}``."""

    fields: dict[str, Any]
    line: int


_ERROR_TEXT = object()  # str(error)
_LOWERED_TEXT = object()  # str(error).lower()
_ERROR_NAME = object()  # error.name of an HTTP exception
_UNKNOWN = object()


# -- the reader ---------------------------------------------------------------------------------


def read_legacy_module(path: str | Path, module: str | None = None, *, root: str | Path | None = None) -> LegacyCouplings:
    """Read the legacy module at ``path`` and return its couplings (with findings for what it could not read).

    ``module`` is its dotted name (default: from the ``__init__.py`` files above it);
    ``root`` the folder its top package is in (default: found the same way), used to read
    constants of the app's own modules (``HttpStatus.BAD_REQUEST`` -> 400).
    """
    path = Path(path)
    guessed_module, guessed_root = _module_name(path)
    reader = _Reader(path, module or guessed_module, Path(root) if root else guessed_root)
    return reader.read()


def _module_name(path: Path) -> tuple[str, Path]:
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.resolve().parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


class _Reader:
    def __init__(self, path: Path, module: str, root: Path) -> None:
        self.path = path
        self.source = path.read_text(encoding="utf-8")
        self.tree = ast.parse(self.source, filename=str(path))
        self.module = module
        self.root = root
        self.result = LegacyCouplings(path=str(path), module=module)
        self.bindings: dict[str, Any] = {}
        self.nodes: dict[str, ast.AST] = {}
        self._constant_cache: dict[Ref, Any] = {}

    # -- entry ---------------------------------------------------------------------------------

    def read(self) -> LegacyCouplings:
        self._collect_module_bindings()
        self._read_variant()
        self._read_log_model()
        handler = self._function("enhanced_error_handler")
        if handler is None:
            self._finding(1, "could not determine the error handling: no function enhanced_error_handler")
        else:
            self._read_classifier(handler)
            self._read_payload(handler)
        self._read_error_context()
        self._read_error_handler()
        self._read_identity()
        self._resolve_enums()
        return self.result

    def _finding(self, line: int, message: str) -> None:
        self.result.findings.append(Finding(str(self.path), line, message))

    # -- names --------------------------------------------------------------------------------

    def _collect_module_bindings(self) -> None:
        for statement in self._module_statements(self.tree.body):
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self._bind_import(statement, self.bindings)
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

    def _bind_import(self, statement: ast.Import | ast.ImportFrom, bindings: dict[str, Any]) -> None:
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
                self._finding(statement.lineno, f"could not determine the names of 'from {base} import *'")
                continue
            bindings.setdefault(alias.asname or alias.name, Ref(base, alias.name))

    def _absolute(self, module: str | None, level: int, line: int) -> str:
        if not level:
            return module or ""
        package = self.module if self.path.stem == "__init__" else self.module.rpartition(".")[0]
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            self._finding(line, f"could not resolve a relative import of level {level} in {self.module}")
            return module or ""
        base = parts[: len(parts) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def _normalized(self, ref: Ref) -> Ref:
        """``Ref("shop", "errors.ShopError")`` becomes ``Ref("shop.errors", "ShopError")`` when ``shop/errors.py`` exists."""
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

    def _function(self, name: str) -> ast.FunctionDef | None:
        node = self.nodes.get(name)
        return node if isinstance(node, ast.FunctionDef) else None

    def _class(self, name: str) -> ast.ClassDef | None:
        node = self.nodes.get(name)
        return node if isinstance(node, ast.ClassDef) else None

    def _constant(self, ref: Ref, line: int) -> Any:
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
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            if any(isinstance(target, ast.Name) and target.id == leaf for target in targets):
                if isinstance(node.value, ast.Constant):  # type: ignore[union-attr]
                    return node.value.value  # type: ignore[union-attr]
        raise Unreadable(f"could not read the constant {ref.module}.{ref.name}", line)

    # -- variant, log model ---------------------------------------------------------------------

    def _read_variant(self) -> None:
        older = sorted(name for name in OLDER_ONLY if name in self.nodes)
        newer = "ErrorMetadata" in self.bindings
        if older and not newer:
            self.result.variant = "older"
        elif newer and not older:
            self.result.variant = "newer"
        else:
            self._finding(1, f"could not determine the variant (older-only names: {older or 'none'}; ErrorMetadata: {newer})")

    def _read_log_model(self) -> None:
        for node in ast.walk(self.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add" and node.args):
                continue
            created = node.args[0]
            if isinstance(created, ast.Call):
                target = created.func.value if isinstance(created.func, ast.Attribute) else created.func
                if isinstance(target, ast.Name) and isinstance(self.bindings.get(target.id), Ref):
                    self.result.log_model = self.bindings[target.id]
                    session = node.func.value
                    while isinstance(session, ast.Attribute):
                        session = session.value
                    if isinstance(session, ast.Name) and isinstance(self.bindings.get(session.id), Ref):
                        self.result.db = self.bindings[session.id]
                    break
        if self.result.log_model is None:
            self._finding(1, "could not determine the log model (no '<db>.session.add(<Model>(...))' of an imported model)")
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                bound = self.bindings.get(node.value.id)
                if isinstance(bound, Ref) and node.value.id.lower().endswith("level"):
                    self.result.log_level = bound
                    return
        bound = self.bindings.get("LogLevel")
        if isinstance(bound, Ref):
            self.result.log_level = bound
        else:
            self._finding(1, "could not determine the LogLevel enum of the log model")

    # -- classification -----------------------------------------------------------------------

    def _read_classifier(self, handler: ast.FunctionDef) -> None:
        classifier = self._classifier_of(handler)
        if classifier is None:
            self._finding(handler.lineno, "could not determine the classification function enhanced_error_handler calls")
            return
        self._classifier_name = classifier.name
        locals_: dict[str, Any] = {}
        env: dict[str, Any] = {}
        error = classifier.args.args[0].arg if classifier.args.args else "error"
        rules: list[RuleSpec] = []
        self._read_branches(self._body(classifier), error, env, locals_, rules)
        if not rules or rules[-1].classes or rules[-1].codes or rules[-1].words or rules[-1].outcome is None:
            self._finding(classifier.lineno, f"could not determine the final answer of {classifier.name} (no unconditional return)")
        self.result.rules = tuple(rules)

    def _classifier_of(self, handler: ast.FunctionDef) -> ast.FunctionDef | None:
        for node in ast.walk(handler):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
                callee = self._function(node.value.func.id)
                if callee is not None and callee is not handler and any(
                    isinstance(arg, ast.Name) and arg.id == handler.args.args[0].arg for arg in node.value.args
                ):
                    return callee
        return None

    @staticmethod
    def _body(function: ast.FunctionDef) -> list[ast.stmt]:
        body = function.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        return body

    def _read_branches(self, body: list[ast.stmt], error: str, env: dict[str, Any], locals_: dict[str, Any], rules: list[RuleSpec]) -> None:
        for statement in body:
            try:
                if isinstance(statement, ast.Import | ast.ImportFrom):
                    self._bind_import(statement, locals_)
                elif isinstance(statement, ast.Try):
                    for inner in statement.body:
                        if isinstance(inner, ast.Import | ast.ImportFrom):
                            self._bind_import(inner, locals_)
                        else:
                            raise Unreadable("could not read a try block other than imports", inner.lineno)
                elif isinstance(statement, ast.Assign | ast.AnnAssign):
                    self._assign(statement, error, env, locals_, code=None)
                elif isinstance(statement, ast.If):
                    self._read_if(statement, error, env, locals_, rules)
                elif isinstance(statement, ast.Return):
                    rules.append(self._rule(statement.lineno, [statement], error, env, locals_, classes=(), words=(), http=False))
                    return
                elif isinstance(statement, ast.Expr | ast.Pass):
                    continue
                else:
                    raise Unreadable(f"could not read a {type(statement).__name__} statement", statement.lineno)
            except Unreadable as problem:
                self._finding(problem.line, f"could not determine the classification: {problem}")

    def _read_if(self, statement: ast.If, error: str, env: dict[str, Any], locals_: dict[str, Any], rules: list[RuleSpec]) -> None:
        alternatives = self._condition(statement.test, error, env, locals_)
        if not statement.body or not isinstance(statement.body[-1], ast.Return):
            raise Unreadable("could not read a branch that does not end with 'return'", statement.lineno)
        for classes, words in alternatives:
            http = any((ref.module, ref.name) == HTTP_EXCEPTION for ref in classes)
            if http:
                rules.extend(self._http_rules(statement, classes, words, error, env, locals_))
            else:
                rules.append(self._rule(statement.lineno, statement.body, error, env, locals_, classes=classes, words=words, http=False))
        if statement.orelse:
            self._read_branches(statement.orelse, error, env, locals_, rules)

    def _condition(self, test: ast.expr, error: str, env: dict[str, Any], locals_: dict[str, Any]) -> list[tuple[tuple[Ref, ...], tuple[str, ...]]]:
        """The test as alternatives (OR) of (classes, words) conjunctions."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
            alternatives = [alt for value in test.values for alt in self._condition(value, error, env, locals_)]
            words_only = [alt for alt in alternatives if not alt[0]]
            rest = [alt for alt in alternatives if alt[0]]
            if len(words_only) > 1:  # "a" in text or "b" in text: one rule with both words
                rest.append(((), tuple(word for _, words in words_only for word in words)))
                return rest
            return alternatives
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            classes: tuple[Ref, ...] = ()
            words: tuple[str, ...] = ()
            for value in test.values:
                if self._is_not_none_check(value):
                    continue
                parts = self._condition(value, error, env, locals_)
                if len(parts) != 1:
                    raise Unreadable("could not read an 'and' of alternatives", test.lineno)
                classes, words = classes + parts[0][0], words + parts[0][1]
            return [(classes, words)]
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance" and len(test.args) == 2:
            if not (isinstance(test.args[0], ast.Name) and test.args[0].id == error):
                raise Unreadable(f"could not read isinstance() of something other than {error}", test.lineno)
            kinds = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
            refs = []
            for kind in kinds:
                value = self._eval(kind, error, env, locals_, code=None)
                if not isinstance(value, Ref):
                    raise Unreadable(f"could not resolve the class {ast.unparse(kind)}", kind.lineno)
                refs.append(value)
            return [(tuple(refs), ())]
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In) and isinstance(test.left, ast.Constant):
            haystack = self._eval(test.comparators[0], error, env, locals_, code=None)
            if haystack is _ERROR_TEXT:
                raise Unreadable("could not use a case-sensitive word match (str(error) without .lower())", test.lineno)
            if haystack is not _LOWERED_TEXT:
                raise Unreadable(f"could not read the word test {ast.unparse(test)}", test.lineno)
            return [((), (str(test.left.value),))]
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id == "any"
            and len(test.args) == 1
            and isinstance(test.args[0], ast.GeneratorExp)
        ):
            generator = test.args[0]
            element, loop = generator.elt, generator.generators[0]
            if (
                isinstance(element, ast.Compare)
                and isinstance(element.left, ast.Name)
                and isinstance(loop.target, ast.Name)
                and element.left.id == loop.target.id
                and self._eval(element.comparators[0], error, env, locals_, code=None) is _LOWERED_TEXT
            ):
                words = self._eval(loop.iter, error, env, locals_, code=None)
                if isinstance(words, tuple | list) and all(isinstance(word, str) for word in words):
                    return [((), tuple(words))]
        raise Unreadable(f"could not read the condition {ast.unparse(test)}", test.lineno)

    @staticmethod
    def _is_not_none_check(test: ast.expr) -> bool:
        return (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.IsNot)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        )

    def _rule(self, line: int, body: list[ast.stmt], error: str, env: dict[str, Any], locals_: dict[str, Any], *, classes: tuple[Ref, ...], words: tuple[str, ...], http: bool) -> RuleSpec:
        outcome = self._run(body, error, dict(env), locals_, code=None)
        return RuleSpec(line, self._outcome_spec(outcome, code=None), classes, None, words)

    def _http_rules(self, statement: ast.If, classes: tuple[Ref, ...], words: tuple[str, ...], error: str, env: dict[str, Any], locals_: dict[str, Any]) -> list[RuleSpec]:
        by_code: list[tuple[int, OutcomeSpec | None]] = []
        self._http_default: int | None = None
        for number in HTTP_CODES:
            outcome = self._run(statement.body, error, dict(env), locals_, code=HttpCode(number))
            by_code.append((number, self._outcome_spec(outcome, code=HttpCode(number))))
        if self._http_default is not None:
            self.result.http_default_code = self._http_default
        rules: list[RuleSpec] = []
        start, current = by_code[0]
        previous = start
        for number, spec in by_code[1:] + [(HTTP_CODES.stop, object())]:  # type: ignore[list-item]
            if spec != current:
                rules.append(RuleSpec(statement.lineno, current, classes, (start, previous), words))
                start, current = number, spec
            previous = number
        return rules

    def _run(self, body: list[ast.stmt], error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None) -> Outcome:
        for statement in body:
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                self._assign(statement, error, env, locals_, code)
            elif isinstance(statement, ast.If):
                test = self._eval(statement.test, error, env, locals_, code)
                if not isinstance(test, bool | int):
                    raise Unreadable(f"could not evaluate the condition {ast.unparse(statement.test)}", statement.lineno)
                outcome = self._run_block(statement.body if test else statement.orelse, error, env, locals_, code)
                if outcome is not None:
                    return outcome
            elif isinstance(statement, ast.Return) and statement.value is not None:
                value = self._eval(statement.value, error, env, locals_, code)
                if not isinstance(value, Outcome):
                    raise Unreadable(f"could not read the returned value {ast.unparse(statement.value)}", statement.lineno)
                return value
            elif isinstance(statement, ast.Pass | ast.Expr):
                continue
            else:
                raise Unreadable(f"could not read a {type(statement).__name__} statement in a branch", statement.lineno)
        raise Unreadable("could not find the branch's return", body[-1].lineno if body else 0)

    def _run_block(self, body: list[ast.stmt], error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None) -> Outcome | None:
        if any(isinstance(statement, ast.Return) for statement in body):
            return self._run(body, error, env, locals_, code)
        for statement in body:
            if isinstance(statement, ast.If):
                test = self._eval(statement.test, error, env, locals_, code)
                if not isinstance(test, bool | int):
                    raise Unreadable(f"could not evaluate the condition {ast.unparse(statement.test)}", statement.lineno)
                outcome = self._run_block(statement.body if test else statement.orelse, error, env, locals_, code)
                if outcome is not None:
                    return outcome
            elif isinstance(statement, ast.Assign | ast.AnnAssign):
                self._assign(statement, error, env, locals_, code)
            elif not isinstance(statement, ast.Pass | ast.Expr):
                raise Unreadable(f"could not read a {type(statement).__name__} statement in a branch", statement.lineno)
        return None

    def _assign(self, statement: ast.Assign | ast.AnnAssign, error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None) -> None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if statement.value is None:
            return
        value = self._eval(statement.value, error, env, locals_, code)
        for target in targets:
            if isinstance(target, ast.Name):
                env[target.id] = value
            elif isinstance(target, ast.Tuple) and isinstance(value, tuple) and len(value) == len(target.elts):
                for element, item in zip(target.elts, value, strict=True):
                    if not isinstance(element, ast.Name):
                        raise Unreadable(f"could not read the assignment to {ast.unparse(element)}", statement.lineno)
                    env[element.id] = item
            else:
                raise Unreadable(f"could not read the assignment to {ast.unparse(target)}", statement.lineno)

    # -- expressions ------------------------------------------------------------------------------

    def _lookup(self, name: str, env: dict[str, Any], locals_: dict[str, Any], line: int) -> Any:
        if name in env:
            return env[name]
        if name in locals_:
            return locals_[name]
        bound = self.bindings.get(name, _UNKNOWN)
        if isinstance(bound, tuple) and bound and bound[0] == "assign":
            return self._eval(bound[1], "", {}, {}, code=None)
        if bound is not _UNKNOWN:
            return bound
        if hasattr(builtins, name):
            return Ref("builtins", name)
        raise Unreadable(f"could not resolve the name {name}", line)

    def _eval(self, node: ast.expr, error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id == error:
                return ErrorAttr("")
            return self._lookup(node.id, env, locals_, line)
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(self._eval(element, error, env, locals_, code) for element in node.elts)
        if isinstance(node, ast.Attribute):
            base = self._eval(node.value, error, env, locals_, code)
            if base == ErrorAttr(""):
                if node.attr == "code":
                    if code is None:
                        raise Unreadable("could not read error.code outside an HTTP exception branch", line)
                    return code
                if node.attr == "description":
                    return Text.DESCRIPTION
                if node.attr == "name":
                    return _ERROR_NAME
                return ErrorAttr(node.attr)
            if isinstance(base, Ref):
                return self._normalized(base.attribute(node.attr))
            if isinstance(base, LocalClass):
                if node.attr in base.constants:
                    return base.constants[node.attr]
                raise Unreadable(f"could not read {base.name}.{node.attr}", line)
            if base is _ERROR_TEXT and node.attr == "lower":
                return "lower"
            raise Unreadable(f"could not read the attribute {ast.unparse(node)}", line)
        if isinstance(node, ast.BoolOp):
            values = [self._eval(value, error, env, locals_, code) for value in node.values]
            if isinstance(node.op, ast.Or):
                if values[:2] == [Text.DESCRIPTION, _ERROR_NAME] and len(values) == 2:
                    return Text.DESCRIPTION_OR_NAME
                if isinstance(values[0], HttpCode) and len(values) == 2:
                    default = values[1]
                    self._http_default = self._as_int(default, line)
                    return values[0]
                for value in values:
                    if not isinstance(value, bool | int | str | type(None)):
                        raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)
                    if value:
                        return value
                return values[-1]
            result: Any = True
            for value in values:
                if not isinstance(value, bool | int | str | type(None)):
                    raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)
                result = value
                if not value:
                    return value
            return result
        if isinstance(node, ast.IfExp):
            test = self._eval(node.test, error, env, locals_, code)
            if not isinstance(test, bool | int):
                raise Unreadable(f"could not evaluate the condition of {ast.unparse(node)}", line)
            return self._eval(node.body if test else node.orelse, error, env, locals_, code)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            value = self._eval(node.operand, error, env, locals_, code)
            if not isinstance(value, bool | int):
                raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)
            return not value
        if isinstance(node, ast.Compare):
            return self._compare(node, error, env, locals_, code)
        if isinstance(node, ast.JoinedStr):
            text = ""
            for part in node.values:
                if isinstance(part, ast.Constant):
                    text += str(part.value).replace("{", "{{").replace("}", "}}")
                elif isinstance(part, ast.FormattedValue) and isinstance(self._eval(part.value, error, env, locals_, code), HttpCode):
                    if part.format_spec is not None or part.conversion != -1:
                        raise Unreadable(f"could not read the format of {ast.unparse(node)}", line)
                    text += "{code}"
                else:
                    raise Unreadable(f"could not read the f-string {ast.unparse(node)}", line)
            return Template(text)
        if isinstance(node, ast.Dict):
            fields = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                    raise Unreadable(f"could not read the dict {ast.unparse(node)}", line)
                fields[key.value] = self._eval(value, error, env, locals_, code)
            return Outcome(fields, line)
        if isinstance(node, ast.Call):
            return self._call(node, error, env, locals_, code)
        raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)

    def _as_int(self, value: Any, line: int) -> int:
        if isinstance(value, Ref):
            value = self._constant(value, line)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Unreadable(f"could not read {value!r} as a status code", line)
        return int(value)

    def _compare(self, node: ast.Compare, error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None) -> bool:
        left = self._eval(node.left, error, env, locals_, code)
        for operator, comparator in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comparator, error, env, locals_, code)
            if isinstance(operator, ast.In | ast.NotIn):
                if not isinstance(right, tuple):
                    raise Unreadable(f"could not evaluate {ast.unparse(node)}", node.lineno)
                if isinstance(left, int) and not isinstance(left, bool):
                    right = tuple(self._as_int(item, node.lineno) if isinstance(item, Ref) else item for item in right)
                result = left in right
                result = result if isinstance(operator, ast.In) else not result
            elif isinstance(operator, ast.Is | ast.IsNot):
                result = (left is right) if isinstance(operator, ast.Is) else (left is not right)
            else:
                a, b = left, right
                if isinstance(a, int) and isinstance(b, Ref):
                    b = self._as_int(b, node.lineno)
                if isinstance(b, int) and isinstance(a, Ref):
                    a = self._as_int(a, node.lineno)
                if isinstance(operator, ast.Eq | ast.NotEq):
                    result = a == b if isinstance(operator, ast.Eq) else a != b
                elif isinstance(a, int) and isinstance(b, int):
                    result = {ast.Lt: a < b, ast.LtE: a <= b, ast.Gt: a > b, ast.GtE: a >= b}[type(operator)]
                else:
                    raise Unreadable(f"could not evaluate {ast.unparse(node)}", node.lineno)
            if not result:
                return False
            left = right
        return True

    def _call(self, node: ast.Call, error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None) -> Any:
        line = node.lineno
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "lower" and not node.args:
            if self._eval(func.value, error, env, locals_, code) is _ERROR_TEXT:
                return _LOWERED_TEXT
        if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1:
            if self._eval(node.args[0], error, env, locals_, code) == ErrorAttr(""):
                return _ERROR_TEXT
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) in (2, 3):
            return self._catalogue_lookup(node.args, error, env, locals_, code, line)
        callee = self._eval(func, error, env, locals_, code)
        args = [self._eval(arg, error, env, locals_, code) for arg in node.args]
        kwargs = {keyword.arg: self._eval(keyword.value, error, env, locals_, code) for keyword in node.keywords if keyword.arg}
        if isinstance(callee, LocalClass) and callee.fields:
            if len(args) > len(callee.fields):
                raise Unreadable(f"could not match the arguments of {callee.name}(...)", line)
            return Outcome({**dict(zip(callee.fields, args, strict=False)), **kwargs}, line)
        if isinstance(callee, Ref) and callee.name.rpartition(".")[2] == "ErrorMetadata" and not args:
            return Outcome(kwargs, line)
        if isinstance(callee, LocalFunction):
            looked_up = self._catalogue_function(callee.node, args, kwargs, line)
            if looked_up is not None:
                return looked_up
            if len(args) == 1 and isinstance(args[0], ErrorAttr) and not kwargs:
                return args[0]  # a conversion such as _as_str(error.category)
        if len(args) == 1 and isinstance(args[0], ErrorAttr) and not kwargs and isinstance(callee, Ref):
            return args[0]  # a conversion such as ErrorCategory(error.category)
        raise Unreadable(f"could not evaluate the call {ast.unparse(node)}", line)

    def _catalogue_lookup(self, nodes: list[ast.expr], error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None, line: int) -> Text:
        catalogue = self._eval(nodes[0], error, env, locals_, code)
        key = self._eval(nodes[1], error, env, locals_, code)
        if not isinstance(catalogue, Ref) or not isinstance(key, str):
            raise Unreadable(f"could not read the message lookup getattr({', '.join(ast.unparse(n) for n in nodes)})", line)
        self._record_catalogue(catalogue, line)
        if len(nodes) == 3:
            default = self._eval(nodes[2], error, env, locals_, code)
            self._record_catalogue_default(default, line)
        return Text.catalogue(key)

    def _catalogue_function(self, function: ast.FunctionDef, args: list[Any], kwargs: dict[str, Any], line: int) -> Text | None:
        """``def _get_message(key): return getattr(Catalogue, key, default)`` called with a literal key."""
        body = self._body(function)
        if len(body) != 1 or not isinstance(body[0], ast.Return) or not isinstance(body[0].value, ast.Call):
            return None
        call = body[0].value
        if not (isinstance(call.func, ast.Name) and call.func.id == "getattr" and len(call.args) in (2, 3)):
            return None
        params = [arg.arg for arg in function.args.args]
        bound = {**dict(zip(params, args, strict=False)), **kwargs}
        if not (isinstance(call.args[1], ast.Name) and call.args[1].id in bound):
            return None
        env = {name: value for name, value in bound.items()}
        return self._catalogue_lookup(call.args, "", env, {}, None, line)

    def _record_catalogue(self, catalogue: Ref, line: int) -> None:
        if self.result.catalogue is None:
            self.result.catalogue = catalogue
        elif self.result.catalogue != catalogue:
            self._finding(line, f"could not determine the one message catalogue: {self.result.catalogue} and {catalogue} are both used")

    def _record_catalogue_default(self, default: Any, line: int) -> None:
        if isinstance(default, Ref) and self.result.catalogue is not None and default.module == self.result.catalogue.module:
            owner, _, key = default.name.rpartition(".")
            if owner == self.result.catalogue.name:
                text = Text.catalogue(key)
            else:
                self._finding(line, f"could not read the catalogue's default message {default}")
                return
        elif isinstance(default, str):
            text = Text.literal(default)
        else:
            self._finding(line, f"could not read the catalogue's default message {default!r}")
            return
        if self.result.catalogue_default not in (None, text):
            self._finding(line, "could not determine the one default message of the catalogue (two are used)")
        self.result.catalogue_default = text

    def _outcome_spec(self, outcome: Outcome, code: HttpCode | None) -> OutcomeSpec | None:
        fields = outcome.fields
        names = ("status_code", "category", "severity", "message", "recoverable")
        missing = [name for name in names if name not in fields]
        if missing:
            raise Unreadable(f"could not find {', '.join(missing)} in the returned metadata", outcome.line)
        if all(fields[name] == ErrorAttr(name) for name in names):
            if "message_key" in fields and fields["message_key"] != ErrorAttr("message_key"):
                raise Unreadable("could not read a base-error branch whose message_key is not the error's own", outcome.line)
            return None
        if any(isinstance(fields[name], ErrorAttr) for name in fields):
            raise Unreadable("could not read a branch mixing the error's attributes with fixed values", outcome.line)
        status = fields["status_code"]
        if isinstance(status, HttpCode):
            status = None
        elif not isinstance(status, int | Ref) or isinstance(status, bool):
            raise Unreadable(f"could not read the status {status!r}", outcome.line)
        key = fields.get("message_key")
        if isinstance(key, Template):
            key = key.text
        elif isinstance(key, str):
            key = key.replace("{", "{{").replace("}", "}}") if code is not None else key
        elif key is not None:
            raise Unreadable(f"could not read the message key {key!r}", outcome.line)
        message = fields["message"]
        if isinstance(message, str):
            message = Text.literal(message)
        elif message is _ERROR_TEXT:
            message = Text.ERROR
        elif isinstance(message, Ref) and self.result.catalogue is not None and message.name.startswith(self.result.catalogue.name + "."):
            message = Text.catalogue(message.name.rpartition(".")[2])
        elif not isinstance(message, Text):
            raise Unreadable(f"could not read the message {message!r}", outcome.line)
        recoverable = fields["recoverable"]
        if not isinstance(recoverable, bool):
            raise Unreadable(f"could not read recoverable {recoverable!r}", outcome.line)
        for name in ("category", "severity"):
            if not isinstance(fields[name], Ref | str):
                raise Unreadable(f"could not read the {name} {fields[name]!r}", outcome.line)
        return OutcomeSpec(status, fields["category"], fields["severity"], key, message, recoverable)

    def _resolve_enums(self) -> None:
        """The enums are the owners of the rules' category / severity members (plain strings: the module's own constants)."""
        outcomes = [rule.outcome for rule in self.result.rules if rule.outcome is not None]
        for role, attribute in (("category_enum", "category"), ("severity_enum", "severity")):
            owners = {
                Ref(value.module, value.name.rpartition(".")[0])
                for value in (getattr(outcome, attribute) for outcome in outcomes)
                if isinstance(value, Ref) and "." in value.name
            }
            plain = any(isinstance(getattr(outcome, attribute), str) for outcome in outcomes)
            if len(owners) == 1 and not plain:
                setattr(self.result, role, owners.pop())
            elif owners:
                self._finding(1, f"could not determine the one {attribute} enum: {sorted(map(str, owners))}{' and plain values' if plain else ''}")
        base = [rule.classes for rule in self.result.rules if rule.outcome is None]
        if len(base) == 1 and len(base[0]) == 1:
            self.result.base_error = base[0][0]
        elif len(base) > 1:
            self._finding(1, "could not determine the one base error (several branches read the error's attributes)")

    # -- the payload ----------------------------------------------------------------------------

    def _read_payload(self, handler: ast.FunctionDef) -> None:
        name, literal = self._payload_literal(handler)
        if literal is None:
            self._finding(handler.lineno, "could not determine the payload: no dict literal with an 'error' key in enhanced_error_handler")
            return
        keys: list[str] = []
        context: list[str] = []
        meta: list[str] = []
        extra: Literal["truthy", "given"] | None = None
        for key, value in zip(literal.keys, literal.values, strict=True):
            if not isinstance(key, ast.Constant) or key.value not in TOP_LEVEL_KEYS:
                self._finding(literal.lineno, f"could not determine the payload key {ast.unparse(key) if key else '**'}")
                continue
            keys.append(key.value)
            if key.value == "context":
                if not isinstance(value, ast.Dict):
                    self._finding(value.lineno, "could not determine the payload's context block")
                    continue
                for inner in value.keys:
                    if isinstance(inner, ast.Constant) and inner.value in CONTEXT_KEYS:
                        context.append(inner.value)
                    else:
                        self._finding(value.lineno, f"could not determine the context key {ast.unparse(inner) if inner else '**'}")
            elif key.value == "suggestions":
                self._read_suggestions(value)
            elif key.value == "timestamp":
                self.result.format_timestamp = self._carry(value, {("context", "timestamp"): "timestamp"}, handler)
        for statement, condition in self._statements_after(handler, literal):
            target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
            path = self._subscript_path(target, name) if target is not None else None
            if path is None:
                continue
            if path == ["extra"]:
                extra = self._extra_condition(condition, statement.lineno)
            elif len(path) == 2 and path[0] == "context" and path[1] in CONTEXT_KEYS:
                context.append(path[1])
                if path[1] == "meta":
                    meta = self._meta_keys(statement.value)
            else:
                self._finding(statement.lineno, f"could not determine the payload key {'/'.join(path)}")
        try:
            self.result.payload = PayloadShape(tuple(keys), tuple(context), tuple(meta), extra or "truthy")
        except ValueError as problem:
            self._finding(literal.lineno, f"could not determine the payload shape: {problem}")
        if extra is None:
            self._finding(handler.lineno, "could not determine when the payload carries 'extra'")

    def _payload_literal(self, handler: ast.FunctionDef) -> tuple[str, ast.Dict | None]:
        for node in ast.walk(handler):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Dict)
                and any(isinstance(key, ast.Constant) and key.value == "error" for key in node.value.keys)
            ):
                return node.targets[0].id, node.value
        return "", None

    def _statements_after(self, handler: ast.FunctionDef, literal: ast.Dict) -> Iterator[tuple[ast.stmt, ast.expr | None]]:
        def walk(body: list[ast.stmt], condition: ast.expr | None) -> Iterator[tuple[ast.stmt, ast.expr | None]]:
            for statement in body:
                if statement.lineno <= literal.lineno:
                    continue
                if isinstance(statement, ast.If):
                    yield from walk(statement.body, statement.test)
                    yield from walk(statement.orelse, None)
                else:
                    yield statement, condition

        return walk(handler.body, None)

    @staticmethod
    def _subscript_path(target: ast.expr, name: str) -> list[str] | None:
        path: list[str] = []
        while isinstance(target, ast.Subscript):
            if not isinstance(target.slice, ast.Constant) or not isinstance(target.slice.value, str):
                return None
            path.insert(0, target.slice.value)
            target = target.value
        return path if isinstance(target, ast.Name) and target.id == name and path else None

    def _extra_condition(self, condition: ast.expr | None, line: int) -> Literal["truthy", "given"]:
        if isinstance(condition, ast.Name):
            return "truthy"
        if isinstance(condition, ast.Compare) and self._is_not_none_check(condition):
            return "given"
        self._finding(line, "could not determine when the payload carries 'extra' (condition other than 'if extra:' / 'is not None')")
        return "truthy"

    def _meta_keys(self, value: ast.expr) -> list[str]:
        if not isinstance(value, ast.Dict):
            self._finding(value.lineno, "could not determine the payload's context.meta block")
            return []
        keys = []
        for key in value.keys:
            if isinstance(key, ast.Constant) and key.value in META_KEYS:
                keys.append(key.value)
            else:
                self._finding(value.lineno, f"could not determine the meta key {ast.unparse(key) if key else '**'}")
        return keys

    def _read_suggestions(self, value: ast.expr) -> None:
        call = value.args[0] if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple") and value.args else value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "get" and isinstance(call.func.value, ast.Name)):
            self._finding(value.lineno, f"could not determine the suggestions lookup {ast.unparse(value)}")
            return
        table = self.bindings.get(call.func.value.id)
        if not (isinstance(table, tuple) and isinstance(table[1], ast.Dict)):
            self._finding(value.lineno, f"could not read the suggestions table {call.func.value.id}")
            return
        entries = []
        for key, texts in zip(table[1].keys, table[1].values, strict=True):
            try:
                category = self._eval(key, "", {}, {}, code=None) if key is not None else None
                entries.append((category, self._texts(texts)))
            except Unreadable as problem:
                self._finding(problem.line, f"could not determine the suggestions: {problem}")
        self.result.suggestions = tuple(entries)
        if len(call.args) > 1:
            try:
                self.result.default_suggestions = self._texts(call.args[1])
            except Unreadable as problem:
                self._finding(problem.line, f"could not determine the default suggestions: {problem}")
        else:
            self._finding(value.lineno, "could not determine the default suggestions (the lookup has no default)")

    def _texts(self, node: ast.expr) -> tuple[Any, ...]:
        value = self._eval(node, "", {}, {}, code=None)
        if not isinstance(value, tuple) or not all(isinstance(text, str | Ref) for text in value):
            raise Unreadable(f"could not read the texts {ast.unparse(node)}", getattr(node, "lineno", 0))
        return value

    # -- ids, timestamps, error_handler ---------------------------------------------------------

    def _read_error_context(self) -> None:
        cls = self._class("ErrorContext")
        init = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None) if cls else None
        if init is None:
            self._finding(1, "could not determine the error ids and timestamps: no ErrorContext.__init__")
            return
        for node in ast.walk(init):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                    if target.attr == "error_id":
                        self.result.error_id = self._carry(node.value, {}, init)
                    elif target.attr == "timestamp":
                        self.result.now = self._carry(node.value, {}, init)
        if self.result.error_id is None:
            self._finding(init.lineno, "could not determine the error id format (no self.error_id = ...)")
        if self.result.now is None:
            self._finding(init.lineno, "could not determine the error timestamp (no self.timestamp = ...)")

    def _read_error_handler(self) -> None:
        decorator = self._function("error_handler")
        if decorator is None:
            self._finding(1, "could not determine error_handler's status: no function error_handler")
            return
        wrapped = decorator.args.args[0].arg if decorator.args.args else ""
        for node in ast.walk(decorator):
            if isinstance(node, ast.ExceptHandler):
                exception = node.name or ""
                self.result.double_call = any(
                    isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == wrapped for call in ast.walk(node)
                )
                for statement in ast.walk(node):
                    if isinstance(statement, ast.Return) and isinstance(statement.value, ast.Tuple) and len(statement.value.elts) == 2:
                        self._read_status(statement.value.elts[1], exception, node)
                        return
        self._finding(decorator.lineno, "could not determine error_handler's status (no 'return jsonify(payload), status')")

    def _read_status(self, status: ast.expr, exception: str, handler: ast.ExceptHandler) -> None:
        if isinstance(status, ast.Name):
            assigned = [
                node.value
                for node in ast.walk(handler)
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == status.id for t in node.targets)
            ]
            if len(assigned) == 1:
                status = assigned[0]
        classifier = getattr(self, "_classifier_name", None)
        if isinstance(status, ast.Attribute | ast.Subscript):
            inner = status.value
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == classifier:
                return  # the rule's own status
        if isinstance(status, ast.Call) and len(status.args) == 1 and isinstance(status.args[0], ast.Name) and status.args[0].id == exception:
            try:
                mapper = self._eval(status.func, "", {}, {}, code=None)
            except Unreadable:
                mapper = None
            if isinstance(mapper, Ref):
                self.result.status_mapper = mapper
                return
        self._finding(status.lineno, f"could not determine error_handler's status {ast.unparse(status)}")

    # -- identity ---------------------------------------------------------------------------------

    def _read_identity(self) -> None:
        function = None
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef) and any(self._event_key(target) == "app_name" for target in self._assign_targets(node)):
                function = node
                break
        if function is None:
            self._finding(1, "could not determine the identity fields (no event_dict['app_name'] = ...)")
            return
        self._identity_block(function.body, request_only=False, fallback_of=None)
        app_name = self.result.identity.get("app_name")
        if app_name is not None and isinstance(app_name.value, str):
            self.result.display_name = app_name.value
        for key in IDENTITY_KEYS:
            if key not in self.result.identity:
                self._finding(function.lineno, f"could not determine the identity field {key}")

    @staticmethod
    def _assign_targets(function: ast.FunctionDef) -> Iterator[ast.expr]:
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                yield from node.targets

    @staticmethod
    def _event_key(target: ast.expr) -> str | None:
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
            return target.slice.value
        return None

    def _identity_block(self, body: list[ast.stmt], *, request_only: bool, fallback_of: dict[str, Code] | None) -> None:
        for statement in body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                key = self._event_key(statement.targets[0])
                if key not in IDENTITY_KEYS:
                    continue
                if fallback_of is not None:
                    fallback_of[key] = self._carry(statement.value, {})
                    continue
                literal = self._literal(statement.value)
                rule = IdentityRule(
                    key,
                    statement.lineno,
                    value=literal,
                    code=None if literal is not None else self._carry(statement.value, {}),
                    request_only=request_only,
                )
                self.result.identity[key] = rule
            elif isinstance(statement, ast.If):
                in_request = isinstance(statement.test, ast.Call) and ast.unparse(statement.test.func).endswith("has_request_context")
                self._identity_block(statement.body, request_only=request_only or in_request, fallback_of=fallback_of)
            elif isinstance(statement, ast.Try):
                self._identity_block(statement.body, request_only=request_only, fallback_of=fallback_of)
                fallbacks: dict[str, Code] = {}
                for handler in statement.handlers:
                    self._identity_block(handler.body, request_only=request_only, fallback_of=fallbacks)
                for key, code in fallbacks.items():
                    if key in self.result.identity:
                        rule = self.result.identity[key]
                        self.result.identity[key] = IdentityRule(rule.key, rule.line, rule.value, rule.code, code, rule.request_only)

    def _literal(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            bound = self.bindings.get(node.id)
            if isinstance(bound, tuple) and isinstance(bound[1], ast.Constant) and isinstance(bound[1].value, str):
                return bound[1].value
        return None

    # -- carrying expressions over ------------------------------------------------------------

    def _carry(self, node: ast.expr, params: dict[tuple[str, str], str], scope: ast.FunctionDef | None = None) -> Code | None:
        """The source of ``node`` (``params`` replace attribute reads), with the imports and helpers it needs.

        Names come from the module's imports and helpers, or from imports inside ``scope``
        (the function ``node`` is in).
        """

        class Replace(ast.NodeTransformer):
            def visit_Attribute(self, attribute: ast.Attribute) -> ast.AST:
                if isinstance(attribute.value, ast.Name) and (attribute.value.id, attribute.attr) in params:
                    return ast.copy_location(ast.Name(params[(attribute.value.id, attribute.attr)], ast.Load()), attribute)
                return self.generic_visit(attribute)

        expression = Replace().visit(ast.parse(ast.unparse(node), mode="eval"))
        refs: dict[str, Ref] = {}
        definitions: dict[str, str] = {}
        local: dict[str, Any] = {}
        for statement in ast.walk(scope) if scope is not None else ():
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self._bind_import(statement, local)
        try:
            self._needs(expression, set(params.values()), refs, definitions, local)
        except Unreadable as problem:
            self._finding(getattr(node, "lineno", 0), f"could not carry over {ast.unparse(node)}: {problem}")
            return None
        return Code(ast.unparse(expression), tuple(sorted(refs.items())), tuple(definitions.values()))

    def _needs(self, tree: ast.AST, known: set[str], refs: dict[str, Ref], definitions: dict[str, str], local: dict[str, Any] | None = None) -> None:
        defined = set(known)
        for node in ast.walk(tree):
            if isinstance(node, ast.arg):
                defined.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)) or node.id in defined:
                continue
            name = node.id
            bound = (local or {}).get(name, self.bindings.get(name, _UNKNOWN))
            if isinstance(bound, Ref):
                refs[name] = bound
            elif name in definitions or hasattr(builtins, name):
                continue
            elif isinstance(bound, LocalFunction) or (isinstance(bound, tuple) and bound[0] == "assign"):
                definition = self.nodes[name]
                segment = ast.get_source_segment(self.source, definition)
                if segment is None:
                    raise Unreadable(f"could not copy {name}", node.lineno)
                definitions[name] = segment
                self._needs(definition, {name}, refs, definitions)
                definitions[name] = definitions.pop(name)  # after what it needs
            else:
                raise Unreadable(f"the name {name} is not an import or a module-level helper", getattr(node, "lineno", 0))


# -- rendering the configuration module ------------------------------------------------------


class _Imports:
    def __init__(self) -> None:
        self.names: dict[str, Ref] = {}

    def use(self, local: str, ref: Ref) -> str:
        """Import ``ref`` under ``local`` (or an alias if taken); return the name to use."""
        name = local
        while name in self.names and self.names[name] != ref:
            name = f"_{name}"
        self.names[name] = ref
        return name

    def expression(self, ref: Ref) -> str:
        """The expression that reaches ``ref`` (its module's first name imported)."""
        if not ref.name:
            return self.use(ref.module.rpartition(".")[2], ref) if "." in ref.module else self.use(ref.module, ref)
        first, _, rest = ref.name.partition(".")
        name = self.use(first, Ref(ref.module, first))
        return f"{name}.{rest}" if rest else name

    def lines(self) -> list[str]:
        modules: list[str] = []
        froms: dict[str, list[str]] = {}
        for local, ref in sorted(self.names.items(), key=lambda item: (item[1].module, item[1].name)):
            if not ref.name:
                if "." in ref.module:
                    parent, _, leaf = ref.module.rpartition(".")
                    froms.setdefault(parent, []).append(leaf if local == leaf else f"{leaf} as {local}")
                else:
                    modules.append(f"import {ref.module}" if local == ref.module else f"import {ref.module} as {local}")
            else:
                froms.setdefault(ref.module, []).append(ref.name if local == ref.name else f"{ref.name} as {local}")
        return sorted(modules) + [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(froms.items())]


def render_profile_module(couplings: LegacyCouplings) -> str:
    """Return the source of a configuration module that builds ``PROFILE`` (an ``ErrorProfile``) from ``couplings``.

    The module also defines ``DISPLAY_NAME`` (the hard-coded display name, or None) and
    ``IDENTITY`` (key -> a literal or a zero-argument function) with ``REQUEST_ONLY`` (the
    identity keys set only inside a request). Findings are listed in its docstring; a
    piece that could not be read is left to newlog's default there, so the caller must
    report ``couplings.findings`` (the codemod does). Raises ValueError when the rules or
    the payload shape could not be read at all: no profile can be built then.
    """
    if not couplings.rules or couplings.payload is None:
        problems = "\n".join(f"  {finding}" for finding in couplings.findings) or "  (no findings)"
        raise ValueError(f"cannot build an error profile from {couplings.path}: its rules or payload shape are unreadable:\n{problems}")
    imports = _Imports()
    helpers: dict[str, str] = {}

    def value(item: Any) -> str:
        if isinstance(item, Ref):
            return imports.expression(item)
        if isinstance(item, Text):
            return _text(item)
        return repr(item)

    def code(carried: Code, name: str, params: str) -> str:
        for local, ref in carried.refs:
            imports.use(local, ref)
        for definition in carried.definitions:
            helpers.setdefault(definition, definition)
        return f"def {name}({params}):\n    return {carried.expression}\n"

    rules = []
    for rule in couplings.rules:
        parts = []
        if rule.outcome is not None:
            o = rule.outcome
            parts.append(
                f"outcome=Outcome({value(o.status_code)}, {value(o.category)}, {value(o.severity)}, {o.message_key!r}, {value(o.message)}, {o.recoverable!r})"
            )
        if rule.classes:
            parts.append(f"classes=({''.join(value(ref) + ', ' for ref in rule.classes).rstrip()})")
        if rule.codes is not None:
            parts.append(f"codes={rule.codes!r}")
        if rule.words:
            parts.append(f"words={rule.words!r}")
        rules.append(f"        Rule({', '.join(parts)}),  # line {rule.line}")
    functions: list[str] = []
    arguments = [
        f"    source={couplings.path!r},",
        f"    variant={couplings.variant!r},",
        "    rules=(\n" + "\n".join(rules) + "\n    ),",
        f"    payload={_shape(couplings.payload)},",
        "    suggestions={\n"
        + "".join(f"        {value(category)}: ({''.join(value(text) + ', ' for text in texts).rstrip()}),\n" for category, texts in couplings.suggestions)
        + "    },",
        f"    default_suggestions=({''.join(value(text) + ', ' for text in couplings.default_suggestions).rstrip()}),",
        f"    http_default_code={couplings.http_default_code!r},",
    ]
    if couplings.catalogue is not None:
        arguments.append(f"    catalogue={value(couplings.catalogue)},")
    if couplings.catalogue_default is not None:
        arguments.append(f"    catalogue_default={value(couplings.catalogue_default)},")
    if couplings.status_mapper is not None:
        arguments.append(f"    status={value(couplings.status_mapper)},")
    for carried, name, params, argument in (
        (couplings.error_id, "new_error_id", "", "new_error_id"),
        (couplings.now, "now", "", "now"),
        (couplings.format_timestamp, "format_timestamp", "timestamp", "format_timestamp"),
    ):
        if carried is not None:
            functions.append(code(carried, name, params))
            arguments.append(f"    {argument}={name},")
    identity = []
    for key, rule in couplings.identity.items():
        if rule.value is not None:
            identity.append(f"    {key!r}: {rule.value!r},")
        elif rule.code is not None:
            body = rule.code.expression
            if rule.fallback is not None:
                functions.append(code(rule.fallback, f"_{key}_outside_app", ""))
                functions.append(code(rule.code, f"_{key}_in_app", ""))
                functions.append(
                    f"def identity_{key}():\n    try:\n        return _{key}_in_app()\n    except RuntimeError:  # outside an app context\n        return _{key}_outside_app()\n"
                )
            else:
                functions.append(code(rule.code, f"identity_{key}", ""))
            del body
            identity.append(f"    {key!r}: identity_{key},")
    findings = "".join(f"\n    {finding}" for finding in couplings.findings) or " none"
    header = [
        f'"""The error profile of {couplings.module} ({couplings.variant or "unknown"} variant), read from {couplings.path}.',
        "",
        "Written by codemods.legacy_reader: with ``newlog.error_adapter.use_error_profile(PROFILE)``",
        "newlog answers errors the way this legacy module did. Findings:" + findings,
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    newlog_import = "from newlog.error_profile import ErrorProfile, Outcome, PayloadShape, Rule, Text"
    body = "\n".join(arguments)
    parts = [
        f"DISPLAY_NAME = {couplings.display_name!r}",
        "",
        *[definition + "\n" for definition in helpers.values()],
        *[function for function in functions],
        "PROFILE = ErrorProfile(\n" + body + "\n)",
        "",
        "IDENTITY = {\n" + "\n".join(identity) + "\n}",
        f"REQUEST_ONLY = frozenset({sorted(key for key, rule in couplings.identity.items() if rule.request_only)!r})",
        "",
    ]
    return "\n".join(header + imports.lines() + ["", newlog_import, "", ""] + parts)


def _text(text: Text) -> str:
    constants = {"description": "Text.DESCRIPTION", "description_or_name": "Text.DESCRIPTION_OR_NAME", "error": "Text.ERROR"}
    if text.kind in constants:
        return constants[text.kind]
    return f"Text.{text.kind}({text.value!r})"


def _shape(shape: PayloadShape) -> str:
    return f"PayloadShape(keys={shape.keys!r}, context={shape.context!r}, meta={shape.meta!r}, extra={shape.extra!r})"
