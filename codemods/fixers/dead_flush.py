"""Rule ``dead-flush``: remove the legacy handler's dead queue/thread machinery, rename the handler class.

Why: the legacy ``SQLAlchemyLogHandler`` starts a daemon thread that polls a queue nothing
ever feeds (``__call__`` commits synchronously instead), so ``_process_logs`` / ``_flush_logs``,
the thread, ``log_queue``, ``batch_buffer`` and ``last_flush`` are dead code that only costs a
thread per process. newlog's ``DatabaseLogHandler`` replaces the class.

What it rewrites, in any class that carries that machinery (the legacy file, when the
legacy-file rule is excluded, or a copy of it anywhere: a class with ``_process_logs`` /
``_flush_logs`` methods, or with both ``self.log_queue`` and ``self.batch_buffer``) and whose
queue nothing feeds - a class that calls ``self.log_queue.put(...)`` (or appends to
``self.batch_buffer``) outside those methods has a live pipeline: it is reported and left alone:

- removes the ``_process_logs`` / ``_flush_logs`` methods and every call to them;
- removes the thread whose target is one of them (``self._t = threading.Thread(target=self._process_logs, ...)``,
  also started inline), with its ``.start()``, ``.join()``, ``.daemon = ...``;
- removes the ``log_queue`` / ``batch_buffer`` / ``last_flush`` state: assignments, calls on it,
  and ``if`` statements guarded by it whose body held nothing else (``if self.batch_buffer:
  self._flush_logs()``); an ``if`` whose test has side effects keeps its test with ``pass``;
- renames the class ``SQLAlchemyLogHandler`` -> ``DatabaseLogHandler`` (the class and the
  references in the file, found with scope analysis) and keeps ``SQLAlchemyLogHandler =
  DatabaseLogHandler`` after it, so code importing the old name from this file still works;
- drops ``threading`` / ``time`` / ``Queue`` / ``Empty`` imports nothing uses any more.

It never leaves a block empty (``pass``, or the docstring when there is one) and keeps the
constructor's signature and other attributes (``batch_size``, ``flush_interval``, ``_lock``).
A remaining use of the removed state (e.g. ``return len(self.batch_buffer)``) is reported and left.
"""

from __future__ import annotations

import functools

import libcst as cst
from libcst.metadata import GlobalScope

from codemods.engine import FileState, Fixer, Options, word_pattern

NAME = "dead-flush"

DEAD_METHODS = frozenset({"_process_logs", "_flush_logs"})
DEAD_STATE = frozenset({"log_queue", "batch_buffer", "last_flush"})
OLD_CLASS = "SQLAlchemyLogHandler"
NEW_CLASS = "DatabaseLogHandler"
_MAYBE_UNUSED = ("threading", "time", "Queue", "Empty")
_REMOVED = "the removed queue/thread state"


def triggers(options: Options) -> tuple[str, ...]:
    """The words without which a file cannot need this rule."""
    return ("_process_logs", "_flush_logs", "log_queue", "batch_buffer")


def fix(state: FileState) -> None:
    """Apply the rule to one parsed file."""
    indices = []
    for i in state.hot(word_pattern([*DEAD_METHODS, *DEAD_STATE])):
        node = state.body[i]
        if not isinstance(node, cst.ClassDef):
            continue
        finder = _MachineryFinder()
        node.visit(finder)
        if finder.fed is not None:
            message = "the legacy queue is fed here, so its thread is not dead code; the class is left as is"
            state.report(NAME, i, finder.fed, message)
        elif finder.methods or finder.attributes >= {"log_queue", "batch_buffer"}:
            indices.append(i)
    if not indices:
        return
    renamed = any(state.body[i].name.value == OLD_CLASS for i in indices)  # type: ignore[attr-defined]
    transformer = _Transformer(state)
    state.transform(indices, transformer)
    state.counts[NAME] += transformer.edits
    for name in _MAYBE_UNUSED:
        state.release(name)
    if renamed:
        _rename_references(state)


class _MachineryFinder(cst.CSTVisitor):
    """What of the legacy machinery a class has, and whether anything feeds its queue (then it is alive)."""

    def __init__(self) -> None:
        self.methods: set[str] = set()
        self.attributes: set[str] = set()
        self.fed: cst.CSTNode | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node.name.value in DEAD_METHODS:
            self.methods.add(node.name.value)
            return False
        return True

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        attribute = _self_attr(node.target)
        if attribute in DEAD_STATE:
            self.attributes.add(attribute)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in {"put", "put_nowait", "append", "extend"}
            and _self_attr(func.value) in {"log_queue", "batch_buffer"}
            and self.fed is None
        ):
            self.fed = node


@functools.cache
def _matchers() -> tuple[object, object]:
    """``self.X``, and ``[threading.]Thread(..., target=self._process_logs / self._flush_logs, ...)``."""
    # imported on first use: libcst.matchers costs as much CPU to import as the rest of libcst
    # (about 0.4 s), and only files that carry the legacy handler's machinery need it
    import libcst.matchers as m  # noqa: PLC0415

    self_attribute = m.Attribute(value=m.Name("self"))
    dead_thread = m.Call(
        func=m.Name("Thread") | m.Attribute(attr=m.Name("Thread")),
        args=[
            m.ZeroOrMore(),
            m.Arg(
                keyword=m.Name("target"),
                value=m.Attribute(value=m.Name("self"), attr=m.OneOf(*(m.Name(name) for name in sorted(DEAD_METHODS)))),
            ),
            m.ZeroOrMore(),
        ],
    )
    return self_attribute, dead_thread


def _self_attr(node: cst.CSTNode) -> str | None:
    """``X`` for ``self.X``."""
    import libcst.matchers as m  # noqa: PLC0415  (see _matchers)

    return node.attr.value if m.matches(node, _matchers()[0]) else None  # type: ignore[attr-defined,arg-type]


def _thread_target(call: cst.BaseExpression) -> bool:
    """Whether ``call`` starts a thread on one of the dead methods."""
    import libcst.matchers as m  # noqa: PLC0415  (see _matchers)

    return m.matches(call, _matchers()[1])  # type: ignore[arg-type]


class _DeadRefs(cst.CSTVisitor):
    """Finds references to the dead state (or the dead methods) inside an expression."""

    def __init__(self, dead: set[str]) -> None:
        self.dead = dead
        self.found = False
        self.side_effects = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if _self_attr(node) in self.dead:
            self.found = True

    def visit_Call(self, node: cst.Call) -> None:
        root = node.func
        while isinstance(root, cst.Attribute):
            if _self_attr(root) in self.dead:
                return
            root = root.value
        if not (isinstance(node.func, cst.Name) and node.func.value in {"len", "bool"}):
            self.side_effects = True


def _refs(node: cst.CSTNode, dead: set[str]) -> _DeadRefs:
    finder = _DeadRefs(dead)
    node.visit(finder)
    return finder


class _Transformer(cst.CSTTransformer):
    def __init__(self, state: FileState) -> None:
        self.state = state
        self.classes: list[set[str]] = []
        self.edits = 0
        self.changed = False
        self.index = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        dead = set(DEAD_STATE) | set(DEAD_METHODS)
        for stmt in node.body.body:
            if isinstance(stmt, cst.FunctionDef):
                dead |= _thread_attrs(stmt)
        self.classes.append(dead)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef):  # type: ignore[no-untyped-def]
        self.classes.pop()
        if self.classes or original_node.name.value != OLD_CLASS:
            return updated_node
        self._edit()
        renamed = _filled(updated_node.with_changes(name=cst.Name(NEW_CLASS)))
        alias = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(OLD_CLASS))], value=cst.Name(NEW_CLASS))],
            trailing_whitespace=cst.TrailingWhitespace(
                whitespace=cst.SimpleWhitespace("  "),
                comment=cst.Comment("# the legacy name, for code that imports it from here"),
            ),
            leading_lines=[cst.EmptyLine(indent=False), cst.EmptyLine(indent=False)],
        )
        return cst.FlattenSentinel([renamed, alias])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return not (self.classes and node.name.value in DEAD_METHODS)

    def leave_FunctionDef(  # type: ignore[no-untyped-def]
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ):
        if self.classes and original_node.name.value in DEAD_METHODS:
            self._edit()
            return cst.RemovalSentinel.REMOVE
        return _filled(updated_node)

    def leave_SimpleStatementLine(  # type: ignore[no-untyped-def]
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ):
        if not self.classes:
            return updated_node
        dead = self.classes[-1]
        kept = [small for small in updated_node.body if not _is_dead(small, dead)]
        if len(kept) == len(updated_node.body):
            for small in kept:
                if _refs(small, dead).found:
                    self.state.report(NAME, self.index, original_node, f"still uses {_REMOVED}; left as is")
            return updated_node
        self._edit()
        if not kept:
            return cst.RemovalSentinel.REMOVE
        kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(body=kept)

    def leave_If(self, original_node: cst.If, updated_node: cst.If):  # type: ignore[no-untyped-def]
        if not self.classes:
            return updated_node
        body = updated_node.body
        empty = isinstance(body, cst.IndentedBlock) and not body.body
        refs = _refs(original_node.test, self.classes[-1])
        if empty and updated_node.orelse is None and not refs.side_effects:
            self._edit()
            return cst.RemovalSentinel.REMOVE
        if refs.found:
            self.state.report(NAME, self.index, original_node.test, f"test still uses {_REMOVED}; left as is")
        return _filled(updated_node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[no-untyped-def,override]
        result = super().on_leave(original_node, updated_node)
        if isinstance(result, cst.CSTNode) and not isinstance(result, (cst.If, cst.FunctionDef)):
            return _filled(result)
        return result

    def _edit(self) -> None:
        self.edits += 1
        self.changed = True


def _filled(node: cst.CSTNode) -> cst.CSTNode:
    """``node`` with an empty indented body given a ``pass``."""
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock) and not body.body:
        return node.with_changes(body=body.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])]))
    return node


def _thread_attrs(method: cst.FunctionDef) -> set[str]:
    """Attributes a method stores a dead-method thread in (``self._thread = Thread(target=self._process_logs)``)."""
    found: set[str] = set()

    class _Finder(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if _thread_target(node.value):
                for target in node.targets:
                    attr = _self_attr(target.target)
                    if attr is not None:
                        found.add(attr)

    method.visit(_Finder())
    return found


def _is_dead(small: cst.BaseSmallStatement, dead: set[str]) -> bool:
    """A statement that only feeds, starts, stops or stores the dead machinery."""
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        if _thread_target(call):
            return True
        func = call.func
        if isinstance(func, cst.Attribute) and _thread_target(func.value):
            return True
        root = func
        while isinstance(root, cst.Attribute):
            if _self_attr(root) in dead:
                return True
            root = root.value
        return False
    if isinstance(small, cst.Assign):
        return all(_stores_dead(target.target, dead) for target in small.targets)
    if isinstance(small, (cst.AugAssign, cst.AnnAssign)):
        return _stores_dead(small.target, dead)
    return False


def _stores_dead(target: cst.BaseExpression, dead: set[str]) -> bool:
    node = target
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if _self_attr(node) in dead:
            return True
        node = node.value
    return False


def _rename_references(state: FileState) -> None:
    """Rename the module-level references to the legacy class name (the compatibility alias aside)."""
    scopes = state.scopes(word_pattern([OLD_CLASS]))
    module_scope = next((scope for scope in scopes.values() if isinstance(scope, GlobalScope)), None)
    if module_scope is None:
        return
    ids = set()
    for assignment in module_scope.assignments[OLD_CLASS]:
        for access in assignment.references:
            if isinstance(access.node, cst.Name):
                ids.add(id(access.node))
    if not ids:
        return
    renamer = _Renamer(ids)
    state.transform(state.hot(word_pattern([OLD_CLASS])), renamer)
    state.counts[NAME] += renamer.edits


class _Renamer(cst.CSTTransformer):
    def __init__(self, ids: set[int]) -> None:
        self.ids = ids
        self.edits = 0
        self.changed = False
        self.index = 0

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if id(original_node) not in self.ids:
            return updated_node
        self.edits += 1
        self.changed = True
        return updated_node.with_changes(value=NEW_CLASS)


fixer = Fixer(
    name=NAME,
    summary="remove the legacy handler's dead queue/thread, rename SQLAlchemyLogHandler",
    triggers=triggers,
    fix=fix,
)
