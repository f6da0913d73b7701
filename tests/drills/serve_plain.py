"""``python tests/drills/serve_plain.py PORT``: the demo app on Flask's own server, as ``python app.py`` runs it."""

from __future__ import annotations

import sys

from tests.drills.demo_app import create_app

if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
