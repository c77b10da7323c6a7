"""The corpus of ``qa/eval/testsets/libreoffice_sv.jsonl``: pages of Debian's
``libreoffice-help-sv``, copied out of the unpacked package into a folder ``qa build`` reads.

``qa/eval/testsets/libreoffice/corpus.json`` names the package, its version and every page with
its SHA-256, so the corpus can be rebuilt exactly; the pages themselves are not committed
(fetch them with ``make real-docs``, or ``apt-get download libreoffice-help-sv`` and
``dpkg -x``). A page keeps its path under the help's ``text/`` folder, so its document id is
that path without ``.html`` (``scalc/guide/rounding_numbers``).

    python -m tests.eval.make_libreoffice_corpus OUTDIR [--root UNPACKED_PACKAGE_ROOT]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "qa" / "eval" / "testsets" / "libreoffice" / "corpus.json"
# Where ``make real-docs`` unpacks Debian's Swedish documentation packages.
DEFAULT_PACKAGE_ROOT = ROOT / "var" / "real-docs" / "root"


def spec() -> dict:
    """The package, version, help folder and pages (path -> SHA-256) the set was written over."""
    return json.loads(SPEC.read_text(encoding="utf-8"))


def help_folder(package_root: Path = DEFAULT_PACKAGE_ROOT) -> Path:
    """The folder of the help's pages inside an unpacked package."""
    return package_root / spec()["root"]


def installed_version(package_root: Path = DEFAULT_PACKAGE_ROOT) -> str | None:
    """The unpacked package's version, from the first line of its Debian changelog."""
    changelog = package_root / "usr/share/doc" / spec()["package"] / "changelog.Debian.gz"
    if not changelog.is_file():
        return None
    first = gzip.decompress(changelog.read_bytes()).decode("utf-8", "replace").split("\n", 1)[0]
    return first.split("(", 1)[1].split(")", 1)[0] if "(" in first else None


def changed_pages(package_root: Path = DEFAULT_PACKAGE_ROOT) -> list[str]:
    """The set's pages that are missing from the unpacked package or differ from the set's."""
    folder = help_folder(package_root)
    changed = []
    for name, digest in spec()["files"].items():
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            changed.append(name)
    return changed


def write_corpus(out: Path, package_root: Path = DEFAULT_PACKAGE_ROOT) -> list[Path]:
    """Copy the set's pages into ``out`` (their paths kept); fails if any differs from the set's."""
    changed = changed_pages(package_root)
    if changed:
        raise SystemExit(f"{len(changed)} page(s) missing or changed under {help_folder(package_root)} "
                         f"(the set was written over {spec()['package']} {spec()['version']}, "
                         f"this is {installed_version(package_root) or 'an unknown version'}): "
                         + ", ".join(changed[:5]))
    written = []
    for name in spec()["files"]:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(help_folder(package_root) / name, target)
        written.append(target)
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
