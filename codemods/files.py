"""The files a run may read and write: finding them, and replacing them safely.

Finding (``find_files``): ``*.py`` files under the given paths, without the folders tools never
look into (``DEFAULT_EXCLUDE``, virtualenvs), the user's ``--exclude`` / ``--extend-exclude``
patterns, and what the project's ``.gitignore`` files ignore (read with ``pathspec``, the
library black uses: git's own matching rules). Patterns work as in ruff and black: a pattern
without a slash matches a file or folder name at any depth (``migrations``, ``*_pb2.py``), one
with a slash a path relative to the current folder (``src/generated/*.py``). A file reached
twice (a symlink to a file in the tree, a path given twice) is examined once.

Writing (``replace``, ``remove``, ``create``) happens in the parent process only, atomically
(a temporary file in the same folder, then ``os.replace``), and refuses - with the reason -
rather than do harm: a symlink whose target is outside the given paths, a file that changed
since it was read, a hard-linked file (replacing it would leave its other names with the old
text), a read-only file, a file whose owner cannot be kept. Owner, group and mode are kept.
Temporary files carry the writer's pid (``.<name>.<pid>.<random>.codemods-tmp``): a later run
removes the ones whose process is gone.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from codemods.model import Fingerprint
from newlog.heartbeat import pid_alive

DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pytest_cache", ".ruff_cache", ".svn",
    ".tox", ".venv", "__pycache__", "__pypackages__", "_build", "build", "dist", "node_modules", "site-packages",
    "venv",
)  # fmt: skip
"""Folder names never searched, as in ruff's default ``exclude`` (a folder holding ``pyvenv.cfg`` is skipped too)."""

TEMP_SUFFIX = ".codemods-tmp"
_TEMP = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[^.]+\.codemods-tmp$")
_OLD_TEMP_AGE = 3600.0
"""Temporary files of versions that did not name their pid are stale after this many seconds."""


def fingerprint(data: bytes, stat: os.stat_result) -> Fingerprint:
    """The fingerprint of ``data`` read from a file whose ``os.stat`` was ``stat``."""
    return Fingerprint(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, hashlib.blake2b(data).digest())


class NotWritten(Exception):
    """A file the run refuses to write; the message says why and what to do."""


@dataclass(frozen=True)
class Found:
    """A Python file to examine, and the given folder it was found under (the base of its dotted name)."""

    path: str
    root: str


@dataclass
class Search:
    """What ``find_files`` saw besides the files: errors (missing paths) and stale temporary files it removed."""

    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    """The resolved given paths: writes stay inside them."""


_GLOB = re.compile(r"[*?\[\]!]")


class Excluder:
    """Matches paths against ``--exclude``/``--extend-exclude`` patterns, as ruff does.

    A plain name (``build``) is a set lookup on each file or folder name, a glob without a slash
    (``*_pb2.py``) is matched against the name; a pattern with a slash goes through ``pathspec``
    against the path relative to ``base`` (the current folder), else to the given root. The
    default list is plain names, so the walk costs a set lookup per entry.
    """

    def __init__(self, patterns: Sequence[str], base: str) -> None:
        self.base = base.rstrip(os.sep) + os.sep
        names = [p.rstrip("/") for p in patterns if "/" not in p.rstrip("/")]
        self.names = frozenset(n for n in names if not _GLOB.search(n))
        globs = [fnmatch.translate(n) for n in names if _GLOB.search(n)]
        self.glob = re.compile("|".join(globs)) if globs else None
        paths = [p for p in patterns if "/" in p.rstrip("/")]
        self.spec = pathspec.GitIgnoreSpec.from_lines(paths) if paths else None

    def excluded(self, path: str, root: str, *, is_dir: bool, whole: bool = False) -> bool:
        """Whether ``path`` (an absolute path found under the given absolute ``root``) matches a pattern.

        ``whole``: check every folder name of the path too (a file named on the command line;
        the walk never enters an excluded folder, so it checks the last name only).
        """
        names = path[len(self.base) :].split(os.sep) if whole and path.startswith(self.base) else [path]
        for name in names if whole else [os.path.basename(path)]:
            name = os.path.basename(name)
            if name in self.names or (self.glob is not None and self.glob.match(name)):
                return True
        if self.spec is None:
            return False
        for base in (self.base, root.rstrip(os.sep) + os.sep):
            if path.startswith(base):
                relative = path[len(base) :].replace(os.sep, "/")
                return self.spec.match_file(relative + ("/" if is_dir else ""))
        return False


class GitIgnore:
    """The ``.gitignore`` files that apply to a folder: its own and its parents' up to the repository root."""

    def __init__(self) -> None:
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def spec(self, folder: str) -> pathspec.GitIgnoreSpec | None:
        """The ignore rules of ``folder`` (its ``.gitignore``, and ``.git/info/exclude`` at a repository root)."""
        if folder not in self._specs:
            lines: list[str] = []
            for name in (".gitignore", os.path.join(".git", "info", "exclude")):
                try:
                    with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
                        lines += handle.read().splitlines()
                except OSError:
                    pass
            self._specs[folder] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[folder]

    def outer(self, folder: str) -> list[str]:
        """The parents of ``folder`` up to the repository root (the folder holding ``.git``), outermost first."""
        parents = []
        current = folder
        while not os.path.exists(os.path.join(current, ".git")):
            parent = os.path.dirname(current)
            if parent == current:
                return []
            current = parent
            parents.append(current)
        return parents[::-1]

    def ignored(self, path: str, folders: Sequence[str], *, is_dir: bool) -> bool:
        """Whether git would ignore the absolute ``path`` given the ignore files of ``folders`` (outermost first)."""
        verdict: bool | None = None
        for folder in folders:
            spec = self.spec(folder)
            if spec is None:
                continue
            relative = path[len(folder.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
            result = spec.check_file(relative + ("/" if is_dir else "")).include
            if result is not None:
                verdict = result
        return bool(verdict)


def find_files(
    paths: Sequence[str],
    *,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    extend_exclude: Sequence[str] = (),
    respect_gitignore: bool = True,
    search: Search,
) -> Iterator[Found]:
    """The ``*.py`` files under ``paths`` (files are taken as given), each once, in a stable order.

    Stale temporary files of earlier runs found on the way are removed (noted in ``search``);
    a path that does not exist is an error in ``search``.
    """
    cwd = os.getcwd()
    excluder = Excluder([*exclude, *extend_exclude], cwd)
    ignore = GitIgnore()
    seen: set[str] = set()
    for raw in paths:
        if not os.path.lexists(raw):
            search.errors.append(f"{raw}: no such file or folder")
            continue
        real_root = os.path.realpath(raw)
        search.roots.append(real_root)
        if not os.path.isdir(raw):
            if not excluder.excluded(os.path.abspath(raw), cwd, is_dir=False, whole=True) and real_root not in seen:
                seen.add(real_root)
                yield Found(raw, cwd)
            continue
        root = os.path.abspath(raw)
        folders_of: dict[str, list[str]] = {root: [*ignore.outer(root), root] if respect_gitignore else []}
        for dirpath, dirnames, filenames in os.walk(raw):
            absolute = os.path.abspath(dirpath)
            folders = folders_of.pop(absolute, [])
            real_dir = os.path.join(real_root, os.path.relpath(absolute, root)) if absolute != root else real_root
            kept = []
            for d in sorted(dirnames):
                child = os.path.join(absolute, d)
                if excluder.excluded(child, root, is_dir=True) or os.path.exists(os.path.join(child, "pyvenv.cfg")):
                    continue
                if folders and ignore.ignored(child, folders, is_dir=True):
                    continue
                kept.append(d)
                folders_of[child] = [*folders, child] if folders else []
            dirnames[:] = kept
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                if filename.endswith(TEMP_SUFFIX):
                    _remove_if_stale(Path(path), search)
                    continue
                if not filename.endswith(".py"):
                    continue
                absolute_file = os.path.join(absolute, filename)
                if excluder.excluded(absolute_file, root, is_dir=False):
                    continue
                if folders and ignore.ignored(absolute_file, folders, is_dir=False):
                    continue
                if os.path.islink(path):
                    if not os.path.exists(path):
                        continue
                    key = os.path.realpath(path)
                else:
                    key = os.path.join(real_dir, filename)
                if key in seen:
                    continue
                seen.add(key)
                yield Found(path, raw)


def _remove_if_stale(path: Path, search: Search) -> None:
    """Remove one of our temporary files when the process that wrote it is gone."""
    match = _TEMP.match(path.name)
    if match is None:
        return
    pid = match.group("pid")
    try:
        if pid is not None:
            if pid_alive(int(pid)):
                return
        elif time.time() - path.stat().st_mtime < _OLD_TEMP_AGE:
            return
        path.unlink()
    except OSError:
        return
    search.notes.append(f"{path}: removed a temporary file left by an interrupted run")


# -- writing ----------------------------------------------------------------------------------------


def within(real: str, roots: Sequence[str]) -> bool:
    """Whether the resolved path ``real`` is one of ``roots`` or inside one of them."""
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _check_target(path: str, expected: Fingerprint, roots: Sequence[str]) -> tuple[str, os.stat_result]:
    """The real path to write and its stat, or ``NotWritten`` when writing it would do harm."""
    real = os.path.realpath(path)
    if real != os.path.abspath(path) and not within(real, roots):
        raise NotWritten(f"{path}: a symlink to {real}, outside the given paths: not written (pass its folder too)")
    try:
        current = os.stat(real)
    except FileNotFoundError:
        raise NotWritten(f"{path}: removed since it was read: not written") from None
    _check_unchanged(path, real, current, expected)
    if current.st_nlink > 1:
        raise NotWritten(
            f"{path}: has {current.st_nlink} hard links; replacing it would leave the other names with the old "
            "text: not written (rewrite it by hand, or break the link and run again)"
        )
    if not current.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
        raise NotWritten(f"{path}: read-only: not written (make it writable and run again)")
    return real, current


def _check_unchanged(path: str, real: str, current: os.stat_result, expected: Fingerprint) -> None:
    same_stat = (current.st_dev, current.st_ino, current.st_size, current.st_mtime_ns) == (
        expected.device,
        expected.inode,
        expected.size,
        expected.mtime_ns,
    )
    if same_stat:
        return
    try:
        with open(real, "rb") as handle:
            digest = hashlib.blake2b(handle.read()).digest()
    except OSError as error:
        raise NotWritten(f"{path}: cannot read it again before writing: {error.strerror or error}") from None
    if digest != expected.digest:
        raise NotWritten(f"{path}: changed since it was read: not written (run again)")


def _temp_name(folder: str, name: str) -> str:
    return os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}{TEMP_SUFFIX}")


def _write_temp(folder: str, name: str, data: bytes, mode: int) -> str:
    tmp = _temp_name(folder, name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), mode)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp


def replace(path: str, data: bytes, expected: Fingerprint, roots: Sequence[str]) -> None:
    """Atomically replace the file at ``path`` with ``data``, keeping owner, group and mode.

    Raises ``NotWritten`` (and leaves the file as it is) when that would do harm, ``OSError``
    when the system refuses.
    """
    real, current = _check_target(path, expected, roots)
    folder, name = os.path.split(real)
    try:
        tmp = _write_temp(folder, name, data, stat.S_IMODE(current.st_mode))
    except PermissionError as error:
        raise NotWritten(f"{path}: cannot create a file in its folder: {error.strerror}: not written") from None
    try:
        mine = os.stat(tmp)
        if (mine.st_uid, mine.st_gid) != (current.st_uid, current.st_gid):
            try:
                os.chown(tmp, current.st_uid, current.st_gid)
            except PermissionError:
                raise NotWritten(
                    f"{path}: owned by uid {current.st_uid} gid {current.st_gid}; this user cannot keep that "
                    "owner: not written (run as the owner)"
                ) from None
            os.chmod(tmp, stat.S_IMODE(current.st_mode))  # chown clears set-id bits
        _check_unchanged(path, real, os.stat(real), expected)
        os.replace(tmp, real)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def remove(path: str, expected: Fingerprint) -> None:
    """Delete the file at ``path`` (a symlink itself, never its target) unless it changed since it was read."""
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return
    _check_unchanged(path, os.path.realpath(path), current, expected)
    os.unlink(path)


def create(path: str, data: bytes, roots: Sequence[str]) -> bool:
    """Create the file at ``path`` with ``data`` atomically; False when it already has that content.

    An existing file with other content is never overwritten (``NotWritten``).
    """
    real = os.path.realpath(path)
    if not within(real, roots):
        raise NotWritten(f"{path}: outside the given paths: not created")
    if os.path.lexists(path):
        try:
            with open(path, "rb") as handle:
                if handle.read() == data:
                    return False
        except OSError:
            pass
        raise NotWritten(f"{path}: already exists with other content: not overwritten (remove it and run again)")
    folder, name = os.path.split(real)
    umask = os.umask(0)
    os.umask(umask)
    tmp = _write_temp(folder, name, data, 0o666 & ~umask)
    try:
        os.link(tmp, real)
    except FileExistsError:
        raise NotWritten(f"{path}: created by someone else meanwhile: not overwritten") from None
    finally:
        _unlink_quietly(tmp)
    return True


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
