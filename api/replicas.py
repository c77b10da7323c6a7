"""Serving replicas on a Ray cluster: ``qa serve --replicas N [--cluster ADDRESS]``, with Ray Serve.

The app is the one ``qa serve`` serves (``api.workers.served_app``), deployed as a Ray Serve
FastAPI ingress: each of the N replicas is an actor that opens the index itself (model and
snapshot loaded once per replica) and builds the app around it; Serve's HTTP proxy on the
head node listens on ``--host``:``--port`` and spreads requests over the replicas. Every
replica reads the same published index directory, so on a cluster of several machines it must
be on storage that every node mounts at the same path (the path sent is absolute), and each
follows the newest generation published there as ``qa serve`` does.

The command blocks while the replicas serve; Ctrl-C or SIGTERM removes the deployment (and a
'local' cluster with it) before the command ends.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from api.workers import served_app
from qa.cluster import connected, reason, worker_count
from qa.errors import ClusterError
from qa.settings import Settings

logger = logging.getLogger(__name__)

APP_NAME = "svensk-qa"
# Requests a replica takes at once: the app is asynchronous and batches waiting questions for
# its one embedding thread, so it gains from more than Serve's default of a few.
MAX_ONGOING_REQUESTS = 64
# The app logs each request itself (api.access, QA_ACCESS_LOG); Serve's own line would repeat it.
_SERVE_LOGGING = {"enable_access_log": False}
# How long Serve's HTTP proxy may take to start. Serve's controller gives a starting proxy 5 s
# (RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S) and then kills and restarts it, which makes
# ``serve.start`` fail at once: on a busy or small machine importing the proxy takes longer.
PROXY_START_SECONDS = 180.0


class QAReplica:
    """One replica: the app of ``qa serve`` over its own engine (``serve.ingress`` late-bound)."""

    def __init__(self, settings: Settings, index_dir: str, access_log: bool,
                 configure_logging: Callable[[], None] | None) -> None:
        self._app = served_app(settings, index_dir, access_log, configure_logging)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return self._app


def deployment(serve: Any, settings: Settings, index_dir: Path, *, replicas: int, access_log: bool,
               configure_logging: Callable[[], None] | None = None) -> Any:
    """The bound Serve application of ``replicas`` copies of the app over ``index_dir``."""
    cpus = settings.embed.cluster_worker_cpus
    replica_settings = settings.model_copy(update={"threads": settings.embed.threads or cpus})
    ingress = serve.deployment(serve.ingress()(QAReplica), name="QAReplica", num_replicas=replicas,
                               ray_actor_options={"num_cpus": cpus},
                               max_ongoing_requests=MAX_ONGOING_REQUESTS,
                               logging_config=_SERVE_LOGGING)
    return ingress.bind(replica_settings, str(index_dir), access_log, configure_logging)


def start_serve(serve: Any, ray: Any, host: str, port: int,
                timeout: float = PROXY_START_SECONDS) -> None:
    """Serve started on the connected cluster, its HTTP proxy listening on ``host``:``port``.

    The controller is told to wait ``timeout`` for its proxy, and ``serve.start`` (which waits
    60 s for the proxy, or fails as soon as a slow proxy is restarted) is called again, finding
    the running controller, until the proxy answers or ``timeout`` has passed. Any failure is a
    ``ClusterError`` saying why, in one line.
    """
    patience = {"runtime_env": {"env_vars": {
        "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": str(timeout)}}}
    deadline = time.monotonic() + timeout
    while True:
        try:
            serve.start(http_options={"host": host, "port": port}, proxy_location="HeadOnly",
                        logging_config=_SERVE_LOGGING, controller_options=patience)
            return
        except (TimeoutError, ray.exceptions.ActorDiedError) as exc:
            if time.monotonic() >= deadline:
                raise ClusterError(f"Serve's HTTP proxy did not start within {timeout:.0f} s: "
                                   f"{reason(exc)}") from None
            logger.warning("Serve's HTTP proxy is slow to start (%s); waiting for it", reason(exc))
        except Exception as exc:  # e.g. the port is taken on the head node
            raise ClusterError(f"Serve did not start: {reason(exc)}") from None


def run_replicas(settings: Settings, index_dir: Path | None, *, address: str, host: str, port: int,
                 replicas: int, access_log: bool,
                 configure_logging: Callable[[], None] | None = None) -> None:
    """Serve ``replicas`` copies of the app on the Ray cluster at ``address`` until stopped."""
    from qa.index.manifest import read_manifest

    where = Path(index_dir or settings.index.index_dir).resolve()
    read_manifest(where)  # a missing index fails here, in one line, before Ray starts
    with connected(address) as ray:
        from ray import serve

        worker_count(ray, replicas, settings.embed.cluster_worker_cpus, "replica")
        stop = threading.Event()
        serving = False

        def on_signal(*_: object) -> None:  # Ctrl-C or SIGTERM: stop serving, or stop starting
            stop.set()
            if not serving:
                raise KeyboardInterrupt

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, on_signal)
        try:
            start_serve(serve, ray, host, port)
            app = deployment(serve, settings, where, replicas=replicas, access_log=access_log,
                             configure_logging=configure_logging)
            try:
                serve.run(app, name=APP_NAME, route_prefix="/")
            except Exception as exc:  # a replica that cannot start (Ray's error says why)
                raise ClusterError(f"the replicas did not start: {reason(exc)}") from None
            serving = True
            logger.info("serving http://%s:%d from %d replicas on Ray", host, port, replicas)
            while not stop.wait(1.0):
                pass
        finally:
            serve.shutdown()
            logger.info("replicas stopped")
