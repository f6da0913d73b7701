"""Development entry point, outside the package: ``python app.py [--port 5000]``.

``import app`` finds the *package* ``app/`` (a package wins over a module of the
same name), whose import builds the application object.
"""

from __future__ import annotations

import argparse

from app import app
from app.utils.structlog_config import _global_context, get_system_logger

logger = get_system_logger()


def main(argv: list[str] | None = None) -> None:
    """Run the development server."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    _global_context["server"] = "werkzeug-dev"
    logger.info("Entwicklungsserver auf Port %d", args.port, module="system")
    app.run(port=args.port, debug=True, use_reloader=False)


if __name__ == "__main__":
    main()
