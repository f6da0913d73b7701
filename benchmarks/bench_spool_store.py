"""How the spool writer stores a batch on PostgreSQL: the server-parsed JSON it uses against COPY text.

Side by side in one run, from the same spooled lines (``encode_row`` of ``sample_rows``) into
the indexed log table of ``bench_pipeline.py``, batches of 20,000 (the writer's default):

- json: what ``newlog.spool_store`` does, one ``INSERT ... SELECT FROM json_to_recordset`` per
  batch (the lines joined as they are; the server parses, checks and converts them);
- copy: the path it replaced, kept here as the baseline: each line decoded with orjson, each
  field encoded as COPY text in Python, one ``COPY ... FROM STDIN`` (psycopg 3) per batch.

Printed per path: rows/s, the writer's CPU per row (this process) and the server's CPU per
row (the connection's backend process, read from ``/proc``: only when the server runs on this
machine), the rounds interleaved, then the ratios json / copy. On a shared machine the figures
move from run to run; the ratios are the point.

Run: ``python benchmarks/bench_spool_store.py [--postgres URL] [--rows N] [--rounds N]``
(``$NEWLOG_TEST_POSTGRES_URL`` by default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import MetaData, Table, create_engine, text
from sqlalchemy.engine import Connection, Engine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import indexed_log_table, sample_rows  # noqa: E402
from newlog.models import ROW_COLUMNS  # noqa: E402
from newlog.rows import encode_row  # noqa: E402
from newlog.spool_store import SpoolRowStore  # noqa: E402

BATCH = 20_000


def copy_field(value: Any) -> str:
    """One field of PostgreSQL's COPY text format (the encoder the writer used before)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if not isinstance(value, str):
        value = orjson.dumps(value).decode() if isinstance(value, (dict, list)) else str(value)
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    return value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def store_by_copy(connection: Connection, table: Table, lines: list[bytes]) -> None:
    data = []
    for line in lines:
        values = orjson.loads(line)
        row = [values.get(key) for key in ROW_COLUMNS]
        row[-1] = orjson.dumps(row[-1]).decode()  # the JSON column: compact JSON text, None as null
        data.append("\t".join([copy_field(value) for value in row]) + "\n")
    names = ", ".join(f'"{key}"' for key in ROW_COLUMNS)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            copy.write("".join(data))


def store_by_json(connection: Connection, table: Table, lines: list[bytes], store: SpoolRowStore) -> None:
    """What the writer does with a full batch: the lines as they are (the server checks them)."""
    assert store.checks_lines
    store.write(connection, lines)


def backend_cpu(pid: int) -> float | None:
    """CPU seconds used so far by the server process ``pid``; None when it is not on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(engine: Engine, lines: list[bytes], path: str) -> tuple[float, float, float | None]:
    """Store ``lines`` into a fresh indexed table by ``path``; return rows/s and CPU µs per row (writer, server)."""
    table = indexed_log_table(f"bench_store_{uuid.uuid4().hex[:8]}", MetaData())
    table.create(engine)
    try:
        store = SpoolRowStore(engine, table)
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            connection.commit()
            server_start = backend_cpu(pid)
            cpu_start, start = time.process_time(), time.perf_counter()
            for offset in range(0, len(lines), BATCH):
                batch = lines[offset : offset + BATCH]
                with connection.begin():
                    if path == "json":
                        store_by_json(connection, table, batch, store)
                    else:
                        store_by_copy(connection, table, batch)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            server_end = backend_cpu(pid)
            stored = connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
            connection.commit()
        assert stored == len(lines), (path, stored)
        server = None if server_start is None or server_end is None else (server_end - server_start) / len(lines) * 1e6
        return len(lines) / elapsed, cpu / len(lines) * 1e6, server
    finally:
        table.drop(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("NEWLOG_TEST_POSTGRES_URL"), help="PostgreSQL URL (psycopg 3)")
    parser.add_argument("--rows", type=int, default=200_000, help="spooled rows per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per path")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("pass --postgres URL or set NEWLOG_TEST_POSTGRES_URL")
    engine = create_engine(args.postgres)
    lines = [encode_row(row).rstrip(b"\n") for row in sample_rows(args.rows)]
    results: dict[str, list[tuple[float, float, float | None]]] = {"json": [], "copy": []}
    for _ in range(args.rounds):
        for path in results:
            results[path].append(one_round(engine, lines, path))
    engine.dispose()

    def median(path: str, index: int) -> float | None:
        values = [result[index] for result in results[path]]
        return None if None in values else statistics.median(values)  # type: ignore[type-var]

    print(f"storing {args.rows} spooled rows into the indexed table, batches of {BATCH}, median of {args.rounds} rounds")
    for path in results:
        server = median(path, 2)
        server_text = "not measurable (server elsewhere)" if server is None else f"{server:5.1f} µs/row"
        print(f"    {path:4s}  {median(path, 0):8.0f} rows/s  writer CPU {median(path, 1):5.1f} µs/row  server CPU {server_text}")
    json_rate, copy_rate = median("json", 0), median("copy", 0)
    json_cpu, copy_cpu = median("json", 1), median("copy", 1)
    print(f"    json / copy: rows/s {json_rate / copy_rate:.2f}x, writer CPU {json_cpu / copy_cpu:.2f}x", end="")
    json_server, copy_server = median("json", 2), median("copy", 2)
    if json_server is not None and copy_server is not None:
        print(f", writer + server CPU {(json_cpu + json_server) / (copy_cpu + copy_server):.2f}x")
    else:
        print()


if __name__ == "__main__":
    main()
