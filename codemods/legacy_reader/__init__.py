"""Read a legacy ``structlog_config`` module's couplings to its application, without importing it.

A real copy of the legacy module is coupled to its app: it imports the app's message
catalogue, error enums, base exception, status mapper, log model and time helpers, and
hard-codes a display name and environment rules. ``read_legacy_module(path)`` parses the
file and returns :class:`LegacyCouplings`: where each piece comes from (module + name,
relative imports resolved against the file's package; any import form, imports inside
functions and ``try/except ImportError`` included), the variant, the classification
rules of ``_classify_error`` (evaluated branch by branch; an HTTP branch once per status
code), the payload shape of ``enhanced_error_handler``, the suggestions, the id and
timestamp formats, and the identity rules. Whatever it cannot read becomes a
:class:`Finding` ``path:line: could not determine X`` - never a silent default.

``render_profile_module(couplings)`` returns the Python source of a small configuration
module that builds the app's ``newlog.error_profile.ErrorProfile`` (``PROFILE``) from
those couplings, plus ``DISPLAY_NAME`` and the identity rules.

Modules: ``model`` (what is returned), ``names`` (imports and definitions), ``rules``
(the classifier), ``reader`` (the rest of the module), ``render`` (the profile module).
The standard library's ``ast`` is used rather than libcst: nothing is rewritten here, and
``ast`` gives line numbers and ``ast.unparse`` for the expressions carried over.
"""

from codemods.legacy_reader.model import Code, Finding, IdentityRule, LegacyCouplings, OutcomeSpec, Ref, RuleSpec
from codemods.legacy_reader.reader import read_legacy_module
from codemods.legacy_reader.render import render_profile_module

__all__ = [
    "Code",
    "Finding",
    "IdentityRule",
    "LegacyCouplings",
    "OutcomeSpec",
    "Ref",
    "RuleSpec",
    "read_legacy_module",
    "render_profile_module",
]
