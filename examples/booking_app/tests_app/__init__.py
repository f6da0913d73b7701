"""Smoke tests of the booking portal; run them on their own: ``pytest examples/booking_app/tests_app``."""
