"""django-upgrade style helpers: a literal before/after pair, or a source the rules leave alone."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from codemods.engine import FileInfo, FixResult, Options
from codemods.rewrite import fix_source
from codemods.fixers import FIXERS
from codemods.profile import profile_module_name
from compat.mapping import LEGACY_MODULE


def run(
    src: str,
    *,
    path: str = "app/views.py",
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    module: str = LEGACY_MODULE,
    delete_legacy: bool = False,
    profile_module: str | None = "",
) -> FixResult:
    """Apply the rules (all of them, or ``only``, minus ``skip``) to ``src`` as if it lived at ``path``.

    ``profile_module``: the app's profile module the run found (default: the one written beside a
    readable legacy module ``module``; None: none was found). Runs twice, parsing statements as
    the rules read them and the whole file up front: both must agree.
    """
    if profile_module == "":
        profile_module = profile_module_name(module)
    options = Options(module=module, delete_legacy=delete_legacy, profile_module=profile_module)
    fixers = [f for name, f in FIXERS.items() if (not only or name in only) and name not in skip]
    info = FileInfo.for_path(path, options)
    result = fix_source(src, info, fixers, options)
    whole = fix_source(src, info, fixers, options, lazy=False)
    assert (result.source, result.findings) == (whole.source, whole.findings), "lazy and whole-file parsing differ"
    return result


def check_transformed(src: str, expected: str, **kwargs: object) -> list[str]:
    """``src`` becomes ``expected``, which parses and is left alone by a second run; returns the findings."""
    result = run(src, **kwargs)  # type: ignore[arg-type]
    assert result.source is not None, "expected a change, got none"
    assert result.source == expected
    ast.parse(expected)
    again = run(expected, **kwargs)  # type: ignore[arg-type]
    assert again.source is None, f"a second run changed the output:\n{again.source}"
    return findings(result)


def check_noop(src: str, **kwargs: object) -> list[str]:
    """The rules leave ``src`` as it is; returns the findings."""
    result = run(src, **kwargs)  # type: ignore[arg-type]
    assert result.source is None, f"expected no change, got:\n{result.source}"
    return findings(result)


def findings(result: FixResult) -> list[str]:
    """``line: message`` of each finding."""
    return [f"{f.line}: {f.message}" for f in result.findings]


READABLE_LEGACY = (Path(__file__).resolve().parents[2] / "examples" / "legacy_variants" / "newer_structlog_config.py").read_text(
    encoding="utf-8"
)
"""A complete legacy module (the newer variant, self-contained): the legacy-file rule can read all its couplings."""
