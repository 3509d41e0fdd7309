"""``SweepStore.check(force=)`` and ``replace``: a different sweep is replaced only under the
folder lock, only its own files go, and a crash half-way leaves the old sweep resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simlib.batch import load_results, load_sweep, run_sweep
from simlib.batch.store import LOCK_FILE, SweepStore
from simlib.errors import ScenarioError

from . import small_sweep, write_sweep

pytestmark = pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning")


def _plans(tmp_path: Path):
    old = small_sweep(name="old", replications=1)
    new = small_sweep(name="new", replications=1)
    new["axes"]["grid"]["hosts[0].validity_days"] = [200]
    return (
        load_sweep(write_sweep(tmp_path, old, "old.yaml")),
        load_sweep(write_sweep(tmp_path, new, "new.yaml")),
    )


def test_check_says_when_force_is_needed(tmp_path):
    old, new = _plans(tmp_path)
    out = tmp_path / "out"
    assert SweepStore(out).check(new) is False  # new folder
    run_sweep(old, out, progress=False)
    assert SweepStore(out).check(old) is False  # its own: resumed
    assert SweepStore(out).check(old, force=True) is False
    with pytest.raises(ScenarioError, match="add --force to replace it"):
        SweepStore(out).check(new)
    assert SweepStore(out).check(new, force=True) is True


def test_replace_removes_only_the_old_sweeps_files(tmp_path):
    old, new = _plans(tmp_path)
    out = tmp_path / "out"
    run_sweep(old, out, progress=False)
    (out / "results" / "README.txt").write_text("mine")
    (out / "notes.txt").write_text("mine")
    assert SweepStore(out).replace(new) == "old"
    assert sorted(p.name for p in (out / "results").iterdir()) == ["README.txt"]
    assert not list((out / "manifest").iterdir()) and not (out / "manifest.parquet").exists()
    assert json.loads((out / "sweep.json").read_text())["spec_hash"] == new.spec_hash
    run_sweep(new, out, progress=False)  # no force needed any more
    assert set(load_results(out)["hosts[0].validity_days"]) == {200}
    assert (out / "notes.txt").read_text() == "mine"


def test_replace_is_refused_while_a_sweep_writes(tmp_path):
    """A sweep writing into the folder right now holds the lock: replacing it is refused."""
    import fcntl

    old, new = _plans(tmp_path)
    out = tmp_path / "out"
    run_sweep(old, out, progress=False)
    with open(out / LOCK_FILE, "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ScenarioError, match="another sweep is writing"):
            SweepStore(out).replace(new)
    assert json.loads((out / "sweep.json").read_text())["spec_hash"] == old.spec_hash


def test_a_crash_half_way_leaves_the_old_sweep_resumable(tmp_path, monkeypatch):
    old, new = _plans(tmp_path)
    out = tmp_path / "out"
    run_sweep(old, out, progress=False)
    complete = load_results(out)
    real, calls = Path.unlink, []

    def crash(self, missing_ok=False):
        calls.append(self.name)
        if len(calls) == 3:  # the consolidated manifest and one result part are gone
            raise KeyboardInterrupt
        real(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", crash)
    with pytest.raises(KeyboardInterrupt):
        SweepStore(out).replace(new)
    monkeypatch.setattr(Path, "unlink", real)
    assert json.loads((out / "sweep.json").read_text())["spec_hash"] == old.spec_hash
    report = run_sweep(old, out, progress=False)  # the old sweep, resumed: one task redone
    assert report.skipped < old.n_runs
    again = load_results(out)
    assert (
        again.sort_values("run_id")
        .reset_index(drop=True)
        .equals(complete.sort_values("run_id").reset_index(drop=True))
    )


def test_the_python_sweep_call_takes_force(tmp_path) -> None:
    """``simlib.sweep(out=...)`` refuses a different sweep's folder, and ``force=True`` replaces
    it, as ``simlib sweep --force`` does."""
    import pytest

    import simlib
    from simlib.errors import ScenarioError
    from tests.conftest import make

    base = make()
    out = tmp_path / "s"
    first = simlib.sweep(base, {"fleet.release_every_days": [14, 28]}, out=out, progress=False)
    assert len(first["point"].unique()) == 2
    with pytest.raises(ScenarioError, match="--force"):
        simlib.sweep(base, {"fleet.release_every_days": [7]}, out=out, progress=False)
    again = simlib.sweep(
        base, {"fleet.release_every_days": [7]}, out=out, progress=False, force=True
    )
    assert len(again["point"].unique()) == 1
