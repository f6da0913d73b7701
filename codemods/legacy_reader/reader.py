"""``read_legacy_module``: everything a legacy module couples to its app, with findings for the rest."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from codemods.legacy_reader.model import Code, IdentityRule, LegacyCouplings, Ref
from codemods.legacy_reader.names import LocalFunction, ModuleNames, Unreadable
from codemods.legacy_reader.rules import _UNKNOWN, RuleReader, is_not_none_check
from newlog.error_profile import CONTEXT_KEYS, META_KEYS, TOP_LEVEL_KEYS, PayloadShape

OLDER_ONLY = frozenset(
    {
        "bind_context",
        "LogContext",
        "with_log_context",
        "set_debug_logging_enabled",
        "_debug_logging_enabled",
        "error_monitor",
    }
)
IDENTITY_KEYS = ("app_name", "app_version", "environment", "host")


def read_legacy_module(
    path: str | Path, module: str | None = None, *, root: str | Path | None = None, source: str | None = None
) -> LegacyCouplings:
    """Read the legacy module at ``path`` and return its couplings (with findings for what it could not read).

    ``module`` is its dotted name (default: from the ``__init__.py`` files above it);
    ``root`` the folder its top package is in (default: found the same way), used to read
    constants of the app's own modules (``HttpStatus.BAD_REQUEST`` -> 400). ``source`` is the
    module's text when the caller has read it already (the codemods do); ``path`` still names it.
    """
    path = Path(path)
    guessed_module, guessed_root = _module_name(path)
    reader = _Reader(path, module or guessed_module, Path(root) if root else guessed_root, source)
    return reader.read()


def _module_name(path: Path) -> tuple[str, Path]:
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.resolve().parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


class _Reader:
    def __init__(self, path: Path, module: str, root: Path, source: str | None = None) -> None:
        self.result = LegacyCouplings(path=str(path), module=module)
        self.names = ModuleNames(path, module, root, self.result.findings, source)
        self.rules = RuleReader(self.names, self.result)

    def read(self) -> LegacyCouplings:
        self._read_variant()
        self._read_log_model()
        handler = self.names.function("enhanced_error_handler")
        if handler is None:
            self.names.finding(1, "could not determine the error handling: no function enhanced_error_handler")
        else:
            self.rules.read(handler)
            self._read_payload(handler)
        self._read_error_context()
        self._read_error_handler()
        self._read_identity()
        self._read_user_context()
        self._read_teardown()
        self._read_logger_factory()
        self.rules.resolve_enums()
        return self.result

    def _read_variant(self) -> None:
        older = sorted(name for name in OLDER_ONLY if name in self.names.nodes)
        newer = "ErrorMetadata" in self.names.bindings
        if older and not newer:
            self.result.variant = "older"
        elif newer and not older:
            self.result.variant = "newer"
        else:
            self.names.finding(
                1, f"could not determine the variant (older-only names: {older or 'none'}; ErrorMetadata: {newer})"
            )

    def _read_log_model(self) -> None:
        for node in ast.walk(self.names.tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and node.args
            ):
                continue
            created = node.args[0]
            if isinstance(created, ast.Call):
                target = created.func.value if isinstance(created.func, ast.Attribute) else created.func
                if isinstance(target, ast.Name) and isinstance(self.names.bindings.get(target.id), Ref):
                    self.result.log_model = self.names.bindings[target.id]
                    session = node.func.value
                    while isinstance(session, ast.Attribute):
                        session = session.value
                    if isinstance(session, ast.Name) and isinstance(self.names.bindings.get(session.id), Ref):
                        self.result.db = self.names.bindings[session.id]
                    break
        if self.result.log_model is None:
            self.names.finding(
                1, "could not determine the log model (no '<db>.session.add(<Model>(...))' of an imported model)"
            )
        for node in ast.walk(self.names.tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                bound = self.names.bindings.get(node.value.id)
                if isinstance(bound, Ref) and node.value.id.lower().endswith("level"):
                    self.result.log_level = bound
                    return
        bound = self.names.bindings.get("LogLevel")
        if isinstance(bound, Ref):
            self.result.log_level = bound
        else:
            self.names.finding(1, "could not determine the LogLevel enum of the log model")

    def _read_payload(self, handler: ast.FunctionDef) -> None:
        name, literal = self._payload_literal(handler)
        if literal is None:
            self.names.finding(
                handler.lineno,
                "could not determine the payload: no dict literal with an 'error' key in enhanced_error_handler",
            )
            return
        keys: list[str] = []
        context: list[str] = []
        meta: list[str] = []
        extra: Literal["truthy", "given"] | None = None
        for key, value in zip(literal.keys, literal.values, strict=True):
            if not isinstance(key, ast.Constant) or key.value not in TOP_LEVEL_KEYS:
                self.names.finding(
                    literal.lineno, f"could not determine the payload key {ast.unparse(key) if key else '**'}"
                )
                continue
            keys.append(key.value)
            self._expect(key.value, value)
            if key.value == "context":
                if not isinstance(value, ast.Dict):
                    self.names.finding(value.lineno, "could not determine the payload's context block")
                    continue
                for inner, inner_value in zip(value.keys, value.values, strict=True):
                    if isinstance(inner, ast.Constant) and inner.value in CONTEXT_KEYS:
                        context.append(inner.value)
                        self._expect(inner.value, inner_value)
                    else:
                        self.names.finding(
                            value.lineno, f"could not determine the context key {ast.unparse(inner) if inner else '**'}"
                        )
            elif key.value == "suggestions":
                self._read_suggestions(value)
            elif key.value == "timestamp":
                self.result.format_timestamp = self._carry(value, {("context", "timestamp"): "timestamp"}, handler)
        for statement, condition in self._statements_after(handler, literal):
            target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
            path = self._subscript_path(target, name) if target is not None else None
            if path is None:
                if self._changes(statement, name):
                    self.names.finding(statement.lineno, f"could not determine the payload: {ast.unparse(statement)}")
                continue
            if path == ["extra"]:
                extra = self._extra_condition(condition, statement.lineno)
            elif len(path) == 2 and path[0] == "context" and path[1] in CONTEXT_KEYS:
                context.append(path[1])
                if path[1] == "meta":
                    meta = self._meta_keys(statement.value)
                else:
                    self._expect(path[1], statement.value)
            else:
                self.names.finding(statement.lineno, f"could not determine the payload key {'/'.join(path)}")
        try:
            self.result.payload = PayloadShape(tuple(keys), tuple(context), tuple(meta), extra or "truthy")
        except ValueError as problem:
            self.names.finding(literal.lineno, f"could not determine the payload shape: {problem}")
        if extra is None:
            self.names.finding(handler.lineno, "could not determine when the payload carries 'extra'")

    # what each payload key must read, as the last name of its expression (``metadata.message`` -> message)
    _READS = {
        "error_id": ("error_id",),
        "category": ("category",),
        "severity": ("severity",),
        "message_code": ("message_key", "message_code"),
        "message": ("message",),
        "recoverable": ("recoverable",),
        "request_id": ("request_id",),
        "user_id": ("user_id",),
        "url": ("url",),
        "method": ("method",),
        "status_code": ("status_code",),
        "ip_address": ("ip_address",),
        "user_agent": ("user_agent",),
    }

    def _expect(self, key: str, value: ast.expr) -> None:
        """A payload value newlog fills in its own way must read what the key says; else a finding."""
        source = ast.unparse(value)
        if key == "error":
            ok = isinstance(value, ast.Constant) and value.value is True
        elif key == "error_type":
            ok = source.endswith(".__name__") and "type(" in source
        elif key == "details":
            ok = re.fullmatch(r"getattr\(\w+,'details',None\)or\{\}", source.replace(" ", "")) is not None
        elif key in self._READS:
            node = value.value if isinstance(value, ast.Attribute) and value.attr == "value" else value
            last = (
                node.id
                if isinstance(node, ast.Name)
                else node.attr
                if isinstance(node, ast.Attribute)
                else node.slice.value
                if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                else None
            )
            ok = last in self._READS[key]
        else:
            return
        if not ok:
            self.names.finding(value.lineno, f"could not determine the payload's {key}: {source}")

    @staticmethod
    def _changes(statement: ast.stmt, name: str) -> bool:
        """Whether ``statement`` changes the payload other than by ``payload[...] = value`` (update, del, pop...)."""
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                while isinstance(owner, ast.Subscript):
                    owner = owner.value
                if (
                    isinstance(owner, ast.Name)
                    and owner.id == name
                    and node.func.attr not in ("get", "copy", "keys", "items")
                ):
                    return True
            if isinstance(node, ast.Delete | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Delete) else [node.target]
                if any(isinstance(t, ast.Subscript) and ast.unparse(t).startswith(f"{name}[") for t in targets):
                    return True
        return False

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

    def _statements_after(
        self, handler: ast.FunctionDef, literal: ast.Dict
    ) -> Iterator[tuple[ast.stmt, ast.expr | None]]:
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

    def _extra_condition(self, condition: ast.expr | None, line: int) -> Literal["truthy", "given"]:
        if isinstance(condition, ast.Name):
            return "truthy"
        if isinstance(condition, ast.Compare) and is_not_none_check(condition):
            return "given"
        self.names.finding(
            line,
            "could not determine when the payload carries 'extra' (condition other than 'if extra:' / 'is not None')",
        )
        return "truthy"

    def _meta_keys(self, value: ast.expr) -> list[str]:
        if not isinstance(value, ast.Dict):
            self.names.finding(value.lineno, "could not determine the payload's context.meta block")
            return []
        keys = []
        for key, item in zip(value.keys, value.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in META_KEYS:
                keys.append(key.value)
                self._expect(key.value, item)
            else:
                self.names.finding(
                    value.lineno, f"could not determine the meta key {ast.unparse(key) if key else '**'}"
                )
        return keys

    def _read_suggestions(self, value: ast.expr) -> None:
        call = (
            value.args[0]
            if isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in ("list", "tuple")
            and value.args
            else value
        )
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "get"
            and isinstance(call.func.value, ast.Name)
        ):
            self.names.finding(value.lineno, f"could not determine the suggestions lookup {ast.unparse(value)}")
            return
        table = self.names.bindings.get(call.func.value.id)
        if not (isinstance(table, tuple) and isinstance(table[1], ast.Dict)):
            self.names.finding(value.lineno, f"could not read the suggestions table {call.func.value.id}")
            return
        entries = []
        for key, texts in zip(table[1].keys, table[1].values, strict=True):
            if key is None:
                self.names.finding(
                    texts.lineno, f"could not determine the suggestions merged from **{ast.unparse(texts)}"
                )
                continue
            try:
                category = self.rules.evaluate(key, "", {}, {}, code=None)
                entries.append((category, self._texts(texts)))
            except Unreadable as problem:
                self.names.finding(problem.line, f"could not determine the suggestions: {problem}")
        self.result.suggestions = tuple(entries)
        if len(call.args) > 1:
            try:
                self.result.default_suggestions = self._texts(call.args[1])
            except Unreadable as problem:
                self.names.finding(problem.line, f"could not determine the default suggestions: {problem}")
        else:
            self.names.finding(value.lineno, "could not determine the default suggestions (the lookup has no default)")

    def _texts(self, node: ast.expr) -> tuple[Any, ...]:
        value = self.rules.evaluate(node, "", {}, {}, code=None)
        if not isinstance(value, tuple) or not all(isinstance(text, str | Ref) for text in value):
            raise Unreadable(f"could not read the texts {ast.unparse(node)}", getattr(node, "lineno", 0))
        return value

    def _read_error_context(self) -> None:
        cls = self.names.class_("ErrorContext")
        init = (
            next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
            if cls
            else None
        )
        if init is None:
            self.names.finding(1, "could not determine the error ids and timestamps: no ErrorContext.__init__")
            return
        for node in ast.walk(init):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    if target.attr == "error_id":
                        self.result.error_id = self._carry(node.value, {}, init)
                    elif target.attr == "timestamp":
                        self.result.now = self._carry(node.value, {}, init)
        if self.result.error_id is None:
            self.names.finding(init.lineno, "could not determine the error id format (no self.error_id = ...)")
        if self.result.now is None:
            self.names.finding(init.lineno, "could not determine the error timestamp (no self.timestamp = ...)")

    def _read_error_handler(self) -> None:
        decorator = self.names.function("error_handler")
        if decorator is None:
            self.names.finding(1, "could not determine error_handler's status: no function error_handler")
            return
        wrapped = decorator.args.args[0].arg if decorator.args.args else ""
        for node in ast.walk(decorator):
            if isinstance(node, ast.ExceptHandler):
                exception = node.name or ""
                self.result.double_call = any(
                    isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == wrapped
                    for call in ast.walk(node)
                )
                for statement in ast.walk(node):
                    if (
                        isinstance(statement, ast.Return)
                        and isinstance(statement.value, ast.Tuple)
                        and len(statement.value.elts) == 2
                    ):
                        self._read_status(statement.value.elts[1], exception, node)
                        return
        self.names.finding(
            decorator.lineno, "could not determine error_handler's status (no 'return jsonify(payload), status')"
        )

    def _read_status(self, status: ast.expr, exception: str, handler: ast.ExceptHandler) -> None:
        if isinstance(status, ast.Name):
            assigned = [
                node.value
                for node in ast.walk(handler)
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == status.id for t in node.targets)
            ]
            if len(assigned) == 1:
                status = assigned[0]
        classifier = self.rules.classifier_name
        if isinstance(status, ast.Attribute | ast.Subscript):
            inner = status.value
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == classifier:
                return  # the rule's own status
        if (
            isinstance(status, ast.Call)
            and len(status.args) == 1
            and isinstance(status.args[0], ast.Name)
            and status.args[0].id == exception
        ):
            try:
                mapper = self.rules.evaluate(status.func, "", {}, {}, code=None)
            except Unreadable:
                mapper = None
            if isinstance(mapper, Ref):
                self.result.status_mapper = mapper
                return
        self.names.finding(status.lineno, f"could not determine error_handler's status {ast.unparse(status)}")

    def _read_identity(self) -> None:
        function = None
        for node in ast.walk(self.names.tree):
            if isinstance(node, ast.FunctionDef) and any(
                self._event_key(target) == "app_name" for target in self._assign_targets(node)
            ):
                function = node
                break
        if function is None:
            self.names.finding(1, "could not determine the identity fields (no event_dict['app_name'] = ...)")
            return
        self._identity_block(function.body, request_only=False, fallback_of=None)
        app_name = self.result.identity.get("app_name")
        if app_name is not None and isinstance(app_name.value, str):
            self.result.display_name = app_name.value
        for key in IDENTITY_KEYS:
            if key not in self.result.identity:
                self.names.finding(function.lineno, f"could not determine the identity field {key}")

    def _read_user_context(self) -> None:
        """The keys the log handler stored from ``current_user`` (``context["current_username"] = current_user.username``)."""
        for node in ast.walk(self.names.tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            local = {  # is_admin = getattr(current_user, "is_admin", False)
                target.id: attribute
                for statement in ast.walk(node)
                if isinstance(statement, ast.Assign)
                for target in statement.targets
                if isinstance(target, ast.Name) and (attribute := _user_attribute(statement.value, {})) is not None
            }
            pairs = [
                (key, attribute)
                for statement in ast.walk(node)
                if isinstance(statement, ast.Assign)
                for target in statement.targets
                if isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id != "event_dict"
                and (key := self._event_key(target)) is not None
                and (attribute := _user_attribute(statement.value, local)) is not None
            ]
            if pairs:
                self.result.user_context = tuple(pairs)
                return

    def _read_logger_factory(self) -> None:
        """``structlog.configure(logger_factory=structlog.stdlib.LoggerFactory())``: events went to stdlib logging only."""
        for node in ast.walk(self.names.tree):
            if isinstance(node, ast.keyword) and node.arg == "logger_factory":
                factory = node.value.func if isinstance(node.value, ast.Call) else node.value
                name = factory.attr if isinstance(factory, ast.Attribute) else getattr(factory, "id", None)
                self.result.stdout = name != "LoggerFactory"
                return

    def _read_teardown(self) -> None:
        """The message of the event ``configure_structlog``'s ``teardown_appcontext`` hook logged."""
        for node in ast.walk(self.names.tree):
            if not isinstance(node, ast.FunctionDef) or not any(
                (decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", None))
                == "teardown_appcontext"
                for decorator in node.decorator_list
            ):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in ("error", "critical", "exception")
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                    and isinstance(call.args[0].value, str)
                ):
                    self.result.teardown_message = call.args[0].value
                    return

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
                in_request = isinstance(statement.test, ast.Call) and ast.unparse(statement.test.func).endswith(
                    "has_request_context"
                )
                self._identity_block(statement.body, request_only=request_only or in_request, fallback_of=fallback_of)
            elif isinstance(statement, ast.Try):
                self._identity_block(statement.body, request_only=request_only, fallback_of=fallback_of)
                fallbacks: dict[str, Code] = {}
                for handler in statement.handlers:
                    self._identity_block(handler.body, request_only=request_only, fallback_of=fallbacks)
                for key, code in fallbacks.items():
                    if key in self.result.identity:
                        rule = self.result.identity[key]
                        self.result.identity[key] = IdentityRule(
                            rule.key, rule.line, rule.value, rule.code, code, rule.request_only
                        )

    def _literal(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            bound = self.names.bindings.get(node.id)
            if isinstance(bound, tuple) and isinstance(bound[1], ast.Constant) and isinstance(bound[1].value, str):
                return bound[1].value
        return None

    def _carry(
        self, node: ast.expr, params: dict[tuple[str, str], str], scope: ast.FunctionDef | None = None
    ) -> Code | None:
        """The source of ``node`` (``params`` replace attribute reads), with the imports and helpers it needs.

        Names come from the module's imports and helpers, or from imports inside ``scope``
        (the function ``node`` is in).
        """

        class Replace(ast.NodeTransformer):
            def visit_Attribute(self, attribute: ast.Attribute) -> ast.AST:
                if isinstance(attribute.value, ast.Name) and (attribute.value.id, attribute.attr) in params:
                    return ast.copy_location(
                        ast.Name(params[(attribute.value.id, attribute.attr)], ast.Load()), attribute
                    )
                return self.generic_visit(attribute)

        expression = Replace().visit(ast.parse(ast.unparse(node), mode="eval"))
        refs: dict[str, Ref] = {}
        definitions: dict[str, str] = {}
        local: dict[str, Any] = {}
        for statement in ast.walk(scope) if scope is not None else ():
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self.names.bind_import(statement, local)
        try:
            self._needs(expression, set(params.values()), refs, definitions, local)
        except Unreadable as problem:
            self.names.finding(getattr(node, "lineno", 0), f"could not carry over {ast.unparse(node)}: {problem}")
            return None
        return Code(ast.unparse(expression), tuple(sorted(refs.items())), tuple(definitions.values()))

    def _needs(
        self,
        tree: ast.AST,
        known: set[str],
        refs: dict[str, Ref],
        definitions: dict[str, str],
        local: dict[str, Any] | None = None,
    ) -> None:
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
            bound = (local or {}).get(name, self.names.bindings.get(name, _UNKNOWN))
            if isinstance(bound, Ref):
                refs[name] = bound
            elif name in definitions or hasattr(builtins, name):
                continue
            elif isinstance(bound, LocalFunction) or (isinstance(bound, tuple) and bound[0] == "assign"):
                definition = self.names.nodes[name]
                segment = ast.get_source_segment(self.names.source, definition)
                if segment is None:
                    raise Unreadable(f"could not copy {name}", node.lineno)
                definitions[name] = segment
                self._needs(definition, {name}, refs, definitions)
                definitions[name] = definitions.pop(name)  # after what it needs
            else:
                raise Unreadable(
                    f"the name {name} is not an import or a module-level helper", getattr(node, "lineno", 0)
                )

    @staticmethod
    def _subscript_path(target: ast.expr, name: str) -> list[str] | None:
        path: list[str] = []
        while isinstance(target, ast.Subscript):
            if not isinstance(target.slice, ast.Constant) or not isinstance(target.slice.value, str):
                return None
            path.insert(0, target.slice.value)
            target = target.value
        return path if isinstance(target, ast.Name) and target.id == name and path else None

    @staticmethod
    def _assign_targets(function: ast.FunctionDef) -> Iterator[ast.expr]:
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                yield from node.targets

    @staticmethod
    def _event_key(target: ast.expr) -> str | None:
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.slice, ast.Constant)
            and isinstance(target.slice.value, str)
        ):
            return target.slice.value
        return None


def _user_attribute(value: ast.expr, local: dict[str, str]) -> str | None:
    """The attribute of ``current_user`` that ``value`` reads (``current_user.id``, ``getattr(current_user, "role")``,
    ``current_user.is_admin()``, a local holding one of those), else None."""
    for node in ast.walk(value):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "current_user":
            return node.attr
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "current_user"
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            return node.args[1].value
        if isinstance(node, ast.Name) and node.id in local:
            return local[node.id]
    return None
