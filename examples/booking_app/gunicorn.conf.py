"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py app:app``.

The same as ``gunicorn -k gevent --preload -w 2 app:app``: gevent workers, and the
application is imported once in the master (``--preload``) and then forked.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
preload_app = True
timeout = 30
accesslog = "-"


def post_fork(server, worker):
    """Log each worker's start through the logging module (imported by its old path)."""
    from app.utils.structlog_config import get_system_logger

    get_system_logger().info("gunicorn-Worker %s gestartet", worker.pid, module="system")
