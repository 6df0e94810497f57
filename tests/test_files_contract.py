"""The safe writers' fallbacks (model/files.py), where renameat2 is missing (not Linux, an old
libc) or the filesystem refuses its flags: the same contract as the atomic path."""

from __future__ import annotations

import errno

import pytest

from model import files


@pytest.fixture
def without_renameat2(monkeypatch):
    """As on a system without renameat2: every rename takes the os.rename fallback."""
    monkeypatch.setattr(files, "_renameat2", lambda source, target, flags: False)


def test_the_fallback_rename_refuses_to_replace_an_existing_target(tmp_path, without_renameat2):
    """rename_no_replace without renameat2: an existing target (a file, or a dangling link,
    which os.path.exists would miss) is refused with EEXIST naming it, and both stay as
    they were; a free target is renamed to."""
    source = tmp_path / "new"
    source.write_text("new")
    for target in (tmp_path / "old", tmp_path / "link"):
        if target.name == "old":
            target.write_text("old")
        else:
            target.symlink_to(tmp_path / "nowhere")
        with pytest.raises(FileExistsError) as refused:
            files.rename_no_replace(source, target)
        assert refused.value.errno == errno.EEXIST and refused.value.filename == str(target)
        assert source.read_text() == "new"
    assert (tmp_path / "old").read_text() == "old" and (tmp_path / "link").is_symlink()
    files.rename_no_replace(source, tmp_path / "free")
    assert (tmp_path / "free").read_text() == "new" and not source.exists()


def test_the_fallback_exchange_swaps_two_folders(tmp_path, without_renameat2):
    """exchange without renameat2: three renames swap the two folders and leave no
    ``.NAME.replaced-*`` folder behind."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "file").write_text("from a")
    (b / "file").write_text("from b")
    files.exchange(a, b)
    assert (a / "file").read_text() == "from b" and (b / "file").read_text() == "from a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
