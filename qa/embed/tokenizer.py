"""The model's own tokenizer without transformers or torch, and a compact form of it for serving.

sentence-transformers tokenizes through transformers' fast tokenizer, which wraps
the model's ``tokenizer.json``; running that file with the ``tokenizers`` library
directly gives the same ids (tested) without importing transformers.

A Unigram vocabulary of 250,000 pieces (XLM-R, e5) costs that library about
280 MB of memory, more than the rest of a serving process. ``CompactUnigram``
gives the same ids for a fraction of it: the normaliser and pre-tokenizer still
come from ``tokenizers`` (read from the same file), and only the Viterbi
segmentation of each pre-token runs in SentencePiece, whose Unigram model is the
one this format was converted from and keeps its pieces in a double-array trie.
Equality with the library is tested on the seeds, the test set, awkward strings
and random Unicode; models it does not fit keep the library tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.durable import write_file_atomically
from qa.errors import ModelError

log = logging.getLogger(__name__)


class _Encoder(Protocol):
    pad_id: int

    def encode(self, texts: Sequence[str]) -> list[list[int]]: ...


class TextTokenizer:
    """Token ids and attention masks, truncated to the model's window and padded per batch.

    The ids of the last ``recent`` single texts counted (``count`` of one text) are kept for
    ``batch``: a served question is counted (to bound and schedule it) and then embedded, and
    this way it is tokenised once, not twice.
    """

    recent = 64

    def __init__(self, model_dir: Path, max_tokens: int, *, compact_cache: Path | None = None) -> None:
        config = _json(model_dir / "tokenizer_config.json")
        split_specials = bool(config.get("split_special_tokens", False))
        encoder: _Encoder | None = None
        pad = config.get("pad_token", "<pad>")
        pad = str(pad.get("content", "<pad>") if isinstance(pad, dict) else pad)
        if compact_cache is not None and split_specials:
            encoder = CompactUnigram.open(model_dir / "tokenizer.json", compact_cache, pad)
        self._encoder = encoder or _Library(model_dir / "tokenizer.json", split_specials, pad)
        self.compact = isinstance(self._encoder, CompactUnigram)
        self.pad_id = self._encoder.pad_id
        self.max_tokens = max_tokens
        self._counted: OrderedDict[str, list[int]] = OrderedDict()  # ids of recent ``count``s
        self._lock = threading.Lock()

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text with special tokens, not truncated."""
        rows = self._encoder.encode(texts)
        if len(texts) == 1:
            with self._lock:
                self._counted[texts[0]] = rows[0]
                while len(self._counted) > self.recent:
                    self._counted.popitem(last=False)
        return [len(ids) for ids in rows]

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        """``encode``, taking the ids of recently counted texts (each taken once) as they were."""
        with self._lock:
            known = [self._counted.pop(t, None) for t in texts] if self._counted else []
        if not any(r is not None for r in known):
            return self._encoder.encode(texts)
        missing = [t for t, r in zip(texts, known, strict=True) if r is None]
        fresh = iter(self._encoder.encode(missing) if missing else [])
        return [r if r is not None else next(fresh) for r in known]

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text with special tokens, not truncated."""
        return self._encoder.encode(texts)

    def batch(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """``input_ids`` and ``attention_mask`` (int64), truncated and padded to the longest text."""
        rows = self._encode(texts)
        for row in rows:
            if len(row) > self.max_tokens:  # keep the closing special token, as truncation does
                del row[self.max_tokens - 1 : -1]
        width = max((len(r) for r in rows), default=0)
        input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            input_ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}


class _Library:
    """The whole ``tokenizer.json`` run by the tokenizers library."""

    def __init__(self, path: Path, split_specials: bool, pad: str) -> None:
        from tokenizers import Tokenizer

        try:
            self._tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the Rust library raises its own exception types
            raise ModelError(f"{path}: cannot read the tokenizer ({exc})") from None
        # transformers' split_special_tokens: "<s>" typed in a text is text, not the special token.
        self._tokenizer.encode_special_tokens = split_specials
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.pad_id = int(self._tokenizer.token_to_id(pad) or 0)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        # One text at a time: the library's batch call runs a thread pool of its own, whose
        # threads compete with the model runtime's for the same cores (unless the process
        # environment says TOKENIZERS_PARALLELISM=false, which library code must not set).
        return [self._tokenizer.encode(t).ids for t in texts]


class CompactUnigram:
    """tokenizers' normaliser and pre-tokenizer, then SentencePiece's Viterbi over the same pieces."""

    def __init__(self, pipeline: str, pieces: bytes, prefix: list[int], suffix: list[int],
                 unk_id: int, pad_id: int) -> None:
        import sentencepiece
        from tokenizers import Tokenizer

        self._pipeline = Tokenizer.from_str(pipeline)
        self._normalizer = self._pipeline.normalizer
        self._pre_tokenizer = self._pipeline.pre_tokenizer
        self._pieces = sentencepiece.SentencePieceProcessor(model_proto=pieces)
        self._prefix, self._suffix, self._unk = prefix, suffix, unk_id
        self.pad_id = pad_id

    @classmethod
    def open(cls, tokenizer_json: Path, cache: Path, pad: str) -> CompactUnigram | None:
        """The compact form of ``tokenizer_json`` (made once into ``cache``); None when it does not fit."""
        try:
            import sentencepiece  # noqa: F401
        except ImportError:
            return None
        key = hashlib.sha256(tokenizer_json.read_bytes() + pad.encode()).hexdigest()[:16]
        folder = cache / "tokenizers" / key
        meta_file = folder / "compact.json"
        if not meta_file.is_file():
            _write_compact(tokenizer_json, folder, pad)
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if not meta.get("fits"):
            return None
        return cls(meta["pipeline"], (folder / "pieces.model").read_bytes(), meta["prefix"],
                   meta["suffix"], meta["unk_id"], meta["pad_id"])

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [self._encode(t) for t in texts]

    def _encode(self, text: str) -> list[int]:
        words = [w for w, _ in self._pre_tokenizer.pre_tokenize_str(self._normalizer.normalize_str(text))]
        ids = self._pieces.encode("".join(words))
        if self._unk in ids:
            # SentencePiece fuses neighbouring unknown characters, the library does not: go word by word.
            ids = [i for word in self._pieces.encode(words, num_threads=1) for i in word]
        return [*self._prefix, *ids, *self._suffix]


def _write_compact(tokenizer_json: Path, folder: Path, pad: str) -> None:
    """Derive the compact tokenizer's files from ``tokenizer_json`` (or record that it does not fit)."""
    raw = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model, post = raw.get("model") or {}, raw.get("post_processor") or {}
    specials = _template_specials(post)
    fits = model.get("type") == "Unigram" and not model.get("byte_fallback") and specials is not None \
        and isinstance(model.get("unk_id"), int)
    folder.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"fits": fits}
    if fits:
        assert specials is not None
        pipeline = {**raw, "added_tokens": [], "post_processor": None, "truncation": None,
                    "padding": None, "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]],
                                               "byte_fallback": False}}
        pieces = [p for p, _ in model["vocab"]]
        added = {t.get("content"): t.get("id") for t in raw.get("added_tokens", [])}
        pad_id = added.get(pad, pieces.index(pad) if pad in pieces else 0)
        meta.update(pipeline=json.dumps(pipeline), prefix=specials[0], suffix=specials[1],
                    unk_id=model["unk_id"], pad_id=pad_id)
        proto = _pieces_proto(model["vocab"], model["unk_id"])
        write_file_atomically(folder / "pieces.model", lambda tmp: tmp.write_bytes(proto))
    write_file_atomically(folder / "compact.json", lambda tmp: tmp.write_text(json.dumps(meta)))
    log.info("compact tokenizer for %s: %s", tokenizer_json, "written" if fits else "does not fit")


def _template_specials(post: dict[str, Any]) -> tuple[list[int], list[int]] | None:
    """The special ids before and after a single sequence, for a template with only those."""
    if post.get("type") != "TemplateProcessing":
        return None
    ids = {name: tok.get("ids", []) for name, tok in (post.get("special_tokens") or {}).items()}
    before: list[int] = []
    after: list[int] = []
    seen_sequence = False
    for item in post.get("single", []):
        if "Sequence" in item:
            seen_sequence = True
        elif "SpecialToken" in item and item["SpecialToken"]["id"] in ids:
            (after if seen_sequence else before).extend(ids[item["SpecialToken"]["id"]])
        else:
            return None
    return (before, after) if seen_sequence else None


def _pieces_proto(vocab: list[list[Any]], unk_id: int) -> bytes:
    """A SentencePiece Unigram model of exactly these pieces and scores, normalising nothing.

    Every piece is a normal one, special names included: the library's Unigram
    matches "<s>" typed in a text as the piece it is, and so must this model.
    """
    from sentencepiece import sentencepiece_model_pb2

    # Generated protobuf classes are made at run time, so a type checker sees none of them.
    pb: Any = sentencepiece_model_pb2
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(vocab)
    proto.trainer_spec.unk_id = unk_id
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    kind = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(vocab):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, float(score)
        entry.type = kind.UNKNOWN if i == unk_id else kind.NORMAL
    spec = proto.normalizer_spec
    spec.name = "identity"
    spec.add_dummy_prefix = spec.remove_extra_whitespaces = spec.escape_whitespaces = False
    return proto.SerializeToString()


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
