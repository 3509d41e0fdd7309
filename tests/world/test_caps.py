"""Validity caps by issue date: the day before and the day of each step; the one step rule
(``step_on``); the profiles' schedules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlib.errors import ScenarioError
from simlib.world.caps import (
    PROFILES,
    cap_on,
    cap_step_on,
    default_profile,
    load_caps,
    profile_schedule,
    schedule_steps,
    schedules,
    step_on,
)

STEPS = [
    ("cabf", date(2015, 4, 1), 1826, 1187),
    ("cabf", date(2018, 3, 1), 1187, 825),
    ("cabf", date(2020, 9, 1), 825, 398),
    ("cabf", date(2026, 3, 15), 398, 200),
    ("cabf", date(2027, 3, 15), 200, 100),
    ("cabf", date(2029, 3, 15), 100, 47),
    ("letsencrypt-classic", date(2027, 2, 10), 90, 64),
    ("letsencrypt-classic", date(2028, 2, 16), 64, 45),
    ("letsencrypt-tlsserver", date(2026, 5, 13), 90, 45),
    ("acm", date(2026, 2, 18), 395, 198),
]


@pytest.mark.parametrize(("schedule", "day", "before", "after"), STEPS)
def test_boundaries(schedule: str, day: date, before: int, after: int) -> None:
    assert cap_on(schedule, day - timedelta(days=1)) == before
    assert cap_on(schedule, day) == after
    assert cap_on(schedule, day + timedelta(days=1)) == after


def test_every_step_is_covered_by_a_boundary_test() -> None:
    tested = {(s, d) for s, d, *_ in STEPS}
    firsts = {(name, steps[0].effective_date) for name, steps in load_caps().items()}
    every = {(name, s.effective_date) for name, steps in load_caps().items() for s in steps}
    assert every - firsts <= tested


def test_before_the_first_step_no_cap() -> None:
    assert cap_on("cabf", date(2012, 6, 30)) is None  # before BR 1.0 took effect
    assert cap_on("cabf", date(2012, 7, 1)) == 1826  # BR 1.0: 60 months
    assert cap_on("letsencrypt-shortlived", date(2026, 1, 15)) == 6
    assert cap_on("letsencrypt-shortlived", date(2026, 1, 14)) is None


def test_step_carries_source_and_confidence() -> None:
    step = cap_step_on("cabf", date(2026, 3, 15))
    assert (
        step is not None
        and step.confidence == "primary"
        and "SC081" in step.source.upper().replace("-", "")
    )
    assert cap_step_on("acm", date(2026, 2, 18)).confidence == "secondary"  # type: ignore[union-attr]
    assert cap_step_on("letsencrypt-classic", date(2026, 1, 1)).confidence == "unconfirmed"  # type: ignore[union-attr]


def test_unknown_schedule_lists_valid_names() -> None:
    with pytest.raises(ScenarioError, match="unknown cap schedule 'cabforum'; valid: cabf, "):
        cap_on("cabforum", date(2026, 1, 1))
    assert set(schedules()) == {
        "cabf",
        "letsencrypt-classic",
        "letsencrypt-tlsserver",
        "letsencrypt-shortlived",
        "acm",
    }


def test_vendor_caps_never_exceed_the_cabf_cap() -> None:
    for name, steps in load_caps().items():
        for step in steps:
            day = step.effective_date
            assert cap_on(name, day) <= cap_on("cabf", day), (name, day)  # type: ignore[operator]


def test_cabf_history_from_br_1_0_to_sc081() -> None:
    """The real history (ca-events.md, BR §1.2.2 and §6.3.2): 60 months from BR 1.0's effective
    date, 39 months from 2015-04-01, then 825, 398 and SC-081v3's 200, 100, 47 days."""
    steps = [(s.effective_date, s.max_days) for s in schedule_steps("cabf")]
    assert steps == [
        (date(2012, 7, 1), 1826),
        (date(2015, 4, 1), 1187),
        (date(2018, 3, 1), 825),
        (date(2020, 9, 1), 398),
        (date(2026, 3, 15), 200),
        (date(2027, 3, 15), 100),
        (date(2029, 3, 15), 47),
    ]
    # the month caps in days are our conversion: labelled as assumptions, saying so
    for step in schedule_steps("cabf")[:2]:
        assert step.confidence == "unconfirmed" and "our conversion" in step.note
    # 39 months from 2015-04-01 end on 2018-07-01: exactly the stored day count
    assert (date(2018, 7, 1) - date(2015, 4, 1)).days == cap_on("cabf", date(2016, 1, 1))


def test_a_1500_day_certificate_in_2016_is_over_the_cap() -> None:
    cap = cap_on("cabf", date(2016, 6, 1))
    assert cap == 1187 and min(1500, cap) == 1187


@given(
    st.lists(st.integers(0, 3000), unique=True, max_size=12).map(sorted),
    st.integers(-10, 3010),
)
def test_step_on_is_the_last_step_on_or_before_the_day(offsets: list[int], at: int) -> None:
    base = date(2015, 1, 1)
    steps = [(base + timedelta(days=o), o) for o in offsets]
    day = base + timedelta(days=at)
    expected = None
    for step in steps:  # the rule written out: a linear scan
        if step[0] <= day:
            expected = step
    assert step_on(steps, day, lambda s: s[0]) == expected


def test_profiles_name_known_schedules_and_the_default_is_first() -> None:
    assert {s for profiles in PROFILES.values() for s in profiles.values()} <= set(schedules())
    assert default_profile("letsencrypt") == "classic"
    assert default_profile("amazon") == "acm"
    assert default_profile("digicert") is None
    assert profile_schedule("letsencrypt") == "letsencrypt-classic"
    assert profile_schedule("letsencrypt", "shortlived") == "letsencrypt-shortlived"
    assert profile_schedule("letsencrypt", "nonesuch") is None
    assert profile_schedule("digicert") is None


def test_lets_encrypt_profiles_are_its_catalogue_profiles() -> None:
    """The ACME profiles with a cap schedule are exactly those the catalogue's active sets are
    given for (a profile here picks both the lifetime and the intermediates)."""
    from simlib.world import catalogue

    used = {s.profile for s in catalogue().ca("letsencrypt").active_sets}
    assert set(PROFILES["letsencrypt"]) == used
