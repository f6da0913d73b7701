"""Which files a run reads and how it writes them: excludes, .gitignore, symlinks, owners, links, races."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codemods import files
from codemods.apply import main

LEGACY = b"from app.utils.structlog_config import log_info\n"
MIGRATED = b"from newlog import log_info\n"
BROKEN = b"from app.utils.structlog_config import log_info\ndef broken(:\n"


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# -- which files ------------------------------------------------------------------------------------


def test_extend_exclude_leaves_out_a_broken_generated_file_so_check_is_a_usable_gate(tmp_path: Path) -> None:
    write(tmp_path / "src" / "generated" / "broken.py", BROKEN)
    write(tmp_path / "src" / "vendored_pb2.py", BROKEN)
    write(tmp_path / "src" / "ok.py", MIGRATED)
    assert main(["--check", "src"]) == 2
    assert main(["--check", "src", "--extend-exclude", "generated", "--extend-exclude", "*_pb2.py"]) == 0


def test_a_pattern_with_a_slash_is_relative_to_the_current_folder(tmp_path: Path) -> None:
    anchored = write(tmp_path / "src" / "gen" / "a.py", LEGACY)
    elsewhere = write(tmp_path / "lib" / "src" / "gen" / "a.py", LEGACY)
    assert main([".", "--extend-exclude", "src/gen/*.py"]) == 1
    assert anchored.read_bytes() == LEGACY
    assert elsewhere.read_bytes() == MIGRATED


def test_exclude_replaces_the_default_list(tmp_path: Path) -> None:
    in_build = write(tmp_path / "build" / "a.py", LEGACY)
    assert main(["--check", "."]) == 0
    assert main(["--check", ".", "--exclude", "nothing-matches"]) == 1
    assert in_build.read_bytes() == LEGACY


def test_exclude_given_a_rule_name_points_to_skip(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([".", "--exclude", "imports"])
    assert exit_info.value.code == 2
    assert "to leave out the rule 'imports' use --skip imports" in capsys.readouterr().err


def test_excludes_apply_to_files_named_on_the_command_line(tmp_path: Path) -> None:
    generated = write(tmp_path / "generated" / "a.py", BROKEN)
    assert main(["--check", str(generated), "--extend-exclude", "generated"]) == 0


def test_gitignore_files_are_honoured_up_to_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", b"out/\n*.gen.py\n")
    write(tmp_path / "src" / ".gitignore", b"local_*.py\n!local_keep.py\n")
    ignored = [
        write(tmp_path / "src" / "out" / "a.py", LEGACY),
        write(tmp_path / "src" / "x.gen.py", LEGACY),
        write(tmp_path / "src" / "local_conf.py", LEGACY),
    ]
    kept = [write(tmp_path / "src" / "local_keep.py", LEGACY), write(tmp_path / "src" / "app.py", LEGACY)]
    assert main(["src"]) == 1
    assert [p.read_bytes() for p in ignored] == [LEGACY] * 3
    assert [p.read_bytes() for p in kept] == [MIGRATED] * 2
    assert main(["src", "--no-respect-gitignore"]) == 1
    assert [p.read_bytes() for p in ignored] == [MIGRATED] * 3


def test_a_file_reached_twice_is_examined_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = write(tmp_path / "pkg" / "mod.py", LEGACY)
    (tmp_path / "pkg" / "alias.py").symlink_to(real)
    assert main(["pkg", str(real), "pkg/mod.py"]) == 1
    assert "1 file changed" in capsys.readouterr().err
    assert real.read_bytes() == MIGRATED
    assert (tmp_path / "pkg" / "alias.py").is_symlink()


def test_stale_temporary_files_of_dead_runs_are_removed_live_ones_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead_pid = 2**22 + 12345  # above Linux's pid_max default: no such process
    stale = write(tmp_path / "src" / f".mod.py.{dead_pid}.1a2b3c4d.codemods-tmp", b"half")
    live = write(tmp_path / "src" / f".mod.py.{os.getpid()}.1a2b3c4d.codemods-tmp", b"in use")
    old_format = write(tmp_path / "src" / ".mod.py.k3j4h5.codemods-tmp", b"half")
    os.utime(old_format, (1_000_000_000, 1_000_000_000))
    write(tmp_path / "src" / "mod.py", MIGRATED)
    assert main(["--check", "src"]) == 0
    err = capsys.readouterr().err
    assert not stale.exists() and not old_format.exists() and live.exists()
    assert f"{stale.relative_to(tmp_path)}: removed a temporary file left by an interrupted run" in err


# -- how they are written ---------------------------------------------------------------------------


def test_a_symlink_to_a_file_outside_the_given_paths_is_not_written_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = write(tmp_path / "shared" / "common.py", LEGACY)
    link = tmp_path / "project" / "common.py"
    link.parent.mkdir()
    link.symlink_to(outside)
    assert main(["project"]) == 2
    err = capsys.readouterr().err
    assert f"project/common.py: a symlink to {outside}, outside the given paths: not written" in err
    assert outside.read_bytes() == LEGACY and link.is_symlink()
    assert "0 files changed" in err


def test_a_symlink_inside_the_tree_is_written_through_and_stays_a_symlink(tmp_path: Path) -> None:
    target = write(tmp_path / "project" / "real" / "common.py", LEGACY)
    link = tmp_path / "project" / "common.py"
    link.symlink_to(target)
    assert main([str(link), "project/real"]) == 1
    assert target.read_bytes() == MIGRATED and link.is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_owner_group_and_mode_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", LEGACY)
    os.chown(path, 1234, 5678)
    path.chmod(0o640)
    assert main(["mod.py"]) == 1
    info = path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 5678, 0o640)
    assert path.read_bytes() == MIGRATED


def test_hard_linked_files_are_refused_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "src" / "mod.py", LEGACY)
    os.link(path, tmp_path / "backup.py")
    assert main(["src"]) == 2
    assert "src/mod.py: has 2 hard links; replacing it would leave the other names with the old text" in (
        capsys.readouterr().err
    )
    assert path.read_bytes() == LEGACY and path.stat().st_nlink == 2


def test_read_only_files_are_reported_not_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "mod.py", LEGACY + b"from app.utils.structlog_config import unknown_name\n")
    path.chmod(0o444)
    assert main(["mod.py"]) == 2
    err = capsys.readouterr().err
    assert "mod.py: read-only: not written (make it writable and run again)" in err
    assert "unknown_name" not in err, "no findings for a file that was not written"
    assert path.read_bytes().startswith(LEGACY)


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", LEGACY)
    with open(path, "rb") as handle:
        read = files.fingerprint(handle.read(), os.fstat(handle.fileno()))
    path.write_bytes(LEGACY + b"log_info('added by the editor meanwhile')\n")
    with pytest.raises(files.NotWritten, match="changed since it was read"):
        files.replace(str(path), MIGRATED, read, [str(tmp_path)])
    assert path.read_bytes().endswith(b"meanwhile')\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mod.py"]


def test_touching_a_file_without_changing_it_does_not_block_the_write(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", LEGACY)
    with open(path, "rb") as handle:
        read = files.fingerprint(handle.read(), os.fstat(handle.fileno()))
    os.utime(path, (2_000_000_000, 2_000_000_000))
    files.replace(str(path), MIGRATED, read, [str(tmp_path)])
    assert path.read_bytes() == MIGRATED


def test_create_never_overwrites_another_file(tmp_path: Path) -> None:
    target = tmp_path / "settings.py"
    assert files.create(str(target), b"a = 1\n", [str(tmp_path)]) is True
    assert files.create(str(target), b"a = 1\n", [str(tmp_path)]) is False
    with pytest.raises(files.NotWritten, match="already exists with other content"):
        files.create(str(target), b"a = 2\n", [str(tmp_path)])
    assert target.read_bytes() == b"a = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.py"]
