"""The data a run passes around, with no libcst in sight.

Options and where a file sits (``Options``, ``FileInfo``), what a rule is and returns
(``Fixer``, ``FileRewrite``, ``NewFile``, ``FixResult``, ``Finding``), and what travels between
the parent and the worker processes (``Job``, ``Outcome``, ``Fingerprint``). Keeping libcst out
of it lets the parent parse the command line, search the tree and report a usage error without
loading libcst; it loads it only to fork the workers (``codemods.runner``).
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compat.mapping import LEGACY_MODULE

if TYPE_CHECKING:
    from codemods.engine import FileState


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line."""

    module: str = LEGACY_MODULE
    delete_legacy: bool = False
    startup_functions: frozenset[str] | None = frozenset()
    """Dotted names of the functions that run at start-up and write the legacy dict (``codemods.startup``);
    None while that analysis is still running (a file that writes the legacy dict is then deferred)."""
    profile_module: str | None = None
    """The dotted name of the app's profile module (``codemods.profile.locate``); None: there is none."""

    @property
    def module_parent(self) -> str:
        """The package of the legacy module (``app.utils``)."""
        return self.module.rpartition(".")[0]

    @property
    def module_last(self) -> str:
        """The legacy module's own name (``structlog_config``)."""
        return self.module.rpartition(".")[2]


@dataclass(frozen=True)
class FileInfo:
    """Where a file sits: its display path, dotted name and package (for relative imports)."""

    path: str
    module_name: str | None = None
    is_package: bool = False
    is_legacy: bool = False
    first_party: frozenset[str] = frozenset()
    """Top-level names of the application's own modules (isort's first-party section)."""
    line_length: int = 88
    """The project's line length (ruff's, else black's, else 88)."""

    @property
    def package(self) -> str | None:
        """The package relative imports in this file start from."""
        if self.module_name is None:
            return None
        if self.is_package:
            return self.module_name
        return self.module_name.rpartition(".")[0] or None

    @classmethod
    def for_path(cls, path: str, options: Options = Options()) -> FileInfo:
        """Build the info of ``path`` taken relative to the import root (used by tests and ``fix_source``)."""
        parts = path.replace("\\", "/").removesuffix(".py").split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        dotted = ".".join(parts) or None
        return cls(
            path=path,
            module_name=dotted,
            is_package=is_package,
            is_legacy=dotted == options.module,
            first_party=frozenset({parts[0]}) if parts and parts[0] else frozenset(),
        )


def dotted_name(path: Path, root: Path, options: Options) -> tuple[str | None, bool]:
    """The dotted module name of ``path`` (from the ``__init__.py`` files above it, else from ``root``)
    and whether it is a package ``__init__``."""
    return _names(path, root, options)[:2]  # type: ignore[return-value]


def _names(path: Path, root: Path, options: Options) -> tuple[str | None, bool, bool, str]:
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        if folder.parent == folder:
            break
        folder = folder.parent
    by_packages = ".".join(parts)
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        relative = Path(path.name)
    rel_parts = list(relative.with_suffix("").parts)
    if rel_parts and rel_parts[-1] == "__init__":
        rel_parts.pop()
    by_root = ".".join(rel_parts)
    without_src = ".".join(rel_parts[1:]) if rel_parts[:1] == ["src"] else by_root
    candidates = [c for c in (by_packages, by_root, without_src) if c]
    module_name = by_packages if "." in by_packages or (is_package and by_packages) else (without_src or by_packages)
    return module_name or None, is_package, options.module in candidates, str(folder)


def file_info(path: Path, root: Path, options: Options) -> FileInfo:
    """Where ``path`` sits: its dotted name from the ``__init__.py`` files above it and from ``root``.

    The file is the legacy module when either name (or the one relative to ``root`` without a
    leading ``src``) is ``options.module``.
    """
    module_name, is_package, is_legacy, folder = _names(path, root, options)
    top = (module_name or "").partition(".")[0]
    return FileInfo(
        path=str(path),
        module_name=module_name,
        is_package=is_package,
        is_legacy=is_legacy,
        first_party=_modules_in(folder)
        | _modules_in(str(root))
        | _modules_in(str(root / "src"))
        | ({top} if top else set()),  # ruff's ``src = [".", "src"]`` with the given folder as the project root
        line_length=_line_length(str(path.parent.resolve())),
    )


@functools.lru_cache(maxsize=1024)
def _modules_in(folder: str) -> frozenset[str]:
    """The top-level module names a folder provides (ruff's first-party rule with ``src = ["."]``)."""
    try:
        entries = os.scandir(folder)
    except OSError:
        return frozenset()
    names = set()
    with entries:
        for entry in entries:
            name = entry.name
            if name.endswith(".py") and name[:-3].isidentifier():
                names.add(name[:-3])
            elif name.isidentifier() and entry.is_dir():
                names.add(name)
    return frozenset(names)


@functools.lru_cache(maxsize=1024)
def _line_length(folder: str) -> int:
    """The line length of the nearest ruff / black configuration above ``folder`` (88 when none says)."""
    current = Path(folder)
    while True:
        for name, tables in (
            ("ruff.toml", ((),)),
            (".ruff.toml", ((),)),
            ("pyproject.toml", (("tool", "ruff"), ("tool", "black"))),
        ):
            candidate = current / name
            if not candidate.is_file():
                continue
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for table in tables:
                section: object = data
                for key in table:
                    section = section.get(key, {}) if isinstance(section, dict) else {}
                if isinstance(section, dict):
                    value = section.get("line-length", section.get("line_length"))
                    if isinstance(value, int) and value > 0:
                        return value
            if name != "pyproject.toml" or (current / ".git").exists():
                return 88
        if current.parent == current or (current / ".git").exists():
            return 88
        current = current.parent


@dataclass(frozen=True)
class Finding:
    """Something a rule left as it is, for a human to review: ``path:line: message``."""

    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class NewFile:
    """A file a whole-file rule creates beside the one it replaces (written atomically, shown in the diff)."""

    path: str
    """Relative to the folder of the replaced file (``"newlog_settings.py"``), or absolute."""
    text: str


@dataclass(frozen=True)
class FileRewrite:
    """What a whole-file rule does to the file it owns: its new text (None deletes it), and maybe one new file."""

    text: str | None
    new_file: NewFile | None = None
    kept: str | None = None
    """The file is left as it is, for this reason (reported as an error); ``text`` is ignored then."""
    findings: tuple[tuple[int, str], ...] = ()
    """``(line, message)`` findings in the replaced file."""


@dataclass(frozen=True)
class Fixer:
    """One rewrite rule, declared by each ``codemods/fixers/<rule>.py`` as ``fixer = Fixer(...)``.

    ``triggers`` gives the (ASCII) words without which a file cannot need the rule: files with
    none of the words of the selected rules are not parsed. ``fix`` rewrites a parsed file
    through its ``FileState``. ``replace_file`` is for the rule that owns the legacy module
    itself: it receives that file's source before anything replaces it and returns a
    ``FileRewrite`` (or None to leave the file as it is); when it applies, no other rule runs
    on that file.
    """

    name: str
    summary: str
    triggers: Callable[[Options], tuple[str, ...]]
    fix: Callable[[FileState], None] | None = None
    replace_file: Callable[[str, FileInfo, Options], FileRewrite | None] | None = None


@dataclass
class FixResult:
    """The outcome for one file: the new source (None if unchanged), findings and edits per rule."""

    source: str | None
    findings: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    delete: bool = False
    new_file: NewFile | None = None
    imports_legacy: bool = False
    """The source imported the legacy module (any form) before the rules ran."""
    error: str | None = None
    """The file is left as it is for this reason (an error of the run)."""


@dataclass(frozen=True)
class Fingerprint:
    """What the file was when it was read: a later write checks it is still that file with those bytes."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    digest: bytes


@dataclass(frozen=True)
class Job:
    """One file to examine: its path, the folder it was found under (for its dotted name), what to run."""

    path: str
    root: str
    rules: tuple[str, ...]
    options: Options
    diff: bool


@dataclass
class Outcome:
    """What the rules make of one file (nothing is written yet)."""

    path: str
    examined: bool = False
    """The file contained a trigger word and was parsed."""
    changed: bool = False
    deleted: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    error: str | None = None
    diff: str = ""
    new_data: bytes | None = None
    new_file: NewFile | None = None
    new_file_data: bytes | None = None
    fingerprint: Fingerprint | None = None
    is_legacy: bool = False
    mentions_module: bool = False
    """The file imported the legacy module before the rewrite."""
    importers: list[int] = field(default_factory=list)
    """Lines that import the legacy module after the rewrite (any form; for ``--delete-legacy``)."""
    deferred: bool = False
    """Not examined: the file writes the legacy dict and the start-up analysis was not done yet (run it again)."""
