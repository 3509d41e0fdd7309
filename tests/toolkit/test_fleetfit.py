"""simlib fleet fit: recover a known adoption mixture from synthetic version shares."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
import yaml

from simlib.cli.main import main
from simlib.toolkit.fleetfit import fit_csv


def _write(path, never=0.05, w=(0.4, 0.6), tau=(3.0, 30.0), noise=0.0, every=14):
    rng = np.random.default_rng(1)

    def g(d: float) -> float:
        return (1 - never) * sum(wi * (1 - np.exp(-max(d, 0) / ti)) for wi, ti in zip(w, tau, strict=True))

    start = date(2025, 1, 1)
    rel = [start + timedelta(days=every * k) for k in range(12)]
    lines = ["date,version,share"]
    for t in range(0, 170, 2):
        day = start + timedelta(days=t)
        ge = [1.0] + [g(t - (r - start).days) if r <= day else 0.0 for r in rel[1:]]
        row = [max(0.0, ge[k] - (ge[k + 1] if k + 1 < len(rel) else 0.0) + noise * rng.normal())
               for k, r in enumerate(rel) if r <= day]
        total = max(1.0, sum(row))  # noisy shares still sum to at most 1
        lines += [f"{day},v{k + 1:02d},{share / total:.6f}" for k, share in enumerate(row)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_recovers_two_component_mixture(tmp_path):
    res = fit_csv(_write(tmp_path / "vs.csv"))
    assert len(res.weights) == 2 and res.rmse < 1e-3 and res.release_every_days == 14
    assert res.never_update_share == pytest.approx(0.05, abs=0.01)
    assert res.weights == pytest.approx((0.4, 0.6), abs=0.03)
    assert res.mean_lag_days == pytest.approx((3.0, 30.0), rel=0.1)


def test_one_component_with_noise(tmp_path):
    res = fit_csv(_write(tmp_path / "vs.csv", never=0.1, w=(1.0,), tau=(12.0,), noise=0.002))
    assert len(res.weights) == 1
    assert res.mean_lag_days[0] == pytest.approx(12.0, rel=0.15)
    assert res.never_update_share == pytest.approx(0.1, abs=0.03)


def test_cli_writes_a_usable_fleet_block(tmp_path, capsys):
    out = tmp_path / "fleet.yaml"
    assert main(["fleet", "fit", str(_write(tmp_path / "vs.csv")), "--out", str(out)]) == 0
    assert "RMSE" in capsys.readouterr().out
    fleet = yaml.safe_load(out.read_text())["fleet"]
    from simlib.model.loading import load_scenario, scenario_from_dict

    base = load_scenario("data/scenarios/quickstart.yaml").model_dump(mode="json")
    base["fleet"] = {**base["fleet"], **fleet}
    assert scenario_from_dict(base).fleet.adoption.never_update_share == pytest.approx(0.05, abs=0.01)


@pytest.mark.parametrize(("text", "needle"), [
    ("day,version,share\n2025-01-01,v1,1\n", "missing column(s) date"),
    ("date,version,share\n2025-13-01,v1,1\n", "line 2: date '2025-13-01'"),
    ("date,version,share\n2025-01-01,v1,lots\n", "line 2: share 'lots'"),
    ("date,version,share\n2025-01-01,v1,1.5\n", "line 2: share 1.5"),
    ("date,version,share\n2025-01-01,,1\n", "line 2: empty version"),
    ("date,version,share\n2025-01-01,v1,1\n", "too little data"),
    ("date,version,share\n2025-01-01,v1,0.5\n2025-01-01,v1,0.5\n", "line 3: v1 on 2025-01-01 appears twice"),
    ("date,version,share\n2025-01-01,v1,0.9\n2025-01-01,v2,0.9\n2025-01-02,v1,0.1\n2025-01-02,v2,0.9\n",
     "shares sum to 1.8000"),
    ("", "missing column(s) date, version, share"),
])
def test_malformed_csv_one_line(tmp_path, capsys, text, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    out = tmp_path / "fleet.yaml"
    assert main(["fleet", "fit", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "bad.csv" in err, err
    assert not out.exists()
