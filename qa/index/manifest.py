"""The manifest: what a generation holds and how it was built, as one typed, immutable object.

``manifest.json`` is written last into a generation being built and read first when one is
opened: the model and dimension are checked against the service's, the build key decides
whether a rebuild may reuse vectors, and the counts are checked against the files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from qa.errors import IndexLoadError
from qa.index.generations import current
from qa.index.layout import GenerationFiles
from qa.ingest.passages import SegmentationParams

FORMAT = 2  # 2: documents carry format, structure and original; passages pages


@dataclass(frozen=True)
class BuildKey:
    """What decides the passages and their vectors: equal keys make vectors reusable."""

    model: str
    dim: int
    passage_prompt: str
    segmentation: SegmentationParams
    embed_context: bool
    # fp32 through any engine gives the same vectors (cosine 0.9999); bf16 and int8 do not.
    passage_precision: str
    sentence_precision: str | None
    sentence_vectors: bool
    sentence_contexts: bool
    context_precision: str | None = None  # of the sentences-in-context vectors; None: none
    # Passages of documents cut into at least this many are embedded after their section's
    # title (0: none; indexes older than the setting have none).
    section_min_passages: int = 0

    def reuses(self, previous: BuildKey) -> bool:
        """Whether passage and sentence vectors built under ``previous`` hold under this key.

        Only the sentences-in-context vectors may differ (present or not, their precision): a
        build that adds them or changes their precision reuses the rest and embeds just them.
        """
        return replace(previous, sentence_contexts=self.sentence_contexts,
                       context_precision=self.context_precision) == self


class Manifest(BaseModel):
    """The contents of ``manifest.json``. Fields that older indexes lack have defaults."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: int
    model: str
    dim: int
    passage_prompt: str
    segmentation: SegmentationParams
    embed_context: bool
    passage_precision: str = "fp32"  # indexes older than the precision setting were fp32
    sentence_precision: str | None = None
    sentence_vectors: bool
    sentence_contexts: bool = False  # indexes older than the setting have none
    context_precision: str | None = None  # older indexes: that of the sentence vectors
    section_min_passages: int = 0  # older indexes embedded every passage without its section
    query_prompt: str
    passage_path: str | None = None
    sentence_path: str | None = None
    context_path: str | None = None
    passages: int
    sentences: int
    documents: int
    corpus_fingerprint: str
    vector_index: Literal["flat", "hnsw"]
    built_at: str
    qa_version: str
    generation: int = 0
    # What ``qa adapt`` recorded when it adopted the model this generation was embedded with:
    # the base model, the pairs, the training and the check (None: the model is a base model).
    adaptation: dict[str, Any] | None = None

    def model_for(self, configured: str) -> str:
        """The model to embed this index's questions and passages with, given the configured
        one: the adapted model where the index was adapted from ``configured``, else
        ``configured`` (another configured model is the operator's choice, and takes over)."""
        if self.adaptation is not None and self.adaptation.get("base") == configured:
            return self.model
        return configured

    @property
    def build_key(self) -> BuildKey:
        key = BuildKey(**{f.name: getattr(self, f.name) for f in fields(BuildKey)})
        if key.sentence_contexts and key.context_precision is None:  # built before the setting
            key = replace(key, context_precision=key.sentence_precision)
        return key

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` into the generation directory ``folder`` (being built)."""
        GenerationFiles(folder).manifest.write_text(
            json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False),
            encoding="utf-8")


def load_manifest(folder: Path) -> Manifest:
    """The manifest of the generation stored in ``folder``."""
    path = GenerationFiles(folder).manifest
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexLoadError(f"{folder}: the manifest is missing; rebuild the index") from None
    except (OSError, ValueError) as exc:
        raise IndexLoadError(f"{path}: unreadable manifest ({exc})") from None
    found = raw.get("format") if isinstance(raw, dict) else None
    if found != FORMAT:
        raise IndexLoadError(f"{folder}: index format {found} is not supported (expected {FORMAT}); "
                             "rebuild it with `qa build`")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise IndexLoadError(f"{path}: unreadable manifest ({problems}); rebuild the index") from None


def read_manifest(index_dir: Path) -> Manifest:
    """The manifest of the index directory's published generation; reads only."""
    generation = current(index_dir)
    if generation is None:
        raise IndexLoadError(f"no index at {index_dir}: build one with `qa build --index {index_dir}`")
    return load_manifest(generation.path)
