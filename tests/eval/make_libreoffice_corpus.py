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

from tests.eval.packaged_corpus import DEFAULT_PACKAGE_ROOT, ROOT, PackagedCorpus

CORPUS = PackagedCorpus(ROOT / "qa" / "eval" / "testsets" / "libreoffice" / "corpus.json")
spec = CORPUS.spec
help_folder = CORPUS.folder
changed_pages = CORPUS.changed_pages
write_corpus = CORPUS.write_corpus
__all__ = ["CORPUS", "DEFAULT_PACKAGE_ROOT", "ROOT", "changed_pages", "help_folder", "spec",
           "write_corpus"]

if __name__ == "__main__":
    CORPUS.main(__doc__)
