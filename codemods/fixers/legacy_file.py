"""Rule ``legacy-file``: the legacy module itself becomes a compatibility stub (or is deleted).

Why: once the application imports ``newlog``, the 700-800 lines of the legacy module are dead
weight and a trap (its global dict, its synchronous commits). Code that still imports the old
path - other repositories, notebooks, pickles - keeps working through ``compat.structlog_config``,
which serves every legacy name on top of ``newlog``.

What it rewrites: the file whose dotted path is ``--module`` (found from its path under the
root given on the command line, or by walking up ``__init__.py`` files). First its couplings to
the application (message catalogue, error enums, base exception and status mapper, log model,
display name, environment rules) are read with ``codemods.legacy_reader`` and written to the
profile module beside it, ``newlog_profile.py`` (``codemods.profile``: created atomically, never
over a file with other content, shown in the diff and the summary; the same text again is
fine). Then the file gets, as its entire content, a module docstring and the stub
``compat.stub(<profile module>)``, its two statements on two lines so that linters (isort's I001,
E702) have nothing to say::

    import compat

    compat.install(__name__, profile='app.utils.newlog_profile')  # legacy path served by compat ...

A legacy module the reader cannot read completely is left as it is: each thing it could not
determine is reported (``path:line: could not determine ... [legacy-file]``) and the run ends
with an error (exit 2), because a generic stub would silently change every error answer of the
app. Fix what is reported, or write the profile module by hand (MIGRATION.md, step 2) and
replace the file by ``compat.stub("<profile module>")``: a stub is left alone, and the other
rules use the profile it names.

With ``--delete-legacy`` the file is deleted instead (a legacy module that is not a stub yet
still leaves its profile module behind: the rewritten ``init_app`` calls import it). A file that already is a stub (it
calls ``compat.install`` or star-imports ``compat.structlog_config`` and defines nothing) is
left alone. When this rule runs, no other rule touches that file; with ``--skip legacy-file`` the others apply to it
(e.g. dead-flush on its handler class).
"""

from __future__ import annotations

from codemods import profile
from codemods.engine import FileInfo, FileRewrite, Fixer, NewFile, Options
from compat import stub as compat_stub

NAME = "legacy-file"

DOCSTRING = '''"""Compatibility stub for the legacy logging module ``{module}``.

Migrated by ``python -m codemods.apply``: the legacy API is served by ``compat.structlog_config``
on top of ``newlog`` until nothing imports this path any more; the app's couplings (error answers,
identity fields) are in ``{profile}``. New code imports from ``newlog``.
"""

'''


def stub_text(module: str, profile_module: str) -> str:
    """The whole stub file for the legacy module ``module`` using ``profile_module``: ``compat.stub`` on two lines."""
    code = compat_stub(profile_module).replace("; ", "\n\n", 1)
    return DOCSTRING.format(module=module, profile=profile_module) + code


def triggers(options: Options) -> tuple[str, ...]:
    """The words without which a file cannot need this rule."""
    return ()


def replace_file(source: str, info: FileInfo, options: Options) -> FileRewrite | None:
    """The profile module and the stub using it (deletion with ``--delete-legacy``); None if it already is a stub."""
    stub = profile.is_stub(source)
    if options.delete_legacy and stub:
        return FileRewrite(None)
    if stub:
        return None
    read = profile.read(source, info.path, options.module)  # also before a deletion: init_app calls use the profile
    if read.text is None:
        return FileRewrite(
            None,
            kept=(
                f"not replaced: its couplings to the app could not be read completely ({len(read.findings)} "
                "findings above); fix them, or write the profile module by hand and replace the file by "
                "compat.stub('<profile module>') (MIGRATION.md, step 2)"
            ),
            findings=read.findings,
        )
    first = source.find("\n")
    newline = "\r\n" if first > 0 and source[first - 1] == "\r" else "\n"
    profile_module = profile.profile_module_name(options.module)
    new_file = NewFile(f"{profile.PROFILE_LEAF}.py", read.text.replace("\n", newline))
    if options.delete_legacy:
        return FileRewrite(None, new_file=new_file)
    return FileRewrite(stub_text(options.module, profile_module).replace("\n", newline), new_file=new_file)


fixer = Fixer(
    name=NAME,
    summary="replace the legacy module itself by a compat stub (or delete it)",
    triggers=triggers,
    replace_file=replace_file,
)
