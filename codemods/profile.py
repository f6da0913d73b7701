"""The app's profile module: the couplings of its legacy module, kept after the legacy module is gone.

A real copy of the legacy module is coupled to its application (message catalogue, error enums,
base exception and status mapper, log model, hard-coded display name, environment rules).
``codemods.legacy_reader`` reads them; this module decides where they go and who uses them:

- the ``legacy-file`` rule writes them, before it replaces the legacy module, to the profile
  module ``<package of the legacy module>.newlog_profile`` (``app/utils/newlog_profile.py``)
  and makes the stub install it (``compat.install(__name__, profile="app.utils.newlog_profile")``);
- the ``imports`` rule passes them to ``newlog.init_app(app, errors=..., identity=...,
  request_only=...)`` where it rewrites ``configure_structlog(app)`` /
  ``structlog_config.configure(app)``, so the app keeps them once the stub is deleted.

``locate`` runs once in the parent process, before the workers start, so every file of a run
agrees on the profile module: the one a stub already names (``profile='...'``, e.g. written by
hand as MIGRATION.md's step 2 shows), else ``newlog_profile`` beside a legacy module the reader
can read completely (or beside where the legacy module was, once that file exists).

A legacy module the reader cannot read completely is never replaced by a generic stub: its
findings are reported and the file stays (see ``read``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from codemods.legacy_reader import read_legacy_module, render_profile_module
from codemods.model import Options, file_info

PROFILE_LEAF = "newlog_profile"
"""The profile module's own name, beside the legacy module."""

KEYWORDS = (("errors", "PROFILE"), ("identity", "IDENTITY"), ("request_only", "REQUEST_ONLY"))
"""``init_app`` keyword -> the profile module's name that fills it."""

_DEFINES = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]", re.MULTILINE)
_STUB_PROFILE = re.compile(r"""compat\s*\.\s*install\s*\([^)]*?\bprofile\s*=\s*(['"])([\w.]+)\1""")


class _Located(Protocol):
    path: str
    root: str


@dataclass(frozen=True)
class ReadProfile:
    """What reading a legacy module gave: the profile module's text, or the findings that stop it."""

    text: str | None
    findings: tuple[tuple[int, str], ...] = ()
    """``(line, message)`` of each thing the reader could not determine."""


def profile_module_name(module: str) -> str:
    """The dotted name of the profile module written beside the legacy module ``module``."""
    parent = module.rpartition(".")[0]
    return f"{parent}.{PROFILE_LEAF}" if parent else PROFILE_LEAF


def is_stub(source: str) -> bool:
    """Whether ``source`` is a compat stub: it calls ``compat.install`` (or star-imports compat) and defines nothing."""
    installs = "compat.install(" in source or "from compat.structlog_config import *" in source
    return installs and not _DEFINES.search(source)


def stub_profile(source: str) -> str | None:
    """The profile module a stub's ``compat.install(..., profile='...')`` names, if it names one."""
    match = _STUB_PROFILE.search(source)
    return match.group(2) if match else None


def read(source: str, path: str, module: str) -> ReadProfile:
    """Read the legacy module ``module`` (its ``source``, at ``path``) and render its profile module.

    ``path`` is also where the app's own modules are looked for (the folder its top package is
    in), to read their constants.
    """
    resolved = Path(path).resolve()
    depth = len(module.split("."))
    root = resolved.parents[depth - 1] if len(resolved.parents) >= depth else resolved.parent
    try:  # the profile names the legacy file relative to the project, so it reads the same on every machine
        shown = resolved.relative_to(root).as_posix()
    except ValueError:
        shown = path
    couplings = read_legacy_module(shown, module, root=root, source=source)
    findings = tuple((finding.line, finding.message) for finding in couplings.findings)
    if findings:
        return ReadProfile(None, findings)
    try:
        return ReadProfile(render_profile_module(couplings))
    except ValueError as error:  # no rules / payload at all: said by the findings, kept as a safety net
        return ReadProfile(None, ((1, str(error).splitlines()[0]),))


def locate(found: Sequence[_Located], module: str) -> str | None:
    """The dotted name of the profile module the files of this run use, or None if there is none.

    ``found`` are the files of the run. Reads only the legacy module (and looks for the profile
    module's file when the legacy module is not among them).
    """
    options = Options(module=module)
    leaf = module.rpartition(".")[2]
    wanted = profile_module_name(module)
    profile_file_found = False
    for item in found:
        path = Path(item.path)
        if path.stem == PROFILE_LEAF and file_info(path, Path(item.root), options).module_name == wanted:
            profile_file_found = True
        if leaf not in (path.stem, path.parent.name) or not file_info(path, Path(item.root), options).is_legacy:
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None  # the run reports the file as an error
        named = stub_profile(source)
        if named is not None:
            return named
        if is_stub(source):
            continue  # a stub without a profile: the profile module may still be there
        try:
            return wanted if read(source, str(path), module).text is not None else None
        except SyntaxError:
            return None
    return wanted if profile_file_found else None
