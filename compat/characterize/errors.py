"""The kit's one error type: a problem the user has to fix before the kit can characterize anything."""

from __future__ import annotations


class KitError(Exception):
    """A problem to fix first (wrong --app, no log table, a guard answered a request...): exit code 2."""
