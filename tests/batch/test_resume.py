"""Resume: SIGKILL the CLI (and its workers) mid-sweep, twice, then finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simlib.batch import load_manifest, load_results, load_sweep, run_sweep

from . import ROOT, small_sweep, write_sweep

pytestmark = pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning")

POINTS, REPLICATIONS = 8, 50  # 400 runs in tasks of 2: a few seconds on two workers


def _doc() -> dict:
    doc = small_sweep(replications=REPLICATIONS, name="resume")
    doc["axes"]["grid"]["hosts[0].validity_days"] = [47, 90, 120, 200]
    return doc


def _parts(out: Path) -> int:
    folder = out / "results"
    return len(list(folder.glob("part-*.parquet"))) if folder.exists() else 0


def _command(sweep_file: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "simlib.cli.main",
        "sweep",
        str(sweep_file),
        "--out",
        str(out),
        "--workers",
        "2",
        "--batch-size",
        "2",
        "--quiet",
    ]


def _kill_when(sweep_file: Path, out: Path, at_least: int, total_parts: int) -> int:
    """Start the CLI in its own session; SIGKILL its process group once ``at_least`` parts exist."""
    proc = subprocess.Popen(
        _command(sweep_file, out),
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while _parts(out) < at_least:
            assert proc.poll() is None, (
                f"sweep ended before the kill: {proc.stderr.read().decode()}"
            )
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    parts = _parts(out)
    assert 1 <= parts < total_parts, parts
    return parts


def test_resume_after_sigkill_twice(tmp_path: Path) -> None:
    sweep_file = write_sweep(tmp_path, _doc())
    plan = load_sweep(sweep_file)
    assert plan.n_runs == POINTS * REPLICATIONS
    total_parts = plan.n_runs // 2
    expected_ids = {rid for pr in plan.iter_point_runs() for rid in pr.run_ids}
    out = tmp_path / "out"

    first = _kill_when(sweep_file, out, 1, total_parts)
    second = _kill_when(sweep_file, out, first + 20, total_parts)
    assert second > first

    done = subprocess.run(
        _command(sweep_file, out), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    skipped = int(done.stdout.split(" runs done, ")[1].split(" skipped")[0])
    assert 2 * second <= skipped < plan.n_runs  # resumed: the earlier runs were not redone

    ids = [
        rid
        for p in sorted((out / "results").glob("part-*.parquet"))
        for rid in pq.read_table(p, columns=["run_id"]).column(0).to_pylist()
    ]
    strategies = len(plan.base.strategies)
    assert len(ids) == plan.n_runs * strategies
    assert set(ids) == expected_ids
    counts = pd.Series(ids).value_counts()
    assert (counts == strategies).all()  # no duplicated run
    assert not list(out.rglob("*.tmp"))
    assert not list((out / "timeseries").iterdir())

    manifest = load_manifest(out)
    assert len(manifest) == plan.n_runs and manifest["run_id"].is_unique
    assert (manifest["status"] == "done").all()

    reference = tmp_path / "reference"
    run_sweep(plan, reference, progress=False)
    pd.testing.assert_frame_equal(load_results(out), load_results(reference), check_exact=True)


# ------------------------------------------------------------------- crash leftovers, in-process


def test_missing_manifest_part_is_regenerated(tmp_path: Path) -> None:
    """A kill between a task's results part and its manifest part loses only timings."""
    plan = load_sweep(small_sweep())
    out = tmp_path / "s"
    run_sweep(plan, out, progress=False, batch_size=5)
    lost = sorted((out / "manifest").glob("part-*.parquet"))[0]
    lost_ids = set(pq.read_table(lost, columns=["run_id"]).column(0).to_pylist())
    lost.unlink()
    (out / "manifest.parquet").unlink()
    again = run_sweep(plan, out, progress=False)
    assert again.done == 0 and again.skipped == plan.n_runs
    manifest = load_manifest(out)
    assert len(manifest) == plan.n_runs and manifest["run_id"].is_unique
    assert (manifest["status"] == "done").all()
    regenerated = manifest[manifest["run_id"].isin(lost_ids)]
    assert len(regenerated) == len(lost_ids) and regenerated["duration_s"].isna().all()
    assert regenerated["params"].notna().all()
    assert list(manifest[["point", "replication"]].itertuples(index=False)) == [
        (p, r) for p in range(4) for r in range(3)
    ]


def test_stale_temps_and_orphan_parts_are_removed(tmp_path: Path) -> None:
    plan = load_sweep(small_sweep(store_timeseries=True))
    out = tmp_path / "s"
    run_sweep(plan, out, progress=False, batch_size=4)
    reference = load_results(out)
    stale = [
        out / "results" / ".part-0123456789abcdef.parquet.x1.tmp",
        out / "manifest" / ".part-0123456789abcdef.parquet.x2.tmp",
        out / ".sweep.json.x3.tmp",
    ]
    for p in stale:
        p.write_bytes(b"half a file")
    orphan = out / "timeseries" / "part-0123456789abcdef.parquet"
    orphan.write_bytes(b"written before the kill; its results part never was")
    run_sweep(plan, out, progress=False)
    assert not any(p.exists() for p in stale) and not orphan.exists()
    pd.testing.assert_frame_equal(load_results(out), reference)


def test_second_writer_is_refused(tmp_path: Path) -> None:
    import fcntl

    from simlib.errors import ScenarioError

    plan = load_sweep(small_sweep())
    out = tmp_path / "s"
    run_sweep(plan, out, progress=False)
    with open(out / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        with pytest.raises(ScenarioError, match="another sweep is writing to this folder"):
            run_sweep(plan, out, progress=False)


def test_run_id_set() -> None:
    from simlib.batch.parts import RunIdSet, ids_u64

    ids = ["ffffffffffffffff", "0000000000000001", "8000000000000000"]
    s = RunIdSet(ids_u64(ids))
    assert len(s) == 3 and all(i in s for i in ids)
    assert "0000000000000002" not in s and 5 not in s
    assert list(s.contains(ids_u64(["8000000000000000", "0000000000000000"]))) == [True, False]
    assert list(RunIdSet(ids_u64([])).contains(ids_u64(ids))) == [False] * 3


# --------------------------------------------------------------------------- orphaned workers


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_exit_when_only_the_parent_is_killed(tmp_path: Path) -> None:
    sweep_file = write_sweep(tmp_path, _doc())
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _command(sweep_file, out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while _parts(out) < 3 or len(workers) < 2:  # both workers up and computing
            assert proc.poll() is None, (
                f"sweep ended before the kill: {proc.stderr.read().decode()}"
            )
            assert time.monotonic() < deadline, "no progress"
            workers = [p for p in _children(proc.pid) if _running(p)]
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # only the parent: no process group kill
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(_running(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [p for p in workers if _running(p)]
    finally:
        for p in [w for w in workers if _running(w)]:
            os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert not left, f"workers {left} outlived their parent"
