"""The host shorthand past the CA's published roadmap (issue 16): a Let's Encrypt/certbot host
from 2026-06 to 2029-05 runs on extrapolated intermediates, each labelled an assumption in the
warnings, the risk calendar and the report's inputs; the same seed gives the same results."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import simlib
from simlib.analysis.risk_calendar import calendar
from simlib.errors import ScenarioError, ScenarioWarning
from simlib.model import load_scenario, scenario_from_dict
from simlib.model.horizon import horizon_gaps
from simlib.report.inputs import scenario_inputs
from simlib.world.extrapolation import assumption_label
from tests.conftest import DATA

LE = DATA / "scenarios" / "le-certbot-2026-2029.yaml"
RSA_2027 = ("letsencrypt extrapolated RSA 2027a", "letsencrypt extrapolated RSA 2027b")


def _load(path=LE):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        sc = load_scenario(path)
    return sc, [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]


@pytest.fixture(scope="module")
def result():
    sc, _ = _load()
    return sc, simlib.simulate(sc)


def test_resolves_past_gen_y_with_labelled_stand_ins() -> None:
    sc, messages = _load()
    (ca,) = sc.cas
    names = [i.name for i in ca.intermediates]
    assert names[:2] == ["YR1", "YR2"] and set(RSA_2027) <= set(names)
    assert ca.root == "Root YR"
    changes = [(e.date.isoformat(), tuple(e.active)) for e in sc.events]
    assert changes == [("2026-06-01", ("YR1", "YR2")), ("2028-05-27", RSA_2027)]
    assert any("past its published roadmap" in m and ": assumptions" in m for m in messages)
    assert horizon_gaps(sc) == []


def test_runs_and_issues_from_the_extrapolated_set(result) -> None:
    sc, res = result
    issued = res.issuances
    late = issued[pd.to_datetime(issued["date"]) >= pd.Timestamp("2028-09-03")]
    assert len(late) > 0 and set(late["intermediate"]) <= set(RSA_2027)
    assert (pd.to_datetime(issued["date"]).max().date() - sc.end).days <= 0


def test_the_calendar_labels_the_extrapolated_rows(result) -> None:
    sc, res = result
    frame = calendar(sc, today="2026-06-01", result=res)
    extrapolated = frame[frame["event"].str.contains("extrapolated")]
    kinds = set(extrapolated["kind"])
    assert {"ca_roadmap", "renewal", "scenario_event"} <= kinds
    assert extrapolated["assumption"].all()
    assert (extrapolated["confidence"] == "unconfirmed").all()
    published = frame[frame["event"].str.contains("YR1") & ~frame["event"].str.contains("extrap")]
    assert not published.empty


def test_the_inputs_table_labels_them_as_assumptions() -> None:
    sc, _ = _load()
    rows = scenario_inputs(sc)
    named = rows[rows["value"].isin(RSA_2027)]
    assert len(named) >= 2  # the cas entry's intermediates and the intermediate_change
    labelled = rows[rows["source"].str.contains("extrapolated", regex=False)]
    assert labelled["source"].str.contains("assumption").all()
    assert set(named.index) <= set(labelled.index)
    assert not rows[rows["value"] == "YR1"]["source"].str.contains("extrapolated").any()


def test_same_seed_same_results(result) -> None:
    _sc, res = result
    again = simlib.simulate(_load()[0])
    pd.testing.assert_frame_equal(res.summary, again.summary)
    pd.testing.assert_frame_equal(res.issuances, again.issuances)


def test_a_scenario_ending_2028_12_31_runs() -> None:
    data = {
        "name": "to-2028",
        "start": "2026-12-08",
        "end": "2028-12-31",
        "fleet": {
            "users": 1000,
            "release_every_days": 30,
            "adoption": {"components": [{"weight": 1, "mean_lag_days": 10}]},
        },
        "hosts": [{"name": "api.example.com", "ca": "letsencrypt", "key_type": "ecdsa"}],
        "strategies": [{"name": "intermediate", "pin": "intermediate_spki"}],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        sc = scenario_from_dict(data)
    res = simlib.simulate(sc)
    assert {"letsencrypt extrapolated ECDSA 2027a", "letsencrypt extrapolated ECDSA 2027b"} & set(
        res.issuances["intermediate"]
    )
    assert all(assumption_label(i.name) for i in sc.cas[0].intermediates if "extrap" in i.name)


def test_past_the_last_root_is_one_clear_error() -> None:
    data = {
        "name": "too-far",
        "start": "2026-06-01",
        "end": "2046-01-01",
        "fleet": {
            "users": 1000,
            "release_every_days": 30,
            "adoption": {"components": [{"weight": 1, "mean_lag_days": 10}]},
        },
        "hosts": [{"name": "api.example.com", "ca": "letsencrypt"}],
        "strategies": [{"name": "root", "pin": "root_spki"}],
    }
    with (
        pytest.raises(ScenarioError, match="would outlive Root YR") as info,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", ScenarioWarning)
        scenario_from_dict(data)
    assert "\n" not in str(info.value) and "hosts[0]" in str(info.value)


def test_without_a_practice_running_out_fails_at_validation(monkeypatch) -> None:
    """A CA whose published sets expire inside the horizon and that documents no cadence: the
    resolve step refuses the scenario (validate), instead of run stopping on 2028-09-03."""
    import dataclasses

    import simlib.world.extrapolation as extrapolation

    real = extrapolation.ca
    monkeypatch.setattr(
        extrapolation, "ca", lambda name: dataclasses.replace(real(name), practice=())
    )
    extrapolation.extend.cache_clear()
    try:
        with (
            pytest.raises(ScenarioError, match="no active rsa intermediate after 2028-09-02"),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore", ScenarioWarning)
            load_scenario(LE)
    finally:
        extrapolation.extend.cache_clear()


def test_the_command_line_says_so(capsys) -> None:
    from simlib.cli.main import main

    assert main(["validate", str(LE)]) == 0
    out, err = capsys.readouterr()
    assert ": ok" in out and "extrapolated from its practice" in err and err.count("\n") == 1
    assert main(["calendar", str(LE), "--today", "2028-05-01"]) == 0
    out, _ = capsys.readouterr()
    rows = [line for line in out.splitlines() if "extrapolated" in line]
    assert rows and all("[assumption]" in line for line in rows)
