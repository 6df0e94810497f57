"""A study on a real multi-process Dask cluster: `dask scheduler` and two `dask worker`
processes started on loopback from the test, as a user's cluster would be, then
`sweep --scheduler tcp://127.0.0.1:PORT`. Everything started is stopped, even on failure."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from model.cli import cli
from tests.conftest import CHINA

DASK = str(Path(sys.executable).with_name("dask"))
STUDY = """dataset = "{dataset}"
[sweep]
"targets.2035.national_cap_mt" = [10509, 10350, 10170]
"mac.cement.*.cost_cny_per_t*" = [1.0, 1.3]
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop the process and any children (a worker's nanny starts one) by its process group."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def scheduler_address(tmp_path) -> Iterator[str]:
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    started: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with open(logs / f"{name}.log", "w") as log:  # the child keeps its own copy of the file
            started.append(subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, cwd=tmp_path))  # own process group

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
              "--no-dashboard")
        for i in range(2):
            start(f"worker-{i}", "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                  "--no-dashboard", "--name", f"worker-{i}")
        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                    assert len(client.scheduler_info()["workers"]) == 2
                break
            except OSError:  # the scheduler is not listening yet
                if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                    raise RuntimeError("the Dask cluster did not start: " + "; ".join(
                        f"{log.name}: {log.read_text()[-500:]}" for log in sorted(logs.iterdir())))
                time.sleep(0.5)
        yield address
    finally:
        for process in reversed(started):  # workers first, then the scheduler
            _stop(process)


def test_sweep_on_a_scheduler_and_two_workers_equals_serial(tmp_path, scheduler_address):
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(dataset=CHINA.as_posix()))
    serial = CliRunner().invoke(cli, ["-q", "sweep", str(study), "--serial", "--out", str(tmp_path / "serial")])
    assert serial.exit_code == 0, serial.output
    remote = CliRunner().invoke(cli, ["sweep", str(study), "--scheduler", scheduler_address,
                                      "--out", str(tmp_path / "remote")])
    assert remote.exit_code == 0, remote.output
    assert "6 scenarios (6 optimal, 0 infeasible, 0 errors)" in remote.output
    assert "on 2 Dask workers" in remote.output
    for table in ("years.parquet", "sector_years.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "remote" / table),
                                      pd.read_parquet(tmp_path / "serial" / table), check_exact=True)
    columns = ["scenario", "status", "objective_bn_cny"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "remote" / "scenarios.csv")[columns],
                                  pd.read_csv(tmp_path / "serial" / "scenarios.csv")[columns], check_exact=True)
