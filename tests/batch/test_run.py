"""Running sweeps: Monte Carlo vs expected mode, re-runs, failures, manifest, timeseries."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simlib
from simlib.api import simulate
from simlib.batch import load_manifest, load_results, load_sweep, load_timeseries, run_sweep
from simlib.batch.worker import Task, TaskContext, TaskPoint, run_task
from simlib.engine.montecarlo import MonteCarlo
from simlib.errors import ScenarioError

from . import small_base, small_sweep

pytestmark = pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning")


def test_monte_carlo_mean_matches_expected_mode() -> None:
    """Mean locked user-days over 200 fleets of 1000 users is within 3 SE of expected mode."""
    base = small_base(users=1000)
    grid = {"hosts[0].validity_days": [47]}
    mc = simlib.sweep(base, grid, replications=200, seed=5, progress=False)
    ex = simlib.sweep(base, grid, mode="expected", progress=False)
    assert len(mc) == 200 * len(base["strategies"]) and mc["replication"].nunique() == 200
    stats = mc.groupby("strategy", sort=False)["locked_user_days"].agg(["mean", "std", "count"])
    expected = ex.set_index("strategy")["locked_user_days"]
    assert list(stats.index) == list(expected.index)
    assert (stats["std"] > 0).sum() >= 3  # the noise is visible: the test can fail
    for strategy, row in stats.iterrows():
        se = row["std"] / np.sqrt(row["count"])
        assert abs(row["mean"] - expected[strategy]) <= 3 * se + 1e-9 * abs(expected[strategy]), (
            strategy
        )


def test_expected_mode_equals_simulate_per_point() -> None:
    base = small_base(users=5000)
    frame = simlib.sweep(base, {"hosts[0].validity_days": [47, 200]}, progress=False)
    plan = load_sweep(
        {"name": "x", "base": base, "axes": {"grid": {"hosts[0].validity_days": [47, 200]}}}
    )
    for point in (0, 1):
        direct = simulate(plan.scenario(point)).summary
        got = frame[frame["point"] == point].reset_index(drop=True)
        assert (got["hosts[0].validity_days"] == [47, 200][point]).all()
        pd.testing.assert_series_equal(got["locked_user_days"], direct["locked_user_days"])
        assert list(got["strategy"]) == list(direct["strategy"])


def test_result_columns_and_aggregate(tmp_path: Path) -> None:
    out = tmp_path / "s"
    frame = simlib.sweep(**_small(), out=out, progress=False)
    params = ["hosts[0].validity_days", "fleet.adoption.components[1].mean_lag_days"]
    assert list(frame.columns[:6]) == ["run_id", "point", "replication", *params, "strategy"]
    assert frame[params[0]].dtype == np.int64 and frame[params[1]].dtype == np.float64
    assert frame["run_id"].nunique() == 4 * 3
    assert isinstance(frame.index, pd.RangeIndex)
    assert list(frame[["point", "replication"]].drop_duplicates().itertuples(index=False)) == [
        (p, r) for p in range(4) for r in range(3)
    ]
    agg = load_results(out, aggregate=True)
    assert {"point", *params, "strategy", "metric", "mean", "sd", "se", "p5", "p50", "p95"} <= set(
        agg.columns
    )
    row = agg[(agg["point"] == 0) & (agg["metric"] == "locked_user_days")].iloc[1]
    values = frame[(frame["point"] == 0) & (frame["strategy"] == row["strategy"])][
        "locked_user_days"
    ]
    assert row["mean"] == pytest.approx(values.mean()) and row["replications"] == 3


def _small(**kw: object) -> dict:
    doc = small_sweep()
    args = {
        "base": doc["base"],
        "grid": doc["axes"]["grid"],
        "replications": 3,
        "seed": doc["seed"],
    }
    args.update(kw)
    return args


def test_rerun_of_finished_sweep_does_nothing(tmp_path: Path) -> None:
    plan = load_sweep(small_sweep())
    out = tmp_path / "s"
    first = run_sweep(plan, out, progress=False, batch_size=2)
    assert (first.done, first.skipped, first.failed) == (12, 0, 0)
    files = sorted(p for p in out.rglob("*.parquet"))
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    again = run_sweep(plan, out, progress=False)
    assert (again.done, again.skipped, again.failed, again.tasks) == (0, 12, 0, 0)
    assert sorted(p for p in out.rglob("*.parquet")) == files
    assert {p: p.stat().st_mtime_ns for p in files} == mtimes


def test_failed_runs_are_recorded_and_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load_sweep(small_sweep())
    out = tmp_path / "s"
    original = MonteCarlo.replicate

    def flaky(self, seed, **kw):
        if seed.spawn_key[-1] == 1:  # replication 1 of every point
            raise RuntimeError("boom\nsecond line")
        return original(self, seed, **kw)

    monkeypatch.setattr(MonteCarlo, "replicate", flaky)
    report = run_sweep(plan, out, progress=False, batch_size=3)
    assert (report.done, report.failed) == (8, 4)
    assert report.first_error == "RuntimeError: boom second line"
    manifest = load_manifest(out)
    assert len(manifest) == 12 and set(manifest["status"]) == {"done", "failed"}
    assert (manifest.loc[manifest["status"] == "failed", "replication"] == 1).all()
    assert set(load_results(out)["replication"]) == {0, 2}

    monkeypatch.setattr(MonteCarlo, "replicate", original)
    retry = run_sweep(plan, out, progress=False)
    assert (retry.done, retry.skipped, retry.failed) == (4, 8, 0)
    manifest = load_manifest(out)
    assert len(manifest) == 12 and (manifest["status"] == "done").all()
    assert manifest["run_id"].is_unique
    reference = simlib.sweep(**_small(), progress=False)
    pd.testing.assert_frame_equal(load_results(out), reference)


def test_manifest_identity_and_timings(tmp_path: Path) -> None:
    plan = load_sweep(small_sweep())
    out = tmp_path / "s"
    run_sweep(plan, out, progress=False, batch_size=5)
    manifest = load_manifest(out)
    assert list(manifest["run_id"]) == [rid for pr in plan.iter_point_runs() for rid in pr.run_ids]
    assert (manifest["seed_entropy"] == 42).all()
    assert [list(k) for k in manifest["spawn_key"][:4]] == [[0, 0], [0, 1], [0, 2], [1, 0]]
    assert (manifest["duration_s"] > 0).all() and (manifest["pid"] == os.getpid()).all()
    assert (manifest["finished_at"] >= manifest["started_at"]).all()
    first = json.loads(manifest["params"][0])
    assert first == {
        "hosts[0].validity_days": 47,
        "fleet.adoption.components[1].mean_lag_days": 10.0,
    }
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["spec_hash"] == plan.spec_hash and meta["runs"] == 12 and meta["seed"] == 42
    assert meta["simlib_version"] == simlib.__version__
    # results parts hold deterministic values only
    results = pd.read_parquet(next((out / "results").glob("part-*.parquet")))
    assert not {"duration_s", "hostname", "pid", "started_at"} & set(results.columns)


def test_timeseries_are_stored_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "s"
    frame = simlib.sweep(**_small(replications=2), out=out, store_timeseries=True, progress=False)
    ts = load_timeseries(out)
    days = 365
    assert len(ts) == frame["run_id"].nunique() * len(small_base()["strategies"]) * days
    assert list(ts.columns) == [
        "run_id",
        "point",
        "replication",
        "strategy",
        "date",
        "lockout_rate",
    ]
    means = ts.groupby(["run_id", "strategy"], sort=False)["lockout_rate"].mean()
    for _, row in frame.iloc[:16].iterrows():
        assert means[(row["run_id"], row["strategy"])] == pytest.approx(row["mean_lockout_rate"])
    # expected mode stores the engine's daily series
    ex = tmp_path / "e"
    simlib.sweep(
        small_base(),
        {"hosts[0].validity_days": [47]},
        out=ex,
        store_timeseries=True,
        progress=False,
    )
    assert len(load_timeseries(ex)) == len(small_base()["strategies"]) * days


def test_thread_pool_executor_and_no_out(tmp_path: Path) -> None:
    reference = simlib.sweep(**_small(), progress=False)
    with ThreadPoolExecutor(2) as pool:
        threaded = simlib.sweep(**_small(), executor=pool, batch_size=1, progress=False)
    pd.testing.assert_frame_equal(threaded, reference)


def test_run_task_reports_bad_point_as_failed_run() -> None:
    context = TaskContext(
        key="k",
        mode="monte_carlo",
        seed=0,
        server_draws=None,
        store_timeseries=False,
        base={"name": "broken"},
    )
    out = run_task(Task(context, (TaskPoint(0, {}, range(2)),)))
    assert out.rows.empty
    assert [m["status"] for m in out.meta] == ["failed", "failed"]
    assert all("\n" not in m["error"] and m["error"].startswith("ScenarioError") for m in out.meta)
    ids = [m["run_id"] for m in out.meta]
    assert len(set(ids)) == 2 and all(len(i) == 16 for i in ids)  # stable ids even when invalid


def test_load_results_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"not a sweep folder \(no sweep.json\)$"):
        load_results(tmp_path)


@pytest.mark.parametrize("bad", ["\u202e", "\x1b[2J", "\u2066", "\x9b"])
def test_summary_line_shows_names_paths_and_errors_escaped(tmp_path, bad):
    from simlib.batch.run import SweepReport

    report = SweepReport(out=tmp_path / f"o{bad}", total=2, done=1, failed=1)
    report.first_error = f"boom{bad}\nsecond line"
    line = report.summary_line(f"sweep{bad}")
    assert bad not in line and "\n" not in line and line.count("\\") >= 3, line
