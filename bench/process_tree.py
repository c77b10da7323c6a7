"""Peak memory and CPU time of a command and every process it starts (conversion workers too).

``ru_maxrss`` from ``wait4`` is the largest single process of a tree, not what the tree holds at
once; a build whose conversion workers run beside it holds more. ``run_tree`` samples the summed
RSS of the command and all its descendants (``/proc``) every ``interval`` seconds and reports
the largest sum, beside ``ru_maxrss``, and the tree's CPU seconds (user + system, from
``wait4``: the command and every descendant it, or they, waited for). It also notes the tree's
CPU seconds when a line of the command's output first matches ``mark`` (for ``qa build``, the
line that starts the embedding), so the share spent before it (conversion, planning, model
load) can be told apart.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class TreeRun:
    output: str
    returncode: int
    wall_s: float
    cpu_s: float  # user + system of the whole tree
    peak_tree_rss_mb: float  # largest sampled sum over the tree
    peak_process_rss_mb: float  # ru_maxrss: the largest single process
    cpu_s_at_mark: float | None  # tree CPU seconds when ``mark`` was first printed
    wall_s_at_mark: float | None


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree(root: int) -> list[int]:
    kids = _children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(kids.get(pid, []))
    return found


def _rss_and_cpu(pid: int) -> tuple[int, float]:
    """Resident bytes, and CPU seconds of the process plus its waited-for children."""
    try:
        statm = Path(f"/proc/{pid}/statm").read_text().split()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0.0
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return int(statm[1]) * _PAGE, ticks / _TICK


def run_tree(cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
             interval: float = 0.2, mark: str | None = None) -> TreeRun:
    """Run ``cmd`` to its end, sampling its process tree; see the module docstring."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    peak = 0
    done = threading.Event()
    at_mark: list[float] = []
    lines: list[str] = []
    pattern = re.compile(mark) if mark else None

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_rss_and_cpu(p)[0] for p in _tree(proc.pid)))
            done.wait(interval)

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            lines.append(line)
            if pattern is not None and not at_mark and pattern.search(line):
                at_mark.extend([sum(_rss_and_cpu(p)[1] for p in _tree(proc.pid)),
                                time.perf_counter() - t0])

    sampler = threading.Thread(target=sample, daemon=True)
    reader = threading.Thread(target=read, daemon=True)
    sampler.start()
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    reader.join()
    return TreeRun(
        output="".join(lines),
        returncode=os.waitstatus_to_exitcode(status),
        wall_s=round(wall, 2),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        peak_tree_rss_mb=round(peak / 2**20, 1),
        peak_process_rss_mb=round(usage.ru_maxrss / 1024, 1),
        cpu_s_at_mark=round(at_mark[0], 2) if at_mark else None,
        wall_s_at_mark=round(at_mark[1], 2) if at_mark else None,
    )
