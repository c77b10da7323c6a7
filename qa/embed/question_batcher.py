"""A few threads embed every question; questions that wait together go as one batch, cheapest first."""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

log = logging.getLogger(__name__)

_Lane = Literal["any", "short", "long"]  # what a worker thread embeds


@dataclass(eq=False)
class _Waiting:
    text: str
    cost: int
    seq: int
    future: Future[np.ndarray] = field(default_factory=Future)
    passed: int = 0  # batches formed without it while it was the oldest question waiting


class QueryBatcher:
    """Runs every question embedding on ``workers`` threads (one by default), batching those
    that wait.

    Few threads, because the engines parallelise inside a call (ONNX Runtime's
    and the C engine's OpenMP thread teams): called from the web server's pool
    of threads they would oversubscribe the cores, and the C engine would
    build a spinning thread team per pool thread (that doubled the latency of a
    question, measured in bench/). Batching, because a batch of concurrent
    questions uses the cores better (ONNX fp32: 8 questions cost about 4x one).
    A question that finds a worker idle is sent at once, alone.

    Several workers (``workers`` > 1) suit an engine that runs concurrent calls, each on one
    thread (ONNX Runtime with one intra-op thread): batches then run side by side instead of
    one batch spread over the cores, which costs less CPU per question (no thread team to
    synchronise or spin). Then **long questions have a thread of their own, at a lower CPU
    priority** (``long_nice`` added to its niceness, Linux): the ``workers`` threads embed only
    short questions, so a short question waits at most for a short batch under way, never for
    a long one; and while the long thread computes, the short workers and the web server's
    threads get the cores first whenever they need them, so long questions take the CPU that
    short ones leave. The share and anticipation below apply to one worker only (they exist
    because one worker cannot run a short question beside a long one); the rule against
    starvation applies within each kind.

    **A lone question gets every core** (``embed_alone``, with several workers): a batch of
    short questions that finds nothing else waiting and no other short batch under way is
    embedded by ``embed_alone`` (the same vectors, the batch spread over every core) instead of
    ``embed_batch`` (one core), and no other short batch starts until it ends, provided the
    last ``calm`` questions each came to an idle batcher (nothing waiting, no short batch
    running). A question asked alone is then answered about as fast as one thread spread over
    the cores answers it, while concurrent questions still run one core each, side by side,
    which costs less CPU per question. ``calm`` is what tells the two apart: under concurrent
    clients the web server hands questions over one at a time, so a question often finds the
    batcher idle for an instant although others follow at once; spread, it would hold them
    all back. A single question finding the batcher idle is not enough, a run of them is.
    Spreading pays only when the cores are the service's: where other processes hold them,
    a batch on every core waits for the slowest of its threads. So such a lone batch is
    spread only while spreading has been the faster of the two paths for lone batches (wall
    seconds per token, a moving average of each: the first lone batch is spread, the second
    runs on one core, and every ``explore``-th after them takes the slower path, so a change
    either way is seen).

    Fair scheduling, so that clients sending long questions cannot take the worker from
    those sending short ones. Each question comes with its cost (its token count):

    * the cheapest waiting question goes next, with the waiting questions of a similar
      cost (at most twice its own) while the batch's padded size (questions x the longest)
      stays within ``budget``; a question costing more than ``alone`` (long) goes alone.
      A short question thus waits for at most the batch under way when it came, and that
      batch is at most one long question;
    * a share for long questions: a long question cannot be interrupted, so a short one that
      comes while it runs waits for the rest of it. While short questions are about (a short
      batch ended within ``short_memory`` s), a long batch that took ``L`` s is followed by
      ``short_share * L`` s in which no long batch starts and short ones go at once. Once that
      has passed, the next long batch starts right after a short batch ends, when a client
      asking short questions one after another has just got its answer and is busy with it
      (so the long batch overlaps that client's own time, not its next question), or after
      ``L`` more seconds without one. Long questions thus get at least about
      ``1 / (2 + short_share)`` of the worker while short ones come, and all of it when none
      has come for ``short_memory`` s; the price is the worker's idle time, paid by long
      questions. With ``short_share=0`` the worker instead anticipates: after a short batch
      it waits a little (a quarter of the last long batch's time, at most
      ``max_anticipation`` s) for another short question before it starts a long one;
    * nothing starves: when the oldest waiting question has been passed over by
      ``patience`` batches, it goes next (a long one after its gap, which is bounded).
    """

    def __init__(self, embed_batch: Callable[[list[str]], np.ndarray], max_batch: int = 32,
                 budget: int = 1024, alone: int | None = None, patience: int = 8,
                 max_anticipation: float = 0.05, short_share: float = 2.0,
                 short_memory: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 workers: int = 1, long_nice: int = 10,
                 embed_alone: Callable[[list[str]], np.ndarray] | None = None,
                 calm: int = 4, explore: int = 8) -> None:
        self._embed_batch = embed_batch
        self._embed_alone = embed_alone if workers > 1 else None
        self._calm_needed = calm
        self._calm = 0  # questions in a row that came to an idle batcher
        self._explore = max(2, explore)
        self._lone = 0  # lone batches so far (those ``_spread`` chooses a path for)
        # Wall seconds per token of lone batches, moving averages: spread, on one core.
        self._pace: dict[bool, float | None] = {True: None, False: None}
        self._workers = max(1, workers)
        self._long_nice = long_nice
        self._max_batch = max_batch
        self._budget = budget
        self._alone = budget if alone is None else alone
        self._patience = patience
        self._max_anticipation = max_anticipation
        self._short_share = short_share
        self._short_memory = short_memory
        self._clock = clock
        self._long_seconds = 0.0  # how long the last long question took
        self._long_ended = -float("inf")  # when it ended
        self._short_ended = -float("inf")  # when the last batch of short questions ended
        self._after_short = False  # the last batch was of short questions
        self._short_running = 0  # short batches being embedded now
        self._spread_running = False  # one of them is spread over every core (``embed_alone``)
        self.spread_batches = 0  # batches embedded by ``embed_alone`` so far (for /metrics, tests)
        self._pending: list[_Waiting] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []

    def embed(self, text: str, cost: int = 1) -> np.ndarray:
        return self.submit(text, cost).result()

    def submit(self, text: str, cost: int = 1) -> Future[np.ndarray]:
        """Queue ``text`` at ``cost`` (its tokens); the future holds its vector once embedded."""
        waiting = _Waiting(text, max(1, cost), next(self._seq))
        with self._cond:
            if not self._threads:  # started on first use: no work at import time
                short: list[_Lane] = ["short"]
                lanes: list[_Lane] = ["any"] if self._workers == 1 else \
                    short * self._workers + ["long"]
                self._threads = [threading.Thread(target=self._work, args=(lane,), daemon=True,
                                                  name=f"query-embedder-{i}-{lane}")
                                 for i, lane in enumerate(lanes)]
                for thread in self._threads:
                    thread.start()
            idle = not self._pending and self._short_running == 0
            self._calm = self._calm + 1 if idle else 0
            self._pending.append(waiting)
            if self._workers == 1:
                self._cond.notify()
            else:  # several lanes: wake them all, the one this question is for among them
                self._cond.notify_all()
        return waiting.future

    def waiting(self) -> int:
        """Questions queued and not yet taken by the worker."""
        with self._cond:
            return len(self._pending)

    def _of(self, lane: _Lane) -> list[_Waiting]:
        """The waiting questions ``lane`` takes."""
        if lane == "any":
            return self._pending
        return [w for w in self._pending if (w.cost > self._alone) == (lane == "long")]

    def _choose(self, pending: list[_Waiting]) -> tuple[list[_Waiting], bool]:
        """The next batch of ``pending`` (see the class), and whether it goes because it was
        starved; called with the lock held, ``pending`` not empty. Changes nothing."""
        oldest = min(pending, key=lambda w: w.seq)
        if oldest.passed >= self._patience:
            first, starved = oldest, True
        else:
            first, starved = min(pending, key=lambda w: (w.cost, w.seq)), False
        batch, width = [first], first.cost
        if first.cost > self._alone:
            return batch, starved
        for w in sorted(pending, key=lambda w: (w.cost, w.seq)):
            if len(batch) >= self._max_batch:
                break
            if w is first or w.cost < first.cost / 2:
                continue
            if w.cost > min(2 * first.cost, self._alone) or \
                    max(width, w.cost) * (len(batch) + 1) > self._budget:
                break
            batch.append(w)
            width = max(width, w.cost)
        return batch, starved

    def _take(self, batch: list[_Waiting], pending: list[_Waiting]) -> None:
        """Take ``batch`` out of the queue; the oldest of the rest of ``pending`` (the lane's
        questions) has been passed over once more."""
        taken = set(map(id, batch))
        self._pending = [w for w in self._pending if id(w) not in taken]
        left = [w for w in pending if id(w) not in taken]
        if left:
            min(left, key=lambda w: w.seq).passed += 1

    def _lone_batch(self, lane: _Lane, batch: list[_Waiting], pending: list[_Waiting]) -> bool:
        """Whether ``batch`` (taken from the lane's ``pending``) is lone: a short batch that
        leaves no short question waiting while no other short batch runs, after ``calm``
        questions in a row came to an idle batcher. Called with the lock held, before the
        batch is taken."""
        return (self._embed_alone is not None and lane == "short" and self._short_running == 0
                and len(batch) == len(pending) and self._calm >= self._calm_needed)

    def _spread(self) -> bool:
        """Whether the next lone batch goes to ``embed_alone``: each path once, first spread;
        then while spreading has been the faster path, except every ``explore``-th."""
        self._lone += 1
        spread, one = self._pace[True], self._pace[False]
        if spread is None or one is None:
            return spread is None
        return (spread <= one) != (self._lone % self._explore == 0)

    def _paced(self, spread: bool, seconds: float, tokens: int) -> None:
        """Note a lone batch's wall seconds per token on its path (lock held)."""
        pace = seconds / max(tokens, 1)
        last = self._pace[spread]
        self._pace[spread] = pace if last is None else (last + pace) / 2

    def _next_batch(self, lane: _Lane) -> tuple[list[_Waiting], bool | None]:
        """Wait for questions of ``lane``, hold a long one back while short ones have the
        only worker (see the class), take the batch; and, for a lone batch, whether it is
        spread over every core (else None). A short lane waits while a spread batch runs:
        that batch has the cores."""
        fresh = True  # the worker has not waited since its last batch ended
        while True:
            while not (pending := self._of(lane)) or (lane == "short" and self._spread_running):
                self._cond.wait()
                fresh = False
            batch, starved = self._choose(pending)
            long = batch[0].cost > self._alone
            if long and lane == "any":
                remaining = self._long_held_until(starved, fresh) - self._clock()
                if remaining > 0:
                    self._cond.wait(remaining)  # a new question wakes it: choose again
                    fresh = False
                    continue
            lone = self._lone_batch(lane, batch, pending)
            spread = self._spread() if lone else None
            self._take(batch, pending)
            self._after_short = not long
            if lane == "short":
                self._short_running += 1
                self._spread_running = bool(spread)
                self.spread_batches += bool(spread)
            return batch, spread

    def _long_held_until(self, starved: bool, fresh: bool) -> float:
        """The earliest time (on ``clock``) a long batch may start (see the class)."""
        if self._short_share <= 0:  # anticipation alone
            if self._after_short and not starved:
                return self._short_ended + min(self._max_anticipation, self._long_seconds / 4)
            return -float("inf")
        if self._clock() - self._short_ended > self._short_memory:  # no short questions about
            return -float("inf")
        shared = self._long_ended + self._short_share * self._long_seconds
        if self._clock() < shared:
            return shared
        if fresh and self._after_short:  # a short batch has just ended: its client is thinking
            return -float("inf")
        return shared + self._long_seconds  # else wait that long at most for one to end

    def _ended(self, lane: _Lane, long: bool, started: float | None,
               lone: tuple[bool, int] | None = None) -> None:
        """Note when a batch ended, and how long a long one took (for ``_long_held_until``)
        or a lone one (``lone``: spread or not, its tokens); a short lane's batch no longer
        runs (``started`` None: nothing was embedded)."""
        ended = self._clock()
        with self._cond:
            if started is not None and lone is not None:
                self._paced(lone[0], ended - started, lone[1])
            if started is not None and long:
                self._long_seconds, self._long_ended = ended - started, ended
            elif started is not None:
                self._short_ended = ended
            if lane == "short":
                self._short_running -= 1
                if self._spread_running:
                    self._spread_running = False
                    self._cond.notify_all()  # the short lanes waiting for the cores

    def _work(self, lane: _Lane) -> None:
        if lane == "long":
            _lower_priority(self._long_nice)
        while True:
            with self._cond:
                chosen, path = self._next_batch(lane)
            # A question whose caller went away (its future cancelled) is not embedded.
            batch = [w for w in chosen if w.future.set_running_or_notify_cancel()]
            if not batch:
                self._ended(lane, False, None)
                continue
            embed = self._embed_alone if path and self._embed_alone is not None else self._embed_batch
            lone = None if path is None else (path, sum(w.cost for w in batch))
            t0 = self._clock()
            try:
                vectors = embed([w.text for w in batch])
            except BaseException as exc:  # every waiting caller gets the failure
                for w in batch:
                    w.future.set_exception(exc)
                continue
            finally:
                self._ended(lane, batch[0].cost > self._alone, t0, lone)
            for w, v in zip(batch, vectors, strict=True):
                w.future.set_result(v)


def _lower_priority(nice: int) -> None:
    """Add ``nice`` to the calling thread's niceness (Linux: a thread is a task of its own);
    elsewhere, or if the system refuses, the thread keeps its priority."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except (AttributeError, OSError) as exc:
        log.debug("the long questions' thread keeps its priority: %s", exc)
