"""A Dask worker's malloc: arrays stay on the heap as in one process (study._keep_arrays_on_heap).

Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which switches off glibc's
dynamic mmap threshold: every array above 128 KiB is then mmap'ed and unmapped again, and
each new one pays a page fault per 4 KiB page. A facility-resolution scenario (6,837
installations) cost 175 ms of CPU on a worker against 93 ms in one process for that alone.
The measure here is the page faults of 100 fresh 1 MiB arrays, each written whole: 1 MiB /
4 KiB = 256 pages, so 100 x 256 = 25,600 faults when every array is mapped afresh, and
about none when the heap reuses the memory freed by the one before.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from model import load_dataset
from model.studies import study
from tests.conftest import ROOT, TOY

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's thresholds are glibc's")

ARRAYS, ARRAY_BYTES = 100, 2**20


def _faults_of_fresh_arrays() -> int:
    """Minor page faults of ARRAYS arrays of ARRAY_BYTES made, written and dropped one after another."""
    import resource

    import numpy as np

    np.ones(ARRAY_BYTES // 8)  # the first one may grow the heap
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(ARRAYS):
        array = np.ones(ARRAY_BYTES // 8)
        del array
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


MEASURE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from tests.test_worker_memory import _faults_of_fresh_arrays
from model.studies import study
before = _faults_of_fresh_arrays()
study._keep_arrays_on_heap()
print(before, _faults_of_fresh_arrays(), study._malloc_tuned[0])
"""


def _measured(env: dict[str, str]) -> tuple[int, int, bool]:
    out = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, check=True, cwd=ROOT,
                         env=env).stdout.split()
    return int(out[0]), int(out[1]), out[2] == "True"


def test_dask_s_trim_variable_maps_every_array_and_the_thresholds_undo_it():
    """With Dask's MALLOC_TRIM_THRESHOLD_=65536: at least 200 of each array's 256 pages fault
    (25,600 in all, measured 25,700); after ``_keep_arrays_on_heap`` fewer than a tenth of
    that (measured 0). Without the variable nothing is set and nothing faults."""
    pages = ARRAYS * ARRAY_BYTES // os.sysconf("SC_PAGE_SIZE")
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    before, after, tuned = _measured({**env, "MALLOC_TRIM_THRESHOLD_": "65536"})
    assert before >= 200 / 256 * pages and after < pages / 10 and tuned
    before, after, tuned = _measured(env)
    assert before < pages / 10 and after < pages / 10 and not tuned


def test_a_study_sets_the_thresholds_on_its_workers_only(monkeypatch):
    """After a study on a 2-worker LocalCluster (its nanny sets the variable) a fresh 1 MiB
    array costs each worker less than a tenth of its pages; a serial study leaves this
    process's malloc alone even with the variable set."""
    distributed = pytest.importorskip("distributed")
    toy = load_dataset(TOY)
    drawn = {"sectors.power.base_emissions_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05}}
    pages = ARRAYS * ARRAY_BYTES // os.sysconf("SC_PAGE_SIZE")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        untouched = client.run(_faults_of_fresh_arrays)
        result = study.monte_carlo(toy, 16, drawn, seed=3, client=client, scenarios_per_task=1)
        tuned = client.run(_faults_of_fresh_arrays)
    assert (result.scenarios["status"] == "optimal").all()
    assert all(faults >= 200 / 256 * pages for faults in untouched.values())
    assert len(tuned) == 2 and all(faults < pages / 10 for faults in tuned.values())
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setattr(study, "_malloc_tuned", [False])
    study.monte_carlo(toy, 2, drawn, seed=3)
    assert study._malloc_tuned == [False]
