"""Optional cross-encoder reranking of the fused candidates.

Off by default: no Swedish cross-encoder ships offline. When ``QA_RERANKER``
names one (a local path, or a name in the local Hugging Face cache), the top
``QA_RERANK_TOP`` candidates are scored as (question, passage) pairs and
reordered by that score; the rest keep their order below them.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.errors import ModelError
from qa.ingest.passages import Passage


class Reranker:
    def __init__(self, name_or_path: str, device: str = "cpu") -> None:
        from sentence_transformers import CrossEncoder

        try:
            self.model = CrossEncoder(name_or_path, device=device, local_files_only=True)
        except Exception as exc:  # many kinds; the user needs one line
            raise ModelError(f"cannot load reranker {name_or_path!r}: {exc}") from None
        self.name = name_or_path

    def rerank(self, question: str, ranked: Sequence[tuple[int, float]],
               passages: Sequence[Passage]) -> list[tuple[int, float]]:
        """``ranked`` (row, score) best first → the same rows ordered by cross-encoder score."""
        if not ranked:
            return []
        scores = self.model.predict([(question, passages[row].embedding_text(False)) for row, _ in ranked],
                                    show_progress_bar=False)
        order = sorted(zip((r for r, _ in ranked), scores.tolist(), strict=True),
                       key=lambda rs: -rs[1])
        return [(row, float(score)) for row, score in order]
