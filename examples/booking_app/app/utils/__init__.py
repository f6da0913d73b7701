"""Utilities of the booking portal: logging (``structlog_config``), time helpers, decorators."""
