"""``validity_cap``: ``cabf`` is the schedule of data/world/validity-caps.csv (its one home),
looked up with the one step rule; a certificate issued under a cap lives at most the cap."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simlib
from simlib.model import Scenario
from simlib.world.caps import cap_on, schedule_steps

QUICK: dict[str, Any] = {
    "name": "cap",
    "start": "2016-01-01",
    "end": "2018-12-31",
    "seed": 1,
    "fleet": {
        "users": 1000,
        "release_every_days": 30,
        "adoption": {"components": [{"weight": 1.0, "mean_lag_days": 10}]},
    },
    "cas": [{"name": "ca"}],
    "hosts": [{"name": "a.example.com", "ca": "ca", "validity_days": 1500}],
    "strategies": [{"name": "leaf", "pin": "leaf_cert"}],
}


def scenario(**changes: Any) -> Scenario:
    return Scenario.model_validate({**QUICK, **changes})


def test_cabf_steps_are_the_world_schedule() -> None:
    sc = scenario()
    assert sc.validity_cap == "cabf"
    assert sc.validity_cap_steps() == tuple(
        (s.effective_date, s.max_days) for s in schedule_steps("cabf")
    )


def test_the_cap_in_2016_is_the_39_month_cap() -> None:
    sc = scenario()
    assert sc.validity_cap_days(dt.date(2016, 1, 1)) == 1187
    assert sc.validity_cap_days(dt.date(2018, 2, 28)) == 1187
    assert sc.validity_cap_days(dt.date(2018, 3, 1)) == 825
    assert sc.validity_cap_days(dt.date(2013, 1, 1)) == 1826  # BR 1.0: 60 months
    assert sc.validity_cap_days(dt.date(2012, 6, 30)) is None


def test_a_1500_day_certificate_issued_in_2016_is_capped() -> None:
    issued = simlib.simulate(scenario()).issuances
    first = issued.iloc[0]
    assert pd_date(first.date) == dt.date(2016, 1, 1)
    assert first.lifetime_days == 1187  # not 1500
    # every certificate lives at most the cap in force on its issue day
    for row in issued.itertuples():
        assert row.lifetime_days == min(1500, cap_on("cabf", pd_date(row.date)))  # type: ignore[type-var]


def test_without_a_cap_the_certificate_lives_what_it_asks() -> None:
    sc = scenario(validity_cap="none")
    assert sc.validity_cap_steps() == ()
    assert sc.validity_cap_days(dt.date(2016, 1, 1)) is None
    assert simlib.simulate(sc).issuances.iloc[0].lifetime_days == 1500


@given(
    st.lists(st.integers(0, 2000), min_size=1, max_size=6, unique=True).map(sorted),
    st.integers(-5, 2100),
)
def test_a_scenario_cap_list_is_read_with_the_same_rule(offsets: list[int], at: int) -> None:
    start = dt.date(2016, 1, 1)
    caps = [{"from": start + dt.timedelta(days=o), "max_days": 1 + o % 500} for o in offsets]
    sc = scenario(validity_cap=caps)
    day = start + dt.timedelta(days=at)
    in_force = [c["max_days"] for c in caps if c["from"] <= day]
    assert sc.validity_cap_days(day) == (in_force[-1] if in_force else None)


def pd_date(value: Any) -> dt.date:
    import pandas as pd

    return pd.Timestamp(value).date()


@pytest.mark.parametrize(
    ("cap", "end", "shortest"),
    [("cabf", "2018-02-28", 1187), ("cabf", "2018-12-31", 825), ("none", "2018-12-31", 1500)],
)
def test_the_work_budget_reads_the_same_steps(cap: str, end: str, shortest: int) -> None:
    from simlib.model.budget import _shortest_lifetime

    assert _shortest_lifetime(scenario(validity_cap=cap, end=end), 1500) == shortest
