"""The worker's clock: what time it is and how to wait. Tests inject one they can move by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds and the waits that depend on them."""

    def now(self) -> float:
        """Return monotonic seconds."""

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait on ``condition`` (held by the caller) until notified or ``timeout`` seconds pass."""

    def wait_for(self, condition: threading.Condition, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait on ``condition`` (held) until ``predicate()`` is true or ``timeout`` passes; return ``predicate()``."""

    def sleep(self, seconds: float) -> None:
        """Pause the calling thread for ``seconds``."""


class SystemClock:
    """The real clock: ``time.monotonic`` and the waits of ``threading``."""

    def now(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait on ``condition`` for at most ``timeout`` seconds."""
        condition.wait(timeout)

    def wait_for(self, condition: threading.Condition, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Return ``condition.wait_for(predicate, timeout)``."""
        return condition.wait_for(predicate, timeout)

    def sleep(self, seconds: float) -> None:
        """Return after ``time.sleep(seconds)``."""
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
