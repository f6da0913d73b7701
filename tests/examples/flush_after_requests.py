"""pytest plugin for an app's own tests after the switch: every test-client request ends with ``newlog.flush()``.

The booking portal's smoke tests read ``unified_logs`` right after each request, which the
legacy module's synchronous commits allowed. MIGRATION.md tells teams to flush before
reading the table in such tests; this plugin does exactly that, so the app's tests run
unedited (``-p tests.examples.flush_after_requests``).
"""

from __future__ import annotations

from typing import Any

import flask.testing

import newlog

_open = flask.testing.FlaskClient.open


def _open_and_flush(self: flask.testing.FlaskClient, *args: Any, **kwargs: Any) -> Any:
    response = _open(self, *args, **kwargs)
    assert newlog.flush(30), f"newlog lost events or did not write them in time: {newlog.health()}"
    return response


flask.testing.FlaskClient.open = _open_and_flush  # type: ignore[method-assign]
