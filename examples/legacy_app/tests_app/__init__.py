"""Smoke tests of the legacy app; run them on their own: ``pytest examples/legacy_app/tests_app``."""
