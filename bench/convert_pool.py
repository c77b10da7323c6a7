"""What reading files in worker processes costs and gains (``qa.ingest.isolation``).

Times, in one run, side by side:

- start-up: the first pool of a process (it starts the fork server, which imports the readers
  once), a later pool's first task (a fork of the fork server), and what a ``spawn`` worker
  would pay instead (a fresh interpreter importing the PDF reader);
- a folder of ``FILES`` PDFs and DOCX files (``tests/ingest/make_files.py``), read in this
  process file after file as before isolation (``formats.convert``, then the document made
  here, as ``read_files`` does with a worker's result) and by ``read_corpus`` with 1 and with
  2 workers (median of ``RUNS``). On two cores shared with other work the gain of a second
  worker is only what the machine leaves free.

    python -m bench.convert_pool [--quick]
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import bench_parser, median_seconds, print_rows, ratio, row, write_result
from bench.conversion import _pages

FILES = 12
PAGES = 30
RUNS = 3


def _noop() -> int:
    return 1


def _spawned_reader() -> None:
    import pypdfium2  # noqa: F401

    import qa.ingest.formats.pdf  # noqa: F401



def _cold_start() -> float:
    """The first pool's one trivial task in a fresh process (fork server started there)."""
    code = ("import time; t=time.perf_counter(); from qa.ingest.isolation import Pool, Limits; "
            "from bench.convert_pool import _noop; Pool(Limits(workers=1)).run([(_noop, ())]); "
            "print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    from qa.ingest.formats import ReadOptions
    from qa.ingest.isolation import Done, Limits, Pool
    from qa.ingest.sources import _document, convert_or_skip, read_corpus
    from tests.ingest import make_files

    files = 4 if args.quick else FILES
    runs = 1 if args.quick else RUNS
    cold = statistics.median(_cold_start() for _ in range(runs))
    Pool(Limits(workers=1)).run([(_noop, ())])  # the fork server runs from here on
    warm = median_seconds(lambda: Pool(Limits(workers=1)).run([(_noop, ())]), max(runs, 3))
    spawn = multiprocessing.get_context("spawn")

    def spawned() -> None:
        process = spawn.Process(target=_spawned_reader)
        process.start()
        process.join()

    spawned_s = median_seconds(spawned, runs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "samling"
        folder.mkdir()
        pages = _pages(PAGES)
        for n in range(files):
            if n % 2:
                make_files.make_docx(folder / f"dok{n}.docx", [b for p in pages for b in p])
            else:
                make_files.make_pdf(folder / f"rapport{n}.pdf", pages)
        paths = sorted(folder.iterdir())
        options = ReadOptions()
        in_process = median_seconds(lambda: [_document(Done(convert_or_skip(p, options)), p, p.name,
                                                p.stem) for p in paths], runs)
        one = median_seconds(lambda: read_corpus(folder, ReadOptions(convert_workers=1)), runs)
        two = median_seconds(lambda: read_corpus(folder, ReadOptions(convert_workers=2)), runs)
    rows = [
        row("first pool of a process", cold, "s", "starts the fork server, which imports the readers"),
        row("a later pool's first task", warm * 1000, "ms", "a fork of the fork server"),
        row("a spawned worker instead", spawned_s * 1000, "ms", "fresh interpreter importing the PDF reader"),
        row(f"{files} files in this process", in_process, "s", f"{PAGES} pages each, PDF and DOCX, "
            f"median of {runs}"),
        row(f"{files} files, 1 worker", one, "s", f"{ratio(one, in_process)} x in this process"),
        row(f"{files} files, 2 workers", two, "s", f"{ratio(two, in_process)} x in this process"),
    ]
    print_rows("Conversion in worker processes", rows)
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} CPUs")
    write_result("convert_pool", {"rows": rows, "files": files, "pages": PAGES, "runs": runs,
                                  "load_average": round(load, 2)}, args.quick)


if __name__ == "__main__":
    main()
