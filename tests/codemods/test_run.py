"""A real run in a subprocess: streamed lines, progress on a terminal, Ctrl-C / SIGTERM, the parent killed."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import child_pids, process_alive

LEGACY = "from app.utils.structlog_config import log_info\n\nlog_info('x')\n"
MIGRATED = "from newlog import log_info\n\nlog_info('x')\n"
ROOT = Path(__file__).resolve().parents[2]


def make_tree(root: Path, small: int = 40, big_lines: int = 12_000) -> Path:
    """Small legacy files, then (last in the walk order) one big one that keeps a worker busy for seconds."""
    for i in range(small):
        (root / f"mod{i:03}.py").write_text(LEGACY, encoding="utf-8")
    body = "".join(f"def f{i}(a, b=1):\n    return log_info('f{i}', a=a, b=b)\n\n\n" for i in range(big_lines // 4))
    big = root / "zz_big.py"
    big.write_text(LEGACY + body, encoding="utf-8")
    return big


def start(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    options: dict[str, object] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.Popen([sys.executable, "-m", "codemods.apply", *args], cwd=ROOT, text=True, **options)  # type: ignore[call-overload]


def test_lines_stream_while_the_run_goes_on(tmp_path: Path) -> None:
    make_tree(tmp_path)
    process = start("--check", "--jobs", "2", str(tmp_path))
    assert process.stderr is not None
    first = process.stderr.readline()
    still_running = process.poll() is None
    rest = process.communicate(timeout=300)[1]
    assert first.endswith("mod000.py: would change: imports 1\n")
    assert still_running, "the first line came only at the end of the run"
    assert "41 files would change" in rest


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_the_run_writes_nothing_half_and_says_what_was_written(
    tmp_path: Path, signum: signal.Signals
) -> None:
    big = make_tree(tmp_path)
    original_big = big.read_text(encoding="utf-8")
    process = start("--jobs", "2", str(tmp_path))
    assert process.stderr is not None
    process.stderr.readline()
    process.send_signal(signum)
    err = process.communicate(timeout=60)[1]
    assert process.returncode == 130, err
    assert "Traceback" not in err
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("interrupted: ") and "not processed" in summary
    contents = [p.read_text(encoding="utf-8") for p in sorted(tmp_path.glob("mod*.py"))]
    assert set(contents) <= {LEGACY, MIGRATED}
    written = contents.count(MIGRATED)
    assert summary.startswith(f"interrupted: {written} file{'s' if written != 1 else ''} changed")
    assert big.read_text(encoding="utf-8") == original_big
    assert not list(tmp_path.glob(".*codemods-tmp"))




@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the workers")
def test_workers_die_with_the_parent(tmp_path: Path) -> None:
    big = make_tree(tmp_path, big_lines=20_000)
    original_big = big.read_text(encoding="utf-8")
    process = start("--jobs", "2", str(tmp_path))
    assert process.stderr is not None
    process.stderr.readline()
    workers = child_pids(process.pid)
    assert workers, "no worker process found"
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 30  # a hang guard, not a timing assertion
    while any(process_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if process_alive(pid)], "workers outlived their parent"
    assert big.read_text(encoding="utf-8") == original_big


def test_progress_is_drawn_on_a_terminal_only(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"mod{i}.py").write_text(LEGACY, encoding="utf-8")
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    process = start("--check", "--jobs", "1", str(tmp_path), stderr=slave, env=env)  # type: ignore[arg-type]
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(master)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert "migrating" in terminal and "/30" in terminal
    assert "30 files would change" in terminal

    piped = start("--check", "--jobs", "1", str(tmp_path))
    err = piped.communicate(timeout=60)[1]
    assert "migrating" not in err and "\x1b[" not in err


WIDE_EXIT_RACE = """
import runpy, sys, time
import concurrent.futures.process as process

# The command, with a race of concurrent.futures made wide: its exit hook (_python_exit) sees the
# executor's wake-up pipe open, the executor's own teardown closes it, then the hook writes to it.
teardown = process._ExecutorManagerThread.join_executor_internals

def slow_teardown(self):
    time.sleep(1.0)  # still tearing down when the main thread reaches the interpreter's exit
    teardown(self)

def late_wakeup(self):  # CPython's _ThreadWakeup.wakeup, with a pause between check and write at exit
    if not self._closed:
        if process._global_shutdown:
            time.sleep(2.0)
        self._writer.send_bytes(b"")

process._ExecutorManagerThread.join_executor_internals = slow_teardown
process._ThreadWakeup.wakeup = late_wakeup
sys.argv = ["codemods.apply", *sys.argv[1:]]
runpy.run_module("codemods.apply", run_name="__main__")
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the workers")
@pytest.mark.parametrize("race", ["as it comes", "made wide"])
def test_a_worker_killed_from_outside_is_an_error_not_a_traceback(tmp_path: Path, race: str) -> None:
    big = make_tree(tmp_path, big_lines=20_000)
    original_big = big.read_text(encoding="utf-8")
    if race == "as it comes":
        process = start("--jobs", "1", str(tmp_path))
    else:
        command = [sys.executable, "-c", WIDE_EXIT_RACE, "--jobs", "1", str(tmp_path)]
        process = subprocess.Popen(command, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stderr is not None
    process.stderr.readline()
    workers = child_pids(process.pid)
    assert workers, "no worker process found"
    for worker in workers:
        os.kill(worker, signal.SIGKILL)
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 2, err
    assert "error: a worker process died" in err and "not processed" in err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert big.read_text(encoding="utf-8") == original_big


def test_a_closed_output_pipe_ends_the_run_quietly(tmp_path: Path) -> None:
    make_tree(tmp_path, small=60, big_lines=40)
    process = start("--diff", "--jobs", "1", str(tmp_path))
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    err = process.stderr.read()
    process.wait(timeout=120)
    assert process.returncode == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err


FACTORY = (
    "from flask import Flask\n"
    "from app.utils.structlog_config import _global_context\n\n\n"
    "def create_app():\n"
    "    app = Flask(__name__)\n"
    '    _global_context["region"] = "eu"\n'
    "    return app\n"
)


def test_a_file_sent_out_before_the_start_up_analysis_is_examined_again_with_it(tmp_path: Path) -> None:
    """The first file needs the analysis, which is made to finish only after the second file is done."""
    from codemods.model import Job, Options, Outcome
    from codemods.runner import run
    from codemods.startup import startup_functions

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").touch()
    factory, plain = tmp_path / "app" / "a_factory.py", tmp_path / "app" / "b_views.py"
    factory.write_text(FACTORY, encoding="utf-8")
    plain.write_text(LEGACY, encoding="utf-8")
    rules = ("imports", "global-context")
    unknown = Options(startup_functions=None)
    jobs = [Job(str(path), str(tmp_path), rules, unknown, diff=True) for path in (factory, plain)]
    second_done = threading.Event()
    analysed: list[Options] = []

    def analysis() -> Options:
        second_done.wait()  # the first file's job went out before this returns
        analysed.append(Options(startup_functions=startup_functions(jobs, unknown.module)))
        return analysed[0]

    handled: list[Outcome] = []
    result = run(jobs, 1, handled.append, options=analysis, on_progress=lambda n: second_done.set())

    assert result.done == 2 and not result.interrupted
    assert analysed[0].startup_functions == {"app.a_factory.create_app"}
    assert [Path(o.path).name for o in handled] == ["a_factory.py", "b_views.py"]
    assert '+    set_static_context(region="eu")\n' in handled[0].diff
    assert "+from newlog import log_info\n" in handled[1].diff


def _die(jobs: object) -> None:
    """A worker's task that kills its worker (the pool breaks)."""
    os._exit(1)


def test_ctrl_c_while_the_pool_is_torn_down_after_a_dead_worker_still_tears_it_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C arriving in the middle of ``_stop`` waits for it: no executor thread is left behind."""
    from codemods import runner
    from codemods.model import Job, Options

    (tmp_path / "a.py").write_text(LEGACY, encoding="utf-8")
    stop = runner._stop
    pools = []

    def interrupted_stop(pool: object) -> None:
        pools.append(pool)
        signal.raise_signal(signal.SIGINT)  # its handler runs before the teardown below starts
        stop(pool)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "_examine_all", _die)  # forked workers see it too
    monkeypatch.setattr(runner, "_stop", interrupted_stop)
    job = Job(str(tmp_path / "a.py"), str(tmp_path), ("imports",), Options(), diff=False)

    result = runner.run([job], 1, lambda outcome: None)

    assert result.failure is not None and "a worker process died" in result.failure
    assert result.interrupted and result.done == 0
    (pool,) = pools
    # ``shutdown(wait=True)`` clears these once it has joined the manager thread and the workers
    assert pool._executor_manager_thread is None, "the teardown was cut short"  # type: ignore[attr-defined]
    assert pool._processes is None  # type: ignore[attr-defined]
