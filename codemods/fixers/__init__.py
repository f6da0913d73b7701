"""The rewrite rules, one per module, in the order they run.

``legacy-file`` (the legacy module itself becomes a stub; when it applies, nothing else runs on
that file), ``dead-flush``, ``global-context``, ``debug-guard``, then ``imports``, which rewrites
every import of the legacy module the others left; the import statements themselves are settled
once, at the end (``codemods._migration.finish``).
"""

from __future__ import annotations

from types import ModuleType

from codemods._engine import Fixer
from codemods.fixers import dead_flush, debug_guard, global_context, imports, legacy_file

_MODULES: tuple[ModuleType, ...] = (legacy_file, dead_flush, global_context, debug_guard, imports)


def _fixer(module: ModuleType) -> Fixer:
    return Fixer(
        name=module.NAME,
        summary=module.SUMMARY,
        triggers=module.triggers,
        fix=module.fix,
        replace_file=getattr(module, "replace_file", None),
    )


FIXERS: dict[str, Fixer] = {fixer.name: fixer for fixer in map(_fixer, _MODULES)}
"""Rule name -> rule, in the order they run."""
