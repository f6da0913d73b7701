"""``python -m codemods.apply``: exit codes, modes, encodings, atomic writes, folders, jobs, rule selection."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.apply import main
from tests.codemods._helpers import READABLE_LEGACY

LEGACY_IMPORT = b"from app.utils.structlog_config import configure_structlog, log_info\n"
OLD_TIME = 1_000_000_000


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the test's folder, as a team runs the command from its project root (it decides first-party)."""
    monkeypatch.chdir(tmp_path)


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    os.utime(path, (OLD_TIME, OLD_TIME))
    return path


def make_app(root: Path) -> dict[str, Path]:
    """A small package tree using the legacy module."""
    app = root / "app"
    files = {
        "init": write(
            app / "__init__.py",
            b"from app.utils.structlog_config import configure_structlog\n\n"
            b"def create_app(app):\n    configure_structlog(app)\n",
        ),
        "utils": write(
            app / "utils" / "__init__.py", b"from .structlog_config import log_info\n\n__all__ = ['log_info']\n"
        ),
        "legacy": write(app / "utils" / "structlog_config.py", READABLE_LEGACY),
        "views": write(app / "views.py", b"import app.utils.structlog_config as slc\n\nslc.log_info('x')\n"),
        "plain": write(app / "plain.py", b"import os\n\nprint(os.sep)\n"),
    }
    return files


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_app(tmp_path)
    assert main([str(tmp_path), "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert "4 files changed" in err and "imports:" in err and "legacy-file: 1 edit in 1 file" in err
    assert main([str(tmp_path), "--jobs", "1"]) == 0
    assert "0 files changed" in capsys.readouterr().err


def test_check_writes_nothing(tmp_path: Path) -> None:
    files = make_app(tmp_path)
    before = snapshot(tmp_path)
    assert main([str(tmp_path), "--check", "--jobs", "1"]) == 1
    assert snapshot(tmp_path) == before
    assert all(path.stat().st_mtime == OLD_TIME for path in files.values())


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = make_app(tmp_path)
    before = snapshot(tmp_path)
    assert main([str(tmp_path / "app" / "views.py"), "--diff", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert f"--- {files['views']}\n+++ {files['views']}\n" in out
    assert "-import app.utils.structlog_config as slc\n+import newlog\n" in out
    assert "-slc.log_info('x')\n+newlog.log_info('x')\n" in out
    assert snapshot(tmp_path) == before
    assert files["views"].stat().st_mtime == OLD_TIME


def test_parse_errors_are_reported_and_the_other_files_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(
        tmp_path / "broken.py", b"from app.utils.structlog_config import log_info\n\ndef broken(:\n    pass\n"
    )
    good = write(tmp_path / "good.py", b"from app.utils.structlog_config import log_info\n")
    assert main([str(tmp_path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:3:12: invalid syntax; file left unchanged\n" in err
    assert broken.read_bytes().startswith(b"from app.utils")
    assert good.read_bytes() == b"from newlog import log_info\n"


def test_files_that_cannot_mention_the_legacy_module_are_not_parsed(tmp_path: Path) -> None:
    write(tmp_path / "broken.py", b"def broken(:\n")
    assert main([str(tmp_path), "--jobs", "1"]) == 0


def test_undecodable_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path / "bad.py", b"from app.utils.structlog_config import log_info\nx = '\xff'\n")
    assert main([str(tmp_path), "--jobs", "1"]) == 2
    assert f"{bad}:2:6: cannot decode the file" in capsys.readouterr().err


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path / "crlf.py",
        b"from app.utils.structlog_config import _global_context, log_info\r\n"
        b"\r\n"
        b"def view():\r\n"
        b"    _global_context['a'] = 1\r\n",
    )
    assert main([str(path), "--jobs", "1"]) == 1
    assert path.read_bytes() == (
        b"from newlog import log_info\r\n"
        b"from structlog.contextvars import bind_contextvars\r\n"
        b"\r\n"
        b"def view():\r\n"
        b"    bind_contextvars(a=1)\r\n"
    )


def test_utf8_bom_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.py", b"\xef\xbb\xbf# caf\xc3\xa9\n" + LEGACY_IMPORT)
    assert main([str(path), "--jobs", "1"]) == 1
    assert path.read_bytes() == b"\xef\xbb\xbf# caf\xc3\xa9\nfrom newlog import init_app, log_info\n"


def test_latin1_declaration_is_kept(tmp_path: Path) -> None:
    source = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + LEGACY_IMPORT + b"log_info('\xe9t\xe9')\n"
    path = write(tmp_path / "latin.py", source)
    assert main([str(path), "--jobs", "1"]) == 1
    assert path.read_bytes() == (
        b"# -*- coding: latin-1 -*-\n# caf\xe9\nfrom newlog import init_app, log_info\nlog_info('\xe9t\xe9')\n"
    )


def test_atomic_write_keeps_the_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = write(tmp_path / "script.py", LEGACY_IMPORT)
    path.chmod(0o750)
    assert main([str(tmp_path), "--jobs", "1"]) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]


def test_unchanged_files_are_not_touched(tmp_path: Path) -> None:
    path = write(tmp_path / "prose.py", b'"""Mentions app.utils.structlog_config in prose."""\n')
    assert main([str(tmp_path), "--jobs", "1"]) == 0
    assert path.stat().st_mtime == OLD_TIME


@pytest.mark.parametrize(
    "folder", [".git", "venv", ".venv", "build", "dist", "__pycache__", "node_modules", "lib/site-packages", "myenv"]
)
def test_skipped_folders(tmp_path: Path, folder: str) -> None:
    if folder == "myenv":
        write(tmp_path / folder / "pyvenv.cfg", b"home = /usr/bin\n")
    skipped = write(tmp_path / folder / "mod.py", LEGACY_IMPORT)
    kept = write(tmp_path / "src" / "mod.py", LEGACY_IMPORT)
    assert main([str(tmp_path), "--jobs", "1"]) == 1
    assert skipped.read_bytes() == LEGACY_IMPORT
    assert kept.read_bytes() != LEGACY_IMPORT


def test_two_jobs_give_the_same_result_as_one(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        make_app(root)
        for i in range(6):
            write(root / "app" / f"extra{i}.py", LEGACY_IMPORT + b"\nconfigure_structlog(None)\n")
    assert main([str(one), "--jobs", "1"]) == 1
    assert main([str(two), "--jobs", "2"]) == 1
    assert snapshot(one) == snapshot(two)


def test_only_and_skip(tmp_path: Path) -> None:
    source = (
        b"from app.utils.structlog_config import _global_context, log_info\n\ndef f():\n    _global_context['a'] = 1\n"
    )
    path = write(tmp_path / "mod.py", source)
    assert main([str(path), "--only", "imports", "--jobs", "1"]) == 1
    assert path.read_bytes() == (
        b"from app.utils.structlog_config import _global_context\nfrom newlog import log_info\n\ndef f():\n"
        b"    _global_context['a'] = 1\n"
    )
    write(path, source)
    assert main([str(path), "--skip", "imports", "--skip", "debug-guard", "--jobs", "1"]) == 1
    assert path.read_bytes() == (
        b"from app.utils.structlog_config import log_info\nfrom structlog.contextvars import bind_contextvars\n\n"
        b"def f():\n    bind_contextvars(a=1)\n"
    )


def test_unknown_rule_is_a_usage_error_naming_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([".", "--only", "imprts"])
    assert exit_info.value.code == 2
    assert "unknown rule 'imprts'; valid rules: legacy-file, dead-flush, global-context, debug-guard, imports" in (
        capsys.readouterr().err
    )


def test_missing_path_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope"), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'nope'}: no such file or folder\n" in err
    assert ":1:1" not in err


def test_module_option(tmp_path: Path) -> None:
    write(tmp_path / "myapp" / "__init__.py", b"")
    legacy = write(tmp_path / "myapp" / "logconf.py", READABLE_LEGACY)
    user = write(
        tmp_path / "myapp" / "views.py",
        b"from .logconf import log_info\nfrom myapp import logconf\n\nlogconf.log_info('x')\n",
    )
    assert main([str(tmp_path), "--module", "myapp.logconf", "--jobs", "1"]) == 1
    assert b"compat.install(__name__, profile='myapp.newlog_profile')" in legacy.read_bytes()
    assert user.read_bytes() == b"import newlog\nfrom newlog import log_info\n\nnewlog.log_info('x')\n"


@pytest.mark.parametrize("layout", ["root", "parent", "src-namespace"])
def test_the_legacy_file_is_found_from_the_root_or_the_packages(tmp_path: Path, layout: str) -> None:
    if layout == "src-namespace":
        legacy = write(tmp_path / "src" / "app" / "utils" / "structlog_config.py", READABLE_LEGACY)
        root = tmp_path
    else:
        project = tmp_path / "project"
        write(project / "app" / "__init__.py", b"")
        write(project / "app" / "utils" / "__init__.py", b"")
        legacy = write(project / "app" / "utils" / "structlog_config.py", READABLE_LEGACY)
        root = project if layout == "root" else tmp_path
    assert main([str(root), "--jobs", "1"]) == 1
    assert b"compat.install(__name__, profile='app.utils.newlog_profile')" in legacy.read_bytes()
    assert (legacy.parent / "newlog_profile.py").is_file()


def test_delete_legacy(tmp_path: Path) -> None:
    files = make_app(tmp_path)
    assert main([str(tmp_path), "--check", "--delete-legacy", "--jobs", "1"]) == 1
    assert files["legacy"].exists()
    assert main([str(tmp_path), "--delete-legacy", "--jobs", "1"]) == 1
    assert not files["legacy"].exists()


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert re.search(r"exit codes:\n\s+0\s+nothing to change\n\s+1\s+files changed", out)
    assert "global-context" in out


def test_runs_as_a_module(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", LEGACY_IMPORT)
    result = subprocess.run(
        [sys.executable, "-m", "codemods.apply", "--check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "1 file would change" in result.stderr


def test_pre_commit_hook_is_declared() -> None:
    hooks = (Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: newlog-codemods" in hooks
    assert "entry: python -m codemods.apply --check" in hooks
    assert "language: python" in hooks and "types: [python]" in hooks


def test_abbreviated_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([".", "--dif"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --dif" in capsys.readouterr().err


def test_counts_use_plurals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "mod.py", b"from app.utils.structlog_config import log_info, nope\n")
    assert main([str(tmp_path), "--check", "--jobs", "1"]) == 1
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary == (
        "1 file would change (imports: 1 edit in 1 file); 1 finding to review; 0 errors; 1 file scanned, 1 examined"
    )


@pytest.mark.parametrize(
    ("color", "coloured"),
    [("always", True), ("never", False), ("auto", False)],  # auto: stdout is not a terminal
)
def test_color_of_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str], color: str, coloured: bool) -> None:
    write(tmp_path / "mod.py", b"from app.utils.structlog_config import log_info\n\tlog_info('x')  \n"[:-16] + b"\n")
    assert main([str(tmp_path), "--diff", "--color", color, "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert ("\x1b[31m-from app.utils.structlog_config import log_info\x1b[0m\n" in out) is coloured
    assert ("\x1b[32m+from newlog import log_info\x1b[0m\n" in out) is coloured
    if not coloured:
        assert "\x1b[" not in out and "-from app.utils.structlog_config import log_info\n" in out


def test_a_module_that_no_file_imports_is_said_so_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "mod.py", LEGACY_IMPORT)
    assert main([str(tmp_path), "--check", "--module", "app.utils.structlog_confg", "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "imports app.utils.structlog_confg (--module), and none is that module: nothing to migrate" in err
    assert "did you mean app.utils.structlog_config?" in err


def test_the_default_module_on_a_migrated_project_says_nothing_special(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "mod.py", b"from newlog import log_info\n")
    assert main([str(tmp_path), "--check", "--jobs", "1"]) == 0
    assert "note:" not in capsys.readouterr().err


LEGACY_FORMS = {
    "plain.py": b"import app.utils.structlog_config\n",
    "aliased.py": b"import app.utils.structlog_config as slc\n",
    "parent.py": b"from app.utils import structlog_config as cfg\n",
    "app/relative.py": b"from .utils.structlog_config import nothing_newlog_has\n",
    "in_function.py": b"def f():\n    from app.utils.structlog_config import _private\n",
    "fallback.py": b"try:\n    from app.utils import structlog_config\n"
    b"except ImportError:\n    structlog_config = None\n",
    "dynamic.py": b"import importlib\n\nmodule = importlib.import_module('app.utils.structlog_config')\n",
}


@pytest.mark.parametrize("name", sorted(LEGACY_FORMS))
def test_delete_legacy_refuses_while_a_file_still_imports_the_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    files = make_app(tmp_path)
    write(tmp_path / "app" / "stays" / "__init__.py", b"")
    importer = write(tmp_path / name, LEGACY_FORMS[name])
    assert main([str(tmp_path), "--delete-legacy", "--skip", "imports", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert files["legacy"].exists()
    assert f"{files['legacy']}: not deleted: " in err
    line = LEGACY_FORMS[name].split(b"structlog_config")[0].count(b"\n") + 1
    assert f"  {importer}:{line}: imports app.utils.structlog_config\n" in err


def test_delete_legacy_deletes_once_the_whole_project_is_migrated_in_the_same_run(tmp_path: Path) -> None:
    files = make_app(tmp_path)
    assert main([str(tmp_path), "--check", "--delete-legacy", "--jobs", "1"]) == 1
    assert files["legacy"].exists()
    assert main([str(tmp_path), "--delete-legacy", "--jobs", "1"]) == 1
    assert not files["legacy"].exists()
    assert b"structlog_config" not in files["views"].read_bytes()


def test_quiet_prints_findings_errors_and_the_summary_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "mod.py", b"from app.utils.structlog_config import log_info, nope\n")
    assert main([str(tmp_path), "--check", "--quiet", "--jobs", "1"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(
        "mod.py:1: 'nope' is not part of the legacy API newlog replaces; "
        "left importing it from app.utils.structlog_config [imports]"
    )
    assert lines[1].startswith("1 file would change")
