"""The legacy ``structlog_config`` API served on top of ``newlog`` during the switch."""
