"""Rule ``global-context``: replace the legacy process-wide ``_global_context`` dict with ContextVars.

Why: ``_global_context`` is one plain dict shared by every thread, so a value bound while
serving one request leaks into every other request. structlog's ContextVar functions
(``structlog.contextvars``) keep a binding to the thread/task that made it.

What it rewrites (``R`` is the legacy dict, reached as ``_global_context`` imported from the
legacy module, ``m._global_context`` through a module binding, or the module-level name in the
legacy file itself when the legacy-file rule is excluded):

- ``R[k] = v`` -> ``bind_contextvars(k=v)`` (``**{k: v}`` when ``k`` is not a literal identifier);
  ``R.update(...)`` -> ``bind_contextvars(...)`` (a dict literal becomes keywords, any other
  mapping ``**mapping``, a list/tuple of pairs ``**dict(pairs)``);
- ``R.pop(k[, default])`` as a statement and ``del R[k]`` -> ``unbind_contextvars(k)``;
  ``R.clear()`` -> ``clear_contextvars()``;
- reads: ``R.copy()`` / ``dict(R)`` -> ``get_contextvars()``, ``R.get(k)`` / ``R.items()`` /
  ``.keys()`` / ``.values()`` -> ``get_contextvars().get(k)`` etc., ``R[k]`` -> ``get_contextvars()[k]``,
  ``k in R`` -> ``k in get_contextvars()``;
- a binding executed at import time (not inside a function body: module level, including
  ``if``/``try`` blocks and class bodies) is static data - a ContextVar set while importing never
  reaches the request threads - so ``R[k] = v``, ``R.update(...)`` and the legacy ``bind_context(...)``
  there become ``newlog.set_static_context(...)``;
- ``m._debug_logging_enabled`` (the other private state, ``compat.mapping.PRIVATE_STATE``):
  reads -> ``is_debug_logging_enabled()``, ``m._debug_logging_enabled = v`` ->
  ``set_debug_logging_enabled(enabled=v)`` (newlog).
- The context helpers it owns (``bind_context``, ``clear_context``, ``get_context``,
  ``bind_request_context``, ``clear_request_context``, ``LogContext``, ``with_log_context``) move to
  their newlog successors as ``compat.mapping`` says (``LogContext`` and ``with_log_context`` both
  become ``newlog.log_context``, a context manager that is also a decorator).

Reported and left as is (``path:line: reason``): ``R`` passed as an argument, aliased
(``ctx = R``), iterated, used with another method or in a chained/augmented assignment,
``global _global_context`` outside the legacy file, unbinding or reading it at import time.
Also reported, although rewritten: a direct write inside a function, since it now reaches only
the current thread/request; if it was meant for the whole process (e.g. in an app factory),
``set_static_context`` is the right call.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import GlobalScope

from codemods.engine import FileState, Fixer, Options, Pruned, word_pattern
from codemods.names.legacy import Uses, collect, find_module_uses, find_uses
from codemods.names.plan import migrate_names

NAME = "global-context"

CONTEXT_HELPERS = frozenset(
    {
        "bind_context",
        "clear_context",
        "get_context",
        "bind_request_context",
        "clear_request_context",
        "LogContext",
        "with_log_context",
    }
)
"""The legacy names this rule moves to newlog (their new names come from ``compat.mapping``)."""

STATE = "_global_context"
DEBUG_STATE = "_debug_logging_enabled"
CONTEXTVARS = "structlog.contextvars"
NEWLOG = "newlog"

_READ_METHODS = frozenset({"get", "items", "keys", "values"})


def triggers(options: Options) -> tuple[str, ...]:
    """The words without which a file cannot need this rule."""
    return (options.module_last, STATE)


def fix(state: FileState) -> None:
    """Apply the rule to one parsed file."""
    refs = _find_refs(state)
    if refs is not None:
        transformer = _Transformer(state, refs)
        pattern = word_pattern(refs.words)
        state.transform(state.hot(pattern), transformer, pattern)
        state.counts[NAME] += transformer.edits
        for local in refs.released:
            state.release(local)
    migrate_names(state, NAME, CONTEXT_HELPERS.__contains__)


@dataclass
class _Refs:
    state: list[Uses] = field(default_factory=list)
    bind: list[Uses] = field(default_factory=list)
    modules: list[Uses] = field(default_factory=list)
    words: set[str] = field(default_factory=set)
    state_locals: set[str] = field(default_factory=set)
    released: set[str] = field(default_factory=set)


def _find_refs(state: FileState) -> _Refs | None:
    refs = _Refs()
    found = collect(state)
    for binding_name, target in ((STATE, refs.state), ("bind_context", refs.bind)):
        bindings = [b for b in found.names if b.name == binding_name]
        for local in {b.local for b in bindings}:
            nodes = [b.node for b in bindings if b.local == local]
            uses = find_uses(state, local, nodes, "([.")
            if uses is None:
                for b in bindings:
                    if b.local == local:
                        message = f"cannot tell what '{local}' refers to at every use; left as is"
                        state.report(NAME, b.index, b.alias, message)
                continue
            target.append(uses)
            refs.words.add(local)
            refs.released.add(local)
            if binding_name == STATE:
                refs.state_locals.add(local)
    attributes = {word for word in (STATE, DEBUG_STATE, "bind_context") if word in state.source}
    for key in {b.chain or b.local for b in found.modules} if attributes else ():
        nodes = [b.node for b in found.modules if (b.chain or b.local) == key]
        uses = find_module_uses(state, key, nodes)
        if uses is not None:
            refs.modules.append(uses)
            refs.words.update(attributes)
    if state.info.is_legacy:
        scopes = state.scopes(word_pattern([STATE]))
        module_scope = next((s for s in scopes.values() if isinstance(s, GlobalScope)), None)
        if module_scope is not None:
            ids = {id(access.node) for a in module_scope.assignments[STATE] for access in a.references}
            refs.state.append(Uses(ids=frozenset(ids)))
            refs.words.add(STATE)
    return refs if (refs.state or refs.bind or refs.modules) else None


@dataclass
class _LinePlan:
    kind: str
    data: object = None


class _Transformer(Pruned, cst.CSTTransformer):
    def __init__(self, state: FileState, refs: _Refs) -> None:
        self.state = state
        self.refs = refs
        self.depth = 0
        self.classes = 0
        self.functions: list[str | None] = []
        """The enclosing functions: the name of a module-level one, None for others."""
        self.startup = state.options.startup_functions
        self.skip: set[int] = set()
        self.consumed: set[int] = set()
        self.blocked: dict[int, str] = {}
        self.reasons: dict[int, str] = {}
        self.lines: dict[int, _LinePlan] = {}
        self.reads: dict[int, str] = {}
        self.edits = 0
        self.changed = False
        self.index = 0

    # -- what a node refers to --------------------------------------------------------------------
    def _module_ref(self, node: cst.BaseExpression) -> bool:
        return id(node) not in self.skip and any(node in uses for uses in self.refs.modules)

    def _is(self, node: cst.CSTNode, which: str) -> bool:
        if isinstance(node, cst.Name):
            if id(node) in self.skip:
                return False
            return any(node in uses for uses in (self.refs.state if which == STATE else self.refs.bind))
        if isinstance(node, cst.Attribute):
            return node.attr.value == which and self._module_ref(node.value)
        return False

    def _state(self, node: cst.CSTNode) -> bool:
        return self._is(node, STATE)

    # -- bookkeeping ------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node.name.value if self.depth == 0 and not self.classes else None)
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        self.functions.pop()
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes += 1

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.classes -= 1
        return updated_node

    def _at_startup(self) -> bool:
        """Whether code here runs while the application starts: import time, or the body of a start-up function."""
        if self.depth == 0:
            return True
        if self.depth != 1 or not self.functions or self.functions[-1] is None:
            return False
        module = self.state.info.module_name
        return module is not None and f"{module}.{self.functions[-1]}" in self.startup

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.depth += 1

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.Lambda:
        self.depth -= 1
        return updated_node

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))
        self.reasons.setdefault(id(node.value), "passed as an argument")

    def visit_For(self, node: cst.For) -> None:
        self.reasons.setdefault(id(node.iter), "iterated")

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.reasons.setdefault(id(node.iter), "iterated")

    def visit_Assign(self, node: cst.Assign) -> None:
        self.reasons.setdefault(id(node.value), "aliased")
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and id(target.target.value) not in self.consumed:
                self.blocked.setdefault(id(target.target.value), "written in a chained assignment")

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Subscript):
            self.blocked.setdefault(id(node.target.value), "updated in place (augmented assignment)")

    def visit_Del(self, node: cst.Del) -> None:
        elements = getattr(node.target, "elements", None)
        targets = [e.value for e in elements] if elements is not None else [node.target]
        for target in targets:
            if isinstance(target, cst.Subscript) and id(target.value) not in self.consumed:
                reason = "deleted at import time (no static equivalent)" if self.depth == 0 else "deleted this way"
                self.blocked.setdefault(id(target.value), reason)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Subscript):
            self.blocked.setdefault(id(node.target.value), "written with an annotation")

    def visit_Global(self, node: cst.Global) -> None:
        if self.state.info.is_legacy:
            return
        for item in node.names:
            if item.name.value in self.refs.state_locals:
                self.state.report(
                    NAME, self.index, node, "'global _global_context' outside the legacy file; left as is"
                )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))
        if self._state(node.value) and node.attr.value not in _READ_METHODS | {"copy"}:
            self.reasons.setdefault(id(node.value), f"'.{node.attr.value}' used this way is not rewritten")

    # -- statements -------------------------------------------------------------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        for small in node.body:
            plan = self._plan_small(small)
            if plan is not None:
                self.lines[id(small)] = plan

    def _plan_small(self, small: cst.BaseSmallStatement) -> _LinePlan | None:
        import_time = self.depth == 0
        startup = self._at_startup()
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Subscript) and self._state(target.value) and _single_index(target):
                self.consumed.add(id(target.value))
                return _LinePlan("static" if startup else "bind", "item")
            if isinstance(target, cst.Attribute) and self._is(target, DEBUG_STATE):
                self.consumed.add(id(target))
                return _LinePlan("set_debug")
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            call = small.value
            func = call.func
            if isinstance(func, cst.Attribute) and self._state(func.value):
                method = func.attr.value
                if method == "update" and _update_args_ok(call):
                    self.consumed.add(id(func.value))
                    return _LinePlan("static" if startup else "bind", "update")
                if method in {"pop", "clear"} and not import_time:
                    positional = all(a.keyword is None and not a.star for a in call.args)
                    if method == "pop" and 1 <= len(call.args) <= 2 and positional:
                        self.consumed.add(id(func.value))
                        return _LinePlan("unbind", "pop")
                    if method == "clear" and not call.args:
                        self.consumed.add(id(func.value))
                        return _LinePlan("clear")
                if method in {"pop", "clear"} and import_time:
                    self.blocked[id(func.value)] = f"'.{method}()' at import time has no static equivalent"
            if startup and self._is(func, "bind_context"):
                self.consumed.add(id(func))
                return _LinePlan("static", "call")
        if isinstance(small, cst.Del) and not self.depth == 0:
            targets = small.target.elements if isinstance(small.target, cst.Tuple) else None
            items = [e.value for e in targets] if targets is not None else [small.target]
            if items and all(
                isinstance(item, cst.Subscript) and self._state(item.value) and _single_index(item) for item in items
            ):
                for item in items:
                    self.consumed.add(id(item.value))  # type: ignore[union-attr]
                return _LinePlan("unbind", "del")
        return None

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if not any(id(small) in self.lines for small in original_node.body):
            return updated_node
        body = []
        for original, updated in zip(original_node.body, updated_node.body):
            plan = self.lines.get(id(original))
            body.append(updated if plan is None else self._build(plan, original, updated))
        self.changed = True
        return updated_node.with_changes(body=body)

    def _build(
        self, plan: _LinePlan, original: cst.BaseSmallStatement, updated: cst.BaseSmallStatement
    ) -> cst.BaseSmallStatement:
        self.edits += 1
        semicolon = updated.semicolon  # type: ignore[attr-defined]
        if plan.kind in {"bind", "static"}:
            static = plan.kind == "static"
            function, module = ("set_static_context", NEWLOG) if static else ("bind_contextvars", CONTEXTVARS)
            if plan.data == "item":
                assert isinstance(updated, cst.Assign)
                target = updated.targets[0].target
                assert isinstance(target, cst.Subscript)
                key = target.slice[0].slice.value  # type: ignore[attr-defined]
                args = _keyword_args([(key, updated.value)])
                call = cst.Call(func=cst.Name(function), args=args)
                if plan.kind == "bind":
                    self.state.report(
                        NAME,
                        self.index,
                        original,
                        "_global_context write inside a function is now a ContextVar binding (this thread/request "
                        "only); if the value is meant for the whole process, use newlog.set_static_context",
                    )
            elif plan.data == "update":
                call = updated.value  # type: ignore[attr-defined]
                call = call.with_changes(func=cst.Name(function), args=_update_to_bind(call.args))
            else:
                call = updated.value.with_changes(func=cst.Name(function))  # type: ignore[attr-defined]
            self.state.want_import(module, function)
            return cst.Expr(value=call, semicolon=semicolon)
        if plan.kind == "unbind":
            if plan.data == "pop":
                call = updated.value  # type: ignore[attr-defined]
                keys = [call.args[0].value]
            else:
                target = updated.target  # type: ignore[attr-defined]
                items = [e.value for e in target.elements] if isinstance(target, cst.Tuple) else [target]
                keys = [item.slice[0].slice.value for item in items]
            self.state.want_import(CONTEXTVARS, "unbind_contextvars")
            return cst.Expr(
                value=cst.Call(func=cst.Name("unbind_contextvars"), args=[cst.Arg(value=k) for k in keys]),
                semicolon=semicolon,
            )
        if plan.kind == "clear":
            self.state.want_import(CONTEXTVARS, "clear_contextvars")
            return cst.Expr(value=cst.Call(func=cst.Name("clear_contextvars")), semicolon=semicolon)
        assert plan.kind == "set_debug"
        assert isinstance(updated, cst.Assign)
        self.state.want_import(NEWLOG, "set_debug_logging_enabled")
        return cst.Expr(
            value=cst.Call(
                func=cst.Name("set_debug_logging_enabled"),
                args=[cst.Arg(keyword=cst.Name("enabled"), value=updated.value, equal=_EQUAL)],
            ),
            semicolon=semicolon,
        )

    # -- expressions (reads) ----------------------------------------------------------------------
    def _read(self, node: cst.CSTNode, ref: cst.CSTNode, kind: str) -> None:
        if id(ref) in self.consumed or id(ref) in self.blocked:
            return
        if self.depth == 0:
            self.blocked[id(ref)] = "read at import time (the static context is not visible through get_contextvars())"
            return
        self.consumed.add(id(ref))
        self.reads[id(node)] = kind

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and self._state(func.value):
            method = func.attr.value
            if method == "copy" and not node.args:
                self._read(node, func.value, "copy")
            elif method in _READ_METHODS:
                self._read(node, func.value, "method")
        elif (
            isinstance(func, cst.Name)
            and func.value == "dict"
            and len(node.args) == 1
            and node.args[0].keyword is None
            and not node.args[0].star
            and self._state(node.args[0].value)
        ):
            self._read(node, node.args[0].value, "copy")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self._state(node.value):
            self._read(node, node.value, "item")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)) and self._state(target.comparator):
                self._read(target, target.comparator, "in")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        kind = self.reads.get(id(original_node))
        if kind is None:
            return updated_node
        self._count_read()
        if kind == "copy":
            return _get_contextvars().with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        func = updated_node.func
        assert isinstance(func, cst.Attribute)
        return updated_node.with_changes(func=func.with_changes(value=_get_contextvars()))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if id(original_node) not in self.reads:
            return updated_node
        self._count_read()
        return updated_node.with_changes(value=_get_contextvars())

    def leave_ComparisonTarget(
        self, original_node: cst.ComparisonTarget, updated_node: cst.ComparisonTarget
    ) -> cst.ComparisonTarget:
        if id(original_node) not in self.reads:
            return updated_node
        self._count_read()
        return updated_node.with_changes(comparator=_get_contextvars())

    def _count_read(self) -> None:
        self.edits += 1
        self.changed = True
        self.state.want_import(CONTEXTVARS, "get_contextvars")

    # -- what is left ---------------------------------------------------------------------------
    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if self._state(original_node):
            self._leftover(original_node)
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if self._state(original_node):
            self._leftover(original_node)
        elif self._is(original_node, DEBUG_STATE) and id(original_node) not in self.consumed:
            self.edits += 1
            self.changed = True
            self.state.want_import(NEWLOG, "is_debug_logging_enabled")
            return cst.Call(func=cst.Name("is_debug_logging_enabled"), lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    def _leftover(self, node: cst.CSTNode) -> None:
        if id(node) in self.consumed:
            return
        reason = self.blocked.get(id(node)) or self.reasons.get(id(node)) or "used directly"
        self.refs.released.discard(getattr(node, "value", ""))
        self.state.report(NAME, self.index, node, f"_global_context {reason}; left as is")


_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def _get_contextvars() -> cst.Call:
    return cst.Call(func=cst.Name("get_contextvars"))


def _single_index(node: cst.Subscript) -> bool:
    return len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)


def _identifier(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        if isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value):
            return value
    return None


def _keyword_args(pairs: Sequence[tuple[cst.BaseExpression, cst.BaseExpression]]) -> list[cst.Arg]:
    """``k=v`` for literal identifier keys, else one ``**{k: v, ...}``."""
    if all(_identifier(key) for key, _ in pairs):
        return [cst.Arg(keyword=cst.Name(_identifier(key) or ""), value=value, equal=_EQUAL) for key, value in pairs]
    return [cst.Arg(star="**", value=cst.Dict([cst.DictElement(key, value) for key, value in pairs]))]


def _update_args_ok(call: cst.Call) -> bool:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return len(positional) <= 1 and not any(a.star == "*" for a in call.args)


def _update_to_bind(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """``dict.update`` arguments as keyword arguments of a function call."""
    result: list[cst.Arg] = []
    for arg in args:
        if arg.keyword is not None or arg.star:
            result.append(arg)
            continue
        value = arg.value
        if isinstance(value, cst.Dict) and all(isinstance(e, cst.DictElement) for e in value.elements):
            pairs = [(e.key, e.value) for e in value.elements]  # type: ignore[union-attr]
            result.extend(_keyword_args(pairs) if pairs else [])
        elif isinstance(value, (cst.List, cst.Tuple, cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            as_dict = cst.Call(func=cst.Name("dict"), args=[cst.Arg(value=value)])
            result.append(arg.with_changes(star="**", value=as_dict))
        else:
            result.append(arg.with_changes(star="**"))
    if result:
        result[-1] = result[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return result


fixer = Fixer(
    name=NAME,
    summary="replace _global_context and the context helpers with ContextVar bindings",
    triggers=triggers,
    fix=fix,
)
