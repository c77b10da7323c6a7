"""The question batcher: concurrent questions share one engine call, each gets its own vector.

The batcher only routes texts to a batch function, so a stand-in function is
used here; the real engine behind it is exercised by the API and index tests. The order of the
batches is made certain by holding the worker's first call (``Recorder.gate``) until every
later question is queued, never by sleeping.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future

import numpy as np
import pytest

from qa.embed.question_batcher import QueryBatcher

WAIT = 10.0  # seconds any one step may take before the test fails


class Recorder:
    """A batch function that records its calls. A call returns once ``gate`` is open (it is,
    unless a test closes it to keep the worker busy) and after the call's simulated cost:
    ``delay``, or ``delays`` of its first text."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None,
                 delays: dict[str, float] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.delay = delay
        self.delays = delays or {}
        self.fail_on = fail_on
        self.active = 0
        self.max_active = 0
        self.started = threading.Event()  # set when the first call begins
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    def hold(self) -> None:
        """Keep the next call from returning until ``release``."""
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.started.set()
        assert self.gate.wait(WAIT), "the test never released the worker"
        time.sleep(self.delays.get(texts[0], self.delay))  # the batch's cost, not a synchronisation
        with self._lock:
            self.active -= 1
        if self.fail_on in texts:
            raise RuntimeError("engine failed")
        return np.array([[float(len(t)), float(sum(map(ord, t)))] for t in texts])


def expected(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)))]


def busy(batcher: QueryBatcher, recorder: Recorder, text: str, cost: int = 1) -> Future:
    """Submit ``text`` and return once the worker is embedding it, held there (``release``)."""
    recorder.hold()
    future = batcher.submit(text, cost)
    assert recorder.started.wait(WAIT), "the worker did not take the first question"
    return future


def queued(batcher: QueryBatcher, n: int) -> None:
    """Wait until ``n`` questions wait for the worker."""
    deadline = time.monotonic() + WAIT
    while batcher.waiting() < n:
        assert time.monotonic() < deadline, f"{batcher.waiting()} of {n} questions queued"
        time.sleep(0.005)  # polling: the outcome is decided by the count, not the time


def test_lone_question_is_embedded_directly():
    rec = Recorder(delay=0)
    batcher = QueryBatcher(rec)
    assert batcher.embed("hej").tolist() == expected("hej")
    assert rec.calls == [["hej"]]


def test_concurrent_questions_are_batched_and_answered_correctly():
    rec = Recorder(delay=0.01)
    batcher = QueryBatcher(rec, max_batch=32)
    texts = [f"fråga {i}" * (i + 1) for i in range(16)]
    results: dict[str, list[float]] = {}

    def ask(t: str) -> None:
        results[t] = batcher.embed(t).tolist()

    first = busy(batcher, rec, "först")
    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    queued(batcher, len(texts))  # all wait while the worker is busy: they must be batched
    rec.release()
    for th in threads:
        th.join(timeout=WAIT)
    assert first.result(timeout=WAIT).tolist() == expected("först")
    texts.append("först")
    results["först"] = expected("först")
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
    recorder = Recorder()
    batcher = QueryBatcher(recorder)
    first = busy(batcher, recorder, "först")
    gone = batcher.submit("borta")
    assert gone.cancel()
    kept = batcher.submit("kvar")
    recorder.release()
    assert first.result(timeout=5).shape == kept.result(timeout=5).shape
    assert all("borta" not in call for call in recorder.calls)
    assert batcher.embed("igen") is not None


def test_a_cheap_question_goes_before_expensive_ones_that_came_earlier():
    """Fair scheduling: a short question waits only for the batch under way, not for the long
    ones queued before it; long ones go in batches within the budget, and all are answered."""
    recorder = Recorder()
    batcher = QueryBatcher(recorder, budget=256, alone=32)
    first = busy(batcher, recorder, "först", cost=60)
    long = [batcher.submit(f"lång {i}", cost=60) for i in range(4)]
    medium = [batcher.submit(f"medel {i}", cost=30) for i in range(4)]
    short = [batcher.submit(f"kort {i}", cost=10) for i in range(3)]
    recorder.release()
    for future in (first, *short, *medium, *long):
        assert future.result(timeout=10) is not None
    assert recorder.calls[0] == ["först"]
    assert recorder.calls[1] == ["kort 0", "kort 1", "kort 2"], recorder.calls
    assert recorder.calls[2] == ["medel 0", "medel 1", "medel 2", "medel 3"], recorder.calls
    assert recorder.calls[3:] == [[f"lång {i}"] for i in range(4)], "a long question goes alone"


def test_a_batch_keeps_within_its_padded_budget():
    recorder = Recorder()
    batcher = QueryBatcher(recorder, budget=100)
    first = busy(batcher, recorder, "först", cost=5)
    futures = [batcher.submit(f"fråga {i}", cost=20 + i) for i in range(10)]
    recorder.release()
    for future in (first, *futures):
        assert future.result(timeout=10) is not None
    for call in recorder.calls[1:]:
        assert len(call) * max(20 + int(t.split()[1]) for t in call) <= 100, recorder.calls


def test_an_expensive_question_is_not_starved_by_a_stream_of_cheap_ones():
    recorder = Recorder()
    batcher = QueryBatcher(recorder, max_batch=1, patience=3)
    busy(batcher, recorder, "först", cost=5)
    long = batcher.submit("lång", cost=60)
    cheap = [batcher.submit(f"kort {i}", cost=5) for i in range(10)]
    recorder.release()
    assert long.result(timeout=10) is not None
    for future in cheap:
        future.result(timeout=10)
    order = [call[0] for call in recorder.calls]
    assert order.index("lång") <= 1 + 3, order  # after at most `patience` cheaper batches


def test_after_a_short_question_the_worker_waits_a_little_for_the_next_short_one():
    """A client asking short questions back to back sends its next one just after its answer;
    the long question already waiting must not start in that gap (anticipation)."""
    # The first long question's time sets the anticipation: a quarter of it, 0.5 s, which is
    # what the same client has to send its next short question in.
    recorder = Recorder(delays={"lång 0": 2.0})
    batcher = QueryBatcher(recorder, alone=32, max_anticipation=1.0, short_share=0.0)
    first_long = busy(batcher, recorder, "lång 0", cost=60)
    short = batcher.submit("kort 1", cost=10)
    second_long = batcher.submit("lång 1", cost=60)
    recorder.release()
    short.result(timeout=10)
    again = batcher.submit("kort 2", cost=10)  # the same client's next question, at once
    for future in (first_long, again, second_long):
        future.result(timeout=10)
    assert [call[0] for call in recorder.calls] == ["lång 0", "kort 1", "kort 2", "lång 1"]


class Clock:
    """The batcher's clock, moved by the test and by the batch function (a batch's cost): the
    scheduler's decisions then depend on what the test says happened, not on this machine."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TimedRecorder(Recorder):
    """A ``Recorder`` whose batches take ``cost`` seconds of ``clock`` (a long question 10 s,
    a short one 1 s) and no real time."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = super().__call__(texts)
        self.clock.now += 10.0 if texts[0].startswith("lång") else 1.0
        return out


def test_while_short_questions_come_a_long_one_waits_out_their_share_of_the_worker():
    """After a long batch of L s, while short questions are about, no long batch starts for
    short_share * L s: a short question that comes then goes at once, even though a long one
    was waiting first and the worker was idle. Once the share has passed (and L more without a
    short batch ending), the long one goes."""
    clock = Clock()
    recorder = TimedRecorder(clock)
    batcher = QueryBatcher(recorder, alone=32, max_anticipation=0.0, short_share=2.0,
                           short_memory=60.0, clock=clock)
    first_long = busy(batcher, recorder, "lång 0", cost=60)  # ends at 1010, took 10 s
    short = batcher.submit("kort 1", cost=10)
    second_long = batcher.submit("lång 1", cost=60)  # held until 1010 + 2 * 10 = 1030
    recorder.release()
    first_long.result(timeout=WAIT)
    short.result(timeout=WAIT)  # 1010-1011: a short question was about
    later_short = batcher.submit("kort 2", cost=10)  # comes while the long one is held
    later_short.result(timeout=WAIT)
    assert not second_long.done()
    clock.now = 1040.0  # the short questions' share has passed, and L more without a short one
    third_long = batcher.submit("lång 2", cost=60)  # wakes the worker
    second_long.result(timeout=WAIT)  # then lång 2 is held until 1050 + 20
    clock.now = 2000.0  # no short question for longer than short_memory: nothing is held
    last_long = batcher.submit("lång 3", cost=60)
    third_long.result(timeout=WAIT)
    last_long.result(timeout=WAIT)
    assert [call[0] for call in recorder.calls] == ["lång 0", "kort 1", "kort 2", "lång 1",
                                                     "lång 2", "lång 3"]


def test_without_short_questions_long_ones_go_back_to_back():
    """The share holds long questions back only while short ones come: with none, the worker
    is never idle with long questions waiting (the clock does not move past the share here,
    so a wrongly held question would never go)."""
    clock = Clock()
    recorder = TimedRecorder(clock)
    batcher = QueryBatcher(recorder, alone=32, max_anticipation=0.0, short_share=2.0,
                           short_memory=60.0, clock=clock)
    first = busy(batcher, recorder, "lång 0", cost=60)
    rest = [batcher.submit(f"lång {i}", cost=60) for i in range(1, 4)]
    recorder.release()
    for future in (first, *rest):
        future.result(timeout=WAIT)
    assert [call[0] for call in recorder.calls] == [f"lång {i}" for i in range(4)]


def test_once_the_share_has_passed_a_long_one_goes_right_after_a_short_batch():
    """The moment a short batch ends its client is busy with the answer: the long question
    that has waited out its share starts then, not when that client's next question is due
    (anticipation, which would wait here for ever: the clock stands still)."""
    clock = Clock()
    recorder = TimedRecorder(clock)
    batcher = QueryBatcher(recorder, alone=32, max_anticipation=1e6, short_share=2.0,
                           short_memory=60.0, clock=clock)
    first_long = busy(batcher, recorder, "lång 0", cost=60)  # 1000-1010: share until 1030
    recorder.release()
    first_long.result(timeout=WAIT)
    recorder.started.clear()
    short = busy(batcher, recorder, "kort 1", cost=10)  # held in the batch function
    second_long = batcher.submit("lång 1", cost=60)
    queued(batcher, 1)
    clock.now = 1035.0  # the share passes while the short batch runs; it ends at 1036
    recorder.release()
    short.result(timeout=WAIT)
    second_long.result(timeout=WAIT)
    assert [call[0] for call in recorder.calls] == ["lång 0", "kort 1", "lång 1"]


class Gated:
    """A batch function whose calls on the texts in ``held`` wait until the test opens them;
    records which texts have started."""

    def __init__(self, *held: str) -> None:
        self.gates = {text: threading.Event() for text in held}
        self.started: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._changed:
            self.started.extend(texts)
            self._changed.notify_all()
        for text in texts:
            if text in self.gates:
                assert self.gates[text].wait(WAIT), "the test never opened the gate"
        return np.array([expected(t) for t in texts])

    def wait_started(self, text: str) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: text in self.started, WAIT), f"{text} never ran"


def test_two_workers_embed_two_batches_side_by_side():
    engine = Gated("first")
    batcher = QueryBatcher(engine, workers=2)
    first = batcher.submit("first")
    engine.wait_started("first")
    assert batcher.submit("second").result(WAIT).tolist() == expected("second")  # first still held
    assert not first.done()
    engine.gates["first"].set()
    assert first.result(WAIT).tolist() == expected("first")


def test_with_two_workers_a_long_question_never_takes_the_last_worker():
    """One long question runs; a second waits although a worker is free, and a short question
    that comes later takes that worker at once."""
    engine = Gated("long 1", "long 2")
    batcher = QueryBatcher(engine, budget=400, alone=50, workers=2)
    long1 = batcher.submit("long 1", 100)
    engine.wait_started("long 1")
    long2 = batcher.submit("long 2", 100)
    queued(batcher, 1)
    assert batcher.submit("short", 5).result(WAIT).tolist() == expected("short")
    assert "long 2" not in engine.started and not long1.done()
    engine.gates["long 1"].set()
    engine.wait_started("long 2")  # the long worker is free again: the second long one goes
    engine.gates["long 2"].set()
    assert long2.result(WAIT).tolist() == expected("long 2")
    assert long1.result(WAIT).tolist() == expected("long 1")


def test_with_two_workers_long_questions_run_on_a_thread_of_lower_priority():
    """Long questions have their own thread, niced: while it computes, the threads of short
    questions (and of the web server) get the cores first."""
    nice: dict[str, int] = {}

    def embed(texts: list[str]) -> np.ndarray:
        nice[texts[0]] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return np.array([expected(t) for t in texts])

    batcher = QueryBatcher(embed, budget=400, alone=50, workers=2, long_nice=5)
    batcher.submit("long", 100).result(WAIT)
    batcher.submit("short", 5).result(WAIT)
    assert nice["long"] == min(19, nice["short"] + 5)


class TwoPaths:
    """The two batch functions of a batcher with several workers: ``one`` (a batch on one core)
    and ``spread`` (on every core), recording which ran each batch and whether a one-core batch
    ran while a spread one did. Calls on the texts in ``held`` wait until opened."""

    def __init__(self, *held: str) -> None:
        self.spread = Gated(*held)
        self.one = Gated(*held)
        self.calls: list[tuple[str, list[str]]] = []
        self.overlapped = False  # a one-core batch ran beside a spread one
        self._spreading = 0
        self._lock = threading.Lock()

    def on_one(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(("one", list(texts)))
            self.overlapped |= self._spreading > 0
        return self.one(texts)

    def on_all(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(("spread", list(texts)))
            self._spreading += 1
        try:
            return self.spread(texts)
        finally:
            with self._lock:
                self._spreading -= 1


def test_with_two_workers_lone_questions_in_a_row_are_spread_over_every_core():
    """One question after another, each finding the batcher idle: the ``calm``-th is the first
    lone one, embedded on every core (the next lone one measures the one-core path)."""
    paths = TwoPaths()
    batcher = QueryBatcher(paths.on_one, workers=2, embed_alone=paths.on_all, calm=3)
    for text in ["ett", "två", "tre"]:
        assert batcher.submit(text, 5).result(WAIT).tolist() == expected(text)
    assert paths.calls == [("one", ["ett"]), ("one", ["två"]), ("spread", ["tre"])]
    assert batcher.spread_batches == 1


def test_a_question_that_finds_another_running_ends_the_calm():
    """Concurrent clients: a question that came while another was embedded starts the count
    of lone questions again, so the next lone ones run on one core until the calm is back."""
    paths = TwoPaths("först")
    batcher = QueryBatcher(paths.on_one, workers=2, embed_alone=paths.on_all, calm=2,
                           clock=Clock())  # a clock that stands still: both paths equally fast
    batcher.submit("ett", 5).result(WAIT)
    first = batcher.submit("först", 5)  # the second lone question in a row: spread, held
    paths.spread.wait_started("först")
    beside = batcher.submit("bredvid", 5)  # came while först ran
    paths.spread.gates["först"].set()
    first.result(WAIT), beside.result(WAIT)
    for text in ["efter 1", "efter 2", "efter 3"]:
        batcher.submit(text, 5).result(WAIT)
    # efter 2 is lone again, the second lone batch: it measures the one-core path
    assert paths.calls == [("one", ["ett"]), ("spread", ["först"]), ("one", ["bredvid"]),
                           ("one", ["efter 1"]), ("one", ["efter 2"]), ("spread", ["efter 3"])]


def test_questions_that_come_together_run_one_core_each_and_wait_for_a_spread_batch():
    """A spread batch has the cores: questions that come meanwhile wait for it, then run on
    one core each, side by side, since neither is alone."""
    paths = TwoPaths("först", "a")
    batcher = QueryBatcher(paths.on_one, workers=2, embed_alone=paths.on_all, calm=1)
    first = batcher.submit("först", 5)
    paths.spread.wait_started("först")
    a = batcher.submit("a", 10)  # the cheapest: taken first, with b waiting, so on one core
    b = batcher.submit("b", 30)  # over twice a's cost: not batched with it
    queued(batcher, 2)
    paths.spread.gates["först"].set()
    paths.one.wait_started("b")  # while a runs (held): on one core too
    paths.one.gates["a"].set()
    assert a.result(WAIT).tolist() == expected("a") and b.result(WAIT).tolist() == expected("b")
    assert first.result(WAIT).tolist() == expected("först")
    assert paths.calls[0] == ("spread", ["först"])
    assert sorted(paths.calls[1:]) == [("one", ["a"]), ("one", ["b"])]
    assert not paths.overlapped


def test_long_questions_and_a_single_worker_are_never_spread():
    paths = TwoPaths()
    batcher = QueryBatcher(paths.on_one, budget=400, alone=50, workers=2, embed_alone=paths.on_all,
                           calm=1)
    assert batcher.submit("lång", 100).result(WAIT).tolist() == expected("lång")
    single = QueryBatcher(paths.on_one, workers=1, embed_alone=paths.on_all, calm=1)
    assert single.submit("ensam", 5).result(WAIT).tolist() == expected("ensam")
    assert paths.calls == [("one", ["lång"]), ("one", ["ensam"])]


def test_lone_questions_take_the_path_that_has_been_faster_and_try_the_other_now_and_then():
    """Where other processes hold the cores, a batch on every core waits for its slowest
    thread: lone questions then go back to one core, and every ``explore``-th tries the other
    path, so spreading comes back when it pays again. Each path's seconds are the test's."""
    clock = Clock()
    seconds = {"spread": 1.0, "one": 2.0}  # per question of cost 1, on the batcher's clock
    calls: list[str] = []

    def path(name: str):
        def embed(texts: list[str]) -> np.ndarray:
            calls.append(name)
            clock.now += seconds[name]
            return np.array([expected(t) for t in texts])
        return embed

    batcher = QueryBatcher(path("one"), workers=2, embed_alone=path("spread"), calm=1, explore=4,
                           clock=clock)

    def ask(n: int) -> list[str]:
        calls.clear()
        for i in range(n):
            batcher.submit(f"fråga {i}").result(WAIT)
        return list(calls)

    # Each path once, then the faster one; every 4th lone batch tries the slower one.
    assert ask(8) == ["spread", "one", "spread", "one", "spread", "spread", "spread", "one"]
    seconds["spread"] = 8.0  # other work takes the cores: spreading now costs more
    assert ask(4) == ["spread", "one", "one", "spread"]  # turned at once; the 4th tries again
    assert ask(4) == ["one", "one", "one", "spread"]  # still slower
    seconds["spread"] = 0.5  # the cores are free again: each try brings the average down
    assert ask(12) == ["one", "one", "one", "spread"] * 3
    assert ask(4) == ["spread", "spread", "spread", "one"]
