"""A question set's corpus taken from a Debian package as its producer ships it.

A set over real documents commits only ``corpus.json``: the package, its version, the folder
of the pages inside the unpacked package (``root``) and every page with its SHA-256 (``files``,
path under ``root`` -> digest). The pages come from ``make real-docs`` (``apt-get download`` and
``dpkg -x`` into ``var/real-docs/root``); ``write_corpus`` copies them, paths kept, into a folder
``qa build`` reads, and refuses when a page is missing or differs from the one the set was
written over. Each set's ``make_*_corpus`` module is one ``PackagedCorpus`` and its command line.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Where ``make real-docs`` unpacks Debian's Swedish documentation packages.
DEFAULT_PACKAGE_ROOT = ROOT / "var" / "real-docs" / "root"


class PackagedCorpus:
    """The pages named by one ``corpus.json`` (see the module)."""

    def __init__(self, spec_path: Path) -> None:
        self.spec_path = spec_path

    def spec(self) -> dict:
        """The package, version, folder and pages (path -> SHA-256) the set was written over."""
        return json.loads(self.spec_path.read_text(encoding="utf-8"))

    def folder(self, package_root: Path = DEFAULT_PACKAGE_ROOT) -> Path:
        """The folder of the pages inside an unpacked package."""
        return package_root / self.spec()["root"]

    def installed_version(self, package_root: Path = DEFAULT_PACKAGE_ROOT) -> str | None:
        """The unpacked package's version, from the first line of its Debian changelog."""
        changelog = package_root / "usr/share/doc" / self.spec()["package"] / "changelog.Debian.gz"
        if not changelog.is_file():
            return None
        first = gzip.decompress(changelog.read_bytes()).decode("utf-8", "replace").split("\n", 1)[0]
        return first.split("(", 1)[1].split(")", 1)[0] if "(" in first else None

    def changed_pages(self, package_root: Path = DEFAULT_PACKAGE_ROOT) -> list[str]:
        """The set's pages that are missing from the unpacked package or differ from the set's."""
        folder = self.folder(package_root)
        return [name for name, digest in self.spec()["files"].items()
                if not (folder / name).is_file()
                or hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest]

    def write_corpus(self, out: Path, package_root: Path = DEFAULT_PACKAGE_ROOT) -> list[Path]:
        """Copy the set's pages into ``out`` (their paths kept); fails if any is missing or
        differs from the set's."""
        spec = self.spec()
        changed = self.changed_pages(package_root)
        if changed:
            raise SystemExit(
                f"{len(changed)} page(s) missing or changed under {self.folder(package_root)} "
                f"(the set was written over {spec['package']} {spec['version']}, this is "
                f"{self.installed_version(package_root) or 'an unknown version'}): "
                + ", ".join(changed[:5]))
        written = []
        for name in spec["files"]:
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.folder(package_root) / name, target)
            written.append(target)
        return written

    def main(self, doc: str | None) -> None:
        """The command line: ``python -m tests.eval.make_*_corpus OUTDIR [--root DIR]``."""
        parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
        parser.add_argument("out", type=Path, help="the folder to write the pages into")
        parser.add_argument("--root", type=Path, default=DEFAULT_PACKAGE_ROOT,
                            help="where the package is unpacked (dpkg -x); default "
                            "var/real-docs/root")
        args = parser.parse_args()
        written = self.write_corpus(args.out, args.root)
        spec = self.spec()
        print(f"{len(written)} pages of {spec['package']} {spec['version']} in {args.out}")
