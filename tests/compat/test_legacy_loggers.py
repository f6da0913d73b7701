"""The loggers compat hands out keep the legacy loggers' interface: tested against the legacy modules' own loggers.

Both example apps configure structlog with stdlib's ``LoggerFactory`` and ``BoundLogger``.
``logger_driver.py`` calls the same methods (``name``, ``isEnabledFor``, ``getEffectiveLevel``,
``setLevel``, ``log(level, ...)``, ``exception``, printf-style arguments, ``bind`` / ``new`` /
``unbind``) on the app's legacy module and, after the compat step, on compat; the results,
the stored rows and the lines in the app's own log file must be the same. The one allowed
difference is documented: the older variant's chain had no ``PositionalArgumentsFormatter``
and stored the template with ``positional_args``; compat stores the formatted message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("logger_driver.py")
APPS = {"booking_app (newer variant)": "booking_app", "legacy_app (older variant)": "legacy_app"}


def drive(app: str, mode: str, tmp_path: Path) -> dict[str, Any]:
    result = tmp_path / f"{mode}.json"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / f'{mode}.db'}",
        "LOG_FILE": str(tmp_path / f"{mode}.log"),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, str(DRIVER), mode, str(result)],
        cwd=ROOT / "examples" / app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return json.loads(result.read_text(encoding="utf-8"))


def formatted(row: dict[str, Any]) -> dict[str, Any]:
    """The older variant's row as a formatting chain stores it (the documented delta)."""
    args = row["context"].pop("positional_args", None)
    if args is not None:
        row["message"] = row["message"] % (args[0] if len(args) == 1 and isinstance(args[0], dict) else tuple(args))
    return row


@pytest.mark.parametrize("name", sorted(APPS))
def test_compat_loggers_answer_store_and_print_like_the_legacy_ones(name: str, tmp_path: Path) -> None:
    legacy = drive(APPS[name], "legacy", tmp_path)
    after = drive(APPS[name], "compat", tmp_path)

    assert (legacy["served_by"], after["served_by"]) == ("app.utils.structlog_config", "compat.structlog_config")
    assert after["results"] == legacy["results"]
    assert after["results"]["after_setLevel_debug"] == [True, 10, 10]
    assert after["rows"] == [formatted(row) for row in legacy["rows"]]
    assert len(after["rows"]) == 13  # all but the DEBUG event; the stdlib level decides what the file gets, not the table
    assert after["file"]["Below the auth logger"] == [] and after["rows"][-1]["message"] == "Below the auth logger's stdlib level"
    assert after["file"] == legacy["file"]
    assert all(len(levels) == 1 for marker, levels in after["file"].items() if marker not in ("Below the auth logger", "Debug stays out"))
