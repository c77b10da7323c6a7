"""The question log: what readers asked, masked, one JSON line per question, a file per day.

It lives in the served index directory, ``INDEX_DIR/questions/YYYY-MM-DD.jsonl`` (UTC days), so
that each collection keeps its own and deleting a collection deletes its log. A question line::

    {"kind": "question", "answer_id": "20250602-5f0c2a9e81d34b7a", "time": "2025-06-02T10:00Z",
     "collection": "seeds", "question": "Kan [personnummer] få bygglov?", "good_match": false,
     "top_document": "kommun/bygglov", "top_similarity": 0.81}

and a reader's feedback on it, appended to the same day's file::

    {"kind": "feedback", "answer_id": "20250602-5f0c2a9e81d34b7a", "time": "2025-06-02T10:00Z",
     "helpful": false}

What is never written: the question as sent (only ``qa.questionlog.masking``'s masked text),
the reader's address, token, user agent or any header, and a time finer than the hour. The
answer id is random (it links a feedback to its question, nothing else), prefixed with its day
so that a feedback finds its file without a scan of every day.

Retention: a day's file is deleted once the first hour of that day is ``days`` days old, by
``prune`` (the server calls it at start and periodically), so no entry is kept longer than
``days`` days. A file per day makes that one ``unlink``: atomic, and nothing is rewritten.

Several server processes may append to one file: each line is written by one ``write`` on a
file opened with ``O_APPEND``, which the kernel does not interleave for lines this short.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from qa.questionlog.masking import mask_personal_data
from qa.search.results import SearchResult

logger = logging.getLogger(__name__)

FOLDER = "questions"
_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl$")
ANSWER_ID = re.compile(r"^(\d{8})-[0-9a-f]{16}$")


@dataclass
class LoggedQuestion:
    """One logged question with the last feedback given on it (``None``: none)."""

    answer_id: str
    time: str
    collection: str
    question: str
    good_match: bool
    top_document: str | None
    top_similarity: float | None
    feedback: bool | None = None

    def to_json(self) -> dict[str, object]:
        return {"time": self.time, "collection": self.collection, "question": self.question,
                "good_match": self.good_match, "top_document": self.top_document,
                "top_similarity": self.top_similarity, "answer_id": self.answer_id,
                "feedback": self.feedback}


def _hour(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:00Z")


class QuestionLog:
    """The log of one collection (index directory); thread-safe, and safe across processes."""

    def __init__(self, folder: Path, collection: str, days: int,
                 clock: Callable[[], datetime] | None = None) -> None:
        """``folder``: where the day files go (made on the first write, readable by the owner
        only); ``days``: how long entries are kept; ``clock``: the time now (tests)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        self.folder = Path(folder)
        self.collection = collection
        self.days = days
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    @classmethod
    def of_index(cls, index_dir: Path, days: int) -> QuestionLog:
        """The log of the collection served from ``index_dir``: its ``questions/`` folder, the
        directory's name as the collection's."""
        index_dir = Path(index_dir).resolve()
        return cls(index_dir / FOLDER, index_dir.name, days)

    def _file(self, day: date) -> Path:
        return self.folder / f"{day.isoformat()}.jsonl"

    def _append(self, day: date, entry: dict[str, object], *, create: bool = True) -> bool:
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        path = self._file(day)
        flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT if create else 0)
        with self._lock:
            if create:
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, flags, 0o600)
            except FileNotFoundError:  # the day's file was deleted (expired) meanwhile
                return False
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return True

    def record(self, question: str, result: SearchResult) -> str:
        """Log ``question`` (masked here, before anything is written) with how ``result``
        answered it; returns the new answer id, which a feedback names."""
        now = self._clock()
        day = now.astimezone(UTC).date()
        answer_id = f"{day.strftime('%Y%m%d')}-{secrets.token_hex(8)}"
        top = result.hits[0] if result.hits else None
        self._append(day, {
            "kind": "question", "answer_id": answer_id, "time": _hour(now),
            "collection": self.collection, "question": mask_personal_data(question),
            "good_match": not result.no_good_match,
            "top_document": top.passage.document_id if top else None,
            "top_similarity": round(float(top.similarity), 4) if top else None,
        })
        return answer_id

    def knows(self, answer_id: str) -> bool:
        """Whether ``answer_id`` names a question still in the log."""
        found = ANSWER_ID.match(answer_id)
        if found is None:
            return False
        try:
            day = datetime.strptime(found.group(1), "%Y%m%d").date()
            text = self._file(day).read_text(encoding="utf-8")
        except (ValueError, OSError):
            return False
        return f'"answer_id": "{answer_id}"' in text

    def feedback(self, answer_id: str, helpful: bool) -> bool:
        """Record the reader's ``helpful`` on the question ``answer_id`` names; False when the
        log holds no such question (unknown, or deleted by the retention)."""
        if not self.knows(answer_id):
            return False
        found = ANSWER_ID.match(answer_id)
        assert found is not None  # knows() checked it
        day = datetime.strptime(found.group(1), "%Y%m%d").date()
        return self._append(day, {"kind": "feedback", "answer_id": answer_id,
                                  "time": _hour(self._clock()), "helpful": bool(helpful)},
                            create=False)

    def _days(self) -> Iterator[tuple[date, Path]]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.iterdir()):
            found = _DAY_FILE.match(path.name)
            if found is None:
                continue
            try:
                yield date.fromisoformat(found.group(1)), path
            except ValueError:
                continue

    def prune(self) -> int:
        """Delete the day files whose first hour is ``days`` days old or older; how many."""
        oldest_kept = (self._clock().astimezone(UTC) - timedelta(days=self.days)).date()
        removed = 0
        for day, path in list(self._days()):
            if day <= oldest_kept:
                with self._lock:
                    path.unlink(missing_ok=True)
                removed += 1
        if removed:
            logger.info("question log of %s: deleted %d day file(s) past %d days",
                        self.collection, removed, self.days)
        return removed

    def entries(self, since: date | None = None, until: date | None = None) -> list[LoggedQuestion]:
        """The logged questions of the days from ``since`` to ``until`` (inclusive, UTC),
        oldest first, each with its last feedback. A line that cannot be read is skipped."""
        questions: dict[str, LoggedQuestion] = {}
        for day, path in self._days():
            if (since and day < since) or (until and day > until):
                continue
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    entry = json.loads(line)
                    if entry.get("kind") == "question":
                        questions[entry["answer_id"]] = LoggedQuestion(
                            answer_id=entry["answer_id"], time=entry["time"],
                            collection=entry["collection"], question=entry["question"],
                            good_match=bool(entry["good_match"]),
                            top_document=entry.get("top_document"),
                            top_similarity=entry.get("top_similarity"))
                    elif entry.get("kind") == "feedback" and entry.get("answer_id") in questions:
                        questions[entry["answer_id"]].feedback = bool(entry["helpful"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
        return list(questions.values())
