"""Migrate Python files off the legacy ``structlog_config`` module: ``python -m codemods.apply PATH...``.

PATHs are files or folders (usually the project root: every file that imports the legacy module
must be migrated before it can be deleted). Folders are searched recursively for ``*.py``,
leaving out ruff's default excluded folders (``.git``, virtualenvs, ``build``, ``dist``,
``node_modules``...), ``--exclude`` / ``--extend-exclude`` patterns and what ``.gitignore``
ignores. Files are rewritten in place unless ``--check`` or ``--diff`` is given.

Exit codes:
  0    nothing to change
  1    files were changed (with --check / --diff: would be changed)
  2    errors: a file could not be read, decoded, parsed or written (reported as
       ``path:line:col: message`` or ``path: reason`` and left untouched; the other files are
       still processed), ``--delete-legacy`` refused, or a usage error
  130  interrupted by Ctrl-C or SIGTERM (the summary says what was written)

On stderr: one line per changed file with the edits per rule (streamed as files finish; on a
terminal, a live progress display too), the findings the rules left for review
(``path:line: reason [rule]``: code they could not rewrite safely and left as it is; findings do
not change the exit code), errors, and a summary. ``--diff`` prints the diff on stdout.

The modules: ``cli`` (options, report), ``files`` (finding and safely replacing files),
``runner`` (worker processes, interrupts), ``display`` (progress, colours), ``rewrite`` (one
file through the rules), ``engine`` (the parsed file the rules edit), ``names`` (imports of the
legacy module and their rewriting), ``startup`` (what runs at start-up), ``fixers`` (the rules).
"""

from __future__ import annotations

from codemods.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
