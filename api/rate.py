"""A per-connection allowance: at most N requests a minute from one connection.

A connection is its peer's (address, port) pair as the server sees it: what one TCP
connection (keep-alive included) sends counts together, and nothing about the peer is kept
beyond the minute its requests are counted in, nor written anywhere. Used by ``POST
/api/feedback``, whose answers feed the gap report: one page session cannot flood it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Hashable

from qa.errors import TooManyRequestsError

WINDOW = 60.0


class PerConnection:
    """A sliding one-minute window of request times per connection."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, connection: Hashable) -> None:
        """Count one request of ``connection``; ``TooManyRequestsError`` past the allowance."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # forget connections idle for a whole window
                for key in [k for k, times in self._seen.items() if now - times[-1] > WINDOW]:
                    del self._seen[key]
            times = self._seen.setdefault(connection, deque())
            while times and now - times[0] > WINDOW:
                times.popleft()
            if len(times) >= self.per_minute:
                wait = math.ceil(WINDOW - (now - times[0]))
                raise TooManyRequestsError(
                    f"more than {self.per_minute} feedback answers a minute from this "
                    f"connection; try again in {wait} seconds")
            times.append(now)
