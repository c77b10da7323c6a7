"""The worker pool that converts files: a task that crashes, hangs or grows past the memory
ceiling is stopped and reported, the others finish. Real processes, real signals: the crashing
task dereferences a null pointer (a real SIGSEGV), the hanging one never returns."""

from __future__ import annotations

import ctypes
import os
import threading
import time

import pytest

from qa.ingest import isolation
from qa.ingest.isolation import ConversionStopped, Done, Failed, Limits, Pool


def square(n: int) -> int:
    return n * n


def segfault() -> None:
    ctypes.string_at(0)  # reads address 0: the kernel sends SIGSEGV


def hang() -> None:
    while True:
        pass


def hog(megabytes: int) -> int:
    block = bytearray(megabytes * 2**20)  # zero pages: touch them so that they are resident
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(10)
    return len(block)


def slow_but_granted(seconds: float) -> str:
    isolation.more_time(seconds + 2)
    time.sleep(seconds)
    return "klar"


def raises() -> None:
    raise ValueError("trasig fil")


def my_pid() -> int:
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_segfault_is_reported_as_a_crash_and_the_other_tasks_finish():
    outcomes = Pool(Limits(seconds=60, workers=2)).run(
        [(square, (3,)), (segfault, ()), (square, (4,)), (square, (5,))])
    assert outcomes[0] == Done(9) and outcomes[2] == Done(16) and outcomes[3] == Done(25)
    assert isinstance(outcomes[1], Failed) and outcomes[1].reason == "crashed"
    assert "SIGSEGV" in outcomes[1].detail


def test_a_task_that_never_returns_is_killed_at_its_deadline():
    seen: list[int] = []
    started = time.monotonic()
    outcomes = Pool(Limits(seconds=1.5, workers=1)).run(
        [(hang, ()), (square, (7,))], on_done=lambda i, _: seen.append(i))
    assert outcomes[0].reason == "timed out" and "QA_MAX_SECONDS_PER_FILE" in outcomes[0].detail
    assert outcomes[1] == Done(49)  # after the killed one, on a new worker
    assert seen == [0, 1]
    assert time.monotonic() - started < 60  # bounded: not a timing claim, a hang would never end


def test_a_task_may_ask_for_more_time():
    (outcome,) = Pool(Limits(seconds=0.5, workers=1)).run([(slow_but_granted, (1.5,))])
    assert outcome == Done("klar")


def test_a_task_past_the_memory_ceiling_is_killed():
    outcomes = Pool(Limits(seconds=60, memory_bytes=200 * 2**20, workers=2)).run(
        [(hog, (600,)), (square, (2,))])
    assert outcomes[0].reason == "out of memory" and "QA_MAX_CONVERT_MEMORY_MB" in outcomes[0].detail
    assert outcomes[1] == Done(4)


def test_an_exception_is_reported_and_the_worker_goes_on():
    outcomes = Pool(Limits(seconds=60, workers=1)).run([(raises, ()), (my_pid, ()), (my_pid, ())])
    assert outcomes[0] == Failed("error", "ValueError: trasig fil")
    assert outcomes[1] == outcomes[2]  # the same worker process ran both
    assert outcomes[1].value != os.getpid()


def test_no_worker_outlives_its_pool():
    pids = [o.value for o in Pool(Limits(workers=2)).run([(my_pid, ())] * 4)]
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


def test_stop_all_ends_a_running_pool_at_once():
    stopper = threading.Timer(1.0, isolation.stop_all)
    stopper.start()
    started = time.monotonic()
    with pytest.raises(ConversionStopped, match="stopping"):
        Pool(Limits(seconds=600, workers=2)).run([(hang, ()), (hang, ())])
    assert time.monotonic() - started < 30  # not 600: the hanging workers were killed
    # a pool started afterwards is not stopped
    assert Pool(Limits(workers=1)).run([(square, (3,))]) == [Done(9)]


def test_the_settings_reach_the_pool():
    from qa.ingest.sources import conversion_limits, read_options
    from qa.settings import Settings

    options = read_options(Settings(max_seconds_per_file=7, ocr_seconds_per_page=9,
                                    max_convert_memory_mb=300, convert_workers=3))
    assert options.ocr_seconds_per_page == 9
    assert conversion_limits(options) == Limits(seconds=7, memory_bytes=300 * 2**20, workers=3)
    defaults = Settings()
    assert (defaults.max_seconds_per_file, defaults.ocr_seconds_per_page,
            defaults.max_convert_memory_mb, defaults.convert_workers) == (120, 120, 2048, 0)
