"""Incident response and forced-update prompts against closed forms.

One rotation inside the horizon: validity 200, renew 100 days before expiry → the key changes on
day 100 only (horizon 180 days). Releases every 14 days (build lead 3): version 7 (r=98, b=95) is
the last one built before the rotation, version 8 (r=112, b=109) the first one after it.
"""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from tests.conftest import G, make

T = 180
ONE_ROTATION = {
    "end": "2025-06-29",
    "hosts[0].validity_days": 200,
    "hosts[0].renew_before_days": 100,
}
LEAF = [{"name": "leaf", "pin": "leaf_spki"}]


def rate(res, name="leaf"):
    ts = res.timeseries
    return ts[ts.strategy == name]["lockout_rate"].to_numpy()


def test_no_response_baseline():
    sc = make(ONE_ROTATION, strategies=LEAF)
    got = rate(simulate(sc))
    t = np.arange(T)
    # locked ⇔ on a version ≤ 7; share on ≥ 8 is G(t − 112)
    expected = np.where(t < 100, 0.0, 1.0 - G(sc, t - 112))
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_fix_release_closed_form():
    """Detected on day 100 (the newest release breaks), fix built on 102, released on 105."""
    sc = make(
        {
            **ONE_ROTATION,
            "incident_response": {"threshold": 0.001, "detect_days": 2, "review_days": 3},
        },
        strategies=LEAF,
    )
    res = simulate(sc)
    run = res.runs["leaf"]
    assert [(f.build_day, f.release_day) for f in run.fixes] == [(102, 105)]
    t = np.arange(T)
    expected = np.where(t < 100, 0.0, 1.0 - G(sc, t - 105))
    np.testing.assert_allclose(rate(res), expected, atol=1e-12)
    rel = res.releases
    assert list(rel[rel.kind == "fix"]["release_date"].astype(str)) == ["2025-04-16"]


@pytest.mark.parametrize("share", [0.0, 0.6, 1.0])
def test_forced_update_unpinned_endpoint(share):
    """Compliers below the fix jump to it the day after its release: locked = (1 − c)(1 − G)."""
    sc = make(
        {
            **ONE_ROTATION,
            "incident_response": {
                "detect_days": 2,
                "review_days": 3,
                "forced_update": {"comply_share": share},
                "update_check_host": None,
            },
        },
        strategies=LEAF,
    )
    got = rate(simulate(sc))
    t = np.arange(T)
    base = np.where(t < 100, 0.0, 1.0 - G(sc, t - 105))
    expected = np.where(t >= 106, (1 - share) * base, base)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_forced_update_through_pinned_endpoint_reaches_nobody_locked():
    """The update check is on the pinned host: every user below the fix is locked on the fix's
    release day, so the prompt reaches nobody and the curve equals the no-prompt curve."""
    common = {**ONE_ROTATION, "incident_response": {"detect_days": 2, "review_days": 3}}
    plain = rate(simulate(make(common, strategies=LEAF)))
    prompted = make(
        {
            **common,
            "incident_response": {
                "detect_days": 2,
                "review_days": 3,
                "forced_update": {"comply_share": 0.9},
            },
        },
        strategies=LEAF,
    )
    np.testing.assert_allclose(rate(simulate(prompted)), plain, atol=1e-12)


def test_forced_update_reaches_users_of_unbroken_versions():
    """With a backup next key only users two rotations behind break. With a pinned update
    check and every user complying, the users below the fix the day after its release are
    exactly those whose version was locked on the release day (they never saw the prompt) and
    whose own lag has not yet brought them to the fix. Computed per lag ℓ: a user with lag ℓ
    runs the newest release of day t − ℓ."""
    from simlib.fleet.adoption import AdoptionCurve

    sc = make(
        {
            "hosts[0].pregenerate_next_key": True,
            "incident_response": {
                "detect_days": 1,
                "review_days": 1,
                "threshold": 0.001,
                "forced_update": {"comply_share": 1.0},
            },
        },
        strategies=[{"name": "next", "pin": "leaf_spki", "backup": ["next_key"]}],
    )
    res = simulate(sc)
    run = res.runs["next"]
    assert run.fixes, "lockout of laggards must trigger a fix"
    fix = run.fixes[0]
    releases = run.tables.releases
    k = [r.label for r in releases].index(fix.label)
    r = np.array([rel.release_day for rel in releases])
    lock = run.tables.lock["android"][:, run.tables.seg_of_day[fix.release_day]]
    T = res.scenario.days
    pmf = AdoptionCurve(sc.fleet.adoption).lag_pmf(T) * sc.fleet.users
    d = fix.release_day + 1

    def version(day, lag):
        if lag > T or day - lag < 0:
            return 0
        return int(np.searchsorted(r, day - lag, side="right") - 1)

    want = sum(
        w
        for lag, w in enumerate(pmf)
        if lock[version(fix.release_day, lag)] and version(d, lag) < k
    )
    assert run.counts["android"].exactly(np.arange(k), d).sum() == pytest.approx(want, rel=1e-12)
    assert want > 0


def test_shares_stay_consistent_with_prompts_and_installs():
    sc = make(
        {
            **ONE_ROTATION,
            "fleet.new_installs": {"per_day": 20},
            "incident_response": {
                "detect_days": 2,
                "review_days": 3,
                "forced_update": {"comply_share": 0.5},
                "update_check_host": None,
            },
        },
        strategies=LEAF,
    )
    res = simulate(sc)
    x = res.runs["leaf"].counts["android"].table()
    active = res.active
    assert np.all(x > -1e-9)
    np.testing.assert_allclose(x.sum(axis=0), active, rtol=1e-12)
    at_least = np.cumsum(x[::-1], axis=0)[::-1]
    assert np.all(np.diff(at_least, axis=0) <= 1e-9)  # share ≥ k never below share ≥ k+1


def test_installs_closed_form():
    """Installs take the newest release: users on ≥ k = N·G(t−r_k) + I(r_k−1)·G(t−r_k) + (I(t) − I(r_k−1))."""
    sc = make({"fleet.new_installs": {"per_day": 10}}, strategies=LEAF)
    res = simulate(sc)
    x = res.runs["leaf"].counts["android"].table()
    at_least = np.cumsum(x[::-1], axis=0)[::-1]
    t = np.arange(365)
    N = 1000
    inst = 10 * (t + 1)  # installs up to and including day t
    for k, r in enumerate(range(0, 365, 14)):
        before = 10 * r  # installed on days 0..r−1
        want = np.where(t >= r, (N + before) * G(sc, t - r) + inst - before, 0.0)
        if k == 0:
            want = N + inst
        np.testing.assert_allclose(at_least[k], want, rtol=1e-12, atol=1e-9)


def test_monte_carlo_follows_incident_response():
    from simlib.results.montecarlo import monte_carlo

    sc = make(
        {**ONE_ROTATION, "incident_response": {"detect_days": 2, "review_days": 3}},
        strategies=LEAF,
    )
    mc = monte_carlo(sc, 5, seed=1)
    assert (mc.replications["fix_releases"] == 1).all()


# -- a fix is shipped only when it helps someone the releases already out do not ------------------
# Two platforms; the host re-keys every 60 days (validity 90, renew 30 before: rotations on days
# 60, 120, …, 360); releases every 45 days, built on their release day (b = 0, 45, 90, …). From
# 2025-06-01 iOS distrusts the CA's new certificates (the first one is issued on day 180), so from
# day 180 every iOS user, on any build, is locked for good, while Android keeps connecting.
MIXED = {
    "end": "2025-12-31",
    "fleet.release_every_days": 45,
    "fleet.build_lead_days": 0,
    "fleet.platforms": {"android": 0.5, "ios": 0.5},
    "hosts[0].validity_days": 90,
    "hosts[0].renew_before_days": 30,
    "hosts[0].key_policy": "rotate",
    "events": [{"type": "ca_distrust", "date": "2025-06-01", "ca": "ca1", "platforms": ["ios"]}],
    "incident_response": {"threshold": 0.001, "detect_days": 1, "review_days": 2},
}


def _rotations_newest_breaks(T: int = 365) -> list[int]:
    """Rotation days r on which the newest release pins the old key: its build day < r."""
    out = []
    for r in range(60, T, 60):
        newest_build = max(b for b in range(0, T, 45) if b <= r)
        if newest_build < r:
            out.append(r)
    return out


def test_fix_only_when_the_newest_release_fails():
    """Without prompts a fix helps only where the newest release fails: rotations 60, 120, 240 and
    300 (built 45, 90, 225, 270 before them), not 180 or 360 (a release is built that day) — and
    not every 3 days while iOS is locked for good and old Android versions are locked."""
    sc = make(MIXED, strategies=LEAF)
    run = simulate(sc).runs["leaf"]
    rotations = _rotations_newest_breaks()
    assert rotations == [60, 120, 240, 300]
    # detected on the rotation day, built detect_days = 1 later, released review_days = 2 after
    assert [(f.build_day, f.release_day) for f in run.fixes] == [(r + 1, r + 3) for r in rotations]


def test_forced_update_fix_helps_stragglers_once_per_lockout():
    """With prompts (unpinned update check) a fix also moves compliers off broken old versions:
    one fix per rotation, none repeated while the locked Android users only shrink."""
    sc = make(
        {
            **MIXED,
            "incident_response.forced_update": {"comply_share": 0.7},
            "incident_response.update_check_host": None,
        },
        strategies=LEAF,
    )
    run = simulate(sc).runs["leaf"]
    assert [(f.build_day, f.release_day) for f in run.fixes] == [
        (r + 1, r + 3) for r in range(60, 365, 60)
    ]
