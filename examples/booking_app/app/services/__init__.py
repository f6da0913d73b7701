"""Business logic of the booking portal."""
