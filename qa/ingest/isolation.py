"""Work on untrusted files in worker processes: a time budget and a memory ceiling per task.

A reader's library can hang (a loop that never ends on a crafted stream), crash (a segfault in
native code) or grow without bound on one hostile file. In the process that reads, any of these
stops a build for ever, or takes a server's thread and core with it. Here each task runs in a
worker process of a small pool, and the parent watches every busy worker:

- **time**: a task that runs past its budget is killed (SIGKILL) and reported ``"timed out"``.
  A task may ask for more time while it runs (``more_time``: the PDF reader asks for
  ``QA_OCR_SECONDS_PER_PAGE`` per scanned page before it recognises them), so one budget per
  file does not have to fit the slowest OCR job. The budget starts when the worker picks the
  task up (it says so first), so starting a worker on a loaded machine costs the file nothing;
- **memory**: a worker whose resident memory passes the ceiling is killed and reported
  ``"out of memory"``. The parent reads ``/proc/<pid>/statm`` every ``POLL_SECONDS`` while the
  task runs. A watchdog on RSS was chosen over ``RLIMIT_AS``: an address-space limit also counts
  memory only reserved (thread stacks, malloc arenas, PDFium's and NumPy's mappings), and its
  failures surface inside the reader as a ``MemoryError``, a library's "unknown error" or an
  abort, so the file would be reported as corrupt or crashed instead of as what it is. The
  watchdog names the cause, at the cost of a short overshoot between two readings;
- **crashes**: a worker that dies (a signal, ``os._exit``) is reported ``"crashed"`` with the
  signal's name, and replaced by a new worker for the remaining tasks.

Whatever happens to one task, the others run on; a killed worker is replaced. Tasks run in
parallel on ``workers`` processes (0 = the number of CPUs).

Why a pool of our own on ``multiprocessing``: ``concurrent.futures.ProcessPoolExecutor`` cannot
kill a running task, and one crashed worker breaks the whole pool; ``loky`` (BSD) reuses and
resizes workers but has no per-task timeout or kill either; ``pebble`` (LGPL-3.0) kills a task on
a timeout fixed when it is scheduled, so a budget that grows with the scanned pages found inside
the file cannot be expressed, and it has no memory ceiling. What is needed here is a per-task
deadline the task can extend, a memory watchdog and a kill: about 200 lines on ``multiprocessing``.

Workers are started by the ``forkserver`` method: the serving process has threads, so plain
``fork`` is unsafe there, and ``spawn`` would start a fresh interpreter and import the readers'
libraries (pypdfium2, ...) for every worker. The fork server imports them once
(``PRELOAD``); each worker is then a fork of it. Arguments and results cross the process
boundary by pickling, so a task's function must be importable and its result picklable.

``stop_all`` (called by the server on SIGTERM) ends every running pool at once: its workers are
killed and its caller gets ``ConversionStopped``, so a service stops promptly even while a
conversion is under way.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from qa.errors import ConversionStopped

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05  # how often a busy worker's memory is read
#: How long a worker may take to pick up a task before its budget starts (a new worker is
#: forked from the fork server, which itself may still be importing ``PRELOAD``). The budget
#: is the reader's: on a loaded machine, starting the process must not eat into it.
START_SECONDS = 60.0
#: Imported once by the fork server, so that each worker starts without importing them again:
#: the readers and the libraries they import where used (one that is not installed is left
#: out; its reader reports the missing package). Not pytesseract: it takes longer to import
#: than the rest together, and a page of OCR takes seconds anyway.
PRELOAD = ["qa.ingest.isolation", "qa.ingest.sources", "qa.ingest.formats",
           "qa.ingest.formats.pdf", "qa.ingest.formats.docx", "qa.ingest.formats.odt",
           "qa.ingest.formats.text", "qa.ingest.formats.html", "qa.ingest.formats.markdown",
           "pypdfium2", "pypdfium2.raw", "docx", "docx.table",
           "docx.text.paragraph", "odf.opendocument", "odf.dc", "odf.meta", "charset_normalizer",
           "markdown_it", "yaml", "lxml.html", "trafilatura", "trafilatura.settings"]
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Limits:
    """Per task: ``seconds`` of wall-clock time (plus what it asks for with ``more_time``),
    ``memory_bytes`` of resident memory; ``workers`` processes at once (0 = CPUs)."""

    seconds: float = 120.0
    memory_bytes: int = 2048 * 2**20
    workers: int = 0


@dataclass(frozen=True)
class Done:
    """A task's return value."""

    value: Any


@dataclass(frozen=True)
class Failed:
    """A task that gave no value: ``reason`` is ``"timed out"``, ``"crashed"``,
    ``"out of memory"`` or ``"error"`` (it raised: ``detail`` names the exception)."""

    reason: str
    detail: str


Outcome = Done | Failed

# --- in the worker ------------------------------------------------------------------------

_to_parent: Connection | None = None


def more_time(seconds: float) -> None:
    """Ask the parent for ``seconds`` more for the task now running (no-op outside a worker)."""
    if _to_parent is not None and seconds > 0:
        _to_parent.send(("more", float(seconds)))


def _worker_main(conn: Connection) -> None:
    """Run tasks from ``conn`` until it closes: ``(function, args)`` → ``("done", value)`` or
    ``("error", detail)``."""
    global _to_parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _to_parent = conn
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        function, args = task
        conn.send(("started", None))  # the task's budget starts now, not when it was sent
        try:
            reply: tuple[str, Any] = ("done", function(*args))
        except MemoryError:
            reply = ("memory", "")
        except BaseException as exc:  # reported to the parent; the worker goes on
            reply = ("error", f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        try:
            conn.send(reply)
        except Exception as exc:  # the value does not pickle
            conn.send(("error", f"the result cannot be sent back ({type(exc).__name__}: {exc})"))
        if reply[0] == "memory":
            return  # a fresh worker for the next task


# --- in the parent ------------------------------------------------------------------------


_Context = multiprocessing.context.SpawnContext | multiprocessing.context.ForkServerContext


def _context() -> _Context:
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # effective when the fork server first starts
    return context


class _Worker:
    def __init__(self, context: _Context) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_worker_main, args=(child,), daemon=True,
                                       name="qa-convert")
        self.process.start()
        child.close()
        self.task: int | None = None
        self.seconds = 0.0
        self.deadline = 0.0
        self.started = 0.0

    def give(self, index: int, call: tuple[Callable[..., Any], tuple[Any, ...]],
             seconds: float) -> None:
        self.task = index
        self.seconds = seconds
        self.started = time.monotonic()
        self.deadline = self.started + START_SECONDS + seconds  # until the worker says "started"
        self.conn.send(call)

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as f:
                return int(f.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(1)
        self.kill()


_ACTIVE: set[Pool] = set()
_ACTIVE_LOCK = threading.Lock()


_closing = False


def stop_all(*, closing: bool = False) -> None:
    """Stop every pool running in this process now; with ``closing`` (the process is shutting
    down), refuse every pool started from now on as well. Safe to call from a signal handler:
    it only sets flags, which the pools' loops read within ``POLL_SECONDS``."""
    global _closing
    _closing = _closing or closing
    for pool in list(_ACTIVE):
        pool.stopped = True


class Pool:
    """Runs ``(function, args)`` calls in worker processes under ``limits``; see the module."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.stopped = _closing

    def run(self, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
            on_done: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
        """Every call's outcome, in the order of ``calls``; ``on_done(index, outcome)`` as each
        ends. ``ConversionStopped`` when ``stop_all`` ends the pool first."""
        outcomes: list[Outcome | None] = [None] * len(calls)
        if not calls:
            return []
        size = min(self.limits.workers or _cpus(), len(calls))
        context = _context()
        todo = list(range(len(calls)))
        todo.reverse()
        idle: list[_Worker] = []
        busy: list[_Worker] = []
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)
        try:
            while todo or busy:
                if self.stopped:
                    raise ConversionStopped("the service is stopping: the files were not read; "
                                            "send them again once it is back")
                while todo and len(busy) < size:
                    worker = idle.pop() if idle else _Worker(context)
                    index = todo.pop()
                    worker.give(index, calls[index], self.limits.seconds)
                    busy.append(worker)
                now = time.monotonic()
                timeout = max(0.0, min(POLL_SECONDS, *(w.deadline - now for w in busy)))
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                 timeout))
                for worker in list(busy):
                    outcome = self._check(worker, ready)
                    if outcome is None:
                        continue
                    busy.remove(worker)
                    task = worker.task
                    assert task is not None
                    worker.task = None
                    outcomes[task] = outcome
                    if isinstance(outcome, Done) or outcome.reason == "error":
                        idle.append(worker)
                    else:
                        worker.kill()
                    if on_done is not None:
                        on_done(task, outcome)
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(self)
            for worker in busy:
                worker.kill()
            for worker in idle:
                worker.close()
        return [o for o in outcomes if o is not None]

    def _check(self, worker: _Worker, ready: set[Any]) -> Outcome | None:
        """The outcome of ``worker``'s task if it ended (or must end) now, else None."""
        if worker.conn in ready or worker.process.sentinel in ready:
            try:
                while worker.conn.poll():
                    kind, value = worker.conn.recv()
                    if kind == "started":
                        worker.started = time.monotonic()
                        worker.deadline = worker.started + worker.seconds
                    elif kind == "more":
                        worker.deadline += value
                    elif kind == "done":
                        return Done(value)
                    elif kind == "memory":
                        return self._out_of_memory(worker)
                    else:
                        return Failed("error", value)
            except (EOFError, OSError):
                pass
            if not worker.process.is_alive():
                worker.process.join()
                return Failed("crashed", _exit_detail(worker.process.exitcode))
        if time.monotonic() > worker.deadline:
            return Failed("timed out", f"still running after {worker.deadline - worker.started:.3g} "
                          "s (QA_MAX_SECONDS_PER_FILE, QA_OCR_SECONDS_PER_PAGE per scanned page); "
                          "the reader was stopped")
        if worker.rss() > self.limits.memory_bytes:
            return self._out_of_memory(worker)
        return None

    def _out_of_memory(self, worker: _Worker) -> Failed:
        return Failed("out of memory", f"the reader used more than "
                      f"{self.limits.memory_bytes / 2**20:,.0f} MiB (QA_MAX_CONVERT_MEMORY_MB) "
                      "and was stopped")


def _cpus() -> int:
    """The CPUs this process may run on (its affinity, which a container or taskset narrows)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _exit_detail(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:  # not ours: most likely the kernel's out-of-memory killer
            return f"the reader was killed ({name}; out of system memory?)"
        return f"the reader died of {name}"
    return f"the reader exited with status {code}"
