"""Rule ``legacy-file``: the legacy module itself becomes a compatibility stub (or is deleted).

Why: once the application imports ``newlog``, the 700-800 lines of the legacy module are dead
weight and a trap (its global dict, its synchronous commits). Code that still imports the old
path - other repositories, notebooks, pickles - keeps working through ``compat.structlog_config``,
which serves every legacy name on top of ``newlog``.

What it rewrites: the file whose dotted path is ``--module`` (found from its path under the
root given on the command line, or by walking up ``__init__.py`` files) gets, as its entire
content, a module docstring and ``compat.STUB`` (the one stub text, shared with compat), its
two statements on two lines so that linters (isort's I001, E702) have nothing to say::

    import compat

    compat.install(__name__)  # legacy path served by compat on newlog; delete after the switch

``replace_file`` receives the legacy module's source before it is replaced: the seam where its
couplings (catalogue, enums, base exception, log model, display name) can be read and written
to one new file (``FileRewrite.new_file``: created atomically, never over another file, shown
in the diff and the summary).

With ``--delete-legacy`` the file is deleted instead. A file that already is a stub (it
calls ``compat.install`` or star-imports ``compat.structlog_config`` and defines nothing) is
left alone. When this rule runs, no other rule touches that file; with ``--skip legacy-file`` the others apply to it
(e.g. dead-flush on its handler class).
"""

from __future__ import annotations

import re

from codemods.engine import FileInfo, FileRewrite, Fixer, Options
from compat import STUB as COMPAT_STUB

NAME = "legacy-file"

_STUB_CODE = COMPAT_STUB.replace("; ", "\n\n", 1)
"""``compat.STUB``, its two statements on two lines."""

STUB = f'''"""Compatibility stub for the legacy logging module ``{{module}}``.

Migrated by ``python -m codemods.apply``: the legacy API is served by ``compat.structlog_config``
on top of ``newlog`` until nothing imports this path any more. New code imports from ``newlog``.
"""

{_STUB_CODE}'''

_DEFINES = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]", re.MULTILINE)


def triggers(options: Options) -> tuple[str, ...]:
    """The words without which a file cannot need this rule."""
    return ()


def replace_file(source: str, info: FileInfo, options: Options) -> FileRewrite | None:
    """The stub for the legacy module (deletion with ``--delete-legacy``); None if it already is a stub.

    ``source`` is the legacy module as the application has it: the place to read its couplings
    (catalogue, enums, base exception, log model...) and return them as ``FileRewrite.new_file``.
    """
    if options.delete_legacy:
        return FileRewrite(None)
    already = "compat.install(" in source or "from compat.structlog_config import *" in source
    if already and not _DEFINES.search(source):
        return None
    first = source.find("\n")
    newline = "\r\n" if first > 0 and source[first - 1] == "\r" else "\n"
    return FileRewrite(STUB.format(module=options.module).replace("\n", newline))


fixer = Fixer(
    name=NAME,
    summary="replace the legacy module itself by a compat stub (or delete it)",
    triggers=triggers,
    replace_file=replace_file,
)
