"""Publishing files and directories: complete or absent, never half-written, no temporaries left."""

from __future__ import annotations

import pytest

from qa import durable


def test_a_file_is_replaced_whole_and_no_temporary_is_left(tmp_path):
    target = tmp_path / "CURRENT"
    durable.write_file_atomically(target, lambda tmp: tmp.write_text("1\n"))
    durable.write_file_atomically(target, lambda tmp: tmp.write_text("2\n"))
    assert target.read_text() == "2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["CURRENT"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    target = tmp_path / "CURRENT"
    target.write_text("old\n")

    def half(tmp):
        tmp.write_text("ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        durable.write_file_atomically(target, half)
    assert target.read_text() == "old\n"
    assert durable.temporaries(target) == []


def test_temporaries_of_a_crashed_writer_are_found(tmp_path):
    target = tmp_path / "CURRENT"
    leftover = tmp_path / ".CURRENT.tmp-123-abcd"
    leftover.write_text("x")
    (tmp_path / ".OTHER.tmp-1-ab").write_text("x")
    assert durable.temporaries(target) == [leftover]


def test_a_directory_is_published_whole_and_never_over_another(tmp_path):
    staged = tmp_path / ".staging"
    (staged / "sub").mkdir(parents=True)
    (staged / "sub" / "a.bin").write_bytes(b"abc")
    durable.make_dirs(tmp_path / "deep" / "er")
    target = tmp_path / "deep" / "er" / "published"
    durable.publish_directory(staged, target)
    assert (target / "sub" / "a.bin").read_bytes() == b"abc" and not staged.exists()

    other = tmp_path / ".other"
    other.mkdir()
    with pytest.raises(OSError):
        durable.publish_directory(other, target)  # a non-empty target is never replaced
    assert (target / "sub" / "a.bin").read_bytes() == b"abc"
