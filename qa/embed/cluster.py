"""Passage and sentence vectors from a Ray cluster: Ray Data batch inference on encoder actors.

``ClusterEncoder`` is a ``PassageEncoder`` (``qa.index.plan``), so ``build_index`` runs as it
does locally: planning, reuse, writing and publishing stay in this process, and only
``embed_passages`` goes to the cluster. Each call makes a Ray Data dataset of the texts (row
number and text, in length order so that a batch holds texts of similar length, as
``encode_in_length_order`` does locally), maps it with ``map_batches`` over a fixed pool of
``_EncoderActor``s (``ActorPoolStrategy``), each of which loads the build encoder's runtime
for that kind once, and puts every vector back at its row: the result is in the given order
whatever order the batches come back in.

This process decides the runtime and precision of each kind (the manifest names them), and
every actor checks that its node would decide the same, so one build never mixes runtimes.
The tokenizer (token counts for passage splitting) runs here: splitting is a small part of a
build beside embedding. Every node needs this package and the model (``qa model``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

from qa.cluster import connected, reason, worker_count
from qa.embed.build_encoder import BuildEncoder
from qa.embed.build_runtimes import VectorKind, VectorPrecision
from qa.errors import ClusterError
from qa.settings import Settings

logger = logging.getLogger(__name__)

# Texts per Ray Data block: blocks are what the actor pool hands out, so a few per actor keep
# every actor busy to the end, and batch-sized blocks keep the per-block overhead small.
_BLOCKS_PER_WORKER = 4
_MAX_BATCHES_PER_BLOCK = 8


class _EncoderActor:
    """A Ray Data callable class: the build encoder of one kind, loaded once per actor."""

    def __init__(self, settings: Settings, kind: VectorKind, runtime: str) -> None:
        import socket

        self.kind = kind
        self.encoder = BuildEncoder(settings)
        mine = self.encoder.runtime(kind)
        if mine != runtime:
            raise ClusterError(
                f"node {socket.gethostname()} would embed {kind}s with {mine}, the build decided "
                f"{runtime}: give every node the same CPU features, or set QA_{kind.upper()}"
                "_PRECISION and QA_PASSAGE_ENGINE")
        self.encoder.encoder(kind)  # loaded now, before the first batch

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {"row": batch["row"], "vector": self.encoder.embed_passages(texts, self.kind)}


class ClusterEncoder:
    """What a build needs of the model, with the vectors computed by actors on a Ray cluster.

    Needs Ray connected (``cluster_encoder`` connects). Token counts, the model's facts and
    the runtime decisions come from a ``BuildEncoder`` in this process that loads no runtime.
    """

    def __init__(self, settings: Settings, ray: ModuleType, local: BuildEncoder | None = None) -> None:
        self.settings = settings
        self.ray = ray
        self.local = local or BuildEncoder(settings)
        self.model_id = self.local.model_id
        self.dim = self.local.dim
        self.max_tokens = self.local.max_tokens
        self.passage_prompt = self.local.passage_prompt
        self.query_prompt = self.local.query_prompt
        self.worker_cpus = settings.cluster_worker_cpus
        self.workers = worker_count(ray, settings.cluster_workers, self.worker_cpus, "encoder actor")
        # Each actor's runtime uses the CPUs it reserved, not every core of its node.
        self.actor_settings = settings.model_copy(
            update={"threads": settings.threads or self.worker_cpus})
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the build has its own progress
        context.print_on_execution_start = False

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.local.count_tokens(texts)

    def precision(self, kind: VectorKind) -> VectorPrecision:
        return self.local.precision(kind)

    def runtime(self, kind: VectorKind) -> str:
        return self.local.runtime(kind)

    def embed_passages(self, texts: Sequence[str], kind: VectorKind = "passage",
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 vectors of ``texts`` in their order, embedded on the cluster."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        dataset = self._dataset(texts).map_batches(
            _EncoderActor,
            fn_constructor_kwargs={"settings": self.actor_settings, "kind": kind,
                                   "runtime": self.runtime(kind)},
            batch_size=self.settings.batch_size,
            batch_format="numpy",
            compute=self.ray.data.ActorPoolStrategy(size=self.workers),
            num_cpus=self.worker_cpus,
            udf_modifying_row_count=False,
        )
        filled = np.zeros(len(texts), dtype=bool)
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                rows = batch["row"]
                out[rows] = batch["vector"]
                filled[rows] = True
                if on_batch is not None:
                    on_batch(len(rows))
        except Exception as exc:  # raised by Ray: an actor or a batch failed on the cluster
            raise ClusterError(f"embedding {kind}s on the cluster failed: {reason(exc)}") from None
        if not filled.all():  # Ray Data returns every row or raises; never write zero vectors
            raise ClusterError(f"the cluster returned {int(filled.sum())} of {len(texts)} vectors")
        return out

    def _dataset(self, texts: Sequence[str]) -> Any:
        """Rows (row number, text) in length order, in blocks of whole batches."""
        order = np.argsort([len(t) for t in texts], kind="stable")
        batch = self.settings.batch_size
        per_block = math.ceil(len(texts) / (self.workers * _BLOCKS_PER_WORKER))
        per_block = max(batch, min(batch * _MAX_BATCHES_PER_BLOCK, math.ceil(per_block / batch) * batch))
        items = [{"row": int(i), "text": texts[i]} for i in order]
        return self.ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / per_block))


@contextmanager
def cluster_encoder(settings: Settings, address: str) -> Iterator[ClusterEncoder]:
    """A ``ClusterEncoder`` on the Ray cluster at ``address`` ('local' = started here)."""
    with connected(address) as ray:
        encoder = ClusterEncoder(settings, ray)
        logger.info("embedding on %d encoder actors of %d CPU(s)", encoder.workers, encoder.worker_cpus)
        yield encoder
