"""Serving on one machine with several processes: ``qa serve --workers N``, without Ray.

One socket is bound here and handed to N server processes (uvicorn's own supervisor, which
restarts a worker that dies); the kernel gives each incoming connection to one of them. Each
process opens the index itself (``served_app``), so each holds its own question encoder and
snapshot: N processes take N times the memory of one, and answer up to N questions at once.

``served_app`` is also what every Ray Serve replica runs (``api.replicas``): whichever way the
app is replicated, each copy is the app of ``qa serve`` over a ``LiveEngine`` of its own, so
each serves the index's newest published generation and swaps to the next one by itself
(generations in use are leased per process, see ``qa.index.generations``).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from qa.settings import Settings

logger = logging.getLogger(__name__)


def threads_per_process(settings: Settings, processes: int) -> Settings:
    """``settings`` with each process's share of the cores as its embedding threads.

    N processes each using every core would make the question encoders fight over them;
    an explicit QA_THREADS is kept as it is.
    """
    if settings.embed.threads:
        return settings
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return settings.model_copy(update={"threads": max(1, cores // processes)})


def served_app(settings: Settings, index_dir: str | Path | None, access_log: bool,
               configure_logging: Callable[[], None] | None = None) -> FastAPI:
    """The app ``qa serve`` serves, over a warmed engine of ``index_dir``'s published index.

    ``configure_logging`` runs first: a worker process or replica starts without the
    logging ``qa`` set up in the process that launched it.
    """
    from api.app import create_app
    from qa.search.live import LiveEngine

    if configure_logging is not None:
        configure_logging()
    return create_app(LiveEngine.open(settings, str(index_dir) if index_dir else None),
                      access_log=access_log)


def run_workers(settings: Settings, index_dir: Path | None, *, host: str, port: int, workers: int,
                access_log: bool, log_level: str,
                configure_logging: Callable[[], None] | None = None) -> None:
    """Serve the app from ``workers`` processes sharing one socket on ``host``:``port``.

    Blocks until interrupted (Ctrl-C or SIGTERM stop every worker). The index is checked here
    first, so a missing one fails with one line before any worker starts.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from qa.index.manifest import read_manifest

    read_manifest(Path(index_dir) if index_dir else settings.index.index_dir)
    factory = functools.partial(served_app, threads_per_process(settings, workers), index_dir,
                                access_log, configure_logging)
    # uvicorn logs through the handler configure_logging gives it (log_config=None); its own
    # access log is off, as in a single `qa serve` process.
    from api.server import server_options

    # The same deadlines on request heads and idle connections as one process (api.server).
    config = uvicorn.Config(factory, factory=True, host=host, port=port, workers=workers,
                            log_config=None, log_level=log_level, access_log=False,
                            server_header=False, **server_options(settings.limits))
    socket = config.bind_socket()
    logger.info("serving http://%s:%d from %d worker processes", host, port, workers)
    try:
        Multiprocess(config, sockets=[socket]).run()
    finally:
        socket.close()
