"""The horizon check: validation finds the days ``run`` would stop on (no active intermediate)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.errors import ScenarioError
from simlib.model import Scenario, scenario_from_dict
from simlib.model.horizon import horizon_gaps
from simlib.server.calendar import CertificateCalendar


def _scenario(intermediates: list[dict[str, Any]], events: list | None = None, **host) -> dict:
    return {
        "name": "horizon",
        "start": "2026-01-01",
        "end": "2027-12-31",
        "fleet": {
            "users": 1000,
            "release_every_days": 30,
            "adoption": {"components": [{"weight": 1, "mean_lag_days": 10}]},
        },
        "cas": [
            {"name": "own-ca", "intermediates": intermediates, "validity_days": 90},
            {"name": "next-ca"},
        ],
        "hosts": [{"name": "api.example.com", "ca": "own-ca", "renew_before_days": 30, **host}],
        "events": events or [],
        "strategies": [{"name": "root", "pin": "root_spki"}],
    }


def _unchecked(data: dict) -> Scenario:
    """The scenario as validation builds it, before the cross-field checks (which now include
    the horizon check, so ``scenario_from_dict`` refuses a gap)."""
    return Scenario.model_validate(data)


def _runs(data: dict) -> bool:
    try:
        CertificateCalendar(_unchecked(data))
    except ScenarioError as exc:
        assert "no active intermediate" in str(exc)
        return False
    return True


def test_intermediates_that_run_out() -> None:
    data = _scenario([{"name": "A", "not_after": "2027-03-31"}])
    (gap,) = horizon_gaps(_unchecked(data))
    assert (gap.where, gap.ca, gap.first, gap.last) == (
        "cas[0].intermediates",
        "own-ca",
        dt.date(2027, 4, 1),
        dt.date(2027, 12, 31),
    )
    assert "no active intermediate from 2027-04-01" in gap.message
    assert not _runs(data)  # and run agrees


def test_a_successor_announced_by_an_event_closes_the_gap() -> None:
    data = _scenario(
        [{"name": "A", "not_after": "2027-03-31"}, {"name": "B"}],
        [{"type": "intermediate_change", "date": "2026-01-01", "ca": "own-ca", "active": ["A"]},
         {"type": "intermediate_change", "date": "2027-03-01", "ca": "own-ca", "active": ["B"]}],
    )  # fmt: skip
    assert horizon_gaps(_unchecked(data)) == []
    assert _runs(data)


def test_a_gap_on_the_first_issuance_is_found_however_short() -> None:
    data = _scenario([{"name": "A", "active_from": "2026-01-03"}])
    (gap,) = horizon_gaps(_unchecked(data))
    assert (gap.first, gap.last) == (dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert not _runs(data)


def test_migrating_away_before_the_gap_is_fine() -> None:
    data = _scenario(
        [{"name": "A", "not_after": "2027-03-31"}],
        [{"type": "ca_migration", "date": "2027-01-01", "to": "next-ca"}],
    )
    assert horizon_gaps(_unchecked(data)) == []
    assert _runs(data)


def test_the_migration_target_is_checked_from_the_switch() -> None:
    data = _scenario(
        [{"name": "A"}],
        [{"type": "ca_migration", "date": "2026-06-01", "to": "next-ca"}],
    )
    data["cas"][1]["intermediates"] = [{"name": "N", "not_after": "2026-12-31"}]
    (gap,) = horizon_gaps(_unchecked(data))
    assert (gap.ca, gap.first) == ("next-ca", dt.date(2027, 1, 1))
    assert not _runs(data)


@settings(max_examples=30, deadline=None)
@given(expiry=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 1, 31)))
def test_a_reported_gap_means_run_stops(expiry: dt.date) -> None:
    """Never refuses what run accepts; finds every gap a whole lifetime long."""
    data = _scenario([{"name": "A", "not_after": expiry.isoformat()}])
    gaps = horizon_gaps(_unchecked(data))
    runs = _runs(data)
    if gaps:
        assert not runs
    if (dt.date(2027, 12, 31) - expiry).days >= 90:
        assert gaps
    if runs:
        assert not gaps


@pytest.mark.parametrize("host_days", [None, 200])
def test_a_short_gap_between_renewals_is_left_to_run(host_days: int | None) -> None:
    extra = {} if host_days is None else {"validity_days": host_days}
    data = _scenario(
        [{"name": "A", "active_until": "2026-04-10"}, {"name": "B", "active_from": "2026-04-15"}],
        **extra,
    )
    assert horizon_gaps(_unchecked(data)) == []


def test_a_distrust_replacement_moves_only_hosts_on_that_ca() -> None:
    moved = _scenario(
        [{"name": "A", "not_after": "2027-03-31"}],
        [{"type": "ca_distrust", "date": "2027-01-01", "ca": "own-ca", "replacement": "next-ca"}],
    )
    assert horizon_gaps(_unchecked(moved)) == []
    assert _runs(moved)
    other = _scenario(
        [{"name": "A", "not_after": "2027-03-31"}],
        [{"type": "ca_distrust", "date": "2027-01-01", "ca": "next-ca", "replacement": "own-ca"}],
    )
    assert [g.ca for g in horizon_gaps(_unchecked(other))] == ["own-ca"]
    assert not _runs(other)


def test_validation_refuses_what_run_would_stop_on() -> None:
    """The check is part of validation: ``simlib validate`` fails where ``run`` would."""
    data = _scenario([{"name": "A", "not_after": "2027-03-31"}])
    with pytest.raises(
        ScenarioError, match=r"cas\[0\]\.intermediates: no active intermediate from 2027-04-01"
    ):
        scenario_from_dict(data)
