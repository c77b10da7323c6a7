"""Peak memory and CPU time of ``qa build`` on two real collections ten times apart in size.

A build's peak memory should be set by its batch sizes, not by its collection, and a build of
about 700 files must fit the issue's budget (under 15 minutes on two cores, under 3 GB). This
builds, from scratch and as a child process, two collections of pages of LibreOffice's Swedish
help (Debian package ``libreoffice-help-sv``, fetched with ``apt-get download`` into
``var/bench`` unless ``make real-docs`` unpacked it): the pages listed in
``bench/collections/libreoffice_700.txt`` (700 files, about 4,700 passages) and
``libreoffice_85.txt`` (85 files, about 490 passages).

For each build (``bench.process_tree``): the peak of the summed RSS of the build and every
process it starts (conversion workers included), sampled every 0.2 s, beside ``ru_maxrss`` (the
largest single process); the CPU seconds of the whole tree (user + system), and the share spent
before embedding starts (conversion, model load, planning); wall time. The machine is shared, so
wall time is reported but the figure to judge by is CPU seconds: on two otherwise idle cores a
build takes about CPU seconds ÷ 2 (embedding keeps both cores busy; conversion runs in two
workers).

``--code DIR`` runs the same builds with the ``qa`` package of another checkout (for example
``git archive main | tar -x -C DIR``), to compare revisions side by side in one run; ``--only
NAME`` builds one collection.

    python -m bench.build_memory [--quick] [--code DIR] [--only libreoffice_85]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import (
    RESULTS,
    ROOT,
    SCRATCH,
    OtherLoad,
    bench_parser,
    print_rows,
    ratio,
    row,
    write_result,
)
from bench.process_tree import run_tree

PACKAGE = "libreoffice-help-sv"
HELP_DIR = Path("usr/share/libreoffice/help/sv")
UNPACKED = ROOT / "var" / "real-docs" / "root"  # where ``make real-docs`` puts it
COLLECTIONS = Path(__file__).resolve().parent / "collections"
SMALL, LARGE = "libreoffice_85", "libreoffice_700"
EMBEDDING_STARTS = r"^embedding \d+ passages"


def libreoffice_help(scratch: Path = SCRATCH) -> Path:
    """The unpacked Swedish LibreOffice help (``make real-docs``'s, else downloaded here)."""
    if (UNPACKED / HELP_DIR).is_dir():
        return UNPACKED / HELP_DIR
    root = scratch / PACKAGE
    if not (root / HELP_DIR).is_dir():
        debs = scratch / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", PACKAGE], cwd=debs, check=True,
                       capture_output=True)
        deb = max(debs.glob(f"{PACKAGE}_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root / HELP_DIR


def collection(name: str, scratch: Path = SCRATCH) -> Path:
    """The pages listed in ``collections/<name>.txt``, copied into a folder of their own."""
    pages = [line for line in (COLLECTIONS / f"{name}.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    help_root = libreoffice_help(scratch)
    folder = scratch / name
    shutil.rmtree(folder, ignore_errors=True)
    for page in pages:
        target = folder / page
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(help_root / page, target)
    return folder


def measure(source: Path, index_dir: Path, code: Path = ROOT,
            env: dict[str, str] | None = None) -> dict[str, Any]:
    """One ``qa build`` from scratch, run with the ``qa`` package found in ``code``."""
    shutil.rmtree(index_dir, ignore_errors=True)
    cmd = [sys.executable, "-m", "qa.cli", "build", "--source", str(source), "--index",
           str(index_dir), "--no-progress"]
    with OtherLoad() as load:
        run = run_tree(cmd, cwd=code, env={**os.environ, **(env or {})}, mark=EMBEDDING_STARTS)
    if run.returncode != 0:
        raise RuntimeError(f"qa build failed:\n{run.output[-3000:]}")
    counts = re.search(r"embedding (\d+) passages, (\d+) sentences and (\d+) sentences in context",
                       run.output)
    built = re.search(r"indexed (\d+) documents .*?, (\d+) passages .* in ([\d.]+) s", run.output)
    texts = sum(map(int, counts.groups())) if counts else 0
    before = run.cpu_s_at_mark or 0.0
    return {
        "documents": int(built.group(1)) if built else None,
        "passages": int(built.group(2)) if built else None,
        "texts_to_embed": texts,
        "build_s": float(built.group(3)) if built else None,
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "cpu_s_before_embedding": before,
        "cpu_s_embedding_and_writing": round(run.cpu_s - before, 2),
        "two_core_wall_estimate_s": round(run.cpu_s / 2, 1),
        "texts_per_cpu_s": round(texts / max(run.cpu_s - before, 1e-9), 2),
        "peak_tree_rss_mb": run.peak_tree_rss_mb,
        "peak_process_rss_mb": run.peak_process_rss_mb,
        "others_cpu_share": load.share,
        "code": str(code),
    }


def run(code: Path = ROOT, only: str | None = None, quick: bool = False) -> dict[str, Any]:
    names = [only] if only else ([SMALL] if quick else [SMALL, LARGE])
    results = {name: measure(collection(name), SCRATCH / f"build-memory-{name}", code)
               for name in names}
    rows = []
    for name, r in results.items():
        rows += [
            row(f"{name}: peak RSS, build + workers", r["peak_tree_rss_mb"], "MiB",
                f"{r['documents']} documents, {r['passages']} passages, {r['texts_to_embed']} "
                f"texts; largest single process {r['peak_process_rss_mb']} MiB"),
            row(f"{name}: CPU seconds (user + system, whole tree)", r["cpu_s"], "s",
                f"{r['cpu_s_before_embedding']} s before embedding (conversion, model load, "
                f"plan); wall {r['wall_s']} s with others using {r['others_cpu_share']} of the "
                "cores"),
            row(f"{name}: estimated wall time on 2 idle cores", r["two_core_wall_estimate_s"], "s",
                "CPU seconds ÷ 2: a lower bound (OpenVINO's two threads do not double a core's work)"),
            row(f"{name}: texts per CPU second of embedding and writing", r["texts_per_cpu_s"],
                "/s", "texts embedded per CPU second"),
        ]
    result: dict[str, Any] = {"code": str(code), "collections": results}
    if SMALL in results and LARGE in results:
        growth = ratio(results[LARGE]["peak_tree_rss_mb"], results[SMALL]["peak_tree_rss_mb"])
        result["peak_rss_ratio"] = growth
        rows.append(row(f"peak RSS ratio, {LARGE} ÷ {SMALL}", growth, "×",
                        f"{ratio(results[LARGE]['passages'], results[SMALL]['passages'])} × the "
                        "passages; target ≤ 1.2"))
    result["summary"] = rows
    print_rows("Build memory and CPU", rows)
    if code == ROOT:
        path = write_result("build_memory", result, quick)
        _write_markdown(path.with_suffix(".md"), rows)
    return result


def _write_markdown(path: Path, rows: list[dict[str, Any]]) -> None:
    lines = ["# Build memory and CPU", "", "`python -m bench.build_memory` (default settings)", "",
             "| metric | value | unit | note |", "|---|---|---|---|"]
    lines += [f"| {r['metric']} | {r['value']} | {r['unit']} | {r['note']} |" for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"→ {path.relative_to(RESULTS.parent.parent)}")


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="a checkout whose qa package builds (default: this one)")
    parser.add_argument("--only", choices=[SMALL, LARGE], help="build one collection")
    args = parser.parse_args()
    run(args.code.resolve(), args.only, args.quick)


if __name__ == "__main__":
    main()
