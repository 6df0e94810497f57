"""Writing folders and files safely: the one atomic writer of single files (``write_file``)
and of results and study folders (``write_folder``), low in the flow (it imports only
``errors``), so inputs, results, the report, studies and the CLI all write through it.

A results or study folder is filled in a hidden, locked staging folder beside it and moved
into place by one rename: renameat2(RENAME_NOREPLACE) when nothing was there (so a folder
another run wrote meanwhile is never replaced), renameat2(RENAME_EXCHANGE) to swap with the
old one under --force (a kill at any moment leaves the old complete folder or the new one).
Leftovers of killed runs (.NAME.writing-*, .NAME.replaced-*) are removed at the next write;
a live run's staging folder is recognised by its lock (flock, released when a process dies).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import glob
import json
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, overload

try:
    import fcntl
except ImportError:  # not on Windows: writes are then not locked against concurrent runs
    fcntl = None  # type: ignore[assignment]

from .errors import EtscapError

RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2  # linux/fs.h
_AT_FDCWD = -100
LEFTOVER_PATTERNS = (".{name}.writing-*", ".{name}.replaced-*")
# What etscap writes into a results or study folder (solve, report, sweep/montecarlo): with
# --force a folder is replaced only if it holds one of MARKERS and nothing but these.
OWN_FILES = frozenset({
    "years.csv", "sector_years.csv", "abatement_steps.csv", "facilities.csv",  # results.tables.TABLE_FILES
    "facility_years.parquet", "summary.json", "report.html", "results.xlsx",
    "scenarios.csv", "study.json", "years.parquet", "sector_years.parquet", "abatement_steps.parquet",
    "compare.html", "compare.xlsx", "runs.csv", "years_differences.csv", "sector_years_differences.csv",
    "design_years.csv", "design_summary.csv", "designs.json",  # model.studies.designs (run.py design-comparison)
})
OWN_FOLDERS = {"plots": ".png"}  # folder -> the only kind of file etscap puts in it
# file -> a key etscap writes in it (None: a page, its presence is the mark: compare's folder)
MARKERS: dict[str, str | None] = {"summary.json": "objective_bn_cny", "study.json": "kind", "compare.html": None,
                                  "designs.json": "kind"}


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):  # glibc older than 2.28, or not glibc
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """Rename with ``flags``; False where renameat2 is missing (not Linux, old libc) or the
    filesystem does not support the flag, so the caller falls back."""
    renameat2 = _libc()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code), str(source), None, str(target))


def rename_no_replace(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``; FileExistsError if ``target`` exists, even if it appeared
    a moment ago (one atomic step on Linux; elsewhere os.rename, which cannot replace a
    non-empty folder)."""
    if _renameat2(source, target, RENAME_NOREPLACE):
        return
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    os.rename(source, target)


def exchange(source: Path, target: Path) -> None:
    """Swap ``source`` and ``target`` (both exist): one atomic step on Linux; elsewhere three
    renames, where a kill in between can leave the old folder at .NAME.replaced-*."""
    if _renameat2(source, target, RENAME_EXCHANGE):
        return
    retired = target.with_name(f".{target.name}.replaced-{uuid.uuid4().hex[:8]}")
    os.rename(target, retired)
    os.rename(source, target)
    os.rename(retired, source)


def _umask() -> int:
    """The process's umask (read without changing it where /proc allows)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: Path, folder: bool) -> None:
    """mkdtemp/mkstemp create 0700/0600 whatever the umask: give ``path`` the mode a plain
    mkdir/open would have, so colleagues on a shared server can read the results."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


@overload
def _lock(path: Path, blocking: Literal[True]) -> int: ...
@overload
def _lock(path: Path, blocking: bool) -> int | None: ...
def _lock(path: Path, blocking: bool) -> int | None:
    """An open descriptor holding an exclusive flock on ``path``, or None if another live
    process holds it (never None when ``blocking``)."""
    descriptor = os.open(path, os.O_RDONLY)
    if fcntl is None:
        return descriptor
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return stat.st_dev, stat.st_ino


def remove_leftovers(out: Path) -> list[Path]:
    """Remove the hidden .NAME.writing-* and .NAME.replaced-* beside ``out`` that no live run
    holds (leftovers of runs killed mid-write); returns what was removed."""
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        candidates = [p for pattern in LEFTOVER_PATTERNS
                      for p in out.parent.glob(pattern.format(name=glob.escape(out.name)))]
        for candidate in candidates:
            try:
                descriptor = _lock(candidate, blocking=False)
            except OSError:
                continue
            if descriptor is None:  # a live run is writing it
                continue
            try:
                if candidate.is_dir() and not candidate.is_symlink():
                    shutil.rmtree(candidate, ignore_errors=True)
                else:
                    candidate.unlink(missing_ok=True)
                removed.append(candidate)
            finally:
                os.close(descriptor)
    return removed


def _refuse_protected(out: Path, protect: Iterable[str | Path]) -> None:
    """Never replace /, the home folder, a folder holding the current folder or a dataset."""
    resolved = out.resolve()
    cwd, home = Path.cwd().resolve(), Path.home().resolve()
    why = None
    if resolved == Path(resolved.anchor):
        why = "it is the root folder"
    elif resolved == home:
        why = "it is your home folder"
    elif cwd == resolved:
        why = "it is the current folder"
    elif cwd.is_relative_to(resolved):
        why = f"it contains the current folder ({cwd})"
    for dataset in protect:
        dataset = Path(dataset).resolve()
        if why is None and dataset == resolved:
            why = "it is the dataset folder"
        elif why is None and dataset.is_relative_to(resolved):
            why = f"it contains the dataset {dataset}"
    if why:
        raise EtscapError(f"refusing to replace {out}: {why}; choose another --out (--force replaces only "
                          "a results or study folder etscap wrote, or an empty folder)")


def not_ours(folder: Path) -> list[str]:
    """Entries of ``folder`` etscap did not write (empty if it is an etscap results or study
    folder, or empty); a folder without summary.json or study.json is not ours at all."""
    entries = sorted(os.listdir(folder))
    if not entries:
        return []
    foreign = []
    for name in entries:
        path = folder / name
        if name in OWN_FOLDERS and path.is_dir() and not path.is_symlink():
            suffix = OWN_FOLDERS[name]
            foreign += [f"{name}/{inner}" for inner in sorted(os.listdir(path)) if not inner.endswith(suffix)
                        or not (path / inner).is_file()]
        elif name not in OWN_FILES or path.is_symlink() or not path.is_file():
            foreign.append(name)
    if not any(_is_marker(folder / name, key) for name, key in MARKERS.items()):
        foreign.insert(0, "no summary.json or study.json written by etscap")
    return foreign


def _is_marker(path: Path, key: str | None) -> bool:
    if key is None:
        return path.is_file() and not path.is_symlink()
    try:
        return key in json.loads(path.read_text())
    except (OSError, ValueError, TypeError):
        return False


@dataclass(frozen=True)
class Target:
    """Where a folder is to be written, and what was there when the run began (its device
    and inode): at the end only that folder may be replaced, never one that appeared meanwhile."""

    path: Path
    force: bool
    seen: tuple[int, int] | None


def check_can_write(out: str | Path | Target, force: bool = False, protect: Iterable[str | Path] = ()) -> Target:
    """Refuse early (before solving) what the final move would refuse: an existing ``out``
    without ``force``; with ``force``, anything but an etscap folder or an empty one, and never
    /, the home folder, a folder holding the current folder or a ``protect``-ed dataset."""
    if isinstance(out, Target):
        return out
    out = Path(out)
    if os.path.lexists(out):
        _refuse_protected(out, protect)
        if not force:
            raise EtscapError(f"results folder {out} already exists: pass --force to replace it, "
                              "or --out to choose another folder")
        if out.is_symlink() or not out.is_dir():
            raise EtscapError(f"{out} exists and is not a folder: choose another --out")
        foreign = not_ours(out)
        if foreign:
            listed = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise EtscapError(f"refusing to replace {out}: it holds files etscap did not write ({listed}); "
                              "--force replaces only a results or study folder etscap wrote, or an empty "
                              "folder: choose another --out")
    return Target(out, force, _identity(out))


def make_parent(out: Path) -> None:
    """Create ``out``'s parent folders, with one message naming what is in the way."""
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in [parent, *parent.parents] if p.exists() and not p.is_dir()), parent)
        raise EtscapError(f"cannot write {out}: {blocking} is a file, not a folder; choose another --out") from None
    except OSError as err:
        raise write_error(out, err) from None


def write_error(out: Path, err: OSError, kept: str = "nothing was replaced") -> EtscapError:
    """An OSError met while writing ``out`` as one line: what, where, and that the old is kept."""
    where = f" ({err.filename})" if err.filename else ""
    hint = {errno.ENOSPC: "free some space or choose another --out",
            errno.EDQUOT: "free some space or choose another --out",
            errno.EACCES: "choose a folder you can write to with --out",
            errno.EPERM: "choose a folder you can write to with --out",
            errno.EROFS: "choose a folder you can write to with --out"}.get(err.errno or 0, "choose another --out")
    return EtscapError(f"cannot write {out}: {err.strerror or err}{where}; {kept}; {hint}")


class Staging:
    """A hidden folder beside the target (.NAME.writing-*), created before the work starts (so a
    read-only or missing parent is found before solving), locked while this process lives."""

    def __init__(self, target: Target):
        self.target = target
        make_parent(target.path)
        remove_leftovers(target.path)
        while True:
            try:
                folder = Path(tempfile.mkdtemp(prefix=f".{target.path.name}.writing-", dir=target.path.parent))
                descriptor = _lock(folder, blocking=True)
            except FileNotFoundError as err:  # another run's cleanup removed it before our lock: again
                if not target.path.parent.is_dir():
                    raise write_error(target.path, err) from None
                continue
            except OSError as err:
                raise write_error(target.path, err) from None
            if _identity(folder) == (os.fstat(descriptor).st_dev, os.fstat(descriptor).st_ino):
                break  # else another run's cleanup took it between mkdtemp and the lock: again
            os.close(descriptor)
        follow_umask(folder, folder=True)
        self.folder = folder
        self._descriptor: int | None = descriptor  # None once closed

    def commit(self) -> Path:
        """Move the filled folder into place (see ``commit``) and let go of it."""
        try:
            return commit(self.folder, self.target)
        finally:
            self.close()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.close()

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """One commit at a time into ``folder`` (an flock on it): checking what is there and
    moving ours into place are then one step for concurrent runs."""
    descriptor = _lock(folder, blocking=True)
    try:
        yield
    finally:
        os.close(descriptor)


def commit(staging: Path, target: Target) -> Path:
    """Move the complete ``staging`` folder to ``target.path``: if nothing was there when the run
    began, only if nothing is there now; with force, swapped atomically with the folder seen
    then (the old one is removed after). Another run's folder that appeared meanwhile is
    never replaced: the run is told, and its folder stays."""
    out = target.path
    meanwhile = (f"{out} was written by another run while this one was running: not replaced "
                 "(run again with --force to replace it, or --out to choose another folder)")
    with _folder_locked(out.parent):
        if _identity(out) != target.seen:
            raise EtscapError(meanwhile)
        if target.seen is None:
            try:
                rename_no_replace(staging, out)
            except (FileExistsError, IsADirectoryError):
                raise EtscapError(meanwhile) from None
            except OSError as err:
                if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise EtscapError(meanwhile) from None
                raise
            return out
        check_can_write(out, force=True)  # still ours: nothing added to it meanwhile
        exchange(staging, out)
    shutil.rmtree(staging, ignore_errors=True)  # the old folder; a kill here leaves a leftover only
    return out


def write_folder(out: str | Path | Target, write_into: Any, force: bool = False,
                 staging: "Staging | None" = None) -> Path:
    """Fill a hidden folder with ``write_into(folder)``, then move it into place (``commit``).

    An interrupted or failed write leaves an existing ``out`` untouched. ``staging``: a folder
    prepared before the work began (else one is made now).
    """
    target = check_can_write(out, force)
    staging = staging or Staging(target)
    try:
        write_into(staging.folder)
        return staging.commit()
    except OSError as err:
        staging.discard()
        raise write_error(target.path, err) from None
    except BaseException:
        staging.discard()
        raise


def write_file(out: str | Path, write_to: Any, force: bool = False) -> Path:
    """Write one file through a hidden temporary file beside it, then move it into place (a
    reader sees the old file or the new one, never half of one); an existing file is only
    replaced with ``force``, and never one that appeared while writing without it. The one
    writer of single files (registries, report pages, plots, workbooks)."""
    out = Path(out)
    if os.path.lexists(out) and not force:
        raise EtscapError(f"{out} already exists: pass --force to replace it, or --out to choose another file")
    make_parent(out)
    remove_leftovers(out)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.writing-", suffix=out.suffix, dir=out.parent)
    except OSError as err:
        raise write_error(out, err) from None
    staging = Path(name)
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)  # a live write: not a leftover for other runs
        follow_umask(staging, folder=False)
        write_to(staging)
        if force:
            os.replace(staging, out)
        else:
            try:
                rename_no_replace(staging, out)
            except FileExistsError:
                raise EtscapError(f"{out} was written by another run meanwhile: not replaced (pass --force "
                                  "to replace it)") from None
    except OSError as err:
        staging.unlink(missing_ok=True)
        raise write_error(out, err) from None
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    finally:
        os.close(handle)
    return out
