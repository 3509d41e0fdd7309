"""The certificate calendar: renewals, validity caps, keys, intermediates and events."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.server.calendar import CertificateCalendar
from tests.conftest import make


def cal(overrides=None, **top) -> CertificateCalendar:
    return CertificateCalendar(make(overrides, **top))


def days(c: CertificateCalendar, host="api.test"):
    return [it.day for it in c.by_host[host]]


class TestRenewal:
    def test_renew_before_days(self):
        assert days(cal())[:4] == [0, 60, 120, 180]

    def test_renew_at_fraction_default_two_thirds(self):
        c = cal({"hosts[0].renew_before_days": None})
        assert days(c)[:3] == [0, 60, 120]  # floor(2/3 · 90)
        c = cal({"hosts[0].renew_before_days": None, "hosts[0].renew_at_fraction": 0.5})
        assert days(c)[:3] == [0, 45, 90]

    def test_served_ranges_tile_the_period(self):
        c = cal()
        items = c.by_host["api.test"]
        for a, b in itertools.pairwise(items):
            assert a.end_day == b.day - 1
            assert a.expires_day >= a.end_day  # never serves an expired certificate
        assert items[-1].end_day == c.days - 1
        assert [c.serving("api.test", d).seq for d in (59, 60)] == [0, 1]

    def test_validity_cap_uses_issue_date(self):
        """SC-081: issued 2026-03-14 → 398 days allowed; issued 2026-03-15 → 200."""
        base = {
            "start": "2026-03-14",
            "end": "2026-12-31",
            "validity_cap": "cabf",
            "hosts[0].validity_days": 398,
            "hosts[0].renew_before_days": None,
            "hosts[0].renew_at_fraction": 0.001,
        }
        c = cal(base)
        first, second = c.by_host["api.test"][:2]
        assert (first.lifetime_days, second.lifetime_days) == (398, 200)
        c2 = cal({**base, "validity_cap": [{"from": "2026-03-14", "max_days": 47}]})
        assert c2.by_host["api.test"][0].lifetime_days == 47

    def test_ca_validity_schedule(self):
        c = cal(
            {
                "hosts[0].validity_days": None,
                "hosts[0].renew_before_days": None,
                "cas[0].validity_schedule": [{"from": "2025-03-01", "days": 45}],
            }
        )
        lifetimes = [it.lifetime_days for it in c.by_host["api.test"]]
        assert lifetimes[0] == 90 and set(lifetimes[2:]) == {45}

    def test_first_issued_before_start(self):
        c = cal({"hosts[0].first_issued": "2024-12-01"})
        assert days(c)[:2] == [-31, 29]


class TestKeys:
    def test_policies(self):
        keys = lambda c: [it.leaf_key for it in c.by_host["api.test"]]  # noqa: E731
        assert len(set(keys(cal({"hosts[0].key_policy": "reuse"})))) == 1
        rotate = keys(cal())
        assert len(set(rotate)) == len(rotate)
        every3 = keys(cal({"hosts[0].key_policy": {"rotate_every": 3}}))
        assert every3[0] == every3[2] != every3[3]

    def test_pregenerated_next_key_goes_into_service(self):
        c = cal({"hosts[0].pregenerate_next_key": True})
        items = c.by_host["api.test"]
        for a, b in itertools.pairwise(items):
            assert b.leaf_key == a.next_key
            assert b.next_key not in (a.leaf_key, a.next_key)

    def test_key_compromise_reissues_immediately_with_the_published_next_key(self):
        c = cal(
            {"hosts[0].pregenerate_next_key": True, "hosts[0].key_policy": "reuse"},
            events=[{"type": "key_compromise", "date": "2025-02-10"}],
        )
        items = c.by_host["api.test"]
        d = c.scenario.day(dt.date(2025, 2, 10))
        hit = next(it for it in items if it.day == d)
        assert "key_compromise" in hit.reason
        assert hit.leaf_key == items[0].next_key
        # the renewal clock restarts from the re-issue
        assert days(c)[2] == d + 60


class TestEvents:
    def test_migration_immediate_and_next_renewal(self):
        now = cal(events=[{"type": "ca_migration", "date": "2025-02-01", "to": "ca2"}])
        d = now.scenario.day(dt.date(2025, 2, 1))
        assert [(it.day, it.ca) for it in now.by_host["api.test"][:3]] == [
            (0, "ca1"),
            (d, "ca2"),
            (d + 60, "ca2"),
        ]
        later = cal(
            events=[
                {"type": "ca_migration", "date": "2025-02-01", "to": "ca2", "when": "next_renewal"}
            ]
        )
        assert [(it.day, it.ca) for it in later.by_host["api.test"][:3]] == [
            (0, "ca1"),
            (60, "ca2"),
            (120, "ca2"),
        ]

    def test_mass_revocation_within_days(self):
        c = cal(
            events=[
                {"type": "mass_revocation", "date": "2025-02-10", "ca": "ca1", "within_days": 5}
            ]
        )
        d = c.scenario.day(dt.date(2025, 2, 10))
        reissue = c.by_host["api.test"][1]
        assert reissue.reason == "mass_revocation"
        assert d <= reissue.day <= d + 5
        other = cal(events=[{"type": "mass_revocation", "date": "2025-02-10", "ca": "ca2"}])
        assert days(other)[:2] == [0, 60]  # another CA's revocation does not touch this host

    def test_intermediate_change(self):
        c = cal(
            {"cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}]},
            events=[
                {"type": "intermediate_change", "date": "2025-03-15", "ca": "ca1", "active": ["I2"]}
            ],
        )
        assert [it.intermediate for it in c.by_host["api.test"][:3]] == ["I1", "I1", "I2"]

    def test_round_robin(self):
        c = cal(
            {
                "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}, {"name": "I3"}],
                "cas[0].selection": "round_robin",
            }
        )
        assert [it.intermediate for it in c.by_host["api.test"][:4]] == ["I1", "I2", "I3", "I1"]

    def test_rate_based_events_are_seeded(self):
        over = {"end": "2027-12-31"}
        ev = [{"type": "key_compromise", "rate_per_year": 2.0}]
        a, b = cal(over, events=ev), cal(over, events=ev)
        c = CertificateCalendar(make({**over, "seed": 99}, events=ev))
        assert days(a) == days(b)
        assert days(a) != days(c)
        n = sum("key_compromise" in it.reason for it in a.by_host["api.test"])
        assert 1 <= n <= 15  # Poisson(6) over three years

    def test_no_active_intermediate_is_a_clear_error(self):
        from simlib.errors import ScenarioError

        # validation refuses it (model/horizon.py), before the calendar would stop on 2025-03-02
        with pytest.raises(
            ScenarioError,
            match=r"cas\[0\]\.intermediates: no active intermediate from 2025-02-01 to "
            r"2025-12-31 \(host api\.test renews on ca1 then",
        ):
            cal({"cas[0].intermediates": [{"name": "I1", "active_until": "2025-02-01"}]})

    def test_issuances_frame_has_real_pins(self):
        from simlib.api import simulate

        res = simulate(make())
        frame = res.issuances
        assert {
            "spki_sha256",
            "cert_sha256",
            "root_spki_sha256",
            "not_after",
            "key_id",
            "serial",
        } <= set(frame.columns)
        assert frame["key_id"].nunique() == frame["spki_sha256"].nunique()  # one pin per key
        assert frame["spki_sha256"].str.len().eq(44).all()
        assert frame["spki_sha256"].nunique() == len(frame)  # key rotates each renewal
        nb = frame["not_before"].iloc[0]
        assert nb.tzinfo is not None and (frame["not_after"] - frame["not_before"]).iloc[
            0
        ] == dt.timedelta(days=90, seconds=-1)
        assert np.all(frame["serial"] > 0)


class TestActiveChangeDays:
    """``active_change_days`` is the one rule for when a CA's active set can change."""

    def test_closed_form(self):
        c = cal(
            {
                "cas[0].intermediates": [
                    {"name": "I1", "not_after": "2025-05-31"},
                    {"name": "I2", "active_from": "2025-03-01", "active_until": "2025-09-01"},
                ]
            },
            events=[
                {"type": "intermediate_change", "date": "2025-10-01", "ca": "ca1", "active": ["I2"]}
            ],
        )
        d = c.scenario.day
        assert c.active_change_days("ca1") == {
            d(dt.date(2025, 3, 1)),
            d(dt.date(2025, 9, 1)),
            d(dt.date(2025, 6, 1)),  # the day after I1's not_after
            d(dt.date(2025, 10, 1)),
        }
        assert c.active_change_days("ca2") == set()

    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.none() | st.integers(0, 364),
                st.none() | st.integers(0, 364),
                st.none() | st.integers(0, 364),
            ),
            min_size=1,
            max_size=4,
        ),
        st.lists(st.tuples(st.integers(0, 364), st.integers(1, 15)), max_size=3),
    )
    def test_the_active_set_changes_only_on_those_days(self, windows, changes):
        date = lambda n: str(dt.date(2025, 1, 1) + dt.timedelta(days=n))  # noqa: E731
        inters = []
        for j, (a, b, x) in enumerate(windows):
            spec = {"name": f"I{j}"}
            if a is not None:
                spec["active_from"] = date(a)
            if b is not None and (a is None or b > a):
                spec["active_until"] = date(b)
            if x is not None:
                spec["not_after"] = date(x)
            inters.append(spec)
        names = [s["name"] for s in inters]
        events = [
            {
                "type": "intermediate_change",
                "date": date(day),
                "ca": "ca2",
                "active": [n for k, n in enumerate(names) if mask >> k & 1] or names[:1],
            }
            for day, mask in changes
        ]
        # ca2 issues nothing (the host is on ca1), so any windows are valid
        c = cal({"cas[1].intermediates": inters}, events=events)
        days = c.active_change_days("ca2")
        sets = [c.active_intermediates("ca2", d) for d in range(c.days)]
        for d in range(1, c.days):
            if d not in days:
                assert sets[d] == sets[d - 1], d
        first = {}
        for d, names_on in enumerate(sets):
            for n in names_on:
                first.setdefault(n, d)
        assert c._first_active("ca2") == first
