"""Fine-tuning the base model on mined pairs: sentence-transformers' trainer, in-batch negatives.

The loss is ``MultipleNegativesRankingLoss`` (InfoNCE over the batch: every other pair's
positive, and each pair's hard negative, is a negative), or its cached variant, which computes
the same loss in mini-batches so that memory stays flat as the batch grows, at the cost of one
more forward pass. At the default batch (16 pairs with their negatives, 128 tokens) the plain
loss's activations fit in a few GB; batches of 32 at 256 tokens took about 12 GB, which is where
``cached`` is needed. Texts carry e5's
prompts ("query: " / "passage: ") exactly as the index and the question path add them. The
word embeddings are frozen: they are most of the model's weights (so most of the optimiser's
memory), the serving question path keeps them as a table of its own, and a collection of a few
thousand passages is far too small to move them usefully. Training reads at most 128 tokens of
each text (the heading and opening of a passage): a step's cost grows with its tokens, and on
two cores every step counts.

Training stops at the time budget (checked after every step) or after ``epochs`` passes over
the pairs, whichever comes first; the learning rate is constant after warm-up, so a run cut by
the budget is not one whose schedule was planned for more steps.

Needs the ``[build]`` extra (torch, sentence-transformers, datasets, accelerate).
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.adapt.pairs import Pair
from qa.embed.model_files import ModelFiles
from qa.errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingParams:
    """How a run trains; the defaults are what ``qa adapt`` uses."""

    seconds: float = 600.0
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 2e-5  # 5e-5 and two passes hurt more (design record 2026-12-07)
    # Similarities are multiplied by this before the softmax: 1 / temperature. e5 was trained at
    # a temperature of 0.01, so its cosines lie close together; the library's default of 20
    # would treat its right answers as barely better than the rest and pull the space apart.
    scale: float = 50.0
    warmup_share: float = 0.1
    max_seq_length: int = 128
    cached: bool = False  # CachedMultipleNegativesRankingLoss: memory bounded by the mini-batch
    mini_batch_size: int = 8
    freeze_embeddings: bool = True
    seed: int = 20261207
    threads: int = 0  # 0: torch's default
    max_steps: int = -1  # a hard cap on steps (tests); -1: none


@dataclass(frozen=True)
class TrainingRun:
    """What a run did."""

    steps: int
    epochs: float
    seconds: float
    pairs: int
    with_negatives: int
    stopped_by_budget: bool
    peak_rss_mb: float

    def to_json(self) -> dict[str, Any]:
        return {"steps": self.steps, "epochs": round(self.epochs, 2),
                "seconds": round(self.seconds, 1), "pairs": self.pairs,
                "with_negatives": self.with_negatives,
                "stopped_by_budget": self.stopped_by_budget,
                "peak_rss_mb": round(self.peak_rss_mb, 1)}


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_model(files: ModelFiles, threads: int = 0) -> Any:
    """The base model as a ``SentenceTransformer`` on the CPU (from local files only)."""
    from qa.embed.sentence_transformers_model import load_sentence_transformer

    model = load_sentence_transformer(files, "cpu", threads, purpose="adapting")
    model.prompts = {"query": files.query_prompt, "passage": files.passage_prompt}
    return model


def train(model: Any, pairs: Sequence[Pair], negatives: Sequence[str | None],
          files: ModelFiles, params: TrainingParams) -> TrainingRun:
    """Fine-tune ``model`` in place on ``pairs`` (with their hard ``negatives``, row for row;
    None where a pair has none: it then gets another pair's positive)."""
    try:
        import torch
        from datasets import Dataset
        from sentence_transformers import (
            SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments,
        )
        from sentence_transformers.base.sampler import BatchSamplers
        from sentence_transformers.sentence_transformer.losses import (
            CachedMultipleNegativesRankingLoss,
            MultipleNegativesRankingLoss,
        )
        from transformers import TrainerCallback
    except ImportError as exc:
        raise ModelError(f"adapting needs the build extra's training libraries ({exc}): "
                         "pip install 'svensk-qa[build]'") from None
    if len(pairs) < 2:
        raise ValueError("training needs at least two pairs")
    rng = random.Random(params.seed)
    columns: dict[str, list[str]] = {"anchor": [p.query for p in pairs],
                                     "positive": [p.positive for p in pairs]}
    with_negatives = sum(n is not None for n in negatives)
    if with_negatives:
        columns["negative"] = [n if n is not None else pairs[rng.randrange(len(pairs))].positive
                               for n in negatives]
    dataset = Dataset.from_dict(columns)
    model.max_seq_length = min(params.max_seq_length, files.max_tokens)
    if params.freeze_embeddings:
        for module in model.modules():
            if isinstance(module, torch.nn.Embedding):
                module.weight.requires_grad_(False)
    loss = (CachedMultipleNegativesRankingLoss(model, scale=params.scale,
                                               mini_batch_size=params.mini_batch_size)
            if params.cached else MultipleNegativesRankingLoss(model, scale=params.scale))
    batch = min(params.batch_size, len(pairs))
    steps_per_epoch = max(1, len(pairs) // batch)
    start = time.monotonic()
    budget = params.seconds

    class _Budget(TrainerCallback):  # type: ignore[misc]
        stopped = False

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
            if time.monotonic() - start >= budget:
                _Budget.stopped = True
                control.should_training_stop = True
            return control

    prompts = {"anchor": files.query_prompt, "positive": files.passage_prompt,
               "negative": files.passage_prompt}
    with tempfile.TemporaryDirectory(prefix="qa-adapt-") as scratch:
        args = SentenceTransformerTrainingArguments(
            output_dir=scratch, num_train_epochs=params.epochs, max_steps=params.max_steps,
            per_device_train_batch_size=batch, learning_rate=params.learning_rate,
            warmup_steps=max(1, int(params.warmup_share * steps_per_epoch)),
            lr_scheduler_type="constant_with_warmup", batch_sampler=BatchSamplers.NO_DUPLICATES,
            prompts=prompts, seed=params.seed, save_strategy="no", report_to="none",
            logging_steps=max(1, steps_per_epoch // 4), use_cpu=True, dataloader_num_workers=0,
            disable_tqdm=True)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset,
                                             loss=loss, callbacks=[_Budget()])
        trainer.train()
        state = trainer.state
    model.max_seq_length = files.max_tokens  # as the base: the index embeds whole passages
    model.eval()
    seconds = time.monotonic() - start
    log.info("trained %d steps (%.2f epochs) in %.0f s", state.global_step, state.epoch or 0.0,
             seconds)
    return TrainingRun(state.global_step, float(state.epoch or 0.0), seconds, len(pairs),
                       with_negatives, _Budget.stopped, _peak_rss_mb())


def save(model: Any, target: Path) -> Path:
    """Write the adapted model as a sentence-transformers directory (prompts included)."""
    try:
        model.save(str(target))
    except OSError as exc:
        raise ModelError(f"cannot write the adapted model to {target}: "
                         f"{exc.strerror or exc}") from None
    return target
