"""The corpus of ``qa/eval/testsets/lifelines_sv.jsonl``: the two Swedish DocBook manuals of
Debian's ``lifelines-doc-sv`` (the user guide and the report-programming manual), copied out of
the unpacked package into a folder ``qa build`` reads.

``qa/eval/testsets/lifelines/corpus.json`` names the package, its version and each page with its
SHA-256; the pages are not committed (``make real-docs`` fetches them). A page's document id is
its file name without ``.html`` (``ll-userguide.sv``).

    python -m tests.eval.make_lifelines_corpus OUTDIR [--root UNPACKED_PACKAGE_ROOT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "qa" / "eval" / "testsets" / "lifelines" / "corpus.json"
DEFAULT_PACKAGE_ROOT = ROOT / "var" / "real-docs" / "root"


def spec() -> dict:
    """The package, version, folder and pages (name -> SHA-256) the set was written over."""
    return json.loads(SPEC.read_text(encoding="utf-8"))


def folder(package_root: Path = DEFAULT_PACKAGE_ROOT) -> Path:
    """The folder of the manuals inside an unpacked package."""
    return package_root / spec()["root"]


def changed_pages(package_root: Path = DEFAULT_PACKAGE_ROOT) -> list[str]:
    """The set's pages that are missing from the unpacked package or differ from the set's."""
    return [name for name, digest in spec()["files"].items()
            if not (folder(package_root) / name).is_file()
            or hashlib.sha256((folder(package_root) / name).read_bytes()).hexdigest() != digest]


def write_corpus(out: Path, package_root: Path = DEFAULT_PACKAGE_ROOT) -> list[Path]:
    """Copy the set's pages into ``out``; fails if any is missing or differs from the set's."""
    changed = changed_pages(package_root)
    if changed:
        raise SystemExit(f"missing or changed under {folder(package_root)} (the set was written "
                         f"over {spec()['package']} {spec()['version']}): {', '.join(changed)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in spec()["files"]:
        shutil.copyfile(folder(package_root) / name, out / name)
        written.append(out / name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write the pages into")
    parser.add_argument("--root", type=Path, default=DEFAULT_PACKAGE_ROOT,
                        help="where the package is unpacked (dpkg -x); default var/real-docs/root")
    args = parser.parse_args()
    written = write_corpus(args.out, args.root)
    print(f"{len(written)} pages of {spec()['package']} {spec()['version']} in {args.out}")


if __name__ == "__main__":
    main()
