"""The legacy-API program adapts to the legacy copy it finds: names present, keywords accepted, actions skipped."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from compat.characterize.program import ACTIONS, AdaptedApi, Variant, available_actions, select_actions


def older_copy() -> tuple[SimpleNamespace, list[tuple[str, tuple[Any, ...], dict[str, Any]]]]:
    """A legacy copy whose enhanced_error_handler takes no extra= and whose debug switch takes its flag positionally."""
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def enhanced_error_handler(error: Exception, context: Any = None) -> dict[str, Any]:
        calls.append(("enhanced_error_handler", (error, context), {}))
        return {"error": True}

    def set_debug_logging_enabled(flag: bool) -> None:
        calls.append(("set_debug_logging_enabled", (flag,), {}))

    def log_error(message: str, module: str = "app", **kwargs: Any) -> None:
        calls.append(("log_error", (message,), {"module": module, **kwargs}))

    return SimpleNamespace(
        enhanced_error_handler=enhanced_error_handler, set_debug_logging_enabled=set_debug_logging_enabled, log_error=log_error
    ), calls


def test_the_variant_lists_the_keywords_each_function_accepts() -> None:
    module, _ = older_copy()

    assert Variant.of(module).keywords == {
        "enhanced_error_handler": {"extra": False},
        "log_error": {"exception": True},
        "set_debug_logging_enabled": {"enabled": False},
    }


def test_calls_leave_out_what_the_variant_does_not_accept() -> None:
    module, calls = older_copy()
    api = AdaptedApi(module, Variant.of(module))
    error = ValueError("x")

    api.enhanced_error_handler(error, extra={"job": "nightly"})
    api.set_debug_logging_enabled(enabled=True)
    api.log_error("failed", module="jobs", exception=error)

    assert calls == [
        ("enhanced_error_handler", (error, None), {}),
        ("set_debug_logging_enabled", (True,), {}),
        ("log_error", ("failed",), {"module": "jobs", "exception": error}),
    ]


def test_the_recorded_variant_is_replayed_whatever_the_module_after_accepts() -> None:
    module, calls = older_copy()
    replayed = AdaptedApi(module, Variant({"enhanced_error_handler": {"extra": True}}))

    with pytest.raises(TypeError, match="extra"):
        replayed.enhanced_error_handler(ValueError("x"), extra={"job": "nightly"})


def test_actions_need_the_names_the_module_has() -> None:
    module, _ = older_copy()

    assert available_actions(module) == [action.name for action in ACTIONS if not action.needs]


def test_skip_takes_names_and_globs_and_refuses_a_pattern_matching_nothing() -> None:
    module, _ = older_copy()

    run, skipped = select_actions(module, ["enhanced_error_handler/*", "log_levels"])

    assert "log_levels" in skipped and "enhanced_error_handler/http_404" in skipped
    assert not set(run) & set(skipped) and "named_loggers" in run
    with pytest.raises(ValueError, match="--skip 'enhanced_eror_handler/\\*' matches no action; the actions are: log_levels, "):
        select_actions(module, ["enhanced_eror_handler/*"])
