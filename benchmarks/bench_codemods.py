"""Benchmark ``python -m codemods.apply`` on a generated code base and on one huge file.

Generates, in a temporary folder, a package tree of ``--files`` files (default 3,000), 10% of
them using the legacy module in the forms real code bases have (from-imports, parenthesised and
aliased imports, renamed names, module aliases, ``from app.utils import structlog_config``,
relative imports, function-level and ``try/except ImportError`` imports, star imports,
``_global_context`` writes, import-time ``bind_context``, debug guards, ``mock.patch`` strings,
``if TYPE_CHECKING`` imports, plain ``import app.utils.structlog_config``), the rest plain Python
of the same size, plus the legacy module itself; and one file of ``--big-lines`` lines (default
50,000) that imports the legacy module.

It measures, side by side in one run (after a warm-up; ``--repeat`` interleaved rounds, every
apply on a fresh copy; medians):

- the floor: parsing and regenerating the files the pre-filter selects with libcst, as a no-op
  (``libcst.parse_module(source).code``), sources already in memory;
- the full apply with one job and with ``--jobs 2`` (walking, reading, pre-filtering every file,
  rewriting and writing the matching ones), in this process (its workers are forked);
- time to first output of ``python -m codemods.apply --check`` started as a command, on the
  3,000-file tree: the first line on stderr when it is a pipe (what a CI log shows: the first
  changed file's line; the tree's first file changes), with the default jobs and ``--jobs 1``,
  and the first byte on a terminal (a pty: the progress display);
- peak memory (max RSS of the command and its workers) on the tree and on the huge file, next to
  the peak memory of a bare libcst parse of the huge file;
- how long the command and its workers take to be gone after SIGINT, SIGTERM or SIGKILL sent
  while a worker is busy with the huge file.

It prints files/s, the ratio apply(1 job) / floor (target <= 1.5), jobs2 / jobs1 (target < 1 on
2 CPUs or more), seconds to first output (target < 1) and the memory figures. Wall-clock times
suffer when other processes share the machine; the CPU-time ratio less so.
Run: ``python benchmarks/bench_codemods.py [--files N] [--big-lines N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pty
import random
import resource
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, QualifiedNameProvider

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from codemods.apply import main  # noqa: E402
from codemods.engine import Options  # noqa: E402
from codemods.fixers import FIXERS  # noqa: E402
from codemods.rewrite import triggers  # noqa: E402
from tests.support import child_pids, process_alive  # noqa: E402

LEGACY_MODULE_SOURCE = '''"""The legacy logging module (a shortened copy, for the benchmark)."""
import threading
import time
from queue import Queue

_global_context = {}


class SQLAlchemyLogHandler:
    def __init__(self, batch_size=100):
        self.batch_size = batch_size
        self.log_queue = Queue()
        self.batch_buffer = []
        self.last_flush = time.time()
        self._thread = threading.Thread(target=self._process_logs, daemon=True)
        self._thread.start()

    def _process_logs(self):
        while True:
            self.batch_buffer.append(self.log_queue.get())


def log_info(message, module="app", **kwargs):
    pass


def bind_context(**kwargs):
    _global_context.update(kwargs)
'''


# -- generated code -------------------------------------------------------------------------------------


def plain_body(rng: random.Random, n: int, call: str = "self.log") -> str:
    """About 130 lines of ordinary application code; ``call`` is the logging call it makes."""
    name = f"Service{n}"
    fields = ", ".join(f'"field_{i}": {rng.randint(0, 999)}' for i in range(6))
    return f'''

DEFAULTS = {{{fields}}}
LIMIT = {rng.randint(10, 500)}


class {name}:
    """Business logic number {n}."""

    def __init__(self, repository, cache=None, *, retries: int = 3) -> None:
        self.repository = repository
        self.cache = cache if cache is not None else {{}}
        self.retries = retries
        self.log = print

    def list_items(self, owner_id: int, limit: int = LIMIT) -> list[dict]:
        """Return the items of ``owner_id``."""
        rows = self.repository.query("select * from items where owner = %s limit %s", (owner_id, limit))
        result = []
        for row in rows:
            item = {{"id": row["id"], "total": float(row["total"]), "created": row["created"].isoformat()}}
            if row.get("note"):
                item["note"] = row["note"].strip()
            elif row.get("fallback") is not None:
                item["note"] = str(row["fallback"])
            result.append(item)
        {call}("listed items", module="service{n}", count=len(result), owner_id=owner_id)
        return result

    def create(self, payload: dict) -> dict:
        for attempt in range(self.retries):
            try:
                item_id = self.repository.insert("items", payload)
            except ConnectionError as exc:  # transient
                {call}("insert failed", module="service{n}", attempt=attempt, error=str(exc))
                continue
            break
        else:
            raise RuntimeError(f"could not create an item after {{self.retries}} attempts")
        self.cache.pop(payload.get("owner_id"), None)
        return {{"id": item_id, **payload}}

    @property
    def size(self) -> int:
        return len(self.cache)

    @staticmethod
    def normalise(value: str | None) -> str:
        if not value:
            return ""
        return " ".join(part.capitalize() for part in value.split() if part)


def _parse_amount(raw: str) -> int:
    """Parse an amount like ``12.50`` into cents."""
    whole, _, fraction = raw.partition(".")
    fraction = (fraction + "00")[:2]
    return int(whole or 0) * 100 + int(fraction)


def summarise(items: list[dict]) -> dict[str, float]:
    totals: dict[str, float] = {{}}
    for item in items:
        key = item.get("category", "other")
        totals[key] = totals.get(key, 0.0) + item["total"]
    return {{key: round(value, 2) for key, value in sorted(totals.items())}}


def handler_{n}(request):
    service = {name}(repository=request.repository)
    since = request.args.get("since")
    items = service.list_items(int(request.args.get("owner", 0)))
    data = [item for item in items if since is None or item["created"] >= since]
    if not data:
        {call}("nothing to report", module="service{n}")
        return {{"items": [], "summary": {{}}}}
    return {{"items": data, "summary": summarise(data), "limit": LIMIT}}


async def background_{n}(queue, stop) -> None:
    while not stop.is_set():
        job = await queue.get()
        try:
            await job.run()
        except Exception as exc:  # noqa: BLE001
            {call}("job failed", module="service{n}", job=repr(job), error=repr(exc))
        finally:
            queue.task_done()


class {name}Error(Exception):
    def __init__(self, message: str, *, code: int = 500) -> None:
        super().__init__(message)
        self.code = code

    def to_dict(self) -> dict[str, object]:
        return {{"message": str(self), "code": self.code}}
'''


HEADER = (
    '"""Generated module {n}."""\nfrom __future__ import annotations\n\n'
    "import json\nimport os\nfrom datetime import datetime, timezone\n"
)

LEGACY_FORMS: list[tuple[float, str, str]] = [
    # (weight, imports, logging call used in the body)
    (0.30, "from app.utils.structlog_config import get_api_logger, log_error, log_info\n", "log_info"),
    (
        0.10,
        "from app.utils.structlog_config import (  # logging\n"
        "    get_system_logger,\n    log_info,\n    log_warning,\n)\n",
        "log_warning",
    ),
    (0.08, "from app.utils.structlog_config import log_warning as warn\n", "warn"),
    (
        0.08,
        "from app.utils.structlog_config import configure_structlog, log_info, structlog_config\n\n"
        "def init_logging(app):\n    configure_structlog(app)\n    structlog_config.configure(app)\n",
        "log_info",
    ),
    (0.10, "import app.utils.structlog_config as slc\n", "slc.log_info"),
    (0.06, "from app.utils import structlog_config\n", "structlog_config.log_info"),
    (0.07, "from ..utils.structlog_config import log_error, log_info\n", "log_info"),
    (
        0.05,
        "try:\n    from app.utils.structlog_config import log_info\nexcept ImportError:  # scripts\n"
        "    def log_info(message, **kwargs):\n        print(message, kwargs)\n",
        "log_info",
    ),
    (
        0.06,
        "from app.utils.structlog_config import (\n"
        "    _global_context, bind_context, log_info, log_debug, should_log_debug,\n)\n\n"
        "bind_context(service='billing')\n\n"
        "def tag_request(request_id):\n    _global_context['request_id'] = request_id\n"
        "    if should_log_debug():\n        log_debug('tagged', module='billing')\n",
        "log_info",
    ),
    (0.03, "from app.utils.structlog_config import *  # noqa: F403\n", "log_info"),
    (
        0.04,
        "from unittest import mock\n\n\ndef patched():\n"
        "    return mock.patch('app.utils.structlog_config.log_info')\n\n"
        "def lazy(message):\n    from app.utils.structlog_config import log_info\n    log_info(message)\n",
        "print",
    ),
    (0.03, "import app.utils.structlog_config\n", "app.utils.structlog_config.log_info"),
    (
        0.03,
        "from typing import TYPE_CHECKING\n\nfrom app.utils.structlog_config import log_info\n\n"
        "if TYPE_CHECKING:\n    from app.utils.structlog_config import StructlogConfig\n\n"
        "def setup(app, config: StructlogConfig) -> None:\n"
        "    from app.utils.structlog_config import configure_structlog\n"
        "    configure_structlog(app)\n",
        "log_info",
    ),
    (
        0.03,
        "from app.utils.structlog_config import LogContext, with_log_context, log_info\n\n"
        "@with_log_context(component='jobs')\ndef run_job(job):\n"
        "    with LogContext(job=job):\n        log_info('running')\n",
        "log_info",
    ),
]


def generate(root: Path, files: int, seed: int) -> None:
    """Write the tree: packages ``app/utils`` (with the legacy module) and ``app/pkgN``."""
    rng = random.Random(seed)
    (root / "app" / "utils").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "utils" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "utils" / "structlog_config.py").write_text(LEGACY_MODULE_SOURCE, encoding="utf-8")
    weights = [w for w, _, _ in LEGACY_FORMS]
    legacy_every = 10
    for n in range(files):
        package = root / "app" / f"pkg{n // 100}"
        if not package.exists():
            package.mkdir()
            (package / "__init__.py").write_text("", encoding="utf-8")
        if n % legacy_every == 0:
            _, imports, call = rng.choices(LEGACY_FORMS, weights)[0]
            source = HEADER.format(n=n) + imports + plain_body(rng, n, call)
        else:
            source = HEADER.format(n=n) + plain_body(rng, n)
        (package / f"module{n}.py").write_text(source, encoding="utf-8")


# -- measuring -------------------------------------------------------------------------------------------


def matching_sources(root: Path) -> list[str]:
    """The sources the apply pre-filter selects (what it actually parses)."""
    words = triggers(tuple(FIXERS), Options())
    selected = []
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if any(word in data for word in words) or path.name == "structlog_config.py":
            selected.append(data.decode("utf-8"))
    return selected


def time_metadata(sources: list[str]) -> float:
    """CPU seconds of libcst's scope + qualified-name metadata over each whole module (parsing excluded).

    What ``RemoveImportsVisitor`` and ``QualifiedNameProvider``-based rules need for every file;
    the engine resolves scopes only over the few statements that mention a name.
    """
    total = 0.0
    for source in sources:
        module = cst.parse_module(source)
        cpu = time.process_time()
        MetadataWrapper(module, unsafe_skip_copy=True).resolve(QualifiedNameProvider)
        total += time.process_time() - cpu
    return total


def time_floor(sources: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds to parse and regenerate ``sources`` with libcst."""
    wall, cpu = time.perf_counter(), time.process_time()
    for source in sources:
        cst.parse_module(source).code  # noqa: B018
    return time.perf_counter() - wall, time.process_time() - cpu


def generate_big(path: Path, lines: int, seed: int) -> None:
    """One file of about ``lines`` lines that imports the legacy module and uses it throughout."""
    rng = random.Random(seed)
    parts = [HEADER.format(n=0), "from app.utils.structlog_config import configure_structlog, log_info\n"]
    count, n = sum(part.count("\n") for part in parts), 0
    while count < lines:
        part = plain_body(rng, n, "log_info")
        parts.append(part)
        count += part.count("\n")
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")


def time_apply(template: Path, work: Path, jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its workers) of ``apply --jobs N`` on a fresh copy of ``template``."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work)
    with contextlib.redirect_stderr(io.StringIO()):
        wall, cpu = time.perf_counter(), _cpu()
        main([str(work), "--jobs", str(jobs), "--quiet"])
        return time.perf_counter() - wall, _cpu() - cpu


def _cpu() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


_MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mib(command: list[str]) -> float:
    """Max RSS (MiB) of ``command`` and every process it waited for, measured in a fresh process."""
    result = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    return int(result.stdout.strip()) / 1024


def first_output(command: list[str], *, terminal: bool) -> float:
    """Seconds from start to the first byte on stderr (a pipe, or a pseudo-terminal)."""
    master, slave = pty.openpty() if terminal else os.pipe()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    os.read(master, 1)
    elapsed = time.perf_counter() - start
    process.kill()
    process.wait()
    os.close(master)
    return elapsed


def stop_latency(command: list[str], signum: int) -> float:
    """Seconds from ``signum`` (sent after the first line on stderr) until the command and its workers are gone."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stderr is not None
    process.stderr.readline()
    workers = child_pids(process.pid)
    start = time.perf_counter()
    process.send_signal(signum)
    process.wait()
    while any(process_alive(pid) for pid in workers):
        time.sleep(0.01)
    return time.perf_counter() - start




def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def main_bench(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=3000, help="number of generated files (default 3000)")
    parser.add_argument("--big-lines", type=int, default=50_000, help="lines of the huge file (default 50000)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3; medians are reported)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)
    apply = [sys.executable, "-m", "codemods.apply"]

    with tempfile.TemporaryDirectory(prefix="bench-codemods-") as tmp:
        base = Path(tmp)
        template = base / "template"
        generate(template, args.files, args.seed)
        sources = matching_sources(template)
        lines = sum(source.count("\n") for source in sources)
        big = base / "big" / "app" / "huge.py"
        generate_big(big, args.big_lines, args.seed)
        big_lines = big.read_text(encoding="utf-8").count("\n")

        warm_up = base / "warm-up"
        generate(warm_up, min(args.files, 200), args.seed + 1)
        time_floor(matching_sources(warm_up))
        time_apply(warm_up, base / "warm-up-run", 1)  # first-use costs (dispatch tables, regex caches)

        metadata = time_metadata(sources)
        floor, one, two, pipe, pipe1, tty = [], [], [], [], [], []
        for _ in range(args.repeat):  # interleaved and paired: a busy spell hits them alike
            floor.append(time_floor(sources))
            one.append(time_apply(template, base / "jobs1", 1))
            two.append(time_apply(template, base / "jobs2", 2))
            pipe.append(first_output([*apply, "--check", str(template)], terminal=False))
            pipe1.append(first_output([*apply, "--check", "--jobs", "1", str(template)], terminal=False))
            tty.append(first_output([*apply, "--check", str(template)], terminal=True))
        same = snapshot(base / "jobs1") == snapshot(base / "jobs2")
        changed = sum(1 for a, b in zip(snapshot(template).values(), snapshot(base / "jobs1").values()) if a != b)
        tree_rss = peak_rss_mib([*apply, "--check", "--jobs", "2", str(template)])
        parse_code = f"import libcst; libcst.parse_module(open({str(big)!r}, encoding='utf-8').read())"
        big_floor_rss = peak_rss_mib([sys.executable, "-c", parse_code])
        big_rss = peak_rss_mib([*apply, "--check", "--jobs", "1", str(big)])
        stops = {}
        if Path("/proc/self/task").is_dir():
            # eight small files fill the first task, so the huge file is a second worker's task when
            # the first line comes out: the signal reaches the run in the middle of parsing it
            stop = base / "stop"
            stop.mkdir()
            for n in range(8):
                (stop / f"a{n}.py").write_text("from app.utils.structlog_config import log_info\n", encoding="utf-8")
            shutil.copy(big, stop / "b_huge.py")
            busy = [*apply, "--check", "--jobs", "2", str(stop)]
            stops = {
                name: stop_latency(busy, signum)
                for name, signum in (
                    ("SIGINT", signal.SIGINT),
                    ("SIGTERM", signal.SIGTERM),
                    ("SIGKILL", signal.SIGKILL),
                )
            }
        big_wall = time.perf_counter()
        subprocess.run([*apply, "--check", "--jobs", "1", str(big)], capture_output=True, check=False)
        big_wall = time.perf_counter() - big_wall

    ratio_wall = statistics.median(o[0] / f[0] for o, f in zip(one, floor))
    ratio_cpu = statistics.median(o[1] / f[1] for o, f in zip(one, floor))
    ratio_jobs = statistics.median(t[0] / o[0] for t, o in zip(two, one))
    print(f"tree: {args.files} files, {len(sources)} match the pre-filter ({lines} lines), {changed} rewritten")
    print(f"{args.repeat} rounds (after a warm-up), median seconds, wall clock (CPU time incl. workers):")
    print(
        f"  floor  (libcst parse + regenerate the matching files): {_median(floor, 0):7.3f}  ({_median(floor, 1):.3f})"
    )
    print(f"  apply  --jobs 1:                                       {_median(one, 0):7.3f}  ({_median(one, 1):.3f})")
    print(f"  apply  --jobs 2:                                       {_median(two, 0):7.3f}   (CPUs: {os.cpu_count()})")
    print(
        f"  files/s: apply --jobs 1 {args.files / _median(one, 0):,.0f}, --jobs 2 {args.files / _median(two, 0):,.0f}"
    )
    print(f"ratio  apply(1 job) / floor = {ratio_wall:.2f}  (CPU time: {ratio_cpu:.2f})  target <= 1.5")
    print(f"ratio  jobs2 / jobs1        = {ratio_jobs:.2f}   target < 1")
    print(
        f"libcst scope + qualified-name metadata on every whole matching module: {metadata:.3f} s CPU "
        f"= {metadata / _median(floor, 1):.2f} x the floor's CPU time "
        "(why the engine resolves scopes on a few statements)"
    )
    print(
        f"first output of the command: stderr a pipe (the first changed file's line) {statistics.median(pipe):.2f} s, "
        f"with --jobs 1 {statistics.median(pipe1):.2f} s; a terminal (the progress display) "
        f"{statistics.median(tty):.2f} s  target < 1"
    )
    print(f"peak memory, tree --jobs 2: {tree_rss:.0f} MiB (largest process)")
    print(
        f"huge file ({big_lines} lines): apply --check {big_wall:.1f} s, peak {big_rss:.0f} MiB; "
        f"a bare libcst parse of it peaks at {big_floor_rss:.0f} MiB"
    )
    if stops:
        print(
            "stopping a run in the middle of the huge file (the command and its workers gone): "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stops.items())
            + "  target < 2"
        )
    print(f"jobs 1 and jobs 2 give the same files: {same}")
    return 0 if same else 1


def _median(rounds: list[tuple[float, float]], which: int) -> float:
    return statistics.median(r[which] for r in rounds)


if __name__ == "__main__":
    raise SystemExit(main_bench())
