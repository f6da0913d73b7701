"""Benchmark ``python -m codemods.apply`` on a generated code base.

Generates a package tree in a temporary folder: ``--files`` files (default 2,000), 10% of them
using the legacy module in the forms real code bases have (from-imports, parenthesised and
aliased imports, renamed names, module aliases, ``from app.utils import structlog_config``,
relative imports, function-level and ``try/except ImportError`` imports, star imports,
``_global_context`` writes, import-time ``bind_context``, debug guards, ``mock.patch`` strings,
``if TYPE_CHECKING`` imports, plain ``import app.utils.structlog_config``),
the rest plain Python of the same size, plus the legacy module itself.

It measures, in one run (after a small warm-up, ``--repeat`` interleaved rounds, every apply on a
fresh copy; the medians are printed):

- the floor: parsing and regenerating the files the pre-filter selects with libcst, as a no-op
  (``libcst.parse_module(source).code``), sources already in memory;
- the full apply with one job and with ``--jobs 2`` (walking, reading, pre-filtering all the
  files, rewriting and writing the matching ones);

and prints the times and the ratios apply(1 job)/floor (target <= 1.5) and jobs2/jobs1
(target < 1), plus how many files and statements scope analysis (libcst's ``ScopeProvider``)
ran on. Wall-clock times suffer when other processes share the machine; the CPU-time ratio of
the one-job run does not. Run: ``python benchmarks/bench_codemods.py [--files N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import libcst as cst

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from codemods.apply import _triggers, main  # noqa: E402
from codemods.fixers import FIXERS  # noqa: E402
from codemods._engine import FileState, Options  # noqa: E402

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
    triggers = _triggers(FIXERS, Options())
    selected = []
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if any(trigger in data for trigger in triggers) or path.name == "structlog_config.py":
            selected.append(data.decode("utf-8"))
    return selected


def time_floor(sources: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds to parse and regenerate ``sources`` with libcst."""
    wall, cpu = time.perf_counter(), time.process_time()
    for source in sources:
        cst.parse_module(source).code  # noqa: B018
    return time.perf_counter() - wall, time.process_time() - cpu


def time_apply(template: Path, work: Path, jobs: int) -> tuple[float, float]:
    """Wall and (this process's) CPU seconds of ``apply --jobs N`` on a fresh copy of ``template``."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work)
    with contextlib.redirect_stderr(io.StringIO()):
        wall, cpu = time.perf_counter(), time.process_time()
        main([str(work), "--jobs", str(jobs)])
        return time.perf_counter() - wall, time.process_time() - cpu


class ScopeCounter:
    """Counts the files and top-level statements scope analysis ran on (one-job runs are in-process)."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.statements = 0
        self._original = FileState.scopes

    def __enter__(self) -> ScopeCounter:
        counter, original = self, self._original

        def scopes(state: FileState, pattern):  # type: ignore[no-untyped-def]
            counter.files.add(state.info.path)
            counter.statements += len(state.hot(pattern))
            return original(state, pattern)

        FileState.scopes = scopes  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        FileState.scopes = self._original  # type: ignore[method-assign]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def main_bench(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="number of generated files (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3; medians are reported)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-codemods-") as tmp:
        base = Path(tmp)
        template = base / "template"
        generate(template, args.files, args.seed)
        sources = matching_sources(template)
        lines = sum(source.count("\n") for source in sources)
        statements = sum(len(cst.parse_module(source).body) for source in sources)

        warm_up = base / "warm-up"
        generate(warm_up, min(args.files, 200), args.seed + 1)
        time_floor(matching_sources(warm_up))
        time_apply(warm_up, base / "warm-up-run", 1)  # first-use costs (dispatch tables, regex caches)

        floor, one, two = [], [], []
        counter = ScopeCounter()
        for round_ in range(args.repeat):  # interleaved and paired: a busy spell hits the three alike
            floor.append(time_floor(sources))
            with counter if round_ == 0 else contextlib.nullcontext():
                one.append(time_apply(template, base / "jobs1", 1))
            two.append(time_apply(template, base / "jobs2", 2))
        same = snapshot(base / "jobs1") == snapshot(base / "jobs2")
        changed = sum(1 for a, b in zip(snapshot(template).values(), snapshot(base / "jobs1").values()) if a != b)

    ratio_wall = statistics.median(o[0] / f[0] for o, f in zip(one, floor))
    ratio_cpu = statistics.median(o[1] / f[1] for o, f in zip(one, floor))
    ratio_jobs = statistics.median(t[0] / o[0] for t, o in zip(two, one))
    print(f"files: {args.files} generated, {len(sources)} match the pre-filter ({lines} lines), {changed} rewritten")
    print(
        f"scope analysis ran on {len(counter.files)} of {len(sources)} files, "
        f"over {counter.statements} of their {statements} top-level statements"
    )
    print(f"{args.repeat} rounds (after a warm-up), median seconds, wall clock (CPU time of this process):")
    floor_times = f"{_median(floor, 0):7.3f}  ({_median(floor, 1):.3f})"
    print(f"  floor  (libcst parse + regenerate the matching files): {floor_times}")
    print(f"  apply  --jobs 1:                                       {_median(one, 0):7.3f}  ({_median(one, 1):.3f})")
    print(f"  apply  --jobs 2:                                       {_median(two, 0):7.3f}   (CPUs: {os.cpu_count()})")
    print(f"ratio  apply(1 job) / floor = {ratio_wall:.2f}  (CPU time: {ratio_cpu:.2f})  target <= 1.5")
    print(f"ratio  jobs2 / jobs1        = {ratio_jobs:.2f}   target < 1")
    print(f"jobs 1 and jobs 2 give the same files: {same}")
    return 0 if same else 1


def _median(rounds: list[tuple[float, float]], which: int) -> float:
    return statistics.median(r[which] for r in rounds)


if __name__ == "__main__":
    raise SystemExit(main_bench())
