"""One thread embeds every question; questions that wait together go as one batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np


class QueryBatcher:
    """Runs every question embedding on one worker thread, batching those that wait.

    One thread, because the engines parallelise inside a call (ONNX Runtime's
    and the C engine's OpenMP thread teams): called from the web server's pool
    of threads they would oversubscribe the two cores, and the C engine would
    build a spinning thread team per pool thread (that doubled the latency of a
    question, measured in bench/). Batching, because a batch of concurrent
    questions uses the cores better (ONNX fp32: 8 questions cost about 4x one).
    A question that finds the worker idle is sent at once, alone.
    """

    def __init__(self, embed_batch: Callable[[list[str]], np.ndarray], max_batch: int = 32) -> None:
        self._embed_batch = embed_batch
        self._max_batch = max_batch
        self._pending: list[tuple[str, Future[np.ndarray]]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def embed(self, text: str) -> np.ndarray:
        return self.submit(text).result()

    def submit(self, text: str) -> Future[np.ndarray]:
        """Queue ``text``; the future holds its vector once the worker has embedded it."""
        future: Future[np.ndarray] = Future()
        with self._cond:
            if self._thread is None:  # started on first use: no work at import time
                self._thread = threading.Thread(target=self._work, name="query-embedder",
                                                daemon=True)
                self._thread.start()
            self._pending.append((text, future))
            self._cond.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
            # A question whose caller went away (its future cancelled) is not embedded.
            batch = [(t, f) for t, f in batch if f.set_running_or_notify_cancel()]
            if not batch:
                continue
            try:
                vectors = self._embed_batch([t for t, _ in batch])
            except BaseException as exc:  # every waiting caller gets the failure
                for _, f in batch:
                    f.set_exception(exc)
                continue
            for (_, f), v in zip(batch, vectors, strict=True):
                f.set_result(v)

