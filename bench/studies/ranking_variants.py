"""The ranking variants that were measured and not adopted, for the studies that measure them.

``bench.ranking_experiments`` and ``bench.signal_ceiling`` compare these with the served
ranking (``qa.search.ranking.Ranker``); the service itself has none of them. Until
2026-12-06 they lived in the serving path behind settings (``QA_FUSION``, ``QA_RRF_K``,
``QA_FUSION_WEIGHTS``, ``QA_PRF_BETA``, ``QA_PRF_PASSAGES``, ``QA_COMPOUND_VOCABULARY``,
``QA_HUNSPELL_DICTIONARY``); docs/design/2026-12-06-experiments-out-of-serving.md says what
moved where. Here they keep those settings (same names, same ``QA_`` variables, read only
by the studies):

* fusions of the dense and BM25 scores over a question's candidates (``fuse``): ``minmax``
  and ``zscore`` normalise both scores first, ``rrf`` adds reciprocal ranks, ``learned`` is a
  logistic model over the candidates' ``FEATURES`` (weights fitted by
  ``bench.ranking_experiments``, stored as plain numbers in ``fusion_weights.json`` beside
  this module);
* vector pseudo-relevance feedback (``rocchio``): the question vector moves towards the mean
  of its best passages' vectors and searches again;
* the candidate pool with its features (``SearchEngine.candidates``), for fitting a fusion;
* another compound vocabulary for BM25 (the Hunspell dictionary's words, alone or with the
  corpus's), at build time (``build_index``, ``open_engine``).

The studies' entry points take the whole study ``Settings`` as before and hand each product
function its group (``open_question_encoder``, ``BuildEncoder``, ``Snapshot``); the product
itself only ever sees groups.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from qa.embed import build_encoder as _build_encoder
from qa.embed import question_encoder as _question_encoder
from qa.errors import QAError
from qa.index import build as _build
from qa.index import snapshot as _snapshot
from qa.index.lexical import LexicalIndex
from qa.ingest.passages import Passage
from qa.search import engine as _engine
from qa.search.answer_types import AnswerType, has_answer_type, question_type
from qa.search.filters import PassageMask
from qa.search.ranking import Ranker
from qa.settings import IndexSettings, SearchSettings
from qa.settings import Settings as _Settings

SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "fusion_weights.json"


# ---------------------------------------------------------------- the studies' settings

class StudySearchSettings(SearchSettings):
    """The search settings plus the ranking variants' own (off: the served ranking)."""

    fusion: Literal["convex", "minmax", "zscore", "rrf", "learned"] = Field(
        "convex", description="How hybrid mode combines the dense and BM25 scores: 'convex' = "
        "the served fusion; 'minmax' and 'zscore' normalise both scores over the candidates "
        "first, 'rrf' adds reciprocal ranks (QA_RRF_K), each with QA_LEXICAL_WEIGHT as BM25's "
        "weight; 'learned' = a logistic model over the candidates' features (QA_FUSION_WEIGHTS).")
    rrf_k: float = Field(60, gt=0, description="Reciprocal rank fusion: 1 / (k + rank).")
    fusion_weights: Path | None = Field(
        None, description="JSON weights of the learned fusion (bench.ranking_experiments writes "
        "them); unset = bench/studies/fusion_weights.json.")
    prf_beta: float = Field(
        0.0, ge=0, description="Vector pseudo-relevance feedback: the question vector plus beta x "
        "the mean of its QA_PRF_PASSAGES best passage vectors searches again; 0 = off.")
    prf_passages: int = Field(3, ge=1, description="Passages the vector feedback averages.")


class StudyIndexSettings(IndexSettings):
    """The index settings plus BM25's compound vocabulary (the corpus's: the served one)."""

    compound_vocabulary: Literal["corpus", "hunspell", "both"] = Field(
        "corpus", description="Words the BM25 analyser splits compounds into: the corpus's own, "
        "the Hunspell dictionary's (QA_HUNSPELL_DICTIONARY), or both.")
    hunspell_dictionary: Path = Field(
        Path("/usr/share/hunspell/sv_SE.dic"),
        description="Hunspell .dic word list for QA_COMPOUND_VOCABULARY (Debian: hunspell-sv).")


class Settings(_Settings):
    """The service's settings with the study groups; flat names work as for ``qa.settings``."""

    index: StudyIndexSettings = Field(default_factory=StudyIndexSettings)
    search: StudySearchSettings = Field(default_factory=StudySearchSettings)

    @property
    def compound_vocabulary(self) -> str:
        return self.index.compound_vocabulary

    @property
    def lexical_weight(self) -> float:
        return self.search.lexical_weight

    @property
    def passage_weight(self) -> float:
        return self.search.passage_weight


def _group(settings: Any, name: str) -> Any:
    """``settings``'s group ``name`` when given the whole settings, else ``settings`` itself."""
    return getattr(settings, name) if isinstance(settings, _Settings) else settings


def open_question_encoder(settings: Any, files: Any = None) -> Any:
    """``qa.embed.question_encoder.open_question_encoder`` of the whole settings' embed group."""
    return _question_encoder.open_question_encoder(_group(settings, "embed"), files)


def BuildEncoder(settings: Any, files: Any = None) -> Any:
    """``qa.embed.build_encoder.BuildEncoder`` of the whole settings' embed group."""
    return _build_encoder.BuildEncoder(_group(settings, "embed"), files)


class Snapshot(_snapshot.Snapshot):
    """``qa.index.snapshot.Snapshot``, opened with the whole settings' index group."""

    @classmethod
    def open(cls, index_dir: Path, settings: Any, *, model_id: str | None = None,
             dim: int | None = None) -> _snapshot.Snapshot:
        return _snapshot.Snapshot.open(index_dir, _group(settings, "index"), model_id=model_id,
                                       dim=dim)


# ---------------------------------------------------------------- features of candidates

# The answer types (qa.search.answer_types), each a feature: asked for x present.
ANSWER_TYPES: tuple[AnswerType, ...] = ("when", "how_many", "cost", "who", "where")

FEATURES = ("passage_cosine", "sentence_cosine", "bm25_relative", "bm25_reciprocal_rank",
            "term_coverage", *(f"asks_{kind}_has_it" for kind in ANSWER_TYPES))


@dataclass(frozen=True)
class Candidates:
    """A question's candidate passages with their raw signals, one entry per passage row."""

    rows: np.ndarray  # passage rows (int64)
    passage: np.ndarray  # cosine of question and passage
    sentence: np.ndarray  # cosine of question and the passage's closest sentence
    dense: np.ndarray  # the dense score (the engine's mix of the two)
    bm25: np.ndarray  # BM25 of each candidate; 0 when it shares no term with the question

    def __len__(self) -> int:
        return len(self.rows)


def _ranks_desc(values: np.ndarray) -> np.ndarray:
    """1-based rank of each value, largest first (ties in order of appearance)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


class FeatureExtractor:
    """Turns a question's ``Candidates`` into the matrix of ``FEATURES`` (one row each).

    Holds the index's term rarities and caches each passage's cues, so a question costs a
    few array operations over its candidates.
    """

    def __init__(self, lexical: LexicalIndex, passages: list[Passage]) -> None:
        self.lexical = lexical
        self.passages = passages
        self._idf = lexical.idf()
        self._cues: dict[tuple[int, AnswerType], bool] = {}

    def has(self, row: int, kind: AnswerType) -> bool:
        """Whether passage ``row`` holds an answer of ``kind`` (cached)."""
        found = self._cues.get((row, kind))
        if found is None:
            found = self._cues[(row, kind)] = has_answer_type(
                self.passages[row].embedding_text(False), kind)
        return found

    def coverage(self, question: str, rows: np.ndarray) -> np.ndarray:
        """Share of the question's idf mass (its distinct indexed terms) each passage holds."""
        terms = {t: self._idf.get(t, 0.0) for t in set(self.lexical.terms(question))}
        total = sum(terms.values())
        out = np.zeros(len(rows), np.float64)
        if total <= 0:
            return out
        for term, idf in terms.items():
            out += idf * np.isin(rows, self.lexical.holding(term))
        return out / total

    def matrix(self, question: str, c: Candidates) -> np.ndarray:
        """``len(c)`` × ``len(FEATURES)`` float64, columns in the order of ``FEATURES``."""
        n = len(c)
        best = float(c.bm25.max(initial=0.0))
        relative = c.bm25 / best if best > 0 else np.zeros(n)
        reciprocal = np.where(c.bm25 > 0, 1.0 / _ranks_desc(c.bm25), 0.0)
        asks = question_type(question)
        cue_columns = [[float(kind == asks and self.has(int(r), kind)) for r in c.rows]
                       for kind in ANSWER_TYPES]
        columns = [c.passage, c.sentence, relative, reciprocal, self.coverage(question, c.rows),
                   *cue_columns]
        return np.column_stack([np.asarray(col, np.float64) for col in columns]) if n else \
            np.zeros((0, len(FEATURES)))


# ---------------------------------------------------------------- fusions and feedback

def minmax(values: np.ndarray) -> np.ndarray:
    """``values`` scaled to [0, 1]; all zeros when they are all equal."""
    if len(values) == 0:
        return np.zeros(0)
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros(len(values))


def zscore(values: np.ndarray) -> np.ndarray:
    """``values`` standardised (mean 0, deviation 1); all zeros when they are all equal."""
    if len(values) == 0:
        return np.zeros(0)
    sd = float(values.std())
    return (values - values.mean()) / sd if sd > 0 else np.zeros(len(values))


def reciprocal_ranks(values: np.ndarray, k: float, present: np.ndarray | None = None) -> np.ndarray:
    """``1 / (k + rank)`` by ``values`` (largest first); 0 where ``present`` is False."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    out = 1.0 / (k + ranks)
    return out if present is None else np.where(present, out, 0.0)


@dataclass(frozen=True)
class LearnedFusion:
    """A logistic model over ``FEATURES``: score = sigmoid(features · weights + bias)."""

    weights: np.ndarray
    bias: float

    @classmethod
    def load(cls, path: Path | None = None) -> LearnedFusion:
        """Read weights written by ``save``; ``path`` None = the shipped ones."""
        path = path or SHIPPED_WEIGHTS
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            names, weights, bias = data["features"], data["weights"], float(data["bias"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QAError(f"{path}: not readable fusion weights ({exc})") from None
        if list(names) != list(FEATURES) or len(weights) != len(FEATURES):
            raise QAError(f"{path}: the weights are for features {names}, the engine computes "
                          f"{list(FEATURES)}; fit them again (python -m bench.ranking_experiments)")
        return cls(np.asarray(weights, np.float64), bias)

    def save(self, path: Path, about: dict[str, object] | None = None) -> None:
        data = {"features": list(FEATURES), "weights": [round(float(w), 6) for w in self.weights],
                "bias": round(self.bias, 6), **(about or {})}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def score(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.weights + self.bias)))


def fuse(method: str, c: Candidates, weight: float, rrf_k: float,
         learned: np.ndarray | None = None) -> np.ndarray:
    """One score per candidate by ``method``; ``learned``: the learned model's scores."""
    if method == "minmax":
        return minmax(c.dense) + weight * minmax(c.bm25)
    if method == "zscore":
        return zscore(c.dense) + weight * zscore(c.bm25)
    if method == "rrf":
        return (reciprocal_ranks(c.dense, rrf_k)
                + weight * reciprocal_ranks(c.bm25, rrf_k, c.bm25 > 0))
    if method == "learned" and learned is not None:
        return learned
    raise QAError(f"unknown fusion {method!r}")


def rocchio(qvec: np.ndarray, vectors: np.ndarray, beta: float) -> np.ndarray:
    """``norm(qvec + beta * mean(vectors))``; ``qvec`` itself when there is nothing to add."""
    if beta <= 0 or len(vectors) == 0:
        return qvec
    moved = qvec + beta * np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(moved))
    return (moved / norm).astype(qvec.dtype) if norm > 0 else qvec


# ---------------------------------------------------------------- the ranker and engine

class VariantRanker(Ranker):
    """The served ranking with the variants the study settings choose (``fusion``,
    ``prf_beta``); at their defaults it ranks exactly as ``Ranker``."""

    settings: StudySearchSettings

    def rank(self, question: str, qvec: np.ndarray, mode: str, n: int,
             timings: dict[str, float], mask: PassageMask | None = None,
             trace: dict[str, np.ndarray] | None = None) -> list[tuple[int, float]]:
        """``Ranker.rank`` with vector feedback on the dense side and the chosen fusion."""
        trace = {} if trace is None else trace
        s = self.settings
        pool = max(s.candidates, n)
        dense_rows = lex_rows = np.zeros(0, np.int64)
        dense_scores = lex_scores = np.zeros(0, np.float32)
        lex_all: np.ndarray | None = None
        if mask is not None and mask.count == 0:
            return []
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            qvec, dense_scores, dense_rows = self.dense_side(qvec, pool, mask, trace)
            timings["dense_ms"] = (time.perf_counter() - t) * 1000
            if mode == "dense":
                return list(zip(dense_rows.tolist(), dense_scores.tolist(), strict=True))
        if mode in ("lexical", "hybrid"):
            t = time.perf_counter()
            lex_all, lex_scores, lex_rows = self.lexical(question, pool, mask, trace,
                                                         expand=mode == "hybrid")
            timings["lexical_ms"] = (time.perf_counter() - t) * 1000
            if mode == "lexical":
                return list(zip(lex_rows.tolist(), lex_scores.tolist(), strict=True))
        t = time.perf_counter()
        if s.fusion == "convex":
            fused = self.fuse(qvec, dense_rows, dense_scores, lex_rows, lex_scores)
        else:
            found = self.candidates(qvec, dense_rows, lex_rows, lex_all)
            fused = dict(zip(found.rows.tolist(), self.fuse_other(question, found).tolist(),
                             strict=True))
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        timings["fusion_ms"] = (time.perf_counter() - t) * 1000
        return ranked

    def dense_side(self, qvec: np.ndarray, pool: int, mask: PassageMask | None,
                   trace: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(question vector as searched, scores, rows) of the dense ranker; the question's own
        rows go to ``trace``, then vector feedback moves the question when ``prf_beta``."""
        scores, rows = self.dense(qvec, pool, mask)
        trace["dense"] = rows
        s = self.settings
        if s.prf_beta > 0:
            qvec = rocchio(qvec, self.index.embeddings[rows[: s.prf_passages]], s.prf_beta)
            scores, rows = self.dense(qvec, pool, mask)
        return qvec, scores, rows

    def candidates(self, qvec: np.ndarray, dense_rows: np.ndarray, lex_rows: np.ndarray,
                   lex_all: np.ndarray | None) -> Candidates:
        """The fused pool (dense rows, then BM25's others) with each one's signals."""
        rows = np.concatenate([dense_rows, np.setdiff1d(lex_rows, dense_rows)]).astype(np.int64)
        passage, sentence = self.cosines(rows, qvec)
        mixed = self.mixed(passage, sentence)
        bm25 = lex_all[rows] if lex_all is not None else np.zeros(len(rows), np.float32)
        return Candidates(rows, passage.astype(np.float64),
                          (passage if sentence is None else sentence).astype(np.float64),
                          mixed.astype(np.float64), np.asarray(bm25, np.float64))

    def fuse_other(self, question: str, found: Candidates) -> np.ndarray:
        s = self.settings
        learned = None
        if s.fusion == "learned":
            learned = self.learned_fusion.score(self.features.matrix(question, found))
        return fuse(s.fusion, found, s.lexical_weight, s.rrf_k, learned)

    @cached_property
    def features(self) -> FeatureExtractor:
        """The learned fusion's features of candidates (built on first use)."""
        return FeatureExtractor(self.index.lexical, self.index.passages)

    @cached_property
    def learned_fusion(self) -> LearnedFusion:
        return LearnedFusion.load(self.settings.fusion_weights)


class SearchEngine(_engine.SearchEngine):
    """The search engine ranking with ``VariantRanker``; takes the study ``Settings`` whole
    (its search group) or the search group, and offers a question's candidate pool."""

    ranker_class = VariantRanker
    ranker: VariantRanker

    def __init__(self, index: _snapshot.Snapshot, questions: Any, settings: Any, **kwargs: Any
                 ) -> None:
        search = _group(settings, "search")
        if not isinstance(search, StudySearchSettings):
            search = StudySearchSettings.model_validate(search.model_dump())
        super().__init__(index, questions, search, **kwargs)

    @property
    def features(self) -> FeatureExtractor:
        return self.ranker.features

    def candidates(self, question: str) -> tuple[Candidates, np.ndarray]:
        """A question's hybrid candidate pool, unfused, with its feature matrix.

        The same pool hybrid ranking fuses (vector feedback and RM3 included when set), for
        fitting a learned fusion offline (``bench.ranking_experiments``).
        """
        ranker = self.ranker
        pool = self.settings.candidates
        question = self.questions.bounded(question)
        trace: dict[str, np.ndarray] = {}
        qvec, _, dense_rows = ranker.dense_side(self.questions.embed(question), pool, None, trace)
        lex_all, _, lex_rows = ranker.lexical(question, pool, None, trace, expand=True)
        found = ranker.candidates(qvec, dense_rows, lex_rows, lex_all)
        return found, ranker.features.matrix(question, found)


# ---------------------------------------------------------------- other compound vocabularies

def lexical_variant(passages: list[Passage], settings: Any) -> LexicalIndex:
    """BM25 over ``passages`` with the study settings' compound vocabulary."""
    index = _group(settings, "index")
    return LexicalIndex.build([p.embedding_text(True) for p in passages],
                              index.compound_vocabulary, index.hunspell_dictionary)


def build_index(documents: Any, encoder: Any, settings: Any, index_dir: Path, **kwargs: Any
                ) -> Any:
    """``qa.index.build.build_index`` with the study settings' index group; with another
    compound vocabulary than the corpus's, the published generation's BM25 index is then
    rewritten with it (a study's scratch index, never a served one)."""
    from qa.index.generations import current

    index = _group(settings, "index")
    report = _build.build_index(documents, encoder, index, index_dir, **kwargs)
    if getattr(index, "compound_vocabulary", "corpus") != "corpus":
        generation = current(Path(index_dir).resolve())
        assert generation is not None
        with _snapshot.Snapshot.open(index_dir, index) as snapshot:
            variant = lexical_variant(snapshot.passages, index)
        variant.save(generation.files.lexical)
    return report


def open_engine(bench: Any, settings: Any, index_dir: Path | None = None,
                progress: bool = True) -> SearchEngine:
    """``qa.eval.datasets.open_engine`` (the benchmark's cached index) as a study engine; with
    another compound vocabulary, its snapshot's BM25 index is replaced in memory."""
    from qa.eval.datasets import open_engine as served

    engine = served(bench, settings, index_dir, progress)
    if settings.compound_vocabulary != "corpus":
        engine.index.lexical = lexical_variant(engine.index.passages, settings)
    return SearchEngine(engine.index, engine.questions, settings)
