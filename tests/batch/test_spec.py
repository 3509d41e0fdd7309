"""Sweep file validation: one-line errors naming file, field and value; CLI exit code 2."""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import simlib
from simlib.batch import load_sweep
from simlib.batch.identity import apply_point, canonical_json, run_id, run_id_from_json
from simlib.cli import sweep as cli
from simlib.cli.main import main as simlib_main
from simlib.errors import ScenarioError

from . import QUICKSTART, ROOT, SWEEPS, small_base, write_sweep

pytestmark = pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning")

GOOD_GRID = {"grid": {"hosts[0].validity_days": [90]}}


def sweep_doc(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": "t", "base": str(QUICKSTART), "axes": GOOD_GRID}
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


# (case id, sweep document, expected error after "<file>: ")
BAD = [
    ("unknown key", sweep_doc(replicatons=3), "replicatons: unknown field"),
    ("unknown axis kind", sweep_doc(axes={"grids": {"a": [1]}}), "axes.grids: unknown field"),
    (
        "no axes",
        sweep_doc(axes={}),
        "axes: give at least one of grid, random, latin_hypercube",
    ),
    (
        "index out of range",
        sweep_doc(axes={"grid": {"hosts[3].validity_days": [90]}}),
        "axes.grid.hosts[3].validity_days: no such field (index [3] does not exist)",
    ),
    (
        "unknown field",
        sweep_doc(axes={"grid": {"fleet.userz": [5]}}),
        "axes.grid.fleet.userz: not a scenario field",
    ),
    (
        "unparsable path",
        sweep_doc(axes={"grid": {"hosts[x].validity_days": [90]}}),
        "axes.grid.hosts[x].validity_days: bad path: cannot parse 'hosts[x]' in 'hosts[x].validity_days'",
    ),
    (
        "invalid value",
        sweep_doc(axes={"grid": {"hosts[0].validity_days": [90, 47, 0]}}),
        "axes.grid.hosts[0].validity_days: value 0: must be ≥ 1",
    ),
    (
        "invalid value, cross-field",
        sweep_doc(axes={"grid": {"fleet.users": [10, 20], "hosts[0].validity_days": [90, 20]}}),
        "axes.grid.hosts[0].validity_days: value 20: hosts[0]: renew_before_days must be smaller than validity_days",
    ),
    (
        "random draw outside the field's range",
        sweep_doc(
            axes={
                "random": {
                    "n": 50,
                    "params": {"fleet.adoption.never_update_share": {"uniform": [0.5, 1.5]}},
                }
            }
        ),
        "axes.random.params.fleet.adoption.never_update_share: value ",
    ),
    (
        "unknown distribution",
        sweep_doc(
            axes={"random": {"n": 5, "params": {"hosts[0].validity_days": {"normal": [1, 2]}}}}
        ),
        "axes.random.params.hosts[0].validity_days: unknown distribution 'normal' (expected uniform, loguniform, choice, randint)",
    ),
    (
        "bounds reversed",
        sweep_doc(
            axes={
                "latin_hypercube": {
                    "n": 5,
                    "params": {"fleet.adoption.never_update_share": {"uniform": [0.2, 0.1]}},
                }
            }
        ),
        "axes.latin_hypercube.params.fleet.adoption.never_update_share: uniform: low must be < high",
    ),
    (
        "discrete distribution in a Latin hypercube",
        sweep_doc(
            axes={
                "latin_hypercube": {
                    "n": 5,
                    "params": {"hosts[0].validity_days": {"choice": [47, 90]}},
                }
            }
        ),
        "axes.latin_hypercube.params.hosts[0].validity_days: latin_hypercube takes uniform or loguniform, not choice",
    ),
    (
        "path swept twice",
        sweep_doc(
            axes={
                "grid": {"hosts[0].validity_days": [90]},
                "random": {"n": 2, "params": {"hosts[0].validity_days": {"randint": [40, 100]}}},
            }
        ),
        "axes.random.params.hosts[0].validity_days: already swept by axes.grid",
    ),
    ("missing base file", sweep_doc(base="nope/missing.yaml"), "base: scenario file not found: "),
    (
        "invalid inline base",
        sweep_doc(base={**small_base(), "fleet": {**small_base()["fleet"], "users": 0}}),
        "base.fleet.users: must be ≥ 1",
    ),
    (
        "replications in expected mode",
        sweep_doc(mode="expected", replications=3),
        "replications: expected mode is deterministic: use 1 (or mode: monte_carlo)",
    ),
    ("bad mode", sweep_doc(mode="fast"), "mode: must be one of 'expected' or 'monte_carlo'"),
    ("zero replications", sweep_doc(replications=0), "replications: must be ≥ 1"),
    (
        "empty value list",
        sweep_doc(axes={"grid": {"hosts[0].validity_days": []}}),
        "axes.grid.hosts[0].validity_days: needs at least one value",
    ),
    ("missing name", sweep_doc(name=None), "name: required field is missing"),
    (
        "grid null",
        sweep_doc(axes={"grid": None, "random": {"n": 2, "params": {"seed": {"randint": [0, 5]}}}}),
        "axes.grid: is empty (null): give its values or remove the key",
    ),
    (
        "random null",
        sweep_doc(axes={"grid": {"seed": [1]}, "random": None}),
        "axes.random: is empty (null)",
    ),
    (
        "latin hypercube null",
        sweep_doc(axes={"grid": {"seed": [1]}, "latin_hypercube": None}),
        "axes.latin_hypercube: is empty (null)",
    ),
    (
        "randint beyond int64",
        sweep_doc(axes={"random": {"n": 2, "params": {"seed": {"randint": [0, 2**64]}}}}),
        "axes.random.params.seed: randint: low and high must be 64-bit integers",
    ),
    (
        "grid key null",
        sweep_doc(axes={"grid": {None: [1]}}),
        "axes.grid: key null: keys must be strings",
    ),
    (
        "grid key integer",
        sweep_doc(axes={"grid": {7: [1]}}),
        "axes.grid: key 7: keys must be strings",
    ),
    (
        "name with escape",
        sweep_doc(name="t\x1b[2J"),
        "name: 't\\x1b[2J' contains control characters",
    ),
    ("batch size huge", sweep_doc(batch_size=10**12), "batch_size: must be ≤ 1000000000"),
]


@pytest.mark.parametrize(
    ("doc", "expected"), [(d, e) for _, d, e in BAD], ids=[c for c, _, _ in BAD]
)
def test_bad_sweep_file_is_one_line_error(
    tmp_path: Path, doc: dict[str, Any], expected: str
) -> None:
    path = write_sweep(tmp_path, doc)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {expected}"), text


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nbase: q.yaml\naxes:\n  grid: {a: [1, 2}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.yaml: line 4: invalid YAML: "):
        load_sweep(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="must be a YAML mapping"):
        load_sweep(path)


@pytest.mark.parametrize("name", sorted(p.name for p in SWEEPS.glob("*.yaml")))
def test_shipped_sweep_files_are_valid(name: str) -> None:
    plan = load_sweep(SWEEPS / name)
    assert plan.n_points >= 2 and plan.n_runs <= 2_000


def test_defaults_and_relative_base(tmp_path: Path) -> None:
    plan = load_sweep(SWEEPS / "lifetime-vs-update-speed.yaml")
    assert plan.mode == "monte_carlo" and plan.replications == 20 and plan.n_points == 9
    assert plan.param_paths == [
        "hosts[0].validity_days",
        "fleet.adoption.components[1].mean_lag_days",
    ]
    single = load_sweep(write_sweep(tmp_path, sweep_doc(base=str(QUICKSTART))))
    assert single.mode == "expected"
    mc = load_sweep(write_sweep(tmp_path, sweep_doc(replications=4), "mc.yaml"))
    assert mc.mode == "monte_carlo" and mc.n_runs == 4


def test_spec_hash_ignores_name_and_batch_size_but_not_axes(tmp_path: Path) -> None:
    a = load_sweep(write_sweep(tmp_path, sweep_doc(), "a.yaml"))
    b = load_sweep(write_sweep(tmp_path, sweep_doc(name="other", batch_size=7), "b.yaml"))
    c = load_sweep(
        write_sweep(tmp_path, sweep_doc(axes={"grid": {"hosts[0].validity_days": [47]}}), "c.yaml")
    )
    d = load_sweep(write_sweep(tmp_path, sweep_doc(seed=1), "d.yaml"))
    assert a.spec_hash == b.spec_hash
    assert len({a.spec_hash, c.spec_hash, d.spec_hash}) == 3


def test_axis_through_a_null_block_is_created() -> None:
    base = small_base()
    assert base["incident_response"] is None
    plan = load_sweep(
        {
            "name": "ir",
            "base": base,
            "axes": {"grid": {"incident_response.forced_update.comply_share": [0.5, 0.9]}},
        }
    )
    sc = plan.scenario(1)
    assert sc.incident_response is not None
    assert sc.incident_response.forced_update.comply_share == 0.9
    assert apply_point(base, {}) == base and base["incident_response"] is None  # not modified


def test_run_id_fast_path_matches_definition() -> None:
    plan = load_sweep({"name": "ids", "base": small_base(), "replications": 3, "axes": GOOD_GRID})
    pr = plan.point_runs(0)
    scenario = plan.scenario(0).to_dict()
    naive = [run_id(scenario, "monte_carlo", pr.server_draws, r, 0, plan.seed) for r in range(3)]
    assert pr.run_ids == naive and len(set(naive)) == 3
    doc = canonical_json(
        {
            "scenario": scenario,
            "mode": "monte_carlo",
            "server_draws": "fixed",
            "replication": 2,
            "point": 0,
            "seed": 0,
            "version": simlib.__version__,
        }
    )
    assert (
        run_id_from_json(canonical_json(scenario), "monte_carlo", "fixed", 2, 0, 0)
        == (hashlib.sha256(doc.encode()).hexdigest()[:16])
    )


# ------------------------------------------------------------------------------------------ CLI


def _args(file: Path, out: Path, **kw: Any) -> list[str]:
    """``simlib sweep`` arguments for :func:`simlib.cli.main.main`."""
    argv = ["sweep", str(file), "--out", str(out), "--quiet"]
    for key, value in kw.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return argv


@pytest.mark.parametrize(
    ("doc", "expected"), [(d, e) for _, d, e in BAD[:8]], ids=[c for c, _, _ in BAD[:8]]
)
def test_cli_bad_file_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: dict[str, Any], expected: str
) -> None:
    path = write_sweep(tmp_path, doc)
    out = tmp_path / "out"
    assert simlib_main(_args(path, out)) == 2
    lines = [
        x for x in capsys.readouterr().err.strip().splitlines() if not x.startswith("warning: ")
    ]
    assert len(lines) == 1
    err = lines[0]
    assert err == f"error: {path}: {expected}" or err.startswith(f"error: {path}: {expected}")
    assert not out.exists()


def test_cli_missing_dask_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    path = write_sweep(tmp_path, sweep_doc())
    out = tmp_path / "out"
    assert simlib_main(_args(path, out, dask_local=2)) == 2
    assert "pip install 'simlib[dask]'" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_folder_of_another_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_sweep(tmp_path, sweep_doc(base=small_base()), "first.yaml")
    other = write_sweep(
        tmp_path,
        sweep_doc(base=small_base(), axes={"grid": {"hosts[0].validity_days": [47]}}),
        "other.yaml",
    )
    out = tmp_path / "out"
    assert simlib_main(_args(first, out)) == 0
    before = sorted(p.name for p in (out / "results").iterdir())
    capsys.readouterr()
    assert simlib_main(_args(other, out)) == 2
    errors = [x for x in capsys.readouterr().err.splitlines() if not x.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {out}: holds a different sweep")
    assert sorted(p.name for p in (out / "results").iterdir()) == before


def test_cli_refuses_non_sweep_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert simlib_main(_args(write_sweep(tmp_path, sweep_doc()), out)) == 2
    assert "holds no sweep.json" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_cli_subprocess_bad_value(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "simlib.cli.main"]
    path = write_sweep(tmp_path, sweep_doc(axes={"grid": {"hosts[0].validity_days": [90, 0]}}))
    out = tmp_path / "out"
    proc = subprocess.run(
        [*command, "sweep", str(path), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: {path}: axes.grid.hosts[0].validity_days: value 0: must be ≥ 1"
    )
    assert not out.exists()


def test_cli_flags_are_mutually_exclusive() -> None:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["sweep", "f.yaml", "--out", "o", "--workers", "2", "--batch-size", "5"]
    )
    assert (args.workers, args.batch_size, args.func) == (2, 5, cli.main)
    with pytest.raises(SystemExit):
        parser.parse_args(["sweep", "f.yaml", "--out", "o", "--workers", "2", "--dask-local", "2"])
    with pytest.raises(SystemExit):
        parser.parse_args(["sweep", "f.yaml", "--out", "o", "--workers", "0"])


# ------------------------------------------------------------------ validation of large sweeps


def test_large_sweep_validates_every_grid_value_and_random_extreme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simlib.batch import spec

    monkeypatch.setattr(spec, "VALIDATE_ALL", 4)
    monkeypatch.setattr(spec, "VALIDATE_SAMPLE", 2)
    # 10 × 10 points; the bad value is the grid's last, used by none of the 2 sampled points
    doc = sweep_doc(
        axes={
            "grid": {
                "fleet.users": list(range(10, 20)),
                "hosts[0].validity_days": [90] * 9 + [0],
            }
        }
    )
    with pytest.raises(
        ScenarioError, match=r"axes.grid.hosts\[0\].validity_days: value 0: must be ≥ 1"
    ):
        load_sweep(write_sweep(tmp_path, doc, "grid.yaml"))
    # one random draw in 200 is out of range (seed 0), not a sampled one: extremes are validated
    doc = sweep_doc(
        axes={
            "random": {
                "n": 200,
                "params": {"fleet.adoption.never_update_share": {"uniform": [0.0, 1.01]}},
            }
        }
    )
    with pytest.raises(
        ScenarioError, match=r"axes.random.params.fleet.adoption.never_update_share: value "
    ):
        load_sweep(write_sweep(tmp_path, doc, "random.yaml"))


def test_invalid_combination_beyond_the_budget_fails_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simlib.batch import load_manifest, load_results, run_sweep, spec

    monkeypatch.setattr(spec, "VALIDATE_ALL", 2)
    monkeypatch.setattr(spec, "VALIDATE_SAMPLE", 1)
    # every value is fine on its own; (validity 20, renew 30) is not: point 3, never validated
    doc = sweep_doc(
        base=small_base(),
        axes={"grid": {"hosts[0].validity_days": [90, 20], "hosts[0].renew_before_days": [10, 30]}},
    )
    plan = load_sweep(write_sweep(tmp_path, doc))
    report = run_sweep(plan, tmp_path / "out", progress=False)
    assert (report.done, report.failed) == (3, 1)
    assert "renew_before_days must be smaller than validity_days" in report.first_error
    manifest = load_manifest(tmp_path / "out")
    failed = manifest[manifest["status"] == "failed"]
    assert list(failed["point"]) == [3] and failed["run_id"].str.len().eq(16).all()
    assert sorted(set(load_results(tmp_path / "out")["point"])) == [0, 1, 2]
