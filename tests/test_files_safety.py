"""Never lose a user's files (issue 10): what --force may replace, atomic and no-replace moves,
kills at any moment, concurrent runs, checkpoints and --resume, Ctrl-C, write errors as one
line, the umask, and a report that stays inside its folder.

The kill and concurrency helpers are shared with ``benchmarks/soak.py``, which repeats them
many more times.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from model import EtscapError, load_dataset
from model import files as files_module
from model.results import tables as results_module
from model.cli import cli
from model.results.tables import (LEFTOVER_PATTERNS, Staging, _libc, _lock, check_can_write, exchange, not_ours,
                                  write_file, write_folder)
from model.studies.study import Checkpoint, Study, run_scenarios, sweep_inputs
from tests.conftest import CHINA, ROOT, TOY

PYTHON = sys.executable


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line(result) -> str:
    """The CLI's stderr/stdout as one line, and no traceback."""
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


# -- 1. what --force may replace -------------------------------------------------------------

FORCE_RULE = "(--force replaces only a results or study folder etscap wrote, or an empty folder)"


def test_force_refuses_a_folder_of_the_users_own(tmp_path):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.docx").write_text("three years of work")
    result = _run("solve", TOY, "--out", thesis, "--force")
    assert result.exit_code == 1
    assert _one_line(result) == (
        f"error: refusing to replace {thesis}: it holds files etscap did not write (no summary.json or "
        "study.json written by etscap, chapter1.docx); --force replaces only a results or study folder "
        "etscap wrote, or an empty folder: choose another --out")
    assert (thesis / "chapter1.docx").read_text() == "three years of work"


def test_force_refuses_a_results_folder_with_a_users_file_added(tmp_path):
    out = tmp_path / "r"
    assert _run("solve", TOY, "--out", out, "--report").exit_code == 0
    (out / "notes.txt").write_text("mine")
    (out / "plots" / "sketch.pdf").write_text("mine too")
    result = _run("solve", TOY, "--out", out, "--force")
    assert result.exit_code == 1
    assert "it holds files etscap did not write (notes.txt, plots/sketch.pdf)" in _one_line(result)
    assert (out / "notes.txt").read_text() == "mine"


def test_force_replaces_our_own_folders_and_empty_ones(tmp_path):
    """A solve folder with its report, a study folder with its report, and an empty folder
    are etscap's to replace."""
    solved = tmp_path / "solved"
    assert _run("solve", TOY, "--out", solved, "--report").exit_code == 0
    assert not_ours(solved) == []
    study = tmp_path / "study"
    study_file = tmp_path / "s.toml"
    study_file.write_text(f'dataset = "{TOY.as_posix()}"\ncsv = true\n[sweep]\n'
                          '"targets.2027.national_cap_mt" = [135, 140]\n')
    assert _run("sweep", study_file, "--serial", "--out", study, "--report").exit_code == 0
    assert not_ours(study) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (solved, study, empty):
        result = _run("solve", TOY, "--out", out, "--force")
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in out.iterdir()) == [
            "abatement_steps.csv", "sector_years.csv", "summary.json", "years.csv"]


@pytest.mark.parametrize("where, why", [
    ("dataset", "it is the dataset folder"),
    ("dataset parent", "it contains the dataset {dataset}"),
    ("cwd", "it is the current folder"),
    ("cwd parent", "it contains the current folder ({cwd})"),
    ("home", "it is your home folder"),
    ("root", "it is the root folder"),
])
def test_force_refuses_protected_folders(tmp_path, monkeypatch, where, why):
    """Each protected folder gets its own message, exit 1, and is left as it was."""
    dataset = tmp_path / "project" / "data"
    dataset.parent.mkdir()
    (dataset.parent / "README").write_text("project")
    shutil.copytree(TOY, dataset)
    work = tmp_path / "elsewhere" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    out = {"dataset": dataset, "dataset parent": dataset.parent, "cwd": Path("."), "cwd parent": Path(".."),
           "home": home, "root": Path("/")}[where]
    before = sorted(p.name for p in out.iterdir())
    result = _run("solve", dataset, "--out", out, "--force")
    assert result.exit_code == 1
    why = why.format(dataset=dataset.resolve(), cwd=work.resolve())
    assert _one_line(result) == f"error: refusing to replace {out}: {why}; choose another --out {FORCE_RULE}"
    assert sorted(p.name for p in out.iterdir()) == before


def test_out_dot_without_force_is_refused_as_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run("solve", TOY, "--out", ".")
    assert result.exit_code == 1
    assert _one_line(result).startswith("error: refusing to replace .: it is the current folder")


def test_study_file_out_may_not_leave_its_folder(tmp_path):
    project = tmp_path / "project"
    (project / "studies").mkdir(parents=True)
    (project / "thesis.tex").write_text("mine")
    study_file = project / "studies" / "s.toml"
    study_file.write_text(f'dataset = "{TOY.as_posix()}"\nout = ".."\n[sweep]\n'
                          '"targets.2027.national_cap_mt" = [135]\n')
    result = _run("sweep", study_file, "--serial", "--force")
    assert result.exit_code == 2
    assert _one_line(result) == (
        f"error: {study_file}, key out: found '{project}', expected a folder inside the study file's folder "
        f"({(project / 'studies').resolve()}); give --out on the command line to write elsewhere")
    assert (project / "thesis.tex").read_text() == "mine"
    inside = _run("sweep", study_file.with_name("t.toml"), "--serial")  # a missing file: exit 2 still
    assert inside.exit_code == 2
    elsewhere = _run("sweep", study_file, "--serial", "--out", tmp_path / "elsewhere")
    assert elsewhere.exit_code == 0, elsewhere.output
    assert pd.read_csv(tmp_path / "elsewhere" / "scenarios.csv")["status"].tolist() == ["optimal"]


# -- 2. and 3. the final move: no-replace, exchange, kills, concurrent runs -----------------

GENERATION_FILES = 20


def write_generation(folder: Path, generation: str) -> None:
    """A folder etscap could have written, every file stamped with ``generation``."""
    (folder / "plots").mkdir()
    for i in range(GENERATION_FILES):
        (folder / "plots" / f"p{i:02d}.png").write_text(f"{generation}\n" * 5000)
    (folder / "years.csv").write_text(f"{generation}\n")
    (folder / "summary.json").write_text(json.dumps({"objective_bn_cny": 0.0, "generation": generation}))


def generation_of(folder: Path) -> str | None:
    """The generation of a complete folder; None if anything is missing or mixed."""
    try:
        generation = json.loads((folder / "summary.json").read_text())["generation"]
        parts = [(folder / "plots" / f"p{i:02d}.png").read_text() for i in range(GENERATION_FILES)]
        years = (folder / "years.csv").read_text()
    except (OSError, ValueError, KeyError):
        return None
    whole = all(p == f"{generation}\n" * 5000 for p in parts) and years == f"{generation}\n"
    return generation if whole and len(os.listdir(folder / "plots")) == GENERATION_FILES else None


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[6])
    from model.errors import EtscapError
    from model.results.tables import check_can_write, write_folder
    from tests.test_files_safety import write_generation
    out, tag, force, loop = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "force", sys.argv[4] == "loop"
    print("ready", flush=True)
    k = 0
    while True:
        try:
            target = check_can_write(out, force)
            if not loop:  # wait for the go: both runs have checked the folder by then
                print("checked", flush=True)
                while not Path(sys.argv[5]).exists():
                    time.sleep(0.005)
            write_folder(target, lambda folder: write_generation(folder, f"{tag}-{k}"))
        except EtscapError as err:
            print(f"told: {err}", flush=True)
            sys.exit(1)
        print(f"written {tag}-{k}", flush=True)
        k += 1
        if not loop:
            break
""")


def start_writer(out: Path, tag: str, force: bool, loop: bool, go: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-c", WRITER, str(out), tag, "force" if force else "new",
                             "loop" if loop else "once", str(go), str(ROOT)],
                            # stdout only: communicate() then reads on from the buffer readline()
                            # filled (with stderr piped too it reads the pipes afresh, losing lines)
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for pattern in LEFTOVER_PATTERNS for p in out.parent.glob(pattern.format(name=out.name)))


def kill_at_random(out: Path, kills: int, seed: int = 0, longest_s: float = 0.4) -> dict[str, int]:
    """``kills`` times: a process rewriting ``out`` in a loop with --force, killed (SIGKILL)
    after a random delay; each time ``out`` must be complete, and the generation last
    written or the one being written. Returns the counts."""
    rng = random.Random(seed)
    counts: dict = {"old": 0, "new": 0, "lost": 0}
    last = generation_of(out)
    for i in range(kills):
        writer = start_writer(out, f"k{i}", force=True, loop=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, longest_s))
        writer.kill()
        lines = writer.communicate()[0].split("\n")[:-1]  # the last is cut short by the kill (or empty)
        written = [line.split()[1] for line in lines if line.startswith("written ")]
        found = generation_of(out)
        before = written[-1] if written else last
        if found == before:
            counts["old"] += 1
        elif found == f"k{i}-{len(written)}":
            counts["new"] += 1
        else:
            counts["lost"] += 1
            counts.setdefault("details", []).append((i, written[-2:], before, found, sorted(os.listdir(out.parent))))
        last = found
    return counts


def test_exchange_is_one_atomic_rename_on_linux(tmp_path):
    if sys.platform.startswith("linux"):
        assert _libc() is not None  # renameat2 found: RENAME_EXCHANGE and RENAME_NOREPLACE are used
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("A")
    (b / "x").write_text("B")
    exchange(a, b)
    assert ((a / "x").read_text(), (b / "x").read_text()) == ("B", "A")


def test_kills_at_random_moments_leave_the_old_or_the_new_folder(tmp_path):
    out = tmp_path / "out"
    write_folder(out, lambda folder: write_generation(folder, "first"))
    counts = kill_at_random(out, kills=10, seed=1)
    assert counts["lost"] == 0 and counts["old"] + counts["new"] == 10, counts
    write_folder(out, lambda folder: write_generation(folder, "last"), force=True)  # cleans up
    assert generation_of(out) == "last"
    assert leftovers(out) == []


def test_stale_leftovers_are_removed_but_not_a_live_runs(tmp_path):
    out = tmp_path / "out"
    stale_dir, stale_old = tmp_path / ".out.writing-dead1", tmp_path / ".out.replaced-dead2"
    stale_dir.mkdir(), stale_old.mkdir()
    (stale_old / "years.csv").write_text("old")
    live = tmp_path / ".out.writing-live"
    live.mkdir()
    held = _lock(live, blocking=True)  # as a run still writing holds it
    try:
        write_folder(out, lambda folder: write_generation(folder, "g"))
        assert leftovers(out) == [".out.writing-live"]
    finally:
        os.close(held)
    write_folder(out, lambda folder: write_generation(folder, "h"), force=True)
    assert leftovers(out) == []


def test_a_folder_that_appears_meanwhile_is_not_replaced(tmp_path):
    """Without --force: seen absent at the start, present at the end -> refused, intact."""
    out = tmp_path / "out"
    target = check_can_write(out, force=False)
    write_folder(out, lambda folder: write_generation(folder, "other run"))
    with pytest.raises(EtscapError) as caught:
        write_folder(target, lambda folder: write_generation(folder, "this run"))
    assert str(caught.value) == (f"{out} was written by another run while this one was running: not replaced "
                                 "(run again with --force to replace it, or --out to choose another folder)")
    assert generation_of(out) == "other run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_force_replaces_only_the_folder_seen_at_the_start(tmp_path):
    out = tmp_path / "out"
    write_folder(out, lambda folder: write_generation(folder, "old"))
    target = check_can_write(out, force=True)
    write_folder(out, lambda folder: write_generation(folder, "other run"), force=True)
    with pytest.raises(EtscapError, match="was written by another run while this one was running"):
        write_folder(target, lambda folder: write_generation(folder, "this run"))
    assert generation_of(out) == "other run"


def concurrent_pair(out: Path, force: bool) -> tuple[list[int], str | None, list[str]]:
    """Two processes check ``out``, then write it at the same moment: their exit codes, the
    generation left, and what the one refused was told."""
    go = out.parent / f"go-{out.name}"
    go.unlink(missing_ok=True)
    writers = [start_writer(out, tag, force=force, loop=False, go=go) for tag in ("a", "b")]
    for writer in writers:
        assert [writer.stdout.readline().strip() for _ in range(2)] == ["ready", "checked"]
    go.touch()
    outputs = [w.communicate(timeout=120)[0] for w in writers]
    go.unlink()
    told = [line for text in outputs for line in text.splitlines() if line.startswith("told")]
    return sorted(w.returncode for w in writers), generation_of(out), told


@pytest.mark.parametrize("force", [False, True])
def test_concurrent_runs_one_folder_and_the_other_told(tmp_path, force):
    out = tmp_path / "out"
    if force:
        write_folder(out, lambda folder: write_generation(folder, "old"))
    codes, generation, told = concurrent_pair(out, force)
    assert codes == [0, 1]
    assert generation in ("a-0", "b-0")
    assert told == [f"told: {out} was written by another run while this one was running: not replaced "
                    "(run again with --force to replace it, or --out to choose another folder)"]
    assert leftovers(out) == []


# -- 4. and 5. studies keep what they solved: checkpoint, --resume, Ctrl-C ---------------------

def _study_inputs():
    toy = load_dataset(TOY)
    return toy, sweep_inputs(toy, {"targets.2027.national_cap_mt": [130, 133, 135, 138, 140, 145],
                                   "discount_rate": [0.05, 0.1]})


def test_interrupted_study_resumes_to_the_same_tables(tmp_path):
    toy, inputs = _study_inputs()
    whole = run_scenarios(toy, inputs, kind="sweep")
    out = tmp_path / "study"

    def interrupt_after_5(done, total):
        if done >= 5:
            raise KeyboardInterrupt

    checkpoint = Checkpoint(check_can_write(out))
    with pytest.raises(KeyboardInterrupt):
        run_scenarios(toy, inputs, kind="sweep", scenarios_per_task=1, progress=interrupt_after_5,
                      checkpoint=checkpoint)
    checkpoint.close()
    assert checkpoint.saved == 5
    assert len(list((tmp_path / ".study.checkpoint" / "parts").glob("*.index.parquet"))) == 5
    with pytest.raises(EtscapError, match=r"holds 5 scenarios an interrupted run of a study solved: add --resume"):
        run_scenarios(toy, inputs, kind="sweep", checkpoint=Checkpoint(check_can_write(out)))
    checkpoint = Checkpoint(check_can_write(out))
    resumed = run_scenarios(toy, inputs, kind="sweep", scenarios_per_task=3, checkpoint=checkpoint, resume=True)
    assert resumed.info["resumed_scenarios"] == 5
    for name in ("scenarios", "years", "sector_years"):
        pd.testing.assert_frame_equal(getattr(resumed, name), getattr(whole, name), check_dtype=False)
    resumed.write(check_can_write(out), checkpoint=checkpoint)
    whole.write(tmp_path / "whole")
    back, reference = Study.read(out), Study.read(tmp_path / "whole")
    for name in ("scenarios", "years", "sector_years"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(reference, name))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study", "whole"]  # no checkpoint left


def test_resume_refuses_another_studys_checkpoint(tmp_path):
    toy, inputs = _study_inputs()
    out = tmp_path / "study"
    checkpoint = Checkpoint(check_can_write(out))
    with pytest.raises(KeyboardInterrupt):
        run_scenarios(toy, inputs, kind="sweep", scenarios_per_task=1, checkpoint=checkpoint,
                      progress=lambda done, total: (_ for _ in ()).throw(KeyboardInterrupt))
    checkpoint.close()
    with pytest.raises(EtscapError) as caught:
        run_scenarios(toy, inputs.head(3), kind="sweep", checkpoint=Checkpoint(check_can_write(out)), resume=True)
    assert str(caught.value) == (f"{tmp_path / '.study.checkpoint'} is the checkpoint of another study (its "
                                 "scenarios_sha256, n differ): remove that folder to start over, or choose "
                                 "another --out")


def test_a_failed_final_write_keeps_the_solved_scenarios(tmp_path, monkeypatch):
    """A full disk at the end: one line, the checkpoint kept, and --resume writes it all."""
    study_file = tmp_path / "s.toml"
    study_file.write_text(f'dataset = "{TOY.as_posix()}"\n[sweep]\n'
                          '"targets.2027.national_cap_mt" = [50, 135, 140]\n')
    out = tmp_path / "study"
    real = pd.DataFrame.to_parquet

    def full_disk(self, path, *args, **kwargs):
        if Path(path).parent.name == ".study.checkpoint":  # the final files, not the checkpoint parts
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    result = _run("-q", "sweep", study_file, "--serial", "--out", out)
    checkpoint = tmp_path / ".study.checkpoint"
    assert result.exit_code == 1
    assert _one_line(result) == (
        f"error: cannot write {out}: No space left on device ({checkpoint / 'years.parquet'}); the 3 solved "
        f"scenarios are kept in {checkpoint}; run the same command again with --resume to continue; free "
        "some space or choose another --out")
    assert not out.exists()
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    again = _run("sweep", study_file, "--serial", "--out", out, "--resume")
    assert again.exit_code == 0, again.output
    assert pd.read_csv(out / "scenarios.csv")["status"].tolist() == ["infeasible", "optimal", "optimal"]
    assert json.loads((out / "study.json").read_text())["resumed_scenarios"] == 3
    assert not checkpoint.exists()


def _big_study_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.toml"
    path.write_text(f'dataset = "{TOY.as_posix()}"\n[montecarlo]\nn = 100000\nseed = 3\n'
                    '[montecarlo.distributions]\n'
                    '"sectors.power.base_emissions_mt*" = { kind = "uniform", low = 0.95, high = 1.05 }\n')
    return path


def ctrl_c_study(tmp_path: Path, serial: bool, group: bool = False) -> tuple[int, float, str, int]:
    """Start a large study, wait for its first checkpointed chunks, send SIGINT (to the whole
    process group with ``group``, as a terminal does); its exit code, seconds to stop,
    stderr and the scenarios kept."""
    out = tmp_path / "big"
    parts = tmp_path / ".big.checkpoint" / "parts"
    process = subprocess.Popen([PYTHON, str(ROOT / "run.py"), "-q", "montecarlo", str(_big_study_file(tmp_path)),
                                "--out", str(out), *(["--serial"] if serial else [])],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               # as from a terminal: a suite started in the background (``pytest &``
                               # without job control) ignores SIGINT, its children would inherit that,
                               # and Python then never raises KeyboardInterrupt
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while len(list(parts.glob("*.index.parquet"))) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    sent = time.time()
    os.killpg(process.pid, signal.SIGINT) if group else process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    stopped = time.time() - sent
    kept = sum(len(pd.read_parquet(p)) for p in parts.glob("*.index.parquet"))
    return process.returncode, stopped, stderr, kept


def test_ctrl_c_in_a_serial_study_keeps_the_checkpoint(tmp_path):
    code, stopped, stderr, kept = ctrl_c_study(tmp_path, serial=True)
    assert code == 130
    assert stopped < 3.0
    assert kept >= 2
    assert stderr.strip() == (f"interrupted: {kept} solved scenarios kept in {tmp_path / '.big.checkpoint'}; "
                              "run the same command again with --resume to continue")


def test_ctrl_c_in_a_local_cluster_study_stops_and_cleans_up(tmp_path):
    pytest.importorskip("distributed")
    code, stopped, stderr, kept = ctrl_c_study(tmp_path, serial=False, group=True)
    assert code == 130
    assert stopped < 8.0  # measured 1-5 s on 2 busy cores: closing the cluster takes most of it
    # the last line, and no traceback: on a loaded machine distributed may warn before it (e.g.
    # "Event loop was unresponsive"), which is not about the interrupt
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"interrupted: {kept} solved scenarios kept in {tmp_path / '.big.checkpoint'}; "
        "run the same command again with --resume to continue")
    time.sleep(1.0)
    workers = subprocess.run(["pgrep", "-f", f"{tmp_path}"], capture_output=True, text=True).stdout.split()
    assert workers == []


# -- 16. write errors and other OSErrors as one line --------------------------------------------

def test_out_whose_parent_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    result = _run("solve", TOY, "--out", tmp_path / "afile" / "deeper" / "r")
    assert result.exit_code == 1
    assert _one_line(result) == (f"error: cannot write {tmp_path / 'afile' / 'deeper' / 'r'}: {tmp_path / 'afile'} "
                                 "is a file, not a folder; choose another --out")


def test_out_under_a_read_only_folder_is_found_before_solving(tmp_path, monkeypatch):
    """Simulated (the tests may run as root, who can write anywhere): creating the staging
    folder is refused, and nothing is solved."""
    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "ro"))

    monkeypatch.setattr(files_module.tempfile, "mkdtemp", read_only)
    # the CLI imports the pipeline when the command runs (a light --help), so patch it at its source
    monkeypatch.setattr("model.solving.pipeline.solve", lambda *a, **k: pytest.fail("solved before checking --out"))
    result = _run("solve", TOY, "--out", tmp_path / "ro" / "r")
    assert result.exit_code == 1
    assert _one_line(result) == (f"error: cannot write {tmp_path / 'ro' / 'r'}: Permission denied ({tmp_path / 'ro'}); "
                                 "nothing was replaced; choose a folder you can write to with --out")


def test_full_disk_keeps_the_old_results(tmp_path, monkeypatch):
    out = tmp_path / "r"
    assert _run("solve", TOY, "--out", out).exit_code == 0
    before = (out / "years.csv").read_bytes()

    def full(table, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(results_module, "write_csv", full)
    result = _run("-q", "solve", TOY, "--out", out, "--force")
    assert result.exit_code == 1
    line = _one_line(result)
    assert line.startswith(f"error: cannot write {out}: No space left on device (")
    assert line.endswith("years.csv); nothing was replaced; free some space or choose another --out")
    assert (out / "years.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_scheduler_that_is_not_an_address(tmp_path):
    study_file = tmp_path / "s.toml"
    study_file.write_text(f'dataset = "{TOY.as_posix()}"\n[sweep]\n"targets.2027.national_cap_mt" = [135]\n')
    result = _run("sweep", study_file, "--scheduler", "notaurl", "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert _one_line(result) == ("error: --scheduler 'notaurl' is not a Dask scheduler address (missing port "
                                 "number in address 'notaurl'): give one like tcp://10.0.0.5:8786, or drop "
                                 "--scheduler")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # no empty checkpoint left


@pytest.mark.parametrize("error, line", [
    (PermissionError(errno.EACCES, "Permission denied", "/data/sectors.csv"),
     "error: Permission denied (EACCES): /data/sectors.csv (--debug shows where)"),
    (RecursionError("maximum recursion depth exceeded"),
     "error: an input is nested too deeply to read (RecursionError) (--debug shows where)"),
])
def test_last_resort_handler_gives_one_line(monkeypatch, error, line):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("model.data.inputs.load_dataset", fail)  # imported by the command when it runs
    result = _run("validate", TOY)
    assert result.exit_code == 1
    assert _one_line(result) == line
    debug = _run("--debug", "validate", TOY)
    assert debug.exception is error  # --debug: the exception and its traceback


# -- 17. the umask --------------------------------------------------------------------------

def test_results_and_registry_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        out = tmp_path / "r"
        assert _run("solve", TOY, "--out", out).exit_code == 0
        registry = tmp_path / "facilities.csv"
        assert _run("make-registry", CHINA, "--out", registry, "--scale", "0.01").exit_code == 0
        written = write_file(tmp_path / "one.txt", lambda path: path.write_text("x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "years.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE(registry.stat().st_mode) == 0o644
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    staging = Staging(check_can_write(tmp_path / "s"))
    try:
        assert stat.S_IMODE(staging.folder.stat().st_mode) == 0o777 & ~previous
    finally:
        staging.discard()


# -- 18. the report stays inside its folder, through the one writer ---------------------------------

def test_report_refuses_a_plots_link_out_of_the_folder(tmp_path):
    out = tmp_path / "r"
    assert _run("solve", TOY, "--out", out).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "plots").symlink_to(elsewhere)
    result = _run("report", out)
    assert result.exit_code == 1
    assert _one_line(result) == (f"error: {out / 'plots'} is a symbolic link (to {elsewhere}): a report writes "
                                 "only inside the results folder; remove the link and run report again")
    assert list(elsewhere.iterdir()) == []


def test_report_writes_through_the_one_writer(tmp_path):
    """report's files go through results.write_file: a killed report's temporary files are
    removed by the next report, and they follow the umask."""
    out = tmp_path / "r"
    assert _run("solve", TOY, "--out", out).exit_code == 0
    stale = out / ".report.html.writing-dead.html"
    stale.write_text("half a page")
    previous = os.umask(0o027)
    try:
        assert _run("report", out).exit_code == 0
    finally:
        os.umask(previous)
    assert not stale.exists()
    assert stat.S_IMODE((out / "report.html").stat().st_mode) == 0o640
    assert stat.S_IMODE((out / "results.xlsx").stat().st_mode) == 0o640
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_a_staging_folder_taken_before_its_lock_is_made_again(tmp_path, monkeypatch):
    """Another run's cleanup may remove our fresh .NAME.writing-* between mkdtemp and our lock
    (it is not locked yet, so it looks like a leftover): the run makes a new one instead of
    failing with "No such file or directory" (seen once in CI with two concurrent runs)."""
    real_lock, calls = files_module._lock, []

    def lock_after_another_cleanup(path, blocking):
        calls.append(path)
        if len(calls) == 1:  # the first staging folder vanishes before we lock it
            shutil.rmtree(path)
        return real_lock(path, blocking)

    monkeypatch.setattr(files_module, "_lock", lock_after_another_cleanup)
    staging = Staging(check_can_write(tmp_path / "s"))
    try:
        assert len(calls) == 2 and not calls[0].exists()
        assert staging.folder == calls[1] and staging.folder.is_dir()
    finally:
        staging.discard()


def test_every_results_table_is_a_file_etscap_owns():
    """model.files sits below results in the flow, so it names the results tables' files itself:
    a table added to TABLE_FILES but not to OWN_FILES would make --force refuse etscap's own folder."""
    from model.files import OWN_FILES
    from model.results.tables import TABLE_FILES

    assert set(TABLE_FILES.values()) <= OWN_FILES


def test_without_renameat2_a_rename_onto_an_existing_name_is_refused(tmp_path, monkeypatch):
    """Where renameat2 is missing (not Linux, or an old kernel), rename_no_replace checks the
    target itself: an existing file (or a link, even a broken one) is a FileExistsError naming
    it and nothing moves; a free name is renamed."""
    import model.files as files
    monkeypatch.setattr(files, "_renameat2", lambda source, target, flags: False)
    source, target = tmp_path / "new", tmp_path / "old"
    source.write_text("new")
    target.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError) as raised:
        files.rename_no_replace(source, target)
    assert (raised.value.errno, raised.value.filename) == (errno.EEXIST, str(target))
    assert source.read_text() == "new" and target.is_symlink()
    files.rename_no_replace(source, tmp_path / "free")
    assert (tmp_path / "free").read_text() == "new" and not source.exists()


def test_a_staging_folder_another_runs_cleanup_is_looking_at_is_waited_for(tmp_path, monkeypatch):
    """Another run's cleanup locks each .NAME.writing-* it finds to ask whether a live run holds
    it; if it holds our fresh folder when we lock it, we wait for it (0.3 s here) and keep the
    folder, rather than fail: the folder is ours, locked, once its lock is let go."""
    import threading

    real_mkdtemp, held = files_module.tempfile.mkdtemp, []

    def mkdtemp_seen_by_another_cleanup(*args, **kwargs):
        folder = real_mkdtemp(*args, **kwargs)
        descriptor = os.open(folder, os.O_RDONLY)  # another open file: its flock excludes ours
        files_module.fcntl.flock(descriptor, files_module.fcntl.LOCK_EX)
        held.append(time.monotonic())
        threading.Timer(0.3, os.close, (descriptor,)).start()
        return folder

    monkeypatch.setattr(files_module.tempfile, "mkdtemp", mkdtemp_seen_by_another_cleanup)
    staging = Staging(check_can_write(tmp_path / "s"))
    try:
        assert len(held) == 1 and time.monotonic() - held[0] >= 0.25  # waited for the other's lock
        assert staging.folder.is_dir() and staging.folder.name.startswith(".s.writing-")
        probe = os.open(staging.folder, os.O_RDONLY)
        try:  # ours now: another run's cleanup finds it locked
            with pytest.raises(BlockingIOError):
                files_module.fcntl.flock(probe, files_module.fcntl.LOCK_EX | files_module.fcntl.LOCK_NB)
        finally:
            os.close(probe)
    finally:
        staging.discard()


def test_an_old_folder_that_cannot_be_wholly_removed_does_not_fail_the_new_results(tmp_path, monkeypatch):
    """With --force the old results are swapped out, then removed; a file of theirs that cannot
    be removed (a plot someone holds open on a network share: EBUSY) leaves the old folder as
    a leftover beside the results, and the new results are in place, the write reported done."""
    out = tmp_path / "out"
    write_folder(out, lambda folder: write_generation(folder, "old"))
    real_unlink = os.unlink

    def busy(path, *args, **kwargs):
        if os.fspath(path).endswith("p00.png"):
            raise OSError(errno.EBUSY, "Device or resource busy", os.fspath(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", busy)
    assert write_folder(out, lambda folder: write_generation(folder, "new"), force=True) == out
    assert generation_of(out) == "new"
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".out.")
    assert (leftovers[0] / "plots" / "p00.png").read_text() == "old\n" * 5000
