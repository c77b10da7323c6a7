"""The live engine: the search engine of an index directory's newest published generation.

A server holds one ``LiveEngine`` for its life. Each request takes ``current()`` once and uses
only that ``SearchEngine``, so it sees one generation whole however many are published while it
runs. ``refresh()`` notices a newer generation (the ``CURRENT`` pointer moved: a ``qa build`` by
another process, or the server's own write), opens it beside the served one around the same
question encoder (the model is never loaded again, and its cache of question vectors stays
valid: same model, same vectors) or, when ``qa adapt`` published a generation embedded with
another model, around that model's encoder (``QuestionEncoders``: loaded once), warms it,
and swaps it in with one reference assignment.
Nothing about results is cached, so no answer outlives its generation.

The engine swapped out is not closed: requests that took it finish with it, and its snapshot
closes itself, releasing its lease on the generation, when the last of them drops it. A prune
after each swap then removes the generations nobody uses any more (see
``qa.index.generations``); one still leased is kept and tried again on the next tick.

A generation that cannot be opened (damaged, or built with another model) is logged and
skipped: the served one keeps serving until ``CURRENT`` names another.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from qa.embed.question_encoder import QuestionEncoder
from qa.errors import IndexLoadError
from qa.index import generations
from qa.index.snapshot import Snapshot
from qa.search.engine import SearchEngine
from qa.search.question_models import QuestionEncoders
from qa.search.watcher import Watcher
from qa.settings import Settings

logger = logging.getLogger(__name__)


class LiveEngine:
    """Holds the served ``SearchEngine`` and swaps in newer generations; thread-safe."""

    def __init__(self, index_dir: Path | str, questions: QuestionEncoder, settings: Settings, *,
                 engine: SearchEngine | None = None, follow: bool = True,
                 encoders: QuestionEncoders | None = None) -> None:
        """Serve the published generation of ``index_dir`` (or ``engine``, already open on it).

        ``settings``: the whole configuration: the live engine is a composition point (it opens
        snapshots with the index group, engines with the search group, and the server's
        routes read the server and limits groups here). ``follow=False`` makes a holder that
        never swaps (``fixed``). ``encoders``: where a generation embedded with another model
        (an adapted one) finds its question encoder; None: every generation uses ``questions``.
        """
        self.index_dir = Path(index_dir).resolve()
        self.questions = questions
        self.settings = settings
        self._encoders = encoders
        self._follow = follow
        self._lock = threading.Lock()
        if engine is None:
            snapshot = Snapshot.open(self.index_dir, settings.index, model_id=questions.model_id,
                                     dim=questions.dim)
            engine = SearchEngine(snapshot, questions, settings.search,
                                  device=settings.embed.device)
        self._engine = engine
        self._skipped: int | None = None  # a generation that failed to open; not retried
        self._pointer_broken = False
        self._prune_pending = False
        self._watcher = Watcher("qa-live-index", settings.server.reload_seconds, self.refresh,
                                f"looking for a new generation of {self.index_dir}")

    @classmethod
    def open(cls, settings: Settings, index_dir: str | Path | None = None) -> LiveEngine:
        """Load the question encoder and the index, warmed; a missing index fails before the
        model loads (like ``SearchEngine.open``)."""
        from qa.index.manifest import read_manifest

        where = Path(index_dir) if index_dir else settings.index.index_dir
        read_manifest(where)
        encoders = QuestionEncoders(settings.embed)
        live = cls(where, encoders.for_index(where), settings, encoders=encoders)
        live.current().warm_up()
        return live

    @classmethod
    def fixed(cls, engine: SearchEngine, settings: Settings) -> LiveEngine:
        """A holder of ``engine`` that never swaps it (tests, tools serving one snapshot);
        ``settings``: the configuration it is served with (the server's and limits groups)."""
        return cls(engine.index.dir, engine.questions, settings, engine=engine, follow=False)

    def current(self) -> SearchEngine:
        """The engine of the generation served now. Take it once per request and keep it."""
        return self._engine

    @property
    def generation(self) -> int:
        """The number of the generation served now."""
        return self._engine.index.generation

    def refresh(self) -> bool:
        """Serve the generation ``CURRENT`` names, if it is not the one served; True if swapped.

        Cheap when nothing changed (one small file read). A generation that fails to open is
        logged once and skipped until ``CURRENT`` moves again. Called by the watcher thread,
        and by whoever has just published (the write endpoints): when it returns, the
        generation ``CURRENT`` named at the call is served (or was skipped), whichever thread
        swapped it in, so such a caller may get False and still find its generation served.
        """
        if not self._follow:
            return False
        with self._lock:
            swapped = self._swap()
        if swapped or self._prune_pending:
            self.prune()
        return swapped

    def _swap(self) -> bool:
        """Open, warm and swap in a newer generation; the caller holds the lock."""
        try:
            pointed = generations.current(self.index_dir)
        except IndexLoadError as exc:  # a broken pointer: the next build repairs it
            if not self._pointer_broken:
                logger.error("%s; still serving generation %d", exc, self.generation)
            self._pointer_broken = True
            return False
        self._pointer_broken = False
        if pointed is None or pointed.number in (self.generation, self._skipped):
            return False
        old = self._engine
        try:
            questions = (self._encoders.for_generation(pointed) if self._encoders is not None
                         else self.questions)
            snapshot = Snapshot.open(self.index_dir, self.settings.index,
                                     model_id=questions.model_id, dim=questions.dim)
        except Exception as exc:  # damaged, or built with another model: keep serving
            logger.error("cannot serve generation %d of %s (%s); still serving generation %d",
                         pointed.number, self.index_dir, exc, old.index.generation,
                         exc_info=not isinstance(exc, IndexLoadError))
            self._skipped = pointed.number
            return False
        try:
            engine = SearchEngine(snapshot, questions, self.settings.search,
                                  reranker=old.reranker)
            engine.warm_up()
        except Exception:
            snapshot.close()
            logger.exception("cannot serve generation %d of %s; still serving generation %d",
                             snapshot.generation, self.index_dir, old.index.generation)
            self._skipped = pointed.number
            return False
        self._engine = engine  # the swap: requests from now on take the new engine
        self.questions = questions
        self._skipped = None
        self._prune_pending = True
        logger.info("serving generation %d of %s (built %s; %d documents), was %d",
                    snapshot.generation, self.index_dir, snapshot.manifest.built_at,
                    snapshot.manifest.documents, old.index.generation)
        return True

    def prune(self) -> bool:
        """Remove the generations no reader uses (``generations.prune``); True when done.

        False when a build was running or a generation is still leased; the watcher then tries
        again on its next tick.
        """
        try:
            done = generations.prune(self.index_dir)
        except OSError as exc:  # e.g. a read-only index directory: the next build prunes
            logger.warning("could not remove old generations of %s: %s", self.index_dir, exc)
            self._prune_pending = False
            return False
        self._prune_pending = not done
        return done

    def start(self) -> None:
        """Start the watcher: a daemon thread that calls ``refresh`` every
        ``QA_RELOAD_SECONDS`` (none when that is 0, or for a ``fixed`` holder)."""
        if not self._follow or self.settings.server.reload_seconds <= 0:
            return
        self._watcher.start()

    def stop(self) -> None:
        """Stop the watcher and wait for it (a refresh under way finishes first)."""
        self._watcher.stop()

    def close(self) -> None:
        """Stop the watcher and close the served engine (no request may use it afterwards)."""
        self.stop()
        self._engine.close()
