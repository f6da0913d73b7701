"""API deltas: the legacy module's own objects (decorated functions, constants, warnings)."""

from __future__ import annotations

from typing import Any

from compat.characterize.compare import StepPair
from compat.characterize.deltas import delta


@delta(
    "str-enum-constants",
    "ErrorCategory / ErrorSeverity constants are newlog's StrEnum members where the legacy module had "
    "plain strings: each equals its legacy string (==, hash, str(), f-strings and JSON give the same), and "
    "the enum may hold more members (BUSINESS, SECURITY, EXTERNAL); a plain Enum member (not equal to its "
    "value) is never reconciled",
)
def str_enum_constants(pair: StepPair) -> int:
    count = 0

    def walk(legacy: Any, target: Any) -> Any:
        nonlocal count
        if isinstance(target, dict) and target.get("equals_value") is True and "enum" in target:
            if isinstance(legacy, (str, int)) and not isinstance(legacy, bool) and target.get("value") == legacy:
                count += 1
                return legacy
        if isinstance(legacy, dict) and isinstance(target, dict):
            for key in set(legacy) & set(target):
                target[key] = walk(legacy[key], target[key])
        if isinstance(legacy, list) and isinstance(target, list) and len(legacy) == len(target):
            target[:] = [walk(a, b) for a, b in zip(legacy, target)]
        return target

    pair.target["result"] = walk(pair.legacy.get("result"), pair.target.get("result"))
    return count + _constants_became_enums(pair)


def _constants_became_enums(pair: StepPair) -> int:
    """A plain class of string constants became a StrEnum holding (at least) the same constants."""
    legacy, target = pair.legacy.get("result"), pair.target.get("result")
    if not (isinstance(legacy, dict) and isinstance(target, dict)):
        return 0
    legacy_kinds, target_kinds = legacy.get("enum_classes"), target.get("enum_classes")
    if not (isinstance(legacy_kinds, dict) and isinstance(target_kinds, dict)):
        return 0
    count = 0
    for holder, members in (("ErrorCategory", "categories"), ("ErrorSeverity", "severities")):
        old, new = legacy.get(members), target.get(members)
        if legacy_kinds.get(holder) is not False or target_kinds.get(holder) is not True:
            continue
        if not (isinstance(old, dict) and isinstance(new, dict) and set(old) <= set(new)):
            continue
        if any(new[name] != old[name] for name in old):  # not all reconciled as equal strings
            continue
        for name in set(new) - set(old):
            if isinstance(new[name], dict) and new[name].get("equals_value") is True:
                del new[name]
                count += 1
        if set(new) == set(old):
            target_kinds[holder] = False
            count += 1
    return count

@delta(
    "with-log-context-keeps-name",
    "with_log_context keeps the decorated function's name (functools.wraps); legacy returned 'wrapper', "
    "which broke Flask endpoint names",
)
def with_log_context_keeps_name(pair: StepPair) -> int:
    legacy_result, target_result = pair.legacy.get("result"), pair.target.get("result")
    if isinstance(legacy_result, dict) and isinstance(target_result, dict):
        name = target_result.get("function_name")
        if legacy_result.get("function_name") == "wrapper" and isinstance(name, str) and name.isidentifier() and name != "wrapper":
            legacy_result["function_name"] = name
            return 1
    return 0


@delta(
    "deprecation-warnings",
    "the old import path, and writes to _global_context, emit DeprecationWarnings naming the newlog "
    "import",
)
def deprecation_warnings(pair: StepPair) -> int:
    legacy_warnings = set(pair.legacy.get("warnings", []))
    before = len(pair.target.get("warnings", []))
    pair.target["warnings"] = [
        text
        for text in pair.target.get("warnings", [])
        if text in legacy_warnings or not (text.startswith("DeprecationWarning: ") and "newlog" in text)
    ]
    return before - len(pair.target["warnings"])

