"""One home per rule, as the analyses use them: the scenario-or-preset choice
(``presets.scenario_from``, used by the command line and the notebooks) and the risk calendar's
cap events (from ``world.caps``, the profile schedules included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simlib.analysis.presets import load_preset, scenario_from
from simlib.analysis.risk_calendar import dated_events
from simlib.errors import ScenarioError, UsageError
from simlib.model import default_scenario, scenario_from_dict
from simlib.world.caps import schedule_steps

QUICKSTART = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "quickstart.yaml"
PRESET = "sc081-2026-2029"


# --------------------------------------------------------------- scenario or preset


def test_notebook_rule_preset_wins_and_empty_is_absent() -> None:
    assert scenario_from(QUICKSTART, PRESET) == load_preset(PRESET)
    assert scenario_from(None, PRESET) == load_preset(PRESET)
    assert scenario_from("", None) == default_scenario()
    assert scenario_from(None, "") == default_scenario()
    assert scenario_from(QUICKSTART).name == "quickstart"
    built = default_scenario()
    assert scenario_from(built) is built


def test_command_line_rule_refuses_both_and_empty_names() -> None:
    with pytest.raises(
        UsageError, match=r"^give either a scenario file or --preset NAME, not both$"
    ):
        scenario_from(str(QUICKSTART), PRESET, exclusive=True)
    with pytest.raises(ScenarioError, match="unknown preset ''"):
        scenario_from(None, "", exclusive=True)
    assert scenario_from(None, None, exclusive=True) == default_scenario()
    assert scenario_from(None, PRESET, exclusive=True) == load_preset(PRESET)


def test_the_command_line_uses_the_one_rule() -> None:
    from simlib.cli.common import load_input

    assert load_input(None, PRESET) == load_preset(PRESET)
    with pytest.raises(UsageError):
        load_input(str(QUICKSTART), PRESET)


# --------------------------------------------------------------- cap events


def _scenario(start: str, end: str, **extra: object):
    data = {
        "name": "caps",
        "start": start,
        "end": end,
        "seed": 1,
        "fleet": {
            "users": 100,
            "release_every_days": 30,
            "adoption": {"components": [{"weight": 1.0, "mean_lag_days": 5}]},
        },
        "cas": [{"name": "public-ca"}],
        "hosts": [{"name": "a.example.com", "ca": "public-ca", "validity_days": 365}],
        "strategies": [{"name": "none", "pin": "none"}],
        **extra,
    }
    return scenario_from_dict(data)


def test_cabf_events_cover_the_history_with_assumptions_labelled() -> None:
    sc = _scenario("2012-01-01", "2021-12-31")
    caps = [e for e in dated_events(sc) if e.kind == "validity_cap"]
    assert [(e.date, e.event) for e in caps] == [
        (dt.date(2012, 7, 1), "CA/B Forum cap 1826 days"),
        (dt.date(2015, 4, 1), "CA/B Forum cap 1826 → 1187 days"),
        (dt.date(2018, 3, 1), "CA/B Forum cap 1187 → 825 days"),
        (dt.date(2020, 9, 1), "CA/B Forum cap 825 → 398 days"),
    ]
    # the day counts of the month caps are our conversion: unconfirmed, so flagged
    assert [e.confidence for e in caps] == ["unconfirmed", "unconfirmed", "primary", "primary"]


def test_a_catalogue_named_ca_gets_its_default_profile_schedule() -> None:
    sc = _scenario(
        "2026-01-01",
        "2028-06-30",
        validity_cap="none",
        cas=[{"name": "amazon"}],
        hosts=[{"name": "a.example.com", "ca": "amazon", "validity_days": 198}],
    )
    caps = [e for e in dated_events(sc) if e.kind == "validity_cap"]
    acm = [s for s in schedule_steps("acm") if sc.start <= s.effective_date <= sc.end]
    assert [(e.date, e.event) for e in caps] == [
        (s.effective_date, f"acm 395 → {s.max_days} days (world data)") for s in acm
    ]
