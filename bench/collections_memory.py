"""Memory of a service of collections: one question encoder for all, against one per collection.

Copies the seeds index (``var/bench-index``, real model) into N collection directories and, in a
fresh child process per case, opens them as ``qa serve --collections`` does (``Collections``:
the model loads once) and, as the baseline, as N separate live engines each with its own
encoder (what N one-index services in one process would hold). Reports the resident memory
after opening and the number of distinct question encoders; the first is the figure for
docs/operations.md, the second is what makes it.

    python -m bench.collections_memory [--quick]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    bench_parser,
    ensure_seeds_index,
    print_rows,
    row,
    rss_mb,
    write_result,
)


def child(kind: str, folder: Path) -> dict[str, Any]:
    """Open every collection of ``folder`` (``kind``: ``shared`` or ``separate``); RSS after."""
    from qa.search.collections import Collections
    from qa.search.live import LiveEngine
    from qa.settings import Settings

    settings = Settings()
    before = rss_mb()
    if kind == "shared":
        collections = Collections.open(settings, folder)
        encoders = {id(c.live.questions) for c in collections.all()}
        n = len(collections.all())
    else:
        lives = [LiveEngine.open(settings, path) for path in sorted(folder.iterdir())]
        encoders = {id(live.questions) for live in lives}
        n = len(lives)
    return {"collections": n, "encoders": len(encoders), "rss_mb": rss_mb(),
            "rss_before_mb": before}


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=None)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    index = ensure_seeds_index()
    counts = (1, 2) if args.quick else (1, 4)
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            folder = Path(tmp) / f"n{n}"
            folder.mkdir()
            for i in range(n):
                shutil.copytree(index, folder / f"samling{i}", symlinks=True)
            for kind in ("shared", "separate"):
                done = subprocess.run([sys.executable, "-m", "bench.collections_memory",
                                       "--child", kind, str(folder)], cwd=ROOT, check=True,
                                      capture_output=True, text=True)
                cases.append({"kind": kind, **json.loads(done.stdout.strip().splitlines()[-1])})
    rows = [row(f"{c['kind']}, {c['collections']} collection(s): RSS", c["rss_mb"], "MiB",
                f"{c['encoders']} question encoder(s)") for c in cases]
    by = {(c["kind"], c["collections"]): c["rss_mb"] for c in cases}
    top = counts[-1]
    per_extra = (by[("shared", top)] - by[("shared", 1)]) / (top - 1)
    per_extra_separate = (by[("separate", top)] - by[("separate", 1)]) / (top - 1)
    rows.append(row("shared: RSS per extra collection", round(per_extra, 1), "MiB"))
    rows.append(row("separate encoders: RSS per extra collection", round(per_extra_separate, 1),
                    "MiB"))
    print_rows("Collections: memory", rows)
    write_result("collections_memory", {"cases": cases, "summary": rows,
                                        "per_extra_collection_mb": round(per_extra, 1),
                                        "per_extra_separate_mb": round(per_extra_separate, 1)},
                 args.quick)


if __name__ == "__main__":
    main()
