"""The rewrite rules, one per module, each declaring ``fixer = Fixer(...)``, in the order they run.

``legacy-file`` (the legacy module itself becomes a stub; when it applies, nothing else runs on
that file), ``dead-flush``, ``global-context``, ``debug-guard``, then ``imports``, which rewrites
every import of the legacy module the others left; the import statements themselves are settled
once, at the end (``codemods.names.plan.finish``).

``RULES`` names them (rule ``dead-flush`` lives in ``fixers/dead_flush.py``); ``FIXERS`` loads
them on first use, so the command line's parent process validates rule names without importing
libcst (the rules are imported by the worker processes that run them).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemods.model import Fixer

RULES: tuple[str, ...] = ("legacy-file", "dead-flush", "global-context", "debug-guard", "imports")
"""Rule names, in the order they run."""


@cache
def load() -> dict[str, Fixer]:
    """Rule name -> rule, in the order they run (imports the rule modules)."""
    fixers = {}
    for name in RULES:
        fixer = importlib.import_module(f"codemods.fixers.{name.replace('-', '_')}").fixer
        if fixer.name != name:
            raise RuntimeError(
                f"codemods/fixers/{name.replace('-', '_')}.py declares rule {fixer.name!r}, not {name!r}"
            )
        fixers[name] = fixer
    return fixers


def __getattr__(attribute: str) -> object:
    if attribute == "FIXERS":
        return load()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
