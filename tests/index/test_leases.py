"""Readers lease the generation they read; pruning removes only what nobody leases.

The first tests need no build: generations are directories with a manifest (all a lease looks
at), leased by this process, by another thread or by another process. The last one reads real
snapshots while real builds (with the hashed n-gram encoder, ``qa.embed.hashed``) publish
between them.
"""

from __future__ import annotations

import fcntl
import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qa.errors import IndexLoadError
from qa.index import generations
from qa.index.build import build_index
from qa.index.generations import Generation, lease, prune
from qa.index.snapshot import Snapshot
from qa.ingest.documents import make_document

ROOT = Path(__file__).resolve().parents[2]


def fake_index(root: Path, numbers: list[int], *, flat: bool = False) -> Path:
    """An index directory whose generations hold a manifest (and one data file) each."""
    if flat:
        (root / "manifest.json").parent.mkdir(parents=True, exist_ok=True)
        (root / "manifest.json").write_text("{}")
        (root / "passages.sqlite").write_text("flat")
    for number in numbers:
        folder = root / "generations" / generations.name_of(number)
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
        (folder / "passages.sqlite").write_text(str(number))
    (root / "CURRENT").write_text(generations.name_of(numbers[-1]) + "\n")
    return root


def on_disk(root: Path) -> list[int]:
    return sorted(int(p.name) for p in (root / "generations").iterdir())


def gen(root: Path, number: int) -> Generation:
    return Generation(number, root / "generations" / generations.name_of(number))


def test_prune_keeps_the_current_the_previous_and_every_leased_generation(tmp_path):
    index_dir = fake_index(tmp_path / "idx", [1, 2, 3, 4, 5])
    (index_dir / "generations" / ".staging-000009").mkdir()  # left by a killed build
    mine = lease(gen(index_dir, 1))
    other_thread: list[generations.Lease] = []
    thread = threading.Thread(target=lambda: other_thread.append(lease(gen(index_dir, 3))))
    thread.start()
    thread.join()

    assert prune(index_dir) is False, "kept something only for a lease: worth another try"
    assert on_disk(index_dir) == [1, 3, 4, 5]
    assert not (index_dir / "generations" / ".staging-000009").exists()

    mine.release()
    mine.release()  # idempotent
    assert prune(index_dir) is False and on_disk(index_dir) == [3, 4, 5]
    other_thread[0].release()
    assert prune(index_dir) is True and on_disk(index_dir) == [4, 5]
    assert prune(index_dir) is True and on_disk(index_dir) == [4, 5]


def test_a_lease_held_by_another_process_keeps_its_generation_until_that_process_ends(tmp_path):
    index_dir = fake_index(tmp_path / "idx", [1, 2, 3])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from qa.index.generations import Generation, lease;"
         f"held = lease(Generation(1, Path({str(gen(index_dir, 1).path)!r}))); print('held', flush=True);"
         "sys.stdin.read()"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert prune(index_dir) is False and on_disk(index_dir) == [1, 2, 3]
    finally:
        holder.kill()
        holder.wait()
    assert prune(index_dir) is True and on_disk(index_dir) == [2, 3], "the OS dropped its lease"


def test_prune_outside_a_build_never_waits_for_one(tmp_path):
    index_dir = fake_index(tmp_path / "idx", [1, 2, 3])
    with generations.build_lock(index_dir, timeout=5):
        assert prune(index_dir) is False, "skipped: the build prunes when it publishes"
        assert on_disk(index_dir) == [1, 2, 3]
    assert prune(index_dir) is True and on_disk(index_dir) == [2, 3]
    assert prune(tmp_path / "nothing-here") is True


def test_a_lease_fails_on_a_generation_being_removed_or_gone(tmp_path):
    index_dir = fake_index(tmp_path / "idx", [1, 2, 3])
    manifest = gen(index_dir, 1).files.manifest
    with open(manifest) as remover:  # what a prune holds while it removes a generation
        fcntl.flock(remover, fcntl.LOCK_EX)
        with pytest.raises(IndexLoadError, match="is being removed"):
            lease(gen(index_dir, 1))
    assert prune(index_dir) is True and on_disk(index_dir) == [2, 3]
    with pytest.raises(IndexLoadError, match="the manifest is missing"):
        lease(gen(index_dir, 1))


def test_the_flat_files_are_kept_while_leased(tmp_path):
    index_dir = fake_index(tmp_path / "idx", [1, 2], flat=True)
    flat = lease(Generation(0, index_dir))
    assert prune(index_dir) is False
    assert (index_dir / "manifest.json").is_file() and (index_dir / "passages.sqlite").is_file()
    flat.release()
    assert prune(index_dir) is True
    assert not (index_dir / "manifest.json").exists() and not (index_dir / "passages.sqlite").exists()
    assert on_disk(index_dir) == [1, 2]


def corpus_of(snapshot: Snapshot) -> dict[str, str]:
    return dict(snapshot.document_texts())


def test_a_snapshot_keeps_its_generation_through_builds_until_closed_or_dropped(
        hashed_settings, hashed_embedder, tmp_path):
    index_dir = tmp_path / "idx"
    first = [make_document("kommun", "Kommunen\n\nKommunstyrelsen leder arbetet i kommunen.")]
    second = [make_document("kommun", "Kommunen\n\nKommunfullmäktige beslutar om budgeten.")]
    third = [*second, make_document("skola", "Skolan\n\nGrundskolan är obligatorisk.")]
    build_index(first, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    a = Snapshot.open(index_dir, hashed_settings.index)
    build_index(second, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    b = Snapshot.open(index_dir, hashed_settings.index)
    assert (a.generation, b.generation) == (1, 2)

    build_index(third, hashed_embedder,
                hashed_settings.index, index_dir, progress=False)  # publishes 3, prunes
    assert on_disk(index_dir) == [1, 2, 3], "generation 1 is older than the previous, but leased"
    assert corpus_of(a) == {d.id: d.text for d in first}
    assert a.document("kommun").text == first[0].text, "its SQLite file is still there"
    assert (a.path / "passages.sqlite").is_file()

    a.close()
    assert a.closed
    build_index(second, hashed_embedder, hashed_settings.index, index_dir, progress=False)  # publishes 4
    assert on_disk(index_dir) == [2, 3, 4], "1 went once closed; 2 is still leased by b"
    assert corpus_of(b) == {d.id: d.text for d in second}

    del b  # nobody references it: it closes itself and lets go of generation 2
    gc.collect()
    assert prune(index_dir) is True and on_disk(index_dir) == [3, 4]
    with Snapshot.open(index_dir, hashed_settings.index) as latest:
        assert latest.generation == 4 and corpus_of(latest) == {d.id: d.text for d in second}
