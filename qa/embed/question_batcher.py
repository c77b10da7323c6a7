"""One thread embeds every question; questions that wait together go as one batch, cheapest first."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class _Waiting:
    text: str
    cost: int
    seq: int
    future: Future[np.ndarray] = field(default_factory=Future)
    passed: int = 0  # batches formed without it since it came


class QueryBatcher:
    """Runs every question embedding on one worker thread, batching those that wait.

    One thread, because the engines parallelise inside a call (ONNX Runtime's
    and the C engine's OpenMP thread teams): called from the web server's pool
    of threads they would oversubscribe the two cores, and the C engine would
    build a spinning thread team per pool thread (that doubled the latency of a
    question, measured in bench/). Batching, because a batch of concurrent
    questions uses the cores better (ONNX fp32: 8 questions cost about 4x one).
    A question that finds the worker idle is sent at once, alone.

    Fair scheduling: each question comes with its cost (its token count), and the
    cheapest waiting question goes next, with the waiting questions of a similar cost
    (at most twice its own) while the batch's padded size (questions x the longest)
    stays within ``budget``; a question costing more than ``alone`` goes in a batch of its
    own. A short question therefore waits for at most the batch under way when it came,
    however many long ones queue, and that batch is at most one long question. Nothing
    starves: a question passed over by ``patience`` batches goes next.
    """

    def __init__(self, embed_batch: Callable[[list[str]], np.ndarray], max_batch: int = 32,
                 budget: int = 1024, alone: int | None = None, patience: int = 8) -> None:
        self._embed_batch = embed_batch
        self._max_batch = max_batch
        self._budget = budget
        self._alone = budget if alone is None else alone
        self._patience = patience
        self._pending: list[_Waiting] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def embed(self, text: str, cost: int = 1) -> np.ndarray:
        return self.submit(text, cost).result()

    def submit(self, text: str, cost: int = 1) -> Future[np.ndarray]:
        """Queue ``text`` at ``cost`` (its tokens); the future holds its vector once embedded."""
        waiting = _Waiting(text, max(1, cost), next(self._seq))
        with self._cond:
            if self._thread is None:  # started on first use: no work at import time
                self._thread = threading.Thread(target=self._work, name="query-embedder",
                                                daemon=True)
                self._thread.start()
            self._pending.append(waiting)
            self._cond.notify()
        return waiting.future

    def waiting(self) -> int:
        """Questions queued and not yet taken by the worker."""
        with self._cond:
            return len(self._pending)

    def _next_batch(self) -> list[_Waiting]:
        """The next batch (see the class); called with the lock held and questions waiting."""
        by_cost = sorted(self._pending, key=lambda w: (w.cost, w.seq))
        starved = [w for w in self._pending if w.passed >= self._patience]
        first = min(starved, key=lambda w: w.seq) if starved else by_cost[0]
        batch, width = [first], first.cost
        for w in by_cost:
            if len(batch) >= self._max_batch or first.cost > self._alone:
                break
            if w is first or not first.cost / 2 <= w.cost <= 2 * first.cost:
                continue
            if w.cost > self._alone or max(width, w.cost) * (len(batch) + 1) > self._budget:
                break
            batch.append(w)
            width = max(width, w.cost)
        taken = set(map(id, batch))
        self._pending = [w for w in self._pending if id(w) not in taken]
        for w in self._pending:
            w.passed += 1
        return batch

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                chosen = self._next_batch()
            # A question whose caller went away (its future cancelled) is not embedded.
            batch = [w for w in chosen if w.future.set_running_or_notify_cancel()]
            if not batch:
                continue
            try:
                vectors = self._embed_batch([w.text for w in batch])
            except BaseException as exc:  # every waiting caller gets the failure
                for w in batch:
                    w.future.set_exception(exc)
                continue
            for w, v in zip(batch, vectors, strict=True):
                w.future.set_result(v)
