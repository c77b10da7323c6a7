"""The index lifecycle: generations, one pointer, one lock; crashes at every system call.

Real builds with the hashed n-gram encoder (``qa.embed.hashed``: the files are under test, not the
model's vectors); the publish step runs in a child process that kills itself with SIGKILL at its
N-th file-system call, for every N until the step completes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qa.embed.hashed import NAME as HASHED
from qa.errors import IndexLoadError, QAError
from qa.index import generations
from qa.index.build import build_index, stage
from qa.index.manifest import read_manifest
from qa.index.plan import corpus_fingerprint
from qa.index.snapshot import Snapshot
from qa.ingest.documents import Document, make_document

ROOT = Path(__file__).resolve().parents[2]

KOMMUN = make_document("kommun", "Kommunen\n\nKommunfullmäktige beslutar om budgeten varje år i november.")
REGION = make_document("region", "Regionen\n\nRegionen ansvarar för hälso- och sjukvård och kollektivtrafik.")
SKOLA = make_document("skola", "Skolan\n\nGrundskolan är obligatorisk för alla barn i Sverige.")
OLDEST = [make_document("kommun", "Kommunen\n\nKommunstyrelsen leder arbetet i kommunen.")]
OLD = [KOMMUN, REGION]
NEW = [make_document("kommun", "Kommunen\n\nNämnderna ansvarar för var sin del av verksamheten."),
       REGION, SKOLA]

# Run in a child: publish a staged generation, SIGKILLed just before its N-th file-system call.
PUBLISH_UNTIL_KILLED = r"""
import builtins, io, os, signal, sys
from pathlib import Path

from qa.index.generations import publish  # first: shutil picks its rmtree strategy on import

index_dir, staged, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
calls = 0


def counted(real, counts=lambda *a, **k: True):
    def call(*args, **kwargs):
        global calls
        if counts(*args, **kwargs):
            calls += 1
            if calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call


WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
for name in ("fsync", "fdatasync", "rename", "replace", "mkdir", "makedirs", "unlink", "remove",
             "rmdir", "symlink", "link", "truncate", "ftruncate", "write"):
    setattr(os, name, counted(getattr(os, name)))
os.open = counted(os.open, lambda path, flags, *a, **k: bool(flags & WRITES))
builtins.open = io.open = counted(io.open, lambda f, mode="r", *a, **k: any(c in mode for c in "wax+"))
publish(index_dir, staged)
print(calls)
"""


def corpus(documents: list[Document]) -> dict[str, str]:
    return {d.id: d.text for d in documents}


def published_corpus(index_dir: Path, hashed_settings) -> dict[str, str]:
    """The documents of the published generation, after checking it is whole and consistent."""
    with Snapshot.open(index_dir, hashed_settings.index) as snapshot:
        texts = snapshot.document_texts()
        assert snapshot.manifest.documents == len(texts)
        assert snapshot.manifest.corpus_fingerprint == corpus_fingerprint(snapshot.reload_documents())
        assert {p.document_id for p in snapshot.passages} == set(texts)
        return texts


def assert_clean(index_dir: Path) -> None:
    """Only the pointer, the lock and at most two complete generations are left."""
    assert {p.name for p in index_dir.iterdir()} <= {"CURRENT", "generations", ".build.lock"}
    names = sorted(p.name for p in (index_dir / "generations").iterdir())
    assert 1 <= len(names) <= 2 and all(n.isdigit() for n in names), names
    assert (index_dir / "CURRENT").read_text().strip() == names[-1]


def tree_state(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under ``root`` with its size, mtime and ctime (a rename changes the ctime)."""
    state = {}
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        state[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return state


@pytest.mark.slow  # a child process per system call of publishing: tens of seconds
def test_a_kill_at_any_system_call_of_publishing_leaves_the_old_or_the_new_index(
        hashed_settings, hashed_embedder, tmp_path):
    base = tmp_path / "base"
    build_index(OLDEST, hashed_embedder, hashed_settings.index, base, progress=False)
    build_index(OLD, hashed_embedder, hashed_settings.index, base, progress=False)
    staged = stage(NEW, hashed_embedder, hashed_settings.index, base).path
    assert staged.parent == base / "generations" and not staged.name.isdigit()

    seen: list[str] = []
    for kill_at in range(1, 500):
        index_dir = tmp_path / f"killed-{kill_at}"
        shutil.copytree(base, index_dir, symlinks=True)
        child = subprocess.run(
            [sys.executable, "-c", PUBLISH_UNTIL_KILLED, str(index_dir),
             str(index_dir / "generations" / staged.name), str(kill_at)],
            cwd=ROOT, capture_output=True, text=True)
        finished = child.returncode == 0
        assert finished or child.returncode == -signal.SIGKILL, child.stderr

        found = published_corpus(index_dir, hashed_settings)
        assert found in (corpus(OLD), corpus(NEW)), "never a mix, never no index"
        seen.append("new" if found == corpus(NEW) else "old")

        build_index(NEW, hashed_embedder, hashed_settings.index, index_dir, progress=False)
        assert published_corpus(index_dir, hashed_settings) == corpus(NEW)
        assert_clean(index_dir)
        shutil.rmtree(index_dir)
        if finished:
            assert int(child.stdout.split()[-1]) == kill_at - 1, "every call was a kill point"
            break
    else:
        pytest.fail("the publish step did not finish")
    # Readers switch at exactly one system call, from the old corpus to the new one.
    assert seen == ["old"] * seen.count("old") + ["new"] * seen.count("new")
    assert seen.count("old") >= 3 and seen.count("new") >= 3, seen


def test_opening_never_writes(hashed_settings, hashed_embedder, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(OLD, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    # What a killed build leaves behind stays until the next build; readers leave it alone.
    (index_dir / "generations" / ".staging-000009").mkdir()
    (index_dir / "generations" / ".staging-000009" / "passages.sqlite").write_bytes(b"half")
    (index_dir / ".CURRENT.tmp-1-abcd").write_text("000009\n")
    before = tree_state(index_dir)

    read_manifest(index_dir)
    Snapshot.open(index_dir, hashed_settings.index, model_id=hashed_embedder.model_id,
                  dim=hashed_embedder.dim).close()
    assert published_corpus(index_dir, hashed_settings) == corpus(OLD)
    assert tree_state(index_dir) == before

    build_index(OLD, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    assert_clean(index_dir)


def test_a_flat_index_directory_still_opens_and_the_next_builds_convert_it(
        hashed_settings, hashed_embedder, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(OLD, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    # The layout written before generations: one generation's files at the top.
    generation = index_dir / "generations" / "000001"
    for path in generation.iterdir():
        path.rename(index_dir / path.name)
    shutil.rmtree(index_dir / "generations")
    (index_dir / "CURRENT").unlink()
    (index_dir / ".build.lock").unlink(missing_ok=True)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    del manifest["generation"]
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    before = tree_state(index_dir)

    with Snapshot.open(index_dir, hashed_settings.index, model_id=hashed_embedder.model_id,
                       dim=hashed_embedder.dim) as flat:
        assert flat.generation == 0 and flat.document_texts() == corpus(OLD)
    assert tree_state(index_dir) == before

    report = build_index([*OLD, SKOLA], hashed_embedder, hashed_settings.index, index_dir, progress=False)
    assert report.reused == len(OLD) and report.generation == 1, "the flat index's vectors are reused"
    assert published_corpus(index_dir, hashed_settings) == corpus([*OLD, SKOLA])
    assert (index_dir / "manifest.json").is_file(), "kept as the previous generation"
    build_index(NEW, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    assert published_corpus(index_dir, hashed_settings) == corpus(NEW)
    assert_clean(index_dir)


def test_a_second_build_waits_for_the_lock_and_then_fails_clearly(hashed_settings, hashed_embedder, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(OLD, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    impatient = hashed_settings.model_copy(update={"build_lock_timeout": 0.2})
    with generations.build_lock(index_dir, timeout=5), \
            pytest.raises(QAError, match=r"another build of .*idx is running: the lock .*\.build\.lock"):
        build_index(NEW, hashed_embedder, impatient.index, index_dir, progress=False)
    assert published_corpus(index_dir, hashed_settings) == corpus(OLD)
    build_index(NEW, hashed_embedder, impatient.index, index_dir, progress=False)
    assert published_corpus(index_dir, hashed_settings) == corpus(NEW)


def test_add_keeps_the_indexed_documents_and_refuses_a_damaged_index(
        hashed_settings, hashed_embedder, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(OLD, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    report = build_index([SKOLA], hashed_embedder, hashed_settings.index, index_dir, add=True, progress=False)
    assert published_corpus(index_dir, hashed_settings) == corpus([*OLD, SKOLA])
    assert report.reused == len(OLD)

    generations.current(index_dir).files.store.write_bytes(b"not a database")
    with pytest.raises(IndexLoadError, match="cannot add to the index at"):
        build_index([KOMMUN], hashed_embedder, hashed_settings.index, index_dir, add=True, progress=False)
    build_index(OLD, hashed_embedder,
                hashed_settings.index, index_dir, progress=False)  # a full build repairs it
    assert published_corpus(index_dir, hashed_settings) == corpus(OLD)


def test_a_broken_pointer_is_a_clear_error_and_the_next_build_repairs_it(
        hashed_settings, hashed_embedder, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(OLD, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    (index_dir / "CURRENT").write_text("../../etc\n")
    with pytest.raises(IndexLoadError, match="CURRENT names no generation"):
        Snapshot.open(index_dir, hashed_settings.index)
    (index_dir / "CURRENT").write_text("000007\n")
    with pytest.raises(IndexLoadError, match="names generation 000007, which is missing"):
        read_manifest(index_dir)
    report = build_index(NEW, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    assert report.generation == 2 and published_corpus(index_dir, hashed_settings) == corpus(NEW)
    assert_clean(index_dir)


def _qa_build(source: Path, index_dir: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QA_THREADS": "1", "QA_BUILD_LOCK_TIMEOUT": "600", "QA_MODEL": HASHED}
    return subprocess.Popen([sys.executable, "-m", "qa.cli", "build", "--source", str(source),
                             "--index", str(index_dir), "--no-progress", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _jsonl(path: Path, documents: list[Document]) -> Path:
    path.write_text("".join(json.dumps({"id": d.id, "title": d.title, "text": d.text},
                                       ensure_ascii=False) + "\n" for d in documents),
                    encoding="utf-8")
    return path


@pytest.mark.slow
def test_two_builds_and_two_adds_at_once(hashed_settings, hashed_embedder, tmp_path):
    """Real ``qa build`` processes: two full builds of one directory, two ``--add`` to another."""
    built, added = tmp_path / "built", tmp_path / "added"
    build_index(OLD, hashed_embedder, hashed_settings.index, added, progress=False)
    first = make_document("forsta", "Första\n\nFörsta tillägget handlar om bibliotekets öppettider.")
    second = make_document("andra", "Andra\n\nAndra tillägget handlar om simhallens priser.")
    procs = [_qa_build(_jsonl(tmp_path / "old.jsonl", OLD), built),
             _qa_build(_jsonl(tmp_path / "new.jsonl", NEW), built),
             _qa_build(_jsonl(tmp_path / "first.jsonl", [first]), added, "--add"),
             _qa_build(_jsonl(tmp_path / "second.jsonl", [second]), added, "--add")]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    assert published_corpus(built, hashed_settings) in (corpus(OLD), corpus(NEW))
    assert_clean(built)
    found = published_corpus(added, hashed_settings)
    assert found == corpus([*OLD, first, second]), "no added document is lost"
    assert_clean(added)
