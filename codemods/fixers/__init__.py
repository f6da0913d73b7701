"""The rewrite rules, one per module, each declaring ``fixer = Fixer(...)``, in the order they run.

``legacy-file`` (the legacy module itself becomes a stub; when it applies, nothing else runs on
that file), ``dead-flush``, ``global-context``, ``debug-guard``, then ``imports``, which rewrites
every import of the legacy module the others left; the import statements themselves are settled
once, at the end (``codemods.names.plan.finish``).
"""

from __future__ import annotations

from codemods.engine import Fixer
from codemods.fixers import dead_flush, debug_guard, global_context, imports, legacy_file

FIXERS: dict[str, Fixer] = {
    module.fixer.name: module.fixer for module in (legacy_file, dead_flush, global_context, debug_guard, imports)
}
"""Rule name -> rule, in the order they run."""
