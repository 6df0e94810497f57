"""Untrusted datasets are data only: no file outside the dataset folder is read, nothing
hangs, and absurd sizes fail at once with a message."""

from __future__ import annotations

import os
import pathlib
import shutil
import time

import pytest

from model import InputError, inputs, load_dataset, schema


@pytest.fixture
def toy_copy(tmp_path, toy_path):
    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    return folder


def _message(folder) -> str:
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    return str(caught.value)


def test_only_the_four_dataset_files_are_opened(toy_copy, monkeypatch):
    """Cells that look like paths stay text: nothing but the dataset's own files is read."""
    mac = toy_copy / "mac.csv"
    mac.write_text(mac.read_text().replace("illustrative", "/etc/passwd"))
    opened = []
    read_bytes = pathlib.Path.read_bytes
    monkeypatch.setattr(pathlib.Path, "read_bytes", lambda self: opened.append(self.name) or read_bytes(self))
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail(f"open{a} called"))
    dataset = load_dataset(toy_copy)
    assert sorted(opened) == ["mac.csv", "scenario.toml", "sectors.csv", "targets.csv"]
    assert dataset.mac["source"].iloc[0] == "/etc/passwd"


def test_link_out_of_the_dataset_folder_is_refused(toy_copy, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("not for the model\n")
    (toy_copy / "sectors.csv").unlink()
    (toy_copy / "sectors.csv").symlink_to(outside)
    assert _message(toy_copy) == (
        f"sectors.csv: found 'a link to {outside}', expected a file inside the dataset folder "
        "(copy the file instead of linking it)"
    )


def test_link_inside_the_dataset_folder_is_followed(toy_copy):
    (toy_copy / "shared").mkdir()
    os.replace(toy_copy / "mac.csv", toy_copy / "shared" / "mac.csv")
    (toy_copy / "mac.csv").symlink_to(pathlib.Path("shared") / "mac.csv")
    assert len(load_dataset(toy_copy).mac) == 6


def test_a_pipe_is_refused_without_reading_it(toy_copy):
    """Reading a named pipe would wait forever for a writer."""
    (toy_copy / "targets.csv").unlink()
    os.mkfifo(toy_copy / "targets.csv")
    assert _message(toy_copy) == "targets.csv: found 'something that is not a plain file', expected a plain file"


def test_huge_file_fails_fast(toy_copy):
    size = inputs.MAX_FILE_BYTES + 1
    with (toy_copy / "mac.csv").open("wb") as handle:
        handle.truncate(size)  # sparse: takes no disk space
    started = time.perf_counter()
    message = _message(toy_copy)
    assert time.perf_counter() - started < 1.0
    assert message == f"mac.csv: found '{size} bytes', expected at most {inputs.MAX_FILE_BYTES} bytes"


def test_too_many_rows_fail_before_parsing(toy_copy):
    rows = "".join(f"power,S{i},0,10,,0,\n" for i in range(schema.MAC.max_rows + 1))
    (toy_copy / "mac.csv").write_text("sector,step,potential_share,cost_cny_per_t,available_from,cost_change,source\n" + rows)
    assert _message(toy_copy) == (
        f"mac.csv: found 'more than {schema.MAC.max_rows} data rows', "
        f"expected at most {schema.MAC.max_rows} data rows"
    )


def test_model_size_is_limited(toy_copy, monkeypatch):
    """Steps times years bounds the LP; the toy has 6 steps x 3 years."""
    monkeypatch.setattr(inputs, "MAX_ABATEMENT_VARIABLES", 17)
    assert _message(toy_copy) == (
        "mac.csv: found '18 step-years', expected at most 17 abatement variables "
        "(steps times years available; fewer steps or a shorter horizon)"
    )


def test_absurd_numbers_fail_with_a_message(toy_copy):
    toml = toy_copy / "scenario.toml"
    toml.write_text(toml.read_text().replace("initial_bank_mt = 0.0", "initial_bank_mt = 1e300"))
    targets = toy_copy / "targets.csv"
    targets.write_text(targets.read_text().replace("2025,170", "2025,1e300"))
    assert _message(toy_copy) == (
        "2 problems in the inputs:\n"
        "  scenario.toml, column market.initial_bank_mt: found '1e+300', expected a number from 0 to 1000000 (Mt CO2)\n"
        "  targets.csv, row 2, column national_cap_mt: found '1e300', expected a number from 0 to 1000000 (Mt CO2)"
    )
