"""An app process in spool mode, driven line by line on stdin (for the crash tests and the state machine).

``python -m tests.newlog.spool_child URL TABLE SPOOL_DIR`` wires a real Flask app with
``LOG_SPOOL_DIR`` and answers one JSON line per command:
``log FIRST COUNT`` (logs events ``seq=FIRST..FIRST+COUNT-1``; answers how many were accepted),
``flush SECONDS``, ``stats``; end of input: a normal exit (``shutdown()`` at exit).
"""

from __future__ import annotations

import json
import os
import sys

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

import newlog


def main() -> None:
    url, table, spool_dir = sys.argv[1:4]
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = open(os.devnull, "w")  # the printed log lines (a real write, like a server's) stay off the answers
    app = Flask("spool_child")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        LOG_TABLE=table,
        LOG_SPOOL_DIR=spool_dir,
        LOG_HEALTH_DIR=os.path.join(os.path.dirname(spool_dir), "health"),
        LOG_RENDERER="json",
        LOG_FLUSH_INTERVAL=0.01,
    )
    SQLAlchemy(app)
    queue = newlog.init_app(app)
    print(json.dumps({"ready": True, "pid": queue.stats()["pid"]}), file=answers, flush=True)
    for line in sys.stdin:
        command, *arguments = line.split()
        if command == "log":
            first, count = int(arguments[0]), int(arguments[1])
            before = queue.stats()["enqueued"]
            for seq in range(first, first + count):
                newlog.log_info("spooled", module="crash", seq=seq)
            answer: object = {"accepted": queue.stats()["enqueued"] - before}
        elif command == "flush":
            answer = {"flushed": queue.flush(float(arguments[0]))}
        elif command == "stats":
            answer = queue.stats()
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer, default=str), file=answers, flush=True)


if __name__ == "__main__":
    main()
