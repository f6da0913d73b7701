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

import hashlib
import os
import re
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec


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


@dataclass(frozen=True)
class Fingerprint:
    """What the file was when it was read: a later write checks it is still that file with those bytes."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    digest: bytes


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


class Excluder:
    """Matches paths against ``--exclude``/``--extend-exclude`` patterns (relative to ``base``)."""

    def __init__(self, patterns: Sequence[str], base: Path) -> None:
        self.base = base
        self.spec = pathspec.GitIgnoreSpec.from_lines(patterns)

    def excluded(self, path: Path, root: Path, *, is_dir: bool) -> bool:
        """Whether ``path`` (found under the given ``root``) matches a pattern."""
        absolute = Path(os.path.abspath(path))
        for base in (self.base, Path(os.path.abspath(root))):
            try:
                relative = absolute.relative_to(base).as_posix()
            except ValueError:
                continue
            if relative == ".":
                return False
            return self.spec.match_file(relative + ("/" if is_dir else ""))
        return self.spec.match_file(absolute.name + ("/" if is_dir else ""))


class GitIgnore:
    """The ``.gitignore`` files that apply to a folder: its own and its parents' up to the repository root."""

    def __init__(self) -> None:
        self._specs: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def _spec(self, folder: Path) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._specs:
            lines: list[str] = []
            for name in (".gitignore", ".git/info/exclude"):
                try:
                    lines += (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    pass
            self._specs[folder] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[folder]

    def chain(self, folder: Path) -> list[Path]:
        """``folder`` and its parents up to the repository root (the folder holding ``.git``), outermost first."""
        folders = [folder]
        current = folder
        while not (current / ".git").exists() and current.parent != current:
            current = current.parent
            folders.append(current)
        if not (current / ".git").exists():
            folders = [folder]
        return folders[::-1]

    def ignored(self, path: Path, folders: Sequence[Path], *, is_dir: bool) -> bool:
        """Whether git would ignore ``path`` given the ignore files of ``folders`` (outermost first)."""
        verdict: bool | None = None
        for folder in folders:
            spec = self._spec(folder)
            if spec is None:
                continue
            try:
                relative = path.relative_to(folder).as_posix()
            except ValueError:
                continue
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
    excluder = Excluder([*exclude, *extend_exclude], Path.cwd())
    ignore = GitIgnore()
    seen: set[str] = set()
    for raw in paths:
        given = Path(raw)
        if not os.path.lexists(given):
            search.errors.append(f"{raw}: no such file or folder")
            continue
        search.roots.append(os.path.realpath(given))
        if not given.is_dir():
            if excluder.excluded(given, Path.cwd(), is_dir=False):
                continue
            key = os.path.realpath(given)
            if key not in seen:
                seen.add(key)
                yield Found(str(given), str(Path.cwd()))
            continue
        absolute_root = Path(os.path.abspath(given))
        outer = ignore.chain(absolute_root)[:-1] if respect_gitignore else []
        for dirpath, dirnames, filenames in os.walk(given):
            folder = Path(dirpath)
            absolute = Path(os.path.abspath(folder))
            folders = [*outer, *_folders_between(absolute_root, absolute)] if respect_gitignore else []
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
                and not excluder.excluded(folder / d, given, is_dir=True)
                and not (respect_gitignore and ignore.ignored(absolute / d, folders, is_dir=True))
            )
            for filename in sorted(filenames):
                if filename.endswith(TEMP_SUFFIX):
                    _remove_if_stale(folder / filename, search)
                    continue
                if not filename.endswith(".py"):
                    continue
                path = folder / filename
                if excluder.excluded(path, given, is_dir=False):
                    continue
                if respect_gitignore and ignore.ignored(absolute / filename, folders, is_dir=False):
                    continue
                key = os.path.realpath(path)
                if key in seen or not os.path.exists(path):
                    continue
                seen.add(key)
                yield Found(str(path), str(given))


def _folders_between(root: Path, folder: Path) -> list[Path]:
    """``root`` and the folders from it down to ``folder``, outermost first."""
    chain = [folder]
    while chain[-1] != root and chain[-1].parent != chain[-1]:
        chain.append(chain[-1].parent)
    return chain[::-1]


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


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (it may be another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
