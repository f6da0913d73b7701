"""Rule ``dead-flush``: the legacy handler's never-fed queue, its thread and flush methods go away."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.apply import main
from tests.codemods._helpers import check_noop, check_transformed

REPO = Path(__file__).resolve().parents[2]
NEWER_VARIANT = REPO / "examples" / "legacy_variants" / "newer_structlog_config.py"
LEGACY_APP = REPO / "examples" / "legacy_app"

HANDLER = '''import threading
import time
from queue import Empty, Queue


class SQLAlchemyLogHandler:
    """Stores events in the database."""

    def __init__(self, batch_size=100, flush_interval=5.0):
        self.batch_size = batch_size
        # never fed
        self.log_queue = Queue()
        self.batch_buffer = []
        self.last_flush = time.time()
        self._shutdown = False
        self._lock = threading.Lock()
        # Start background processing thread
        self._thread = threading.Thread(target=self._process_logs, daemon=True)
        self._thread.start()

    def __call__(self, logger, method_name, event_dict):
        return event_dict

    def _process_logs(self):
        while not self._shutdown:
            try:
                entry = self.log_queue.get(timeout=1.0)
                self.batch_buffer.append(entry)
            except Empty:
                self._flush_logs()

    def _flush_logs(self):
        self.batch_buffer.clear()
        self.last_flush = time.time()

    def shutdown(self):
        """Stop the background thread, flushing what is left."""
        self._shutdown = True
        if self.batch_buffer:
            self._flush_logs()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def flush_now(self):
        self._flush_logs()


class StructlogConfig:
    def __init__(self):
        self.handler = SQLAlchemyLogHandler()
'''

CLEANED = '''import threading


class DatabaseLogHandler:
    """Stores events in the database."""

    def __init__(self, batch_size=100, flush_interval=5.0):
        self.batch_size = batch_size
        self._shutdown = False
        self._lock = threading.Lock()

    def __call__(self, logger, method_name, event_dict):
        return event_dict

    def shutdown(self):
        """Stop the background thread, flushing what is left."""
        self._shutdown = True

    def flush_now(self):
        pass


SQLAlchemyLogHandler = DatabaseLogHandler  # the legacy name, for code that imports it from here


class StructlogConfig:
    def __init__(self):
        self.handler = DatabaseLogHandler()
'''


def test_machinery_removed_class_renamed_old_name_kept() -> None:
    check_transformed(HANDLER, CLEANED, path="app/logging/handlers.py")


def test_inline_thread_and_emptied_method() -> None:
    check_transformed(
        "import threading\n"
        "\n"
        "class Handler:\n"
        "    def __init__(self):\n"
        "        self.batch_buffer = []\n"
        "        threading.Thread(target=self._flush_logs, daemon=True).start()\n"
        "\n"
        "    def close(self):\n"
        "        if self.batch_buffer:\n"
        "            self._flush_logs()\n"
        "\n"
        "    def _flush_logs(self):\n"
        "        self.batch_buffer.clear()\n",
        "class Handler:\n    def __init__(self):\n        pass\n\n    def close(self):\n        pass\n",
    )


def test_guard_with_side_effects_keeps_its_test() -> None:
    check_transformed(
        "class Handler:\n"
        "    def close(self):\n"
        "        if self.stop_requested():\n"
        "            self._flush_logs()\n"
        "\n"
        "    def _flush_logs(self):\n"
        "        self.batch_buffer = []\n",
        "class Handler:\n    def close(self):\n        if self.stop_requested():\n            pass\n",
    )


def test_remaining_use_of_removed_state_is_reported() -> None:
    findings = check_transformed(
        "class Handler:\n"
        "    def __init__(self):\n"
        "        self.log_queue = None\n"
        "        self.batch_buffer = []\n"
        "\n"
        "    def pending(self):\n"
        "        return self.log_queue.qsize()\n",
        "class Handler:\n"
        "    def __init__(self):\n"
        "        pass\n"
        "\n"
        "    def pending(self):\n"
        "        return self.log_queue.qsize()\n",
    )
    assert findings == ["7: still uses the removed queue/thread state; left as is"]


def test_classes_without_the_machinery_are_left_alone() -> None:
    check_noop(
        "class Buffer:\n"
        "    def __init__(self):\n"
        "        self.items = []  # not a batch_buffer\n"
        "\n"
        "    def flush(self):\n"
        "        self.items.clear()\n"
    )
    check_noop("def _flush_logs():\n    pass\n")


@pytest.mark.skipif(not NEWER_VARIANT.exists(), reason="the newer-variant fixture is not there yet")
def test_newer_variant_fixture_loses_the_dead_machinery(tmp_path: Path) -> None:
    target = tmp_path / "newer_structlog_config.py"
    shutil.copy(NEWER_VARIANT, target)

    assert main([str(target), "--only", "dead-flush", "--jobs", "1"]) == 1

    tree = ast.parse(target.read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    assert "DatabaseLogHandler" in classes and "SQLAlchemyLogHandler" not in classes
    handler = classes["DatabaseLogHandler"]
    methods = {node.name for node in handler.body if isinstance(node, ast.FunctionDef)}
    assert not methods & {"_process_logs", "_flush_logs"}
    assert {"__init__", "__call__", "shutdown"} <= methods
    attributes = {
        node.attr for node in ast.walk(handler) if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    }
    assert not attributes & {"log_queue", "batch_buffer", "last_flush", "_process_logs", "_flush_logs", "_thread"}
    assert main([str(target), "--only", "dead-flush", "--check", "--jobs", "1"]) == 0


@pytest.mark.skipif(not NEWER_VARIANT.exists(), reason="the newer-variant fixture is not there yet")
def test_cleaned_newer_variant_imports_and_starts_no_thread(tmp_path: Path) -> None:
    target = tmp_path / "newer_structlog_config.py"
    shutil.copy(NEWER_VARIANT, target)
    main([str(target), "--only", "dead-flush", "--jobs", "1"])
    script = (
        "import importlib.util, threading, sys\n"
        f"spec = importlib.util.spec_from_file_location('newer', {str(target)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "before = threading.active_count()\n"
        "handler = module.DatabaseLogHandler()\n"
        "assert module.SQLAlchemyLogHandler is module.DatabaseLogHandler\n"
        "assert threading.active_count() == before, 'the handler still starts a thread'\n"
        "handler.shutdown()\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=LEGACY_APP,
        env={"PYTHONPATH": str(LEGACY_APP), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_class_whose_queue_is_fed_is_not_dead_code() -> None:
    findings = check_noop(
        "class Handler:\n"
        "    def __init__(self):\n"
        "        self.log_queue = Queue()\n"
        "\n"
        "    def __call__(self, logger, method_name, event_dict):\n"
        "        self.log_queue.put(event_dict)\n"
        "        return event_dict\n"
        "\n"
        "    def _process_logs(self):\n"
        "        while True:\n"
        "            write(self.log_queue.get())\n"
    )
    assert findings == ["6: the legacy queue is fed here, so its thread is not dead code; the class is left as is"]


def test_a_lone_log_queue_attribute_is_not_the_legacy_handler() -> None:
    check_noop("class Pipeline:\n    def __init__(self):\n        self.log_queue = []\n")
