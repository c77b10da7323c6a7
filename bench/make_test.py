"""How long `make test` takes from a fresh clone: set-up, then the suite.

Clones the repository's committed ``HEAD`` into a temporary folder (with ``../shared`` beside it,
as CI has it), gives it an empty ``HOME`` (no model cache, no uv or pip cache) and runs
``make test`` as ``.ci/run`` does, printing its output as it goes. Writes
``bench/results/make_test.json``: wall seconds of the whole run, of the set-up (everything
before pytest starts) and of pytest, and pytest's summary line. Debian packages that are already
installed on this machine are not installed again, so on a fresh CI machine the set-up takes
longer by what apt-get needs for them.

    python -m bench.make_test            # about ten minutes (--quick is the same run)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import bench_parser, busy_between, cpu_ticks, machine_busy, print_rows, row, write_result

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the clone (printed)")
    args = parser.parse_args()
    busy = machine_busy()
    base = Path(tempfile.mkdtemp(prefix="make-test-"))
    clone, home = base / "main", base / "home"
    home.mkdir()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    if SHARED.is_dir():
        (base / "shared").symlink_to(SHARED)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), CI="true", DEBIAN_FRONTEND="noninteractive")
    started = time.monotonic()
    tests_started: float | None = None
    ticks_at_tests: tuple[int, int] | None = None
    summary = ""
    seconds = base / "file_seconds.json"  # each test file's seconds: tests/file_seconds.json
    with subprocess.Popen(["make", "test", f"PYTEST_ARGS=--file-seconds-out {seconds}"], cwd=clone,
                          env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if tests_started is None and " -m pytest " in line:
                tests_started, ticks_at_tests = time.monotonic(), cpu_ticks()
            if re.search(r"\d+ (passed|failed)", line) and " in " in line:
                summary = line.strip()
        code = proc.wait()
    ended, ticks_at_end = time.monotonic(), cpu_ticks()
    result = {
        "commit": commit,
        "exit_code": code,
        "total_s": round(ended - started, 1),
        "setup_s": round((tests_started or ended) - started, 1),
        "pytest_s": round(ended - tests_started, 1) if tests_started else None,
        "pytest_summary": summary,
        # How much of the two cores the suite kept busy: below 1, the workers waited on
        # something (servers starting, browsers, sleeps) while a core was free.
        "pytest_cores_busy": busy_between(ticks_at_tests, ticks_at_end) if tests_started else None,
        "machine_busy_before": busy,
        "note": "Debian packages already on this machine are not installed again",
        "file_seconds": (json.loads(seconds.read_text(encoding="utf-8"))
                         if seconds.is_file() else None),
    }
    rows = [row("make test from a fresh clone", result["total_s"], "s"),
            row("set-up (venv, model, Debian, lint, docs)", result["setup_s"], "s"),
            row("pytest", result["pytest_s"], "s", summary),
            row("cores busy during pytest", result["pytest_cores_busy"], "share")]
    print_rows("make test", rows)
    write_result("make_test", {**result, "summary": rows}, args.quick)
    if args.keep:
        print(f"clone kept in {clone}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
