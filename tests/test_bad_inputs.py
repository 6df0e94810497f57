"""The corpus of broken datasets in tests/bad_inputs/: each gives its exact message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from model import InputError, load_dataset
from model.cli import cli
from tests.conftest import TOY

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(folder for folder in CORPUS.iterdir() if folder.is_dir())
CASE_FILES = ("expected.txt", "remove.txt")


def broken_dataset(case: Path, tmp_path: Path) -> Path:
    """The toy dataset with the case's files laid over it (and its removals made)."""
    folder = tmp_path / "dataset"
    shutil.copytree(TOY, folder)
    for file in case.iterdir():
        if file.name not in CASE_FILES:
            shutil.copyfile(file, folder / file.name)
    removals = case / "remove.txt"
    for name in removals.read_text().split() if removals.exists() else []:
        (folder / name).unlink()
    return folder


def expected_message(case: Path, folder: Path) -> str:
    return (case / "expected.txt").read_text().rstrip("\n").replace("{dataset}", str(folder))


def test_corpus_has_at_least_30_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_gives_its_exact_message(case, tmp_path):
    folder = broken_dataset(case, tmp_path)
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    assert str(caught.value) == expected_message(case, folder)


@pytest.mark.parametrize("name", ["problems_in_every_file", "latin1_encoding", "too_many_fields",
                                  "toml_syntax_error", "missing_file"])
def test_validate_prints_one_line_per_problem_and_exits_2(name, tmp_path):
    case = CORPUS / name
    folder = broken_dataset(case, tmp_path)
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: " + expected_message(case, folder) + "\n"
    assert "Traceback" not in result.stderr
