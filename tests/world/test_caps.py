"""Validity caps by issue date: the day before and the day of each step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from simlib.errors import ScenarioError
from simlib.world.caps import cap_on, cap_step_on, load_caps, schedules

STEPS = [
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
    assert cap_on("cabf", date(2015, 3, 31)) is None
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
            day = max(step.effective_date, date(2018, 3, 1))
            assert cap_on(name, day) <= cap_on("cabf", day), (name, day)  # type: ignore[operator]
