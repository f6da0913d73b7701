"""``render_profile_module``: the configuration module that builds an app's ``ErrorProfile`` from its couplings."""

from __future__ import annotations

import re
import sys
from typing import Any

from codemods.legacy_reader.model import Code, LegacyCouplings, Ref
from codemods.names.placement import member_key
from newlog.error_profile import PayloadShape, Text


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

    def lines(self, first_party: str) -> list[str]:
        """The import lines as isort / ruff lay them out: stdlib, third party, the app's (``first_party``) sections."""
        sections: list[list[tuple[bool, str, str]]] = [[], [], []]
        froms: dict[str, list[str]] = {}
        for local, ref in self.names.items():
            if not ref.name and "." not in ref.module:
                line = f"import {ref.module}" if local == ref.module else f"import {ref.module} as {local}"
                sections[_section(ref.module, first_party)].append((False, ref.module, line))
                continue
            module, name = (ref.module.rpartition(".")[0], ref.module.rpartition(".")[2]) if not ref.name else (
                ref.module,
                ref.name,
            )
            froms.setdefault(module, []).append(name if local == name else f"{name} as {local}")
        for module, names in froms.items():
            line = f"from {module} import {', '.join(sorted(names, key=member_key))}"
            sections[_section(module, first_party)].append((True, module, line))
        blocks = ["\n".join(line for _, _, line in sorted(section)) for section in sections if section]
        return "\n\n".join(blocks).split("\n")


def _section(module: str, first_party: str) -> int:
    top = module.partition(".")[0]
    if top == first_party:
        return 2
    return 0 if top in sys.stdlib_module_names else 1


def render_profile_module(couplings: LegacyCouplings) -> str:
    """Return the source of a configuration module that builds ``PROFILE`` (an ``ErrorProfile``) from ``couplings``.

    The module also defines ``DISPLAY_NAME`` (the hard-coded display name, or None) and
    ``IDENTITY`` (key -> a literal or a zero-argument function) with ``REQUEST_ONLY`` (the
    identity keys set only inside a request), and ``ENUMS`` (legacy name -> the app's own
    ``ErrorCategory`` / ``ErrorSeverity``) when the legacy module imported them from the app. Findings are listed in its docstring; a
    piece that could not be read is left to newlog's default there, so the caller must
    report ``couplings.findings`` (the codemod does). Raises ValueError when the rules or
    the payload shape could not be read at all: no profile can be built then.
    """
    if not couplings.rules or couplings.payload is None:
        problems = "\n".join(f"  {finding}" for finding in couplings.findings) or "  (no findings)"
        raise ValueError(
            f"cannot build an error profile from {couplings.path}: "
            f"its rules or payload shape are unreadable:\n{problems}"
        )
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
                f"outcome=Outcome({value(o.status_code)}, {value(o.category)}, {value(o.severity)}, "
                f"{o.message_key!r}, {value(o.message)}, {o.recoverable!r})"
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
        + "".join(
            f"        {value(category)}: ({''.join(value(text) + ', ' for text in texts).rstrip()}),\n"
            for category, texts in couplings.suggestions
        )
        + "    },",
        f"    default_suggestions=({''.join(value(text) + ', ' for text in couplings.default_suggestions).rstrip()}),",
        f"    http_default_code={couplings.http_default_code!r},",
    ]
    if couplings.teardown_message is not None:
        arguments.append(f"    teardown_message={couplings.teardown_message!r},")
    if not couplings.stdout:
        arguments.append("    stdout=False,  # structlog's stdlib LoggerFactory: events went to stdlib logging only")
    if couplings.user_context is not None:
        arguments.append(f"    user_context={couplings.user_context!r},")
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
            if rule.fallback is not None:
                functions.append(code(rule.fallback, f"_{key}_outside_app", ""))
                functions.append(code(rule.code, f"_{key}_in_app", ""))
                functions.append(
                    f"def identity_{key}():\n"
                    f"    try:\n        return _{key}_in_app()\n"
                    f"    except RuntimeError:  # outside an app context\n        return _{key}_outside_app()\n"
                )
            else:
                functions.append(code(rule.code, f"identity_{key}", ""))
            identity.append(f"    {key!r}: identity_{key},")
    findings = "".join(f"\n    {finding}" for finding in couplings.findings) or " none"
    header = [
        f'"""The error profile of {couplings.module} ({couplings.variant or "unknown"} variant),',
        f"read from {couplings.path}.",
        "",
        "Written by codemods.legacy_reader: with ``newlog.error_adapter.use_error_profile(PROFILE)``",
        "newlog answers errors the way this legacy module did. Findings:" + findings,
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    body = "\n".join(arguments)
    parts = [
        f"DISPLAY_NAME = {couplings.display_name!r}",
        "",
        *["\n" + definition + "\n" for definition in helpers.values()],
        *["\n" + function for function in functions],
        "",
        "PROFILE = ErrorProfile(\n" + body + "\n)",
        "",
        "IDENTITY = {\n" + "\n".join(identity) + "\n}",
        f"REQUEST_ONLY = frozenset({sorted(key for key, rule in couplings.identity.items() if rule.request_only)!r})",
        "",
    ]
    enums = [
        f"    {name!r}: {value(ref)},"
        for name, ref in (("ErrorCategory", couplings.category_enum), ("ErrorSeverity", couplings.severity_enum))
        if ref is not None and ref.module != couplings.module  # the legacy module's own enums go with it
    ]
    if enums:
        parts += ["ENUMS = {", *enums, "}", ""]
    text = "\n".join(parts)
    for name in ("ErrorProfile", "Outcome", "PayloadShape", "Rule", "Text"):
        if re.search(rf"\b{name}\b", text):
            imports.use(name, Ref("newlog.error_profile", name))
    return "\n".join(header + imports.lines(couplings.module.partition(".")[0]) + ["", ""]) + text


def _text(text: Text) -> str:
    constants = {
        "description": "Text.DESCRIPTION",
        "description_or_name": "Text.DESCRIPTION_OR_NAME",
        "error": "Text.ERROR",
    }
    if text.kind in constants:
        return constants[text.kind]
    return f"Text.{text.kind}({text.value!r})"


def _shape(shape: PayloadShape) -> str:
    return f"PayloadShape(keys={shape.keys!r}, context={shape.context!r}, meta={shape.meta!r}, extra={shape.extra!r})"
