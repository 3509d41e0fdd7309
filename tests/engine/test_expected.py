"""Expected mode against closed forms derived by hand from G, release days and the calendar.

Notation: releases r_k = 14k, builds b_k = r_k − 3 (b_0 = 0); S_k(t) = G(t − r_k) is the share on
version ≥ k (S_0 = 1); x_k = S_k − S_{k+1} the share on exactly k. A renewal every 60 days rotates
the leaf key (validity 90, renew 30 days before expiry), so rotations happen on days 60, 120, ...
"""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from tests.conftest import G, make

T = 365
R_EVERY = 14
LEAD = 3
ROT = 60
t = np.arange(T)


def release_days(T=T):
    return np.arange(0, T, R_EVERY)


def build_days(T=T):
    r = release_days(T)
    return np.where(r == 0, 0, r - LEAD)


def shares(sc, T=T):
    """(V, T) share on exactly version k, from S_k(t) = G(t − r_k)."""
    r = release_days(T)
    S = G(sc, t[None, :T] - r[:, None])
    S[0] = 1.0
    x = S.copy()
    x[:-1] -= S[1:]
    return x


def lockout(res, name):
    ts = res.timeseries
    return ts[ts["strategy"] == name]["lockout_rate"].to_numpy()


def epoch(day):
    return np.asarray(day) // ROT


class TestLeafRotation:
    """Leaf-key (and leaf-certificate) pinning with a new key at every renewal."""

    def test_closed_form(self):
        sc = make(
            strategies=[
                {"name": "leaf key", "pin": "leaf_spki"},
                {"name": "leaf cert", "pin": "leaf_cert"},
            ]
        )
        res = simulate(sc)
        x = shares(sc)
        b = build_days()
        # Locked ⇔ built before the last rotation: b_k < R(t), R(t) = 60·⌊t/60⌋.
        R = ROT * epoch(t)
        expected = (x * (b[:, None] < R[None, :])).sum(axis=0)
        np.testing.assert_allclose(lockout(res, "leaf key"), expected, atol=1e-12)
        np.testing.assert_allclose(lockout(res, "leaf cert"), expected, atol=1e-12)

    def test_closed_form_via_first_good_version(self):
        """Equivalently 1 − G(t − r_{k*}) with k* the first version built on/after R(t)."""
        sc = make(strategies=[{"name": "leaf key", "pin": "leaf_spki"}])
        res = simulate(sc)
        r, b = release_days(), build_days()
        got = lockout(res, "leaf key")
        for day in (59, 60, 61, 70, 75, 100, 119, 120, 200, 364):
            R = ROT * (day // ROT)
            k = int(np.argmax(b >= R))
            want = 0.0 if R == 0 else 1.0 - float(G(sc, day - r[k])) if r[k] <= day else 1.0
            if k == 0:
                want = 0.0
            assert got[day] == pytest.approx(want, abs=1e-12), day

    def test_day_boundaries(self):
        """The renewed certificate is served from the start of its issue day; a build on the
        renewal day pins the new key, a build the day before pins the old one."""
        sc = make(strategies=[{"name": "leaf key", "pin": "leaf_spki"}])
        got = lockout(simulate(sc), "leaf key")
        assert got[59] == 0.0
        assert got[60] == pytest.approx(1.0)  # no version has the new key yet
        # build_lead 3, releases every 14: version 5 is built on day 67 → holds the day-60 key.
        sc2 = make({"fleet.build_lead_days": 10}, strategies=[{"name": "k", "pin": "leaf_spki"}])
        # version 5: r=70, b=60 (the renewal day itself) → not locked after day 60
        res2 = simulate(sc2)
        run = res2.runs["k"]
        v5 = 5
        assert run.tables.releases[v5].build_day == 60
        assert not run.tables.lock["android"][v5, run.tables.seg_of_day[60]]
        v4 = 4  # built on day 46 → locked from day 60
        assert run.tables.lock["android"][v4, run.tables.seg_of_day[60]]
        assert not run.tables.lock["android"][v4, run.tables.seg_of_day[59]]

    def test_reused_key_never_locks_leaf_spki_but_cert_pins_break(self):
        sc = make(
            {"hosts[0].key_policy": "reuse"},
            strategies=[
                {"name": "leaf key", "pin": "leaf_spki"},
                {"name": "leaf cert", "pin": "leaf_cert"},
            ],
        )
        res = simulate(sc)
        assert lockout(res, "leaf key").max() == 0.0
        assert lockout(res, "leaf cert").max() == pytest.approx(1.0)

    def test_rotate_every_two(self):
        sc = make(
            {"hosts[0].key_policy": {"rotate_every": 2}},
            strategies=[{"name": "k", "pin": "leaf_spki"}],
        )
        res = simulate(sc)
        x, b = shares(sc), build_days()
        # keys change at issuances 2, 4, 6 → days 120, 240, 360
        R = 120 * (t // 120)
        expected = (x * (b[:, None] < R[None, :])).sum(axis=0)
        np.testing.assert_allclose(lockout(res, "k"), expected, atol=1e-12)


class TestBackupNextKey:
    def test_locks_only_users_two_rotations_behind(self):
        sc = make(
            {"hosts[0].pregenerate_next_key": True},
            strategies=[{"name": "next", "pin": "leaf_spki", "backup": ["next_key"]}],
        )
        res = simulate(sc)
        x, b = shares(sc), build_days()
        # A build in epoch j pins keys j and j+1: locked in epoch m ⇔ j ≤ m − 2.
        locked = epoch(b)[:, None] <= epoch(t)[None, :] - 2
        expected = (x * locked).sum(axis=0)
        np.testing.assert_allclose(lockout(res, "next"), expected, atol=1e-12)
        assert lockout(res, "next")[:120].max() == 0.0


class TestExpiry:
    def test_pins_off_from_build_day_plus_n(self):
        N = 100
        sc = make(strategies=[{"name": "exp", "pin": "leaf_spki", "expires_after_days": N}])
        res = simulate(sc)
        x, b = shares(sc), build_days()
        R = ROT * epoch(t)
        locked = (b[:, None] < R[None, :]) & (t[None, :] < b[:, None] + N)
        np.testing.assert_allclose(lockout(res, "exp"), (x * locked).sum(axis=0), atol=1e-12)

    def test_boundary(self):
        """Enforced on day b + N − 1, switched off (fail open) on day b + N."""
        sc = make(
            {"fleet.adoption.never_update_share": 0.5},
            strategies=[{"name": "exp", "pin": "leaf_spki", "expires_after_days": 70}],
        )
        run = simulate(sc).runs["exp"]
        lk = run.tables.lock["android"]
        seg = run.tables.seg_of_day
        assert lk[0, seg[69]]  # version 0 (b=0) locked since day 60, still enforced on day 69
        assert not lk[0, seg[70]]


class TestIntermediateRandom:
    def test_closed_form_from_calendar(self):
        sc = make(
            {
                "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}],
                "cas[0].selection": "random",
            },
            strategies=[
                {"name": "int", "pin": "intermediate_spki"},
                {"name": "all", "pin": "intermediate_spki", "intermediates": "all"},
            ],
        )
        res = simulate(sc)
        iss = res.calendar.issuances
        inter = np.array([iss[res.calendar.served["api.test"][d]].intermediate for d in range(T)])
        x, b = shares(sc), build_days()
        locked = inter[b][:, None] != inter[None, :]
        np.testing.assert_allclose(lockout(res, "int"), (x * locked).sum(axis=0), atol=1e-12)
        assert lockout(res, "all").max() == 0.0
        assert len(set(inter)) == 2  # the seed exercises both intermediates

    def test_all_intermediates_pins_the_build_day_set(self):
        """The CA switches I1 → I2 on day 73 (2025-03-15), between the issue day of the
        certificate served then (day 60, from I1) and the next renewal (day 120, from I2).
        "All intermediates" pins what is active on the *build* day, plus the serving one: apps
        built from day 73 pin {I1, I2} and survive day 120; apps built before pin {I1} only.
        Closed form on day t ≥ 120: locked = share not yet on a version built on/after day 73
        = 1 − G(t − r_6) (v6: released day 84, built day 81; v5 was built on day 67)."""
        sc = make(
            {"cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}]},
            events=[
                {
                    "type": "intermediate_change",
                    "date": "2025-01-01",
                    "ca": "ca1",
                    "active": ["I1"],
                },
                {
                    "type": "intermediate_change",
                    "date": "2025-03-15",
                    "ca": "ca1",
                    "active": ["I2"],
                },
            ],
            strategies=[
                {"name": "all", "pin": "intermediate_spki", "intermediates": "all"},
                {"name": "serving", "pin": "intermediate_spki"},
            ],
        )
        res = simulate(sc)
        cal = res.calendar
        assert [it.intermediate for it in cal.by_host["api.test"]][:3] == ["I1", "I1", "I2"]
        assert sc.day(sc.events[1].date) == 73
        b = build_days()
        assert b[5] < 73 <= b[6] == 81
        got = lockout(res, "all")
        assert got[:120].max() == 0.0
        want = 1.0 - G(sc, t[120:180] - release_days()[6])
        np.testing.assert_allclose(got[120:180], want, rtol=1e-12, atol=1e-15)
        # pinning only the serving intermediate breaks for every version built before day 120
        assert lockout(res, "serving")[120] == 1.0

    def test_random_choice_is_uniform_and_seeded(self):
        sc = make(
            {
                "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}, {"name": "I3"}],
                "cas[0].selection": "random",
                "end": "2035-12-31",
                "hosts[0].validity_days": 10,
                "hosts[0].renew_before_days": 5,
            },
        )
        from simlib.server.calendar import CertificateCalendar

        cal = CertificateCalendar(sc)
        names = [it.intermediate for it in cal.issuances]
        counts = np.array([names.count(n) for n in ("I1", "I2", "I3")])
        n = len(names)
        # chi-square with 2 degrees of freedom, 99.9 % quantile 13.8
        chi2 = ((counts - n / 3) ** 2 / (n / 3)).sum()
        assert chi2 < 13.8
        assert [it.intermediate for it in CertificateCalendar(sc).issuances] == names


class TestRootAndNone:
    def test_root_survives_rotation_and_none_never_locks(self):
        sc = make(
            strategies=[{"name": "none", "pin": "none"}, {"name": "root", "pin": "root_spki"}],
            attacks=["rogue_ca", "same_ca_misissuance", "user_installed_ca", "stolen_leaf_key"],
        )
        res = simulate(sc)
        ts = res.timeseries
        none = ts[ts.strategy == "none"]
        root = ts[ts.strategy == "root"]
        assert none["lockout_rate"].max() == 0.0 and root["lockout_rate"].max() == 0.0
        assert (none["exposed_rogue_ca"] == 1.0).all()
        assert (root["protected_rogue_ca"] == 1.0).all()
        assert (root["exposed_same_ca_misissuance"] == 1.0).all()
        # Android (API 24+) ignores user CAs even without pinning
        assert (none["protected_user_installed_ca"] == 1.0).all()
        assert (none["exposed_stolen_leaf_key"] == 1.0).all()


class TestCoverage:
    def test_shares_sum_to_one_and_leaf_pins_protect_working_users(self):
        sc = make(
            {"fleet.platforms": {"android": 0.3, "ios": 0.7}},
            strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "none", "pin": "none"}],
            attacks=["rogue_ca", "same_ca_misissuance", "user_installed_ca", "stolen_leaf_key"],
        )
        res = simulate(sc)
        ts = res.timeseries
        for a in ("rogue_ca", "same_ca_misissuance", "user_installed_ca", "stolen_leaf_key"):
            total = ts["lockout_rate"] + ts[f"protected_{a}"] + ts[f"exposed_{a}"]
            np.testing.assert_allclose(total, 1.0, atol=1e-12)
        leaf = ts[ts.strategy == "leaf"]
        np.testing.assert_allclose(leaf["protected_rogue_ca"], 1 - leaf["lockout_rate"], atol=1e-12)
        none = ts[ts.strategy == "none"]
        # iOS users (70 %) trust a user-installed root (assumption); Android users do not
        np.testing.assert_allclose(none["protected_user_installed_ca"], 0.3, atol=1e-12)

    def test_stolen_old_key(self):
        """An attacker holding the key served 30 days ago: leaf-key pins of versions built
        after the rotation reject it; while its certificate is valid root pins accept it."""
        sc = make(
            strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "root", "pin": "root_spki"}],
            attacks=[{"name": "stolen_leaf_key", "key_age_days": 30}],
        )
        res = simulate(sc)
        ts = res.timeseries
        root = ts[ts.strategy == "root"]["protected_stolen_leaf_key"].to_numpy()
        assert root.max() == 0.0  # certificates live 90 days, so a 30-day-old one is valid
        leaf = ts[ts.strategy == "leaf"]
        x, b = shares(sc), build_days()
        # day 75: stolen key = key of epoch 0 (day 45); versions built in epoch 1 reject it
        d = 75
        protected = x[:, d][(b >= 60) & (b <= d)].sum()
        assert leaf["protected_stolen_leaf_key"].to_numpy()[d] == pytest.approx(
            protected, abs=1e-12
        )


class TestScaling:
    def test_counts_scale_rates_do_not(self):
        strategies = [{"name": "k", "pin": "leaf_spki"}]
        a = simulate(make({"fleet.users": 1000}, strategies=strategies)).timeseries
        b = simulate(make({"fleet.users": 10**8}, strategies=strategies)).timeseries
        np.testing.assert_allclose(a["lockout_rate"], b["lockout_rate"], rtol=1e-12)
        np.testing.assert_allclose(b["locked_users"], a["locked_users"] * 10**5, rtol=1e-9)


def test_locked_versions_explains_a_day():
    sc = make(strategies=[{"name": "leaf key", "pin": "leaf_spki"}])
    res = simulate(sc)
    day = sc.date(65)  # after the day-60 rotation; versions 0-4 (built ≤ day 53) pin the old key
    table = res.locked_versions("leaf key", day)
    assert list(table["version"]) == [f"v{k}" for k in range(5)]
    assert table["locked"].eq(1.0).all()
    assert table["users"].sum() == pytest.approx(res.timeseries["locked_users"].iloc[65])
