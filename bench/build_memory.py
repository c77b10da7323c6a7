"""Peak memory of ``qa build`` at two collection sizes, ten times apart, and texts/s on a real collection.

A build's peak memory should be set by its batch sizes, not by its collection. This builds,
from scratch and as a child process (``build_throughput._build``: peak RSS is the child's
``ru_maxrss`` from ``os.wait4``, the largest of the build process and the children it waited
for), two synthetic Swedish collections of ``bench.synth``: N and 10 N documents of one passage
each (2-5 sentences, so each passage also gives its sentences and sentences in context to
embed). It reports each build's peak RSS, wall time, build time (model load excluded, as
``qa build`` prints it) and texts embedded per second, and the ratio of the two peaks.

Beside them, texts/s on a real collection: a spread subset (every ``--every``-th page, sorted)
of the HTML pages of LibreOffice's Swedish help, Debian package ``libreoffice-help-sv``,
fetched with ``apt-get download`` into ``var/bench`` if it is not there yet.

The builds use the default settings (sentence vectors and sentences in context included);
``--no-contexts`` sets ``QA_SENTENCE_CONTEXTS=false`` for a shorter run.

    python -m bench.build_memory [--quick] [--docs N] [--every K] [--no-contexts]
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.build_throughput import _build
from bench.common import (
    RESULTS,
    SCRATCH,
    OtherLoad,
    bench_parser,
    print_rows,
    ratio,
    row,
    wait_for_quiet,
    write_result,
)
from bench.synth import write_corpus

PACKAGE = "libreoffice-help-sv"
HELP_DIR = Path("usr/share/libreoffice/help/sv")


def libreoffice_help(scratch: Path = SCRATCH) -> Path:
    """The unpacked Swedish LibreOffice help (downloaded, not installed, on first use)."""
    root = scratch / PACKAGE
    if not (root / HELP_DIR).is_dir():
        debs = scratch / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", PACKAGE], cwd=debs, check=True,
                       capture_output=True)
        deb = max(debs.glob(f"{PACKAGE}_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root / HELP_DIR


def help_subset(every: int, scratch: Path = SCRATCH) -> Path:
    """Every ``every``-th HTML page of the help (sorted paths), copied to a folder of its own."""
    pages = sorted(libreoffice_help(scratch).rglob("*.html"))[::every]
    folder = scratch / f"{PACKAGE}-every{every}"
    shutil.rmtree(folder, ignore_errors=True)
    help_root = libreoffice_help(scratch)
    for page in pages:
        target = folder / page.relative_to(help_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
    return folder


def _measure(name: str, source: Path, env: dict[str, str]) -> dict[str, Any]:
    print(f"qa build {name} …", flush=True)
    index_dir = SCRATCH / f"build-memory-{name}"
    with OtherLoad() as load:
        result = _build(source, index_dir, env)
    shutil.rmtree(index_dir, ignore_errors=True)
    texts = result["texts_embedded"] or 0
    return {**result, "texts_per_s": round(texts / result["build_s"], 2),
            "texts_per_s_wall": round(texts / result["wall_s"], 2), "others_cpu_share": load.share}


def run(docs: int = 300, every: int = 40, contexts: bool = True, quick: bool = False
        ) -> dict[str, Any]:
    if quick:
        docs, every = min(docs, 30), max(every, 200)
    env = {} if contexts else {"QA_SENTENCE_CONTEXTS": "false"}
    busy = wait_for_quiet(10 if quick else 90)
    small, large = docs, 10 * docs
    corpora = {f"synth-{n}": write_corpus(SCRATCH / f"synth-{n}.jsonl", n) for n in (small, large)}
    corpora[f"libreoffice-help-sv-every{every}"] = help_subset(every)
    results = {name: _measure(name, source, env) for name, source in corpora.items()}
    a, b, real = (results[k] for k in corpora)
    growth = ratio(b["peak_rss_mb"], a["peak_rss_mb"])
    rows = [
        row(f"synth-{small}: peak RSS of qa build", a["peak_rss_mb"], "MiB",
            f"{a['passages']} passages, {a['texts_embedded']} texts embedded"),
        row(f"synth-{large}: peak RSS of qa build", b["peak_rss_mb"], "MiB",
            f"{b['passages']} passages, {b['texts_embedded']} texts embedded"),
        row(f"peak RSS ratio, {large} ÷ {small} documents", growth, "×", "target ≤ 1.2"),
    ]
    for name, r in results.items():
        rows.append(row(f"{name}: texts embedded/s", r["texts_per_s"], "/s",
                        f"{r['documents']} documents, {r['passages']} passages, "
                        f"{r['texts_embedded']} texts in {r['build_s']} s (wall {r['wall_s']} s); "
                        f"others' CPU share {r['others_cpu_share']}"))
    rows.append(row(f"{real['documents']} LibreOffice help pages: peak RSS", real["peak_rss_mb"], "MiB"))
    result = {"documents": [small, large], "every": every, "env": env, "corpora": results,
              "peak_rss_ratio": growth, "machine_busy_before": busy, "summary": rows}
    print_rows("Build memory", rows)
    path = write_result("build_memory", result, quick)
    _write_markdown(path.with_suffix(".md"), rows, env)
    return result


def _write_markdown(path: Path, rows: list[dict[str, Any]], env: dict[str, str]) -> None:
    lines = ["# Build memory", "",
             "`python -m bench.build_memory` (settings: "
             + (", ".join(f"{k}={v}" for k, v in env.items()) or "defaults") + ")", "",
             "| metric | value | unit | note |", "|---|---|---|---|"]
    lines += [f"| {r['metric']} | {r['value']} | {r['unit']} | {r['note']} |" for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"→ {path.relative_to(RESULTS.parent.parent)}")


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--docs", type=int, default=300, help="N: the small synthetic collection")
    parser.add_argument("--every", type=int, default=40, help="every K-th LibreOffice help page")
    parser.add_argument("--no-contexts", action="store_true", help="QA_SENTENCE_CONTEXTS=false")
    args = parser.parse_args()
    run(args.docs, args.every, not args.no_contexts, args.quick)


if __name__ == "__main__":
    main()
