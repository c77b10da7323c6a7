"""The question log of each served index directory (``qa.questionlog``), for the routes.

One index: one log, in its directory. A service of collections: one log per collection, in
that collection's directory (its entries name the collection), made on the collection's first
question. ``prune`` deletes the expired day files of every served index directory, whether or
not it has been asked anything since the service started.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from qa.questionlog.log import QuestionLog


class QuestionLogs:
    """The logs by index directory; ``of`` answers None while the log is off."""

    def __init__(self, enabled: bool, days: int) -> None:
        self.enabled = enabled
        self.days = days
        self._logs: dict[Path, QuestionLog] = {}
        self._lock = threading.Lock()

    def of(self, index_dir: Path) -> QuestionLog | None:
        """The log of ``index_dir`` (None with the log off)."""
        if not self.enabled:
            return None
        return self.reader(index_dir)

    def reader(self, index_dir: Path) -> QuestionLog:
        """The log of ``index_dir``, on or off (the gap report reads what was logged)."""
        key = Path(index_dir).resolve()
        with self._lock:
            found = self._logs.get(key)
            if found is None:
                found = self._logs[key] = QuestionLog.of_index(key, self.days)
            return found

    def prune(self, index_dirs: Iterable[Path]) -> int:
        """Delete the expired day files of every directory in ``index_dirs``; how many."""
        return sum(self.reader(d).prune() for d in index_dirs)
