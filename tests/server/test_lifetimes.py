"""Lifetimes, renewal offsets and the one notAfter rule (``server/lifetimes.py``)."""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given
from hypothesis import strategies as st

from simlib.pki.certs import validity
from simlib.server.calendar import CertificateCalendar
from simlib.server.lifetimes import lifetime_days, renew_offset
from tests.conftest import make


def test_renew_offset_closed_forms():
    assert renew_offset(90, 30, None) == 60
    assert renew_offset(90, None, None) == 60  # floor(2/3 · 90)
    assert renew_offset(100, None, None) == 66
    assert renew_offset(90, None, 0.5) == 45
    assert renew_offset(1, None, 0.5) == 1  # never sooner than one day
    assert renew_offset(10, 10, None) == 1


@given(st.integers(1, 3650), st.floats(0.001, 0.999))
def test_renewal_falls_within_the_lifetime(lifetime, fraction):
    offset = renew_offset(lifetime, None, fraction)
    assert offset == max(1, math.floor(fraction * lifetime))
    assert 1 <= offset <= max(1, lifetime - 1) or lifetime == 1


def test_lifetime_takes_the_host_the_schedule_and_the_cap():
    sc = make(
        {
            "hosts[0].validity_days": None,
            "hosts[0].renew_before_days": None,
            "cas[0].validity_schedule": [{"from": "2025-03-01", "days": 45}],
            "validity_cap": [{"from": "2025-06-01", "max_days": 30}],
        }
    )
    host, ca = sc.hosts[0], sc.cas[0]
    march = sc.day(dt.date(2025, 3, 1))
    june = sc.day(dt.date(2025, 6, 1))
    got = [lifetime_days(sc, host, ca, d) for d in (march - 1, march, june - 1, june)]
    assert got == [90, 45, 45, 30]
    fixed = host.model_copy(update={"validity_days": 398})
    assert lifetime_days(sc, fixed, ca, march) == 398
    assert lifetime_days(sc, fixed, ca, june) == 30


def test_the_calendar_table_uses_the_one_not_after_rule():
    cal = CertificateCalendar(make())
    frame = cal.to_frame()
    for it, row in zip(cal.issuances, frame.itertuples(), strict=True):
        nb, na = validity(cal.scenario.date(it.day), it.lifetime_days)
        assert (row.not_before, row.not_after) == (nb, na)
        assert na.date() == cal.scenario.date(it.expires_day)  # notAfter falls on expires_day
