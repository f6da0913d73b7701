"""The rate-limited tally of dropped newest events, shared by the worker thread's queue and the spool."""

from __future__ import annotations


class DropTally:
    """Drops not reported yet, and when the next report is due (at most one per ``interval`` seconds).

    Not thread-safe on its own: the owner calls it under its lock and logs outside of it.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.unreported = 0
        self.next_due = 0.0

    def count(self, now: float) -> bool:
        """Count one drop; return True when a report is due."""
        self.unreported += 1
        return now >= self.next_due

    def due(self, now: float) -> bool:
        """Return True when there are drops to report and the interval has passed."""
        return bool(self.unreported) and now >= self.next_due

    def take(self, now: float, force: bool = False) -> int:
        """Return the drops to report now (0 if none or not yet due, unless ``force``) and start a new interval."""
        if not self.unreported or (now < self.next_due and not force):
            return 0
        count, self.unreported = self.unreported, 0
        self.next_due = now + self.interval
        return count

    def take_all(self) -> int:
        """Return every drop not reported yet (the tail at shutdown), whatever the interval."""
        count, self.unreported = self.unreported, 0
        return count
