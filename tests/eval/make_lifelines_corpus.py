"""The corpus of ``qa/eval/testsets/lifelines_sv.jsonl``: the two Swedish DocBook manuals of
Debian's ``lifelines-doc-sv`` (the user guide and the report-programming manual), copied out of
the unpacked package into a folder ``qa build`` reads.

``qa/eval/testsets/lifelines/corpus.json`` names the package, its version and each page with its
SHA-256; the pages are not committed (``make real-docs`` fetches them). A page's document id is
its file name without ``.html`` (``ll-userguide.sv``).

    python -m tests.eval.make_lifelines_corpus OUTDIR [--root UNPACKED_PACKAGE_ROOT]
"""

from __future__ import annotations

from tests.eval.packaged_corpus import DEFAULT_PACKAGE_ROOT, ROOT, PackagedCorpus

CORPUS = PackagedCorpus(ROOT / "qa" / "eval" / "testsets" / "lifelines" / "corpus.json")
spec = CORPUS.spec
folder = CORPUS.folder
changed_pages = CORPUS.changed_pages
write_corpus = CORPUS.write_corpus
__all__ = ["CORPUS", "DEFAULT_PACKAGE_ROOT", "ROOT", "changed_pages", "folder", "spec",
           "write_corpus"]

if __name__ == "__main__":
    CORPUS.main(__doc__)
