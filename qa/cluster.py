"""Connecting a command to a Ray cluster: the one place that starts, joins and leaves Ray.

Ray is an optional extra (``pip install '.[cluster]'``); without it every cluster option fails
with one line saying so, and nothing else in the project imports it. ``connected("local")``
starts a Ray instance on this machine for the length of the command and stops it after (Ray's
daemons outlive a process killed without clean-up, so every exit path goes through
``ray.shutdown``); any other address joins a running cluster and only disconnects from it.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from qa.errors import ClusterError

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install '.[cluster]'"
LOCAL = "local"


def require_ray() -> ModuleType:
    """The ``ray`` module, or a ``ClusterError`` naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ClusterError(f"Ray is not installed: {INSTALL_HINT} for --cluster and --replicas"
                           ) from None
    return ray


@contextmanager
def connected(address: str, *, num_cpus: int | None = None) -> Iterator[ModuleType]:
    """Ray connected to ``address`` ('local' = a new instance on this machine) while inside.

    A process already connected (a test, a notebook) keeps its connection and is not
    disconnected after. ``num_cpus`` limits a local instance (default: all cores).
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    options: dict[str, object] = {"include_dashboard": False, "logging_level": logging.WARNING}
    if address == LOCAL:
        options.update(address="local", num_cpus=num_cpus)
    else:
        _check_reachable(address)
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        ray.shutdown()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(f"cannot connect to the Ray cluster at {address!r}: {first}") from None
    logger.info("connected to Ray at %s (%s CPUs)", address, ray.cluster_resources().get("CPU", 0))
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail now if nothing listens at a HOST:PORT address: Ray itself would retry for minutes."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # 'auto' and other forms Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterError(f"cannot connect to the Ray cluster at {address!r}: {exc.strerror or exc}"
                           ) from None


_RAISED = re.compile(r"^[\w.]+(?:Error|Exception): (.+)$")


def reason(exc: BaseException) -> str:
    """One line saying why a Ray call failed: the message of the error raised on the cluster.

    Ray wraps an error raised in an actor or task in its own, whose text ends with the
    original traceback; its last line is the original error and its message.
    """
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    if not lines:
        return type(exc).__name__
    raised = _RAISED.match(lines[-1])
    return raised.group(1) if raised else lines[-1]


def cluster_cpus(ray: ModuleType) -> int:
    """CPUs of the connected cluster, all nodes together."""
    return int(ray.cluster_resources().get("CPU", 0))


def worker_count(ray: ModuleType, requested: int, cpus_each: int, what: str) -> int:
    """How many workers of ``cpus_each`` CPUs to start: ``requested``, or (0) as many as fit.

    A request the cluster cannot hold fails now, rather than waiting for CPUs that never come.
    """
    total = cluster_cpus(ray)
    fit = total // cpus_each
    if fit < 1:
        raise ClusterError(f"the Ray cluster has {total} CPUs: not enough for one {what} of "
                           f"{cpus_each} CPUs (QA_CLUSTER_WORKER_CPUS)")
    if requested > fit:
        raise ClusterError(f"{requested} {what}s of {cpus_each} CPUs need {requested * cpus_each} "
                           f"CPUs; the Ray cluster has {total}")
    return requested or fit
