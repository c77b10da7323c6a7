"""The question batcher: concurrent questions share one engine call, each gets its own vector.

The batcher only routes texts to a batch function, so a stand-in function is
used here; the real engine behind it is exercised by the API and index tests.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from qa.embed.question_batcher import QueryBatcher


class Recorder:
    def __init__(self, delay: float = 0.05, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.delay = delay
        self.fail_on = fail_on
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.delay)
        with self._lock:
            self.active -= 1
        if self.fail_on in texts:
            raise RuntimeError("engine failed")
        return np.array([[float(len(t)), float(sum(map(ord, t)))] for t in texts])


def expected(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)))]


def test_lone_question_is_embedded_directly():
    rec = Recorder(delay=0)
    batcher = QueryBatcher(rec)
    assert batcher.embed("hej").tolist() == expected("hej")
    assert rec.calls == [["hej"]]


def test_concurrent_questions_are_batched_and_answered_correctly():
    rec = Recorder()
    batcher = QueryBatcher(rec, max_batch=32)
    texts = [f"fråga {i}" * (i + 1) for i in range(16)]
    results: dict[str, list[float]] = {}

    def ask(t: str) -> None:
        results[t] = batcher.embed(t).tolist()

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    assert results == {t: expected(t) for t in texts}
    assert len(rec.calls) < len(texts), "waiting questions were batched"
    assert rec.max_active == 1, "the engine is never called twice at once"
    assert sorted(t for call in rec.calls for t in call) == sorted(texts)


def test_a_failure_reaches_every_caller_in_the_batch_and_the_batcher_recovers():
    rec = Recorder(delay=0.02, fail_on="trasig")
    batcher = QueryBatcher(rec)
    with pytest.raises(RuntimeError, match="engine failed"):
        batcher.embed("trasig")
    assert batcher.embed("hel").tolist() == expected("hel")


def test_a_cancelled_question_is_skipped_and_the_worker_keeps_going():
    """A caller that went away (an HTTP client that hung up) must not stop the embedding thread."""
    recorder = Recorder(delay=0.2)
    batcher = QueryBatcher(recorder)
    first = batcher.submit("först")  # occupies the worker
    time.sleep(0.05)
    gone = batcher.submit("borta")
    assert gone.cancel()
    kept = batcher.submit("kvar")
    assert first.result(timeout=5).shape == kept.result(timeout=5).shape
    assert all("borta" not in call for call in recorder.calls)
    assert batcher.embed("igen") is not None
