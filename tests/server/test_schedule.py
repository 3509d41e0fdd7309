"""One host's schedule reads the effects events declare (``server/schedule.py``)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.model.effects import DayOf, IssuanceEffect, PlannedSwitch, Reissue, Revocation
from simlib.model.server import _DatedEvent
from simlib.server.calendar import CertificateCalendar
from simlib.server.schedule import HostEffects
from tests.conftest import make

START = dt.date(2025, 1, 1)


class Audit(_DatedEvent):
    """A new event type: re-keys every host on its date (its whole effect is declared here)."""

    type: Literal["audit"] = "audit"

    def issuance_effects(self, host: str, day: int, day_of: DayOf) -> tuple[IssuanceEffect, ...]:
        return (Reissue(day, "audit", rekey=True),)


def _calendar(events) -> CertificateCalendar:
    sc = make({"hosts[0].key_policy": "reuse"})
    return CertificateCalendar(sc.model_copy(update={"events": events}))


def test_a_new_event_type_needs_nothing_in_the_schedule():
    cal = _calendar([Audit(date=dt.date(2025, 2, 10))])
    items = cal.by_host["api.test"]
    assert [(it.day, it.reason) for it in items[:3]] == [
        (0, "initial"),
        (40, "audit"),
        (100, "renewal"),  # the renewal clock restarts: 40 + (90 - 30)
    ]
    assert items[0].leaf_key != items[1].leaf_key == items[2].leaf_key  # reuse, re-keyed once


def test_effects_are_collected_by_kind_in_occurrence_order():
    sc = make(
        events=[
            {"type": "mass_revocation", "date": "2025-03-01", "ca": "ca1", "within_days": 2},
            {"type": "ca_migration", "date": "2025-02-01", "to": "ca2", "when": "next_renewal"},
            {"type": "key_compromise", "date": "2025-01-20", "host": "other"},
            {"type": "key_compromise", "date": "2025-01-10"},
            {"type": "trust_store_change", "date": "2025-01-05", "remove": ["ca2"]},
        ],
        hosts=[{"name": "api.test", "ca": "ca1"}, {"name": "other", "ca": "ca1"}],
    )
    occurrences = CertificateCalendar(sc)._event_occurrences()
    got = HostEffects.collect("api.test", occurrences, sc.day)
    assert got == HostEffects(
        reissues=[Reissue(9, "key_compromise", rekey=True)],
        switches=[PlannedSwitch(31, "ca2")],
        revocations=[Revocation(59, "ca1", 2)],
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 364), min_size=1, max_size=6, unique=True))
def test_every_compromise_re_issues_that_day_with_a_new_key(days):
    events = [{"type": "key_compromise", "date": str(START + dt.timedelta(days=d))} for d in days]
    cal = CertificateCalendar(make({"hosts[0].key_policy": "reuse"}, events=events))
    items = cal.by_host["api.test"]
    by_day = {it.day: it for it in items}
    for d in days:
        hit = by_day[d]
        assert "key_compromise" in hit.reason
        assert hit.leaf_key != items[hit.seq - 1].leaf_key
    # otherwise the key is reused: one key per compromise, plus the first
    assert len({it.leaf_key for it in items}) == len(days) + 1
    for a, b in itertools.pairwise(items):
        assert a.end_day == b.day - 1 and a.day < b.day
