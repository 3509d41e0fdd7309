"""``simlib sweep --out DIR [--force]``: a sweep resumes into its own folder; a different sweep's
folder (another sweep file, another simlib version) is refused unless ``--force``, which replaces
it; a folder of files simlib did not write needs ``--force`` and keeps them — as for ``run`` and
``report``."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from simlib.batch import load_results
from simlib.cli.main import main
from tests.conftest import BASE

pytestmark = [
    pytest.mark.hostile,
    pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning"),
]


def _sweep(folder: Path, name: str, days: list[int]) -> str:
    base = copy.deepcopy(BASE)
    base.update(name="t", end="2025-01-31")
    doc = {
        "name": name,
        "base": base,
        "replications": 1,
        "axes": {"grid": {"hosts[0].validity_days": days}},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _sweep_files(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` but the lock, by relative path."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_a_different_sweep_is_refused_without_force(work, capsys):
    first, second = _sweep(work, "first", [90]), _sweep(work, "second", [47, 90])
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 0
    before = _sweep_files(work / "out")
    capsys.readouterr()
    assert main(["sweep", second, "--out", "out", "--quiet"]) == 2
    line = _error(capsys)
    assert line.startswith("error: out: holds a different sweep ('first'") and "--force" in line
    assert _sweep_files(work / "out") == before


def test_force_replaces_a_different_sweep_and_keeps_other_files(work, capsys):
    first, second = _sweep(work, "first", [90, 120]), _sweep(work, "second", [47])
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 0
    (work / "out" / "notes.txt").write_text("mine")
    assert main(["sweep", second, "--out", "out", "--force"]) == 0
    captured = capsys.readouterr()
    assert "replaced the sweep 'first' stored in out" in captured.err
    assert json.loads((work / "out" / "sweep.json").read_text())["name"] == "second"
    frame = load_results("out")
    assert sorted(frame["hosts[0].validity_days"].unique()) == [47]  # nothing of 'first' left
    assert len(list((work / "out" / "results").glob("part-*.parquet"))) == 1
    assert (work / "out" / "notes.txt").read_text() == "mine"
    # the replaced folder is now the second sweep's: it resumes without --force
    assert main(["sweep", second, "--out", "out"]) == 0
    assert "1 skipped" in capsys.readouterr().out


def test_force_on_this_sweeps_folder_resumes_it(work, capsys):
    first = _sweep(work, "first", [90])
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 0
    before = _sweep_files(work / "out")
    assert main(["sweep", first, "--out", "out", "--force"]) == 0
    out = capsys.readouterr()
    assert "1 skipped" in out.out and "replaced" not in out.err
    parts = {k: v for k, v in _sweep_files(work / "out").items() if "part-" in k}
    assert parts == {k: v for k, v in before.items() if "part-" in k}


def test_another_simlib_versions_sweep_needs_force(work, capsys):
    first = _sweep(work, "first", [90])
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 0
    meta_path = work / "out" / "sweep.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "simlib_version": "0.0.1"}))
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 2
    line = _error(capsys)
    assert "written by simlib 0.0.1" in line and "add --force" in line
    assert main(["sweep", first, "--out", "out", "--quiet", "--force"]) == 0
    assert json.loads(meta_path.read_text())["simlib_version"] == meta["simlib_version"]


def test_a_folder_of_other_files_needs_force_and_keeps_them(work, capsys):
    first = _sweep(work, "first", [90])
    (work / "out").mkdir()
    (work / "out" / "notes.txt").write_text("mine")
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 2
    line = _error(capsys)
    assert "holds no sweep.json: add --force to write into it" in line
    assert sorted(p.name for p in (work / "out").iterdir()) == ["notes.txt"]
    assert main(["sweep", first, "--out", "out", "--quiet", "--force"]) == 0
    assert (work / "out" / "notes.txt").read_text() == "mine"
    assert len(load_results("out")) > 0


def test_sweep_parts_without_sweep_json_are_refused_even_with_force(work, capsys):
    first = _sweep(work, "first", [90])
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 0
    (work / "out" / "sweep.json").unlink()
    before = _sweep_files(work / "out")
    assert main(["sweep", first, "--out", "out", "--quiet", "--force"]) == 2
    line = _error(capsys)
    assert "but no sweep.json, so not a sweep simlib can resume or replace" in line
    assert _sweep_files(work / "out") == before


def test_a_sweep_killed_before_sweep_json_leaves_a_folder_it_can_use(work):
    """The layout folders are made before ``sweep.json``: empty, they hold nothing to protect."""
    first = _sweep(work, "first", [90])
    for name in ("results", "manifest", "timeseries"):
        (work / "out" / name).mkdir(parents=True)
    (work / "out" / ".lock").touch()
    assert main(["sweep", first, "--out", "out", "--quiet"]) == 0
