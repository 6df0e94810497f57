"""The safe writers' fallbacks (model/files.py), where renameat2 is missing (not Linux, an old
libc) or the filesystem refuses its flags: the same contract as the atomic path."""

from __future__ import annotations

import errno
import os
from pathlib import Path

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


@pytest.mark.parametrize("code, hint", [
    (errno.ENOSPC, "free some space or choose another --out"),
    (errno.EDQUOT, "free some space or choose another --out"),
    (errno.EACCES, "choose a folder you can write to with --out"),
    (errno.EPERM, "choose a folder you can write to with --out"),
    (errno.EROFS, "choose a folder you can write to with --out"), (errno.EIO, "choose another --out"),
])
def test_a_write_error_says_what_where_and_what_to_do(code, hint):
    err = OSError(code, os.strerror(code), "/r/.out.writing-1/years.csv")
    assert str(files.write_error(Path("/r/out"), err)) == (
        f"cannot write /r/out: {os.strerror(code)} (/r/.out.writing-1/years.csv); nothing was replaced; {hint}")
    assert str(files.write_error(Path("o"), OSError("odd"), kept="the old folder is kept")) == (
        "cannot write o: odd; the old folder is kept; choose another --out")


def test_force_lists_the_first_five_files_etscap_did_not_write(tmp_path):
    out = tmp_path / "r"
    (out / "plots").mkdir(parents=True)
    (out / "summary.json").write_text('{"objective_bn_cny": 1.0}')
    (out / "years.csv").write_text("year\n")
    (out / "plots" / "prices.png").write_bytes(b"")
    assert files.not_ours(out) == []
    assert files.check_can_write(out, force=True).path == out
    def refusal() -> str:
        with pytest.raises(files.EtscapError) as refused:
            files.check_can_write(out, force=True)
        return str(refused.value).split("(")[1].split(")")[0]

    for name in ("a.txt", "b.txt", "c.txt", "d.txt", "e.txt"):
        (out / name).write_text("mine")
    assert refusal() == "a.txt, b.txt, c.txt, d.txt, e.txt"
    (out / "f.txt").write_text("mine")
    assert refusal() == "a.txt, b.txt, c.txt, d.txt, e.txt and 1 more"
    (out / "plots" / "sketch.pdf").write_text("mine")
    assert files.not_ours(out) == ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "f.txt", "plots/sketch.pdf"]
    with pytest.raises(files.EtscapError) as refused:
        files.check_can_write(out, force=True)
    assert str(refused.value) == (
        f"refusing to replace {out}: it holds files etscap did not write (a.txt, b.txt, c.txt, d.txt, e.txt and "
        "2 more); --force replaces only a results or study folder etscap wrote, or an empty folder: choose another "
        "--out")
    (out / "summary.json").write_text('{"status": "optimal"}')  # not etscap's: no objective
    assert files.not_ours(out)[0] == "no summary.json or study.json written by etscap"


def test_what_is_in_the_way_of_a_target(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(files.EtscapError) as refused:
        files.check_can_write(tmp_path / "file", force=True)
    assert str(refused.value) == f"{tmp_path / 'file'} exists and is not a folder: choose another --out"
    with pytest.raises(files.EtscapError) as refused:
        files.check_can_write(tmp_path / "file")
    assert str(refused.value) == (f"results folder {tmp_path / 'file'} already exists: pass --force to replace it, "
                                  "or --out to choose another folder")
    with pytest.raises(files.EtscapError) as refused:
        files.make_parent(tmp_path / "file" / "deeper" / "out")
    assert str(refused.value) == (f"cannot write {tmp_path / 'file' / 'deeper' / 'out'}: {tmp_path / 'file'} is a "
                                  "file, not a folder; choose another --out")
    target = files.check_can_write(tmp_path / "new")
    assert target == files.Target(tmp_path / "new", False, None) and files.check_can_write(target) is target
