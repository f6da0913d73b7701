"""Rule ``imports``: import ``newlog`` instead of the legacy module, name by name from ``compat.mapping``.

Why: the legacy module is replaced by ``newlog``; every name it exported has a successor
listed in ``compat.mapping.NAMES`` (a few are renamed: ``configure_structlog`` -> ``init_app``,
``StructlogConfig`` -> ``LogConfig``, the ``structlog_config`` instance -> ``log_config``...).

What it rewrites, at any depth (functions, methods, ``try/except ImportError``, ``if TYPE_CHECKING``):

- ``from L import a, b as c``, parenthesised or not, absolute or relative (``from .structlog_config``,
  ``from ..utils.structlog_config``, resolved against the file's package) -> ``from newlog import a, b as c``.
  A renamed name is renamed at its uses too (``configure_structlog(app)`` -> ``init_app(app)``),
  unless that is unsafe; then the old local name is kept with ``as``
  (``from newlog import init_app as configure_structlog``). Unsafe means: the name is re-exported
  (listed in ``__all__``, or imported at the top of a package ``__init__``, whose importers keep
  using the old name); the new name is already bound or used in the file; or scope analysis
  cannot prove every use means the imported name (an ``except ImportError`` fallback, a string
  annotation).
- Module objects: ``import L as m``, ``import L`` and ``from P import S`` (``P.S`` is ``L``, also
  relative ``from ..utils import structlog_config``) become ``import newlog``, and ``m.name`` /
  ``L.name`` / ``S.name`` become ``newlog.<new name>`` (``slc.configure_structlog(app)`` ->
  ``newlog.init_app(app)``). Module-style access stays module-style: one ``import newlog``.
- ``from L import *`` becomes ``from newlog import <the legacy names the file uses>`` (scope
  analysis, plus the names in ``__all__``). When it cannot tell - a package ``__init__``, whose star
  re-exports whatever its importers use, or a module that reads its namespace dynamically
  (``globals()``, ``vars()``, ``eval``...) - it writes ``from newlog import *`` and reports the
  renamed names that are no longer provided under their legacy names.
- String literals equal to ``"<L>.<name>"`` (``mock.patch("app.utils.structlog_config.log_info")``)
  -> ``"newlog.<new name>"``.
- Converted top-level imports join a ``from newlog import ...`` the file already had; names
  other rules made unused are dropped; unrelated imports and all comments stay.

Left as is and reported (``path:line: reason``): names the mapping does not know (private
state such as ``_global_context`` when the global-context rule did not run, helpers the legacy
module merely imported), a module object used other than as ``module.name``, other strings
naming the legacy module, and bindings whose meaning scope analysis cannot pin down.

The machinery is ``codemods.names.plan`` (the global-context and debug-guard rules use it for
the names they own).
"""

from __future__ import annotations

from codemods.engine import FileState, Fixer, Options
from codemods.names.plan import IMPORTS_RULE, migrate_names

NAME = IMPORTS_RULE


def triggers(options: Options) -> tuple[str, ...]:
    """The words without which a file cannot need this rule."""
    return (options.module_last,)


def fix(state: FileState) -> None:
    """Apply the rule to one parsed file."""
    migrate_names(state, NAME, lambda name: True)


fixer = Fixer(
    name=NAME,
    summary="import newlog instead of the legacy module (names from compat.mapping)",
    triggers=triggers,
    fix=fix,
)
