"""A daemon thread that calls a function at a fixed interval until it is stopped.

The live engine looks for a new generation of its index, the collections for folders added or
removed: each every few seconds, in the background, and neither may die of one failed look
(the error is logged and the next tick tries again). ``stop`` waits for a call under way to
finish, so that whoever stops it may then close what the calls use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Watcher:
    """Calls ``tick`` every ``seconds`` on a daemon thread named ``name``; a failure is logged
    as ``what`` failed, and the watching goes on."""

    def __init__(self, name: str, seconds: float, tick: Callable[[], object], what: str) -> None:
        self.name = name
        self.seconds = seconds
        self.tick = tick
        self.what = what
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start the thread (once; a second start while it runs does nothing)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (a call under way finishes first)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.tick()
            except Exception:  # never let the watcher die: the next tick tries again
                logger.exception("%s failed", self.what)
