"""Highlights: the sentence(s) of a passage that best answer the question.

Scored by the question's analysed terms (stems and compound parts) found in
each sentence, weighted by how rare each term is in the corpus, so "21" or
"länsstyrelser" outweighs "kommun". Cheap enough to run on every result.
"""

from __future__ import annotations

import math

import blingfire

from qa.lexical import LexicalIndex


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` in document coordinates, split at line breaks too."""
    spans: list[tuple[int, int]] = []
    pos = start
    for line in text[start:end].split("\n"):
        stripped = line.strip()
        if stripped:
            lead = pos + len(line) - len(line.lstrip())
            _, offsets = blingfire.text_to_sentences_and_offsets(stripped)
            spans.extend((lead + a, lead + b) for a, b in offsets if stripped[a:b].strip())
        pos += len(line) + 1
    return spans or [(start, end)]


class Highlighter:
    """Marks the answering sentences inside a passage's span."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self.analyzer = lexical.analyzer
        vocab = lexical.bm25.vocab_dict
        n_docs = max(int(lexical.bm25.scores["num_docs"]), 1)
        self._idf: dict[str, float] = {}
        df = _document_frequencies(lexical)
        for term, tid in vocab.items():
            self._idf[term] = math.log(1 + n_docs / (1 + df.get(tid, 0)))

    def _weight(self, terms: set[str]) -> float:
        return sum(self._idf.get(t, 0.0) for t in terms)

    def highlight(self, question: str, text: str, start: int, end: int,
                  max_sentences: int = 2) -> list[tuple[int, int]]:
        """One or two best sentences (adjacent when the answer runs on), in document order."""
        q_terms = set(self.analyzer.tokens(question))
        spans = sentence_spans(text, start, end)
        # A bare heading restates the topic; the answer is in the sentences under it.
        scored = [(self._weight(q_terms & set(self.analyzer.tokens(text[a:b])))
                   * (0.5 if _is_bare_heading(text[a:b]) else 1.0), a, b)
                  for a, b in spans]
        best = max(range(len(scored)), key=lambda i: (scored[i][0], -i))
        top = scored[best][0]
        chosen = [best]
        if top > 0 and max_sentences > 1:
            # A neighbour that also matches well is part of the answer.
            for j in (best + 1, best - 1):
                if 0 <= j < len(scored) and scored[j][0] >= 0.6 * top:
                    chosen.append(j)
                    break
        if top == 0:
            # No shared term: the first sentence that is not a bare heading.
            best = next((i for i, (_, a, b) in enumerate(scored) if len((text[a:b]).split()) > 5), 0)
            chosen = [best]
        return [(scored[i][1], scored[i][2]) for i in sorted(chosen)]


def _is_bare_heading(sentence: str) -> bool:
    return len(sentence.split()) <= 12 and not sentence.rstrip().endswith((".", "!", "…", ":"))


def _document_frequencies(lexical: LexicalIndex) -> dict[int, int]:
    """Passages containing each term, read from the BM25 sparse matrix."""
    scores = lexical.bm25.scores
    indptr = scores["indptr"]
    return {tid: int(indptr[tid + 1] - indptr[tid]) for tid in range(len(indptr) - 1)}
