"""compat.install() and compat.STUB: the old module path served without the old file.

Each test runs in a fresh interpreter (``sys.modules`` is what is being checked) with a small
package tree in tmp_path: ``pkg/__init__.py`` and ``pkg/utils/__init__.py``, no legacy file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import compat
from tests.characterization.harness import clean_env

PRELUDE = """
import json, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import compat
import compat.structlog_config as served   # its dependencies are loaded before the snapshots
def snapshot():
    return {name: id(module) for name, module in sys.modules.items()}
def disturbed(before):
    after = snapshot()
    return {"changed": sorted(k for k in before if after.get(k) != before[k]), "added": sorted(set(after) - set(before))}
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg" / "utils").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text('MARK = "the real pkg"\n')
    (tmp_path / "pkg" / "utils" / "__init__.py").write_text("UTILS_MARK = 1\n")
    return tmp_path


def run(folder: Path, code: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_old_path_is_importable_without_the_file(tree: Path) -> None:
    out = run(
        tree,
        """
        before = snapshot()
        module = compat.install("pkg.utils.structlog_config")
        report = disturbed(before)
        report["pkg_imported_by_install"] = "pkg" in sys.modules
        import pkg.utils.structlog_config as aliased
        from pkg.utils import structlog_config as from_package
        from pkg.utils.structlog_config import log_info, _global_context, structlog_config
        import pkg
        report["same_module"] = aliased is from_package is module is served
        report["attribute_access"] = pkg.utils.structlog_config is served
        report["parents_real"] = [pkg.MARK, pkg.utils.UTILS_MARK]
        report["names"] = [log_info is served.log_info, structlog_config is served.structlog_config]
        report["spec"] = served.__spec__.name
        print(json.dumps(report))
        """,
    )

    assert out["changed"] == [] and out["added"] == []
    assert out["pkg_imported_by_install"] is False
    assert out["same_module"] and out["attribute_access"]
    assert out["parents_real"] == ["the real pkg", 1]
    assert out["names"] == [True, True]
    assert out["spec"] == "compat.structlog_config"


def test_existing_parent_packages_are_kept(tree: Path) -> None:
    out = run(
        tree,
        """
        import pkg.utils
        parent = sys.modules["pkg.utils"]
        before = snapshot()
        module = compat.install("pkg.utils.structlog_config")
        report = disturbed(before)
        report["parent_kept"] = sys.modules["pkg.utils"] is parent and parent.UTILS_MARK == 1
        report["attribute"] = parent.structlog_config is module
        print(json.dumps(report))
        """,
    )

    assert out["changed"] == []
    assert out["added"] == ["pkg.utils.structlog_config"]
    assert out["parent_kept"] and out["attribute"]


def test_missing_parents_become_empty_packages(tree: Path) -> None:
    out = run(
        tree,
        """
        compat.install("nowhere.deep.structlog_config")
        import nowhere.deep.structlog_config as module
        import nowhere
        print(json.dumps({"served": module is served, "empty": [n for n in vars(nowhere) if not n.startswith("__")]}))
        """,
    )

    assert out == {"served": True, "empty": ["deep"]}


def test_install_is_idempotent(tree: Path) -> None:
    out = run(
        tree,
        """
        first = compat.install("pkg.utils.structlog_config")
        import pkg.utils.structlog_config
        before = snapshot()
        second = compat.install("pkg.utils.structlog_config")
        print(json.dumps({"same": first is second, **disturbed(before), "finders": sum(type(f).__name__ == "_LegacyPathFinder" for f in sys.meta_path)}))
        """,
    )

    assert out == {"same": True, "changed": [], "added": [], "finders": 1}


def test_install_after_the_legacy_module_was_imported_is_an_error(tree: Path) -> None:
    (tree / "pkg" / "utils" / "structlog_config.py").write_text("def log_info(message, module='app', **kwargs):\n    pass\n")

    out = run(
        tree,
        """
        import pkg.utils.structlog_config
        try:
            compat.install("pkg.utils.structlog_config")
        except RuntimeError as exc:
            print(json.dumps({"error": str(exc), "kept": sys.modules["pkg.utils.structlog_config"] is not served}))
        """,
    )

    assert out["kept"]
    assert "already imported from" in out["error"] and "call install() before the first import" in out["error"]


def test_invalid_path_is_refused() -> None:
    with pytest.raises(ValueError, match="dotted module path"):
        compat.install("app/utils/structlog_config.py")


def test_the_stub_is_one_line_and_serves_compat(tree: Path) -> None:
    (tree / "pkg" / "utils" / "structlog_config.py").write_text(compat.STUB)
    (tree / "pkg" / "utils" / "__init__.py").write_text("from .structlog_config import log_info, _global_context\n")

    out = run(
        tree,
        """
        warnings.resetwarnings()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import pkg.utils
            import pkg.utils.structlog_config as module
        print(json.dumps({
            "served": module is served and pkg.utils.structlog_config is served and pkg.utils.log_info is served.log_info,
            "warnings": [(str(w.message), w.filename.replace("\\\\", "/").rsplit("/", 3)[-3:]) for w in caught if w.category is DeprecationWarning],
        }))
        """,
    )

    assert compat.STUB.count("\n") == 1
    assert out["served"]
    [(message, where)] = out["warnings"]
    assert "pkg.utils.structlog_config is served by compat" in message and "from newlog import" in message
    assert where == ["pkg", "utils", "__init__.py"]  # the line that imported the old path


PROFILE_MODULE = '''
from newlog.error_profile import ErrorProfile, Outcome, PayloadShape, Rule, Text

PROFILE = ErrorProfile(
    rules=(Rule(outcome=Outcome(500, "system", "high", "INTERNAL_ERROR", Text.literal("Etwas ist schiefgelaufen."), False)),),
    payload=PayloadShape(keys=("error", "error_id", "category", "severity", "message_code", "message")),
)
IDENTITY = {"app_name": "Shop Deluxe", "app_version": lambda: "9.9", "host": "pod-1"}
REQUEST_ONLY = frozenset({"host"})
'''


def test_a_stub_with_a_profile_answers_errors_and_fills_identity_the_legacy_way(tree: Path) -> None:
    (tree / "pkg" / "utils" / "legacy_profile.py").write_text(PROFILE_MODULE)
    (tree / "pkg" / "utils" / "structlog_config.py").write_text(compat.stub("pkg.utils.legacy_profile"))

    out = run(
        tree,
        """
        from flask import Flask
        import newlog
        from newlog.error_adapter import current_error_profile
        from pkg.utils.structlog_config import enhanced_error_handler, log_info
        import pkg.utils.legacy_profile as profile

        app = Flask("shop")
        app.config["LOG_CONSOLE_LEVEL"] = "OFF"
        rows = []
        newlog.init_app(app, sink=rows.extend)
        with app.test_request_context("/"):
            payload = enhanced_error_handler(ZeroDivisionError("x"))
            log_info("in a request")
        with app.app_context():
            log_info("outside a request")
        assert newlog.flush(10)
        identity = {row["message"]: {key: row["context"].get(key) for key in ("app_name", "app_version", "host")} for row in rows}
        print(json.dumps({"same": current_error_profile() is profile.PROFILE, "message": payload["message"], "identity": identity}))
        """,
    )

    assert out["same"] is True and out["message"] == "Etwas ist schiefgelaufen."
    assert out["identity"]["in a request"] == {"app_name": "Shop Deluxe", "app_version": "9.9", "host": "pod-1"}
    assert out["identity"]["outside a request"] == {"app_name": "Shop Deluxe", "app_version": "9.9", "host": None}


def test_a_profile_that_is_not_one_names_what_it_lacks(tree: Path) -> None:
    (tree / "pkg" / "utils" / "settings.py").write_text("DEBUG = True\n")

    result = subprocess.run(
        [sys.executable, "-c", "import compat; compat.install('pkg.utils.structlog_config', profile='pkg.utils.settings')"],
        cwd=tree,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "compat: pkg.utils.settings is not a profile module (it lacks PROFILE, IDENTITY)" in result.stderr


def test_the_old_path_serves_the_apps_own_enums_named_by_the_profile(tree: Path) -> None:
    (tree / "pkg" / "constants.py").write_text(
        "import enum\n\n\nclass Kategorie(enum.Enum):\n    BOOKING = 'booking'\n\n\nclass Schwere(enum.Enum):\n    LOW = 'low'\n"
    )
    module = PROFILE_MODULE + "from pkg.constants import Kategorie, Schwere\n\nENUMS = {'ErrorCategory': Kategorie, 'ErrorSeverity': Schwere}\n"
    (tree / "pkg" / "utils" / "legacy_profile.py").write_text(module)
    (tree / "pkg" / "utils" / "structlog_config.py").write_text(compat.stub("pkg.utils.legacy_profile"))

    out = run(
        tree,
        """
        from pkg.utils.structlog_config import ErrorCategory, ErrorSeverity
        from pkg.utils import structlog_config
        print(json.dumps({"names": [ErrorCategory.__qualname__, ErrorSeverity.__qualname__], "member": structlog_config.ErrorCategory.BOOKING.value}))
        """,
    )

    assert out == {"names": ["Kategorie", "Schwere"], "member": "booking"}
