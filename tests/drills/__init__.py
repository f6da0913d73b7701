"""Fault drills: database outages, a full queue, a hanging sink, SIGTERM and forking under gunicorn, hostile events."""
