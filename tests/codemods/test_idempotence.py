"""Generated files: the rewrite always parses, a second run changes nothing, and what is left is reported."""

from __future__ import annotations

import ast
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.codemods._helpers import findings, run

PATH = "app/utils/mod.py"
"""Where the generated files live: both ``.structlog_config`` and ``..utils.structlog_config`` resolve."""

FUNCTIONS = [
    "log_info",
    "log_error",
    "get_api_logger",
    "configure_structlog",
    "get_context",
    "bind_context",
    "with_log_context",
    "should_log_debug",
    "log_debug",
    "error_handler",
]
OTHER_NAMES = ["structlog_config", "StructlogConfig", "LogContext", "_global_context", "ErrorCategory", "UnifiedLog"]
MODULE_FORMS = {
    "import app.utils.structlog_config as slc": "slc",
    "from app.utils import structlog_config": "structlog_config",
    "from . import structlog_config as logmod": "logmod",
    "import app.utils.structlog_config": "app.utils.structlog_config",
}
FROM_MODULES = ["app.utils.structlog_config", ".structlog_config", "..utils.structlog_config"]


def _indent(lines: list[str], prefix: str = "    ") -> list[str]:
    return [prefix + line if line else line for line in lines]


@st.composite
def imports(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    """An import statement (maybe wrapped) and the references it makes available: (legacy name, expression)."""
    kind = draw(st.sampled_from(["from", "from", "paren", "module", "star"]))
    refs: list[tuple[str, str]] = []
    if kind == "module":
        statement, prefix = draw(st.sampled_from(sorted(MODULE_FORMS.items())))
        lines = [statement]
        for name in draw(st.lists(st.sampled_from(FUNCTIONS + OTHER_NAMES), min_size=1, max_size=3)):
            refs.append((name, f"{prefix}.{name}"))
    elif kind == "star":
        lines = ["from app.utils.structlog_config import *  # noqa: F403"]
        refs = [(name, name) for name in draw(st.lists(st.sampled_from(FUNCTIONS), min_size=1, max_size=3))]
    else:
        names = draw(st.lists(st.sampled_from(FUNCTIONS + OTHER_NAMES), min_size=1, max_size=4, unique=True))
        aliased = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
        parts = []
        for name, alias in zip(names, aliased):
            local = f"{name}_alias" if alias else name
            parts.append(f"{name} as {local}" if alias else name)
            refs.append((name, local))
        module = draw(st.sampled_from(FROM_MODULES))
        if kind == "paren":
            lines = [f"from {module} import (  # legacy", *[f"    {part}," for part in parts], ")"]
        else:
            lines = [f"from {module} import {', '.join(parts)}"]
    wrapper = draw(st.sampled_from(["top", "top", "try", "if"]))
    if wrapper == "try":
        lines = ["try:", *_indent(lines), "except ImportError:  # fallback", "    pass"]
    elif wrapper == "if":
        lines = ["if TYPE_CHECKING:", *_indent(lines)]
    return lines, refs


def _use(name: str, expr: str, draw: st.DrawFn) -> list[str]:
    if name == "_global_context":
        return [
            draw(
                st.sampled_from(
                    [
                        f"{expr}['key'] = value",
                        f"{expr}.update(a=1)",
                        f"snapshot = {expr}.copy()",
                        f"{expr}.pop('key', None)",
                        f"found = 'key' in {expr}",
                        f"render({expr})",
                    ]
                )
            )
        ]
    if name in {"structlog_config", "StructlogConfig"}:
        return [f"{expr}.configure(app)"]
    if name in {"LogContext", "with_log_context"}:
        return [f"with {expr}(request='r1'):", "    pass"]
    if name == "should_log_debug":
        return [f"if {expr}():", "    log_debug('literal message', attempt=1)"]
    return [f"result = {expr}('message', module='m')"]


@st.composite
def programs(draw: st.DrawFn) -> str:
    lines = ["from __future__ import annotations", ""]
    refs: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(1, 3))):
        import_lines, import_refs = draw(imports())
        lines += import_lines
        refs += import_refs
    lines.append("")
    top_level = draw(st.lists(st.sampled_from(refs), max_size=2))
    for name, expr in top_level:
        lines += _use(name, expr, draw)
    lines += ["", "", "def view(app, value, render):"]
    body: list[str] = []
    if draw(st.booleans()):
        nested, nested_refs = draw(imports().filter(lambda drawn: not any("*" in line for line in drawn[0])))
        body += nested
        refs = refs + nested_refs
    for name, expr in draw(st.lists(st.sampled_from(refs), min_size=1, max_size=4)):
        body += _use(name, expr, draw)
    if draw(st.booleans()):
        body.append("patcher = mock.patch('app.utils.structlog_config.log_info')")
    lines += _indent(body) + ["    return None", ""]
    if draw(st.booleans()):
        lines += ["", "def shadow(log_info, slc):", "    log_info('local')", "    slc.log_info('local')", ""]
    return "\n".join(lines)


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
@example(  # lazy and whole-file parsing once named different lines for the nested import's finding
    "from __future__ import annotations\n\nfrom app.utils.structlog_config import log_info, log_error\n\n\n\n"
    "def view(app, value, render):\n"
    "    from app.utils.structlog_config import UnifiedLog, log_info, should_log_debug, with_log_context\n"
    "    with with_log_context(request='r1'):\n        pass\n    return None\n"
)
def test_rewrite_parses_is_stable_and_reports_what_it_leaves(source: str) -> None:
    ast.parse(source)
    first = run(source, path=PATH)
    output = first.source if first.source is not None else source
    ast.parse(output)
    second = run(output, path=PATH)
    assert second.source is None, f"second run changed:\n{output}\n---\n{second.source}"
    if _imports_legacy(output):
        assert findings(first), f"legacy import left without a finding:\n{output}"
    lines = source.splitlines()
    for finding in first.findings:  # a finding about a name points at a line of the original that holds it
        named = re.match(r"'(\w+)'", finding.message)
        assert named is None or named.group(1) in lines[finding.line - 1], f"{finding}\n{source}"


def _imports_legacy(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.endswith("structlog_config") or any(a.name == "structlog_config" for a in node.names):
                return True
        if isinstance(node, ast.Import) and any(a.name.endswith("structlog_config") for a in node.names):
            return True
    return False
