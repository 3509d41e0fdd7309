"""The risk calendar: dated events ahead and what each does to each strategy."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import simlib
from simlib.analysis.presets import load_preset
from simlib.analysis.risk_calendar import COLUMNS, calendar
from simlib.cli.main import main
from simlib.model import scenario_from_dict


def _scenario(**extra: object):
    data = {
        "name": "calendar-test",
        "start": "2026-01-01",
        "end": "2026-06-30",
        "seed": 1,
        "fleet": {
            "users": 1000,
            "release_every_days": 14,
            # everyone updates on day 3 after a release (a step curve)
            "adoption": {"points": [[2, 0.0], [3, 1.0]]},
        },
        "cas": [{"name": "public-ca"}],
        "hosts": [
            {
                "name": "api.example.com",
                "ca": "public-ca",
                "validity_days": 90,
                "renew_before_days": 30,
                "key_policy": "rotate",
                "first_issued": "2026-01-01",
            }
        ],
        "validity_cap": "none",
        "strategies": [{"name": "none", "pin": "none"}, {"name": "leaf key", "pin": "leaf_spki"}],
    }
    data.update(extra)
    return scenario_from_dict(data)


def test_known_renewal_breaks_leaf_key_with_the_right_share() -> None:
    sc = _scenario()
    cal = calendar(sc)
    assert list(cal.columns) == COLUMNS
    renewal = cal[(cal.kind == "renewal") & (cal.date == dt.date(2026, 3, 2))]
    leaf = renewal[renewal.strategy == "leaf key"].iloc[0]
    none = renewal[renewal.strategy == "none"].iloc[0]
    assert leaf.breaks and not none.breaks
    # every version built before 2026-03-02 pins the old key, and on that day everyone runs one
    assert leaf.peak_locked_share == pytest.approx(1.0)
    assert leaf.newly_locked_users == pytest.approx(1000)
    # the next release (2026-03-12, day 70) reaches everyone 3 days later: locked for 13 days
    assert leaf.days_to_recover == 13
    assert none.newly_locked_users == 0
    ts = simlib.simulate(sc).timeseries
    day = ts[(ts.strategy == "leaf key") & (ts.date == pd.Timestamp("2026-03-02"))]
    assert float(day.lockout_rate.iloc[0]) == pytest.approx(leaf.peak_locked_share)


def test_today_filters_and_defaults_to_start_outside_the_horizon() -> None:
    sc = _scenario()
    assert calendar(sc)["date"].min() == dt.date(2026, 1, 1)  # initial issuance, real today later
    later = calendar(sc, "2026-03-03")
    assert later["date"].min() > dt.date(2026, 3, 2)


def test_cap_steps_roadmap_scenario_events_and_assumptions() -> None:
    sc = _scenario(
        validity_cap="cabf",
        end="2027-06-30",
        cas=[{"name": "letsencrypt", "validity_schedule": [{"from": "2027-02-10", "days": 64}]}],
        hosts=[{"name": "api.example.com", "ca": "letsencrypt", "key_policy": "rotate"}],
        events=[{"type": "key_compromise", "date": "2026-04-01"}],
    )
    cal = calendar(sc, "2026-01-01").drop_duplicates(["date", "kind", "event"])
    caps = cal[cal.kind == "validity_cap"]
    assert dt.date(2026, 3, 15) in set(caps.date) and dt.date(2027, 3, 15) in set(caps.date)
    assert any("letsencrypt-classic" in e for e in caps.event)  # world schedule of the CA
    roadmap = cal[cal.kind == "ca_roadmap"]
    assert dt.date(2026, 5, 28) in set(roadmap.date)
    assert roadmap[roadmap.date == dt.date(2026, 5, 28)].assumption.all()  # unconfirmed day
    assert not roadmap[roadmap.date == dt.date(2026, 7, 8)].assumption.any()  # primary
    assert "key_compromise" in set(cal[cal.kind == "scenario_event"].event.str.split().str[0])


def test_brave_preset_calendar_root_breaks_its_android_half() -> None:
    """The 2026-01-16 trust-store change reaches Brave's Chromium path building on Android only
    (half the fleet; iOS Brave uses Apple's trust): the root pin locks that half, and the fix
    (root + intermediates) leaves more than 1 % locked within the window, so no recovery day."""
    cal = calendar(load_preset("brave-2026-root-pin"), "2026-01-01")
    day = cal[(cal.date == dt.date(2026, 1, 16)) & (cal.strategy == "root")]
    assert set(day.kind) == {"ca_roadmap", "scenario_event"}  # the world row and the preset's
    row = day[day.kind == "scenario_event"].iloc[0]
    assert row.breaks
    assert row.peak_locked_share == 0.5 and pd.isna(row.days_to_recover)


def test_cli_calendar(capsys) -> None:
    assert main(["calendar", "--preset", "acm-rekey-198d", "--today", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "2026-04-01" in out and "BREAKS" in out
    assert (
        main(["calendar", "--preset", "acm-rekey-198d", "--today", "2026-01-01", "--format", "csv"])
        == 0
    )
    assert capsys.readouterr().out.startswith(",".join(COLUMNS))
    assert main(["calendar"]) == 2
    assert main(["calendar", "--preset", "acm-rekey-198d", "--today", "2026-13-01"]) == 2


def test_package_calendar_is_the_function_after_the_module_is_imported() -> None:
    # The module is named risk_calendar so that importing it never replaces the package's
    # ``calendar`` attribute (as simlib.world.calendar did: a function once, a module after).
    import simlib.analysis
    import simlib.analysis.risk_calendar as module

    assert simlib.analysis.calendar is module.calendar
    assert simlib.analysis.calendar is simlib.analysis.calendar
    with pytest.raises(AttributeError):
        simlib.analysis.no_such_name  # noqa: B018


def test_a_migration_to_a_stand_in_root_generation_is_an_assumption() -> None:
    """An ACM host past Amazon's published intermediates moves to a stand-in root generation:
    the calendar marks that migration, as the stand-in intermediates, an assumption."""
    import warnings

    from simlib.model import scenario_from_dict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc = scenario_from_dict(
            {
                "name": "acm ten years",
                "start": "2027-01-01",
                "end": "2036-12-31",
                "fleet": {
                    "users": 100,
                    "release_every_days": 30,
                    "adoption": {"components": [{"weight": 1, "mean_lag_days": 5}]},
                },
                "hosts": [{"name": "api.test", "ca": "amazon", "tool": "acm"}],
                "strategies": [{"name": "root", "pin": "root_spki"}],
            }
        )
    cal = calendar(sc, "2027-01-01")
    moves = cal[cal.event.str.startswith("ca_migration")]
    assert len(moves) and moves["assumption"].all()
    assert (moves["confidence"] == "unconfirmed").all()


def _bank():
    import warnings

    from simlib.model import load_scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # past Let's Encrypt's roadmap: extrapolated, warned
        return load_scenario("data/scenarios/bank.yaml")


def test_shorthand_events_are_the_world_rows_they_came_from() -> None:
    """The host shorthand copies the profile's validity steps and the catalogue's active sets
    into the scenario: each is one row, with its catalogue or world source, not a second
    "scenario" row next to the world one."""
    cal = calendar(_bank(), "2026-01-01").drop_duplicates(["date", "kind", "event"])
    for day in (dt.date(2027, 2, 10), dt.date(2028, 2, 16)):
        caps = cal[(cal.date == day) & (cal.kind == "validity_cap")]
        assert len(caps) == 1 and caps.source.iloc[0].startswith("validity-caps.csv: ")
    # the classic profile's move to Gen Y: the roadmap row only
    day = cal[cal.date == dt.date(2026, 5, 28)]
    assert list(day.kind) == ["ca_roadmap"]
    # the set in force at the start: no roadmap row that day, so labelled with its catalogue set
    first = cal[(cal.kind == "scenario_event") & (cal.date == dt.date(2026, 1, 1))].iloc[0]
    assert first.source.startswith("ca-catalogue.yaml letsencrypt active set from 2025-08-20")
    assert "scenario" not in set(cal.source)


def test_a_scenario_s_own_steps_and_sets_stay_the_scenario_s() -> None:
    sc = _scenario(
        end="2027-06-30",
        cas=[{"name": "letsencrypt", "validity_schedule": [{"from": "2027-02-10", "days": 30}]}],
        hosts=[{"name": "api.example.com", "ca": "letsencrypt", "key_policy": "rotate"}],
    )
    cal = calendar(sc, "2026-01-01").drop_duplicates(["date", "kind", "event"])
    caps = cal[(cal.date == dt.date(2027, 2, 10)) & (cal.kind == "validity_cap")]
    assert set(caps.source.str.split(":").str[0]) == {"scenario", "validity-caps.csv"}


def test_a_browser_only_trust_store_change_says_its_scope() -> None:
    cal = calendar(_bank(), "2026-01-01")
    row = cal[(cal.date == dt.date(2026, 1, 16)) & (cal.kind == "ca_roadmap")]
    assert len(row) and row.event.str.contains("browsers only").all()
    assert not row.breaks.any()  # the app fleet is not touched
    others = cal[(cal.date != dt.date(2026, 1, 16)) & (cal.kind == "ca_roadmap")]
    assert len(others) and not others.event.str.contains("browsers only").any()
