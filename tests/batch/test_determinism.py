"""Results do not depend on where runs execute: in-process, 2 processes, a Dask cluster."""

from __future__ import annotations

import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from simlib.batch import load_results, load_sweep, run_sweep

from . import small_sweep

pytestmark = pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning")


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _sweep_doc() -> dict:
    doc = small_sweep(replications=4)
    # a random axis as well, so point values come from the sweep seed too
    doc["axes"]["random"] = {
        "n": 2,
        "params": {"fleet.adoption.never_update_share": {"uniform": [0.0, 0.1]}},
    }
    return doc


def test_identical_results_across_executors(tmp_path: Path) -> None:
    plan = load_sweep(_sweep_doc())
    assert plan.n_runs == 8 * 4

    run_sweep(plan, tmp_path / "inproc", progress=False)
    reference = load_results(tmp_path / "inproc")

    run_sweep(plan, tmp_path / "batch1", progress=False, batch_size=1)
    run_sweep(plan, tmp_path / "batch7", progress=False, batch_size=7)

    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        run_sweep(plan, tmp_path / "pool", executor=pool, progress=False, batch_size=3)

    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        run_sweep(plan, tmp_path / "dask", executor=client, progress=False, batch_size=2)

    assert len(reference) == 32 * 8
    assert reference.groupby("run_id").size().eq(8).all()
    ref_bytes = _parquet_bytes(reference)
    for name in ("batch1", "batch7", "pool", "dask"):
        frame = load_results(tmp_path / name)
        pd.testing.assert_frame_equal(frame, reference, check_exact=True)
        assert frame.equals(reference), name
        assert _parquet_bytes(frame) == ref_bytes, name
    # different partitioning into parts, same results
    parts = {
        n: len(list((tmp_path / n / "results").glob("*.parquet"))) for n in ("batch1", "batch7")
    }
    assert parts["batch1"] == 32 and parts["batch7"] == 5


def test_different_seed_gives_different_results(tmp_path: Path) -> None:
    a = load_sweep(small_sweep(seed=1))
    b = load_sweep(small_sweep(seed=2))
    run_sweep(a, tmp_path / "a", progress=False)
    run_sweep(b, tmp_path / "b", progress=False)
    fa, fb = load_results(tmp_path / "a"), load_results(tmp_path / "b")
    assert not fa["locked_user_days"].equals(fb["locked_user_days"])
    assert set(fa["run_id"]).isdisjoint(fb["run_id"])
