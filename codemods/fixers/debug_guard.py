"""Rule ``debug-guard``: keep ``if should_log_debug():`` guards working, importing them from newlog.

Why: in the legacy module ``should_log_debug()`` was dead (always ``False`` in the newer
variant, ignored by the processors in the older one); ``newlog.should_log_debug()`` returns the
live switch, so the guards keep their meaning and start working. This rule never deletes user
code: it moves ``should_log_debug`` / ``log_debug`` / ``set_debug_logging_enabled`` /
``is_debug_logging_enabled`` (module attribute uses too) to newlog.

The one simplification it makes, only where equivalence is proven::

    if should_log_debug():            ->    log_debug("Cache warmed", module="cache")
        log_debug("Cache warmed", module="cache")

It applies when the ``if`` has no ``elif``/``else`` and no comment, its test is exactly a call of
the legacy ``should_log_debug()`` and its body exactly one call of the legacy ``log_debug`` whose
arguments are all literal constants (strings without interpolation, numbers, ``True``/``False``/
``None``). Then evaluating the arguments has no effect, and ``newlog.log_debug`` does nothing
unless ``newlog.should_log_debug()`` is true (it starts with that same test: ``tests/codemods/
test_debug_guard.py`` checks this premise), so both forms do the same thing. Every other guard
is left as it is: its arguments may be costly or have side effects that the guard avoids.
"""

from __future__ import annotations

import functools

import libcst as cst

from codemods.engine import FileState, Fixer, Options, Pruned, word_pattern
from codemods.names.statements import has_comments
from codemods.names.legacy import Uses, collect, find_module_uses, find_uses
from codemods.names.plan import migrate_names

NAME = "debug-guard"

DEBUG_NAMES = frozenset({"should_log_debug", "log_debug", "set_debug_logging_enabled", "is_debug_logging_enabled"})
"""The legacy names this rule moves to newlog."""


def triggers(options: Options) -> tuple[str, ...]:
    """The words without which a file cannot need this rule."""
    return (options.module_last,)


def fix(state: FileState) -> None:
    """Apply the rule to one parsed file."""
    pattern = word_pattern(["should_log_debug"])
    hot = state.hot(pattern)
    if hot:
        refs = _refs(state)
        if refs is not None:
            transformer = _Simplifier(refs)
            state.transform(hot, transformer, pattern)
            state.counts[NAME] += transformer.edits
            if transformer.edits:
                for local in refs.guard_locals:
                    state.release(local)
    migrate_names(state, NAME, DEBUG_NAMES.__contains__)


class _Refs:
    def __init__(self) -> None:
        self.guard: list[Uses] = []
        self.log: list[Uses] = []
        self.modules: list[Uses] = []
        self.guard_locals: set[str] = set()

    def means(self, node: cst.BaseExpression, name: str) -> bool:
        if isinstance(node, cst.Name):
            return any(node in uses for uses in (self.guard if name == "should_log_debug" else self.log))
        if isinstance(node, cst.Attribute) and node.attr.value == name:
            return any(node.value in uses for uses in self.modules)
        return False


def _refs(state: FileState) -> _Refs | None:
    refs = _Refs()
    found = collect(state)
    for name, target in (("should_log_debug", refs.guard), ("log_debug", refs.log)):
        bindings = [b for b in found.names if b.name == name and b.alias.asname is None]
        if bindings:
            uses = find_uses(state, name, [b.node for b in bindings], "(.[")
            if uses is not None:
                target.append(uses)
                if name == "should_log_debug":
                    refs.guard_locals.add(name)
    for key in {b.chain or b.local for b in found.modules}:
        nodes = [b.node for b in found.modules if (b.chain or b.local) == key]
        uses = find_module_uses(state, key, nodes)
        if uses is not None:
            refs.modules.append(uses)
    return refs if (refs.guard and refs.log) or refs.modules else None


def _literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
        return not (isinstance(node, cst.SimpleString) and "f" in node.prefix.lower())
    if isinstance(node, cst.ConcatenatedString):
        return _literal(node.left) and _literal(node.right)
    if isinstance(node, cst.Name):
        return node.value in {"True", "False", "None"}
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        return _literal(node.expression)
    return False


class _Simplifier(Pruned, cst.CSTTransformer):
    def __init__(self, refs: _Refs) -> None:
        self.refs = refs
        self.edits = 0
        self.changed = False
        self.index = 0

    def leave_If(self, original_node: cst.If, updated_node: cst.If):  # type: ignore[no-untyped-def]
        if not _matches_guard(original_node) or has_comments(original_node.body):
            return updated_node
        test = original_node.test
        call = original_node.body.body[0].body[0].value  # type: ignore[attr-defined,union-attr]
        if not (self.refs.means(test.func, "should_log_debug") and self.refs.means(call.func, "log_debug")):  # type: ignore[attr-defined]
            return updated_node
        if any(arg.star or not _literal(arg.value) for arg in call.args):
            return updated_node
        self.edits += 1
        self.changed = True
        inner = updated_node.body.body[0]  # type: ignore[union-attr]
        return inner.with_changes(leading_lines=updated_node.leading_lines)


@functools.cache
def _guard() -> object:
    """``if f():`` with one call statement as its whole body and no ``elif``/``else``."""
    # libcst.matchers costs as much CPU to import as the rest of libcst (about 0.4 s): only runs
    # that meet a debug guard pay for it (the first output of a run waits for the workers' imports)
    import libcst.matchers as m  # noqa: PLC0415

    return m.If(
        test=m.Call(args=[]),
        body=m.IndentedBlock(body=[m.SimpleStatementLine(body=[m.Expr(value=m.Call())])]),
        orelse=None,
    )


def _matches_guard(node: cst.If) -> bool:
    import libcst.matchers as m  # noqa: PLC0415  (see _guard)

    return m.matches(node, _guard())  # type: ignore[arg-type]


fixer = Fixer(
    name=NAME,
    summary="import the debug guard from newlog; drop provably redundant guards",
    triggers=triggers,
    fix=fix,
)
