"""A wheel (what `pip install .` installs) carries the default datasets: installed in a fresh
venv outside the checkout, `etscap solve` finds `china` (the default) and `toy` by name."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT


def _run(command: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with only the wheel of this checkout installed; the dependencies are those of the
    test environment, reached through a .pth file (nothing is downloaded but the build backend)."""
    root = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(root / "dist")], cwd=root)
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
          "--find-links", str(root / "dist"), "etscap"], cwd=root)
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=root)
    # then the test environment's packages (written after the install, so that pip neither
    # sees nor touches them); its editable etscap stays out: a .pth in a directory that a
    # .pth added is not run
    Path(purelib.stdout.strip(), "test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def test_wheel_ships_the_datasets(installed, tmp_path):
    where = _run([str(installed / "bin" / "python"), "-c", "import model; print(model.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed)  # the wheel's copy, not the checkout
    etscap = str(installed / "bin" / "etscap")
    done = _run([etscap, "solve", "toy", "--out", "toy-results"], cwd=tmp_path)
    assert "toy: optimal" in done.stdout
    prices = pd.read_csv(tmp_path / "toy-results" / "years.csv")["allowance_price_cny_per_t"]
    assert prices.tolist() == pytest.approx([40, 40, 60])
    _run([etscap, "-q", "solve", "--out", "default"], cwd=tmp_path)  # the default dataset: china
    summary = json.loads((tmp_path / "default" / "summary.json").read_text())
    assert summary["scenario"] == "china"
    assert summary["objective_bn_cny"] == pytest.approx(1713.100012129, rel=1e-9)
    assert Path(summary["dataset"]).is_relative_to(installed)
    assert "valid (3 sectors" in _run([etscap, "validate", "toy"], cwd=tmp_path).stdout


def test_a_folder_in_the_current_directory_comes_first(installed, tmp_path):
    """A folder named toy where the command runs is that folder, not the bundled dataset."""
    (tmp_path / "toy").mkdir()
    done = subprocess.run([str(installed / "bin" / "etscap"), "validate", "toy"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "toy" in done.stderr and "Traceback" not in done.stderr
