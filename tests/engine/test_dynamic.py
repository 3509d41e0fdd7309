"""Dynamic pin lists against closed forms.

One rotation on day 100 (see test_response). A user refreshes every R days at a random phase and
each attempt succeeds with probability p. A version built before the rotation is locked on day
t ≥ 100 unless some fetch on a day in [100 − A, t] succeeded (A = publish_ahead_days): with n
days in that window, n = mR + q, P(no success) = (q(1−p)^(m+1) + (R−q)(1−p)^m) / R.
"""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from tests.conftest import G, make

T = 180
ONE_ROTATION = {"end": "2025-06-29", "hosts[0].validity_days": 200, "hosts[0].renew_before_days": 100}


def p_none(n: np.ndarray, R: int, p: float) -> np.ndarray:
    m, q = np.divmod(n, R)
    return (q * (1 - p) ** (m + 1) + (R - q) * (1 - p) ** m) / R


def shares(sc):
    r = np.arange(0, T, 14)
    t = np.arange(T)
    S = G(sc, t[None, :] - r[:, None])
    S[0] = 1.0
    x = S.copy()
    x[:-1] -= S[1:]
    b = np.where(r == 0, 0, r - 3)
    return x, b


@pytest.mark.parametrize(("R", "p", "A"), [(1, 0.9, 0), (7, 0.8, 0), (3, 0.5, 10), (1, 0.95, 30)])
def test_fail_open_closed_form(R, p, A):
    sc = make(
        ONE_ROTATION,
        strategies=[{
            "name": "dyn", "pin": "leaf_spki",
            "dynamic": {"refresh_days": R, "fetch_success": p, "publish_ahead_days": A,
                        "max_age_days": 1000},
        }],
    )
    res = simulate(sc)
    got = res.timeseries["lockout_rate"].to_numpy()
    x, b = shares(sc)
    t = np.arange(T)
    start = 100 - A  # lists fetched from this day on carry the new key
    n = t - start + 1
    exposed = (b[:, None] < start) & (t[None, :] >= 100)
    want = (x * exposed).sum(axis=0) * np.where(t >= 100, p_none(np.maximum(n, 0), R, p), 0.0)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_stale_list_fails_open_or_closed():
    """max_age 20: a version built on day 95 whose list is never refreshed (p = 0) stops
    checking pins on day 116 (fail open) or keeps enforcing the stale list (fail closed)."""
    common = {"pin": "leaf_spki", "name": "d"}
    dyn = {"refresh_days": 1, "fetch_success": 0.0, "publish_ahead_days": 0, "max_age_days": 20}
    opened = simulate(make(ONE_ROTATION, strategies=[{**common, "dynamic": {**dyn, "on_stale": "fail_open"}}]))
    closed = simulate(make(ONE_ROTATION, strategies=[{**common, "dynamic": {**dyn, "on_stale": "fail_closed"}}]))
    lk_open = opened.runs["d"].tables.lock["android"]
    lk_closed = closed.runs["d"].tables.lock["android"]
    v7 = 7  # built on day 95
    assert lk_open[v7, 100] == 1.0 and lk_open[v7, 115] == 1.0
    assert lk_open[v7, 116] == 0.0  # 116 − 95 = 21 > 20 days: stale, pinning off
    assert lk_closed[v7, 116] == 1.0
    # a stale fail-open list protects nobody; a fail-closed one still rejects a rogue CA
    attack = {"attacks": ["rogue_ca"]}
    o = simulate(make(ONE_ROTATION, strategies=[{**common, "dynamic": {**dyn, "on_stale": "fail_open"}}], **attack))
    prot = o.runs["d"].tables.protect["android"]["rogue_ca"]
    assert prot[0, 30] == 0.0  # version 0 list (day 0) is 30 days old on day 30
    assert prot[0, 20] == 1.0


def test_probabilities_in_unit_interval_and_coverage_sums():
    sc = make(
        {"fleet.platforms": {"android": 0.5, "ios": 0.5}},
        strategies=[{"name": "d", "pin": "intermediate_spki",
                     "dynamic": {"refresh_days": 2, "fetch_success": 0.7, "publish_ahead_days": 5}}],
        attacks=["rogue_ca", "same_ca_misissuance", "user_installed_ca"],
    )
    res = simulate(sc)
    for c, lk in res.runs["d"].tables.lock.items():
        assert lk.min() >= -1e-12 and lk.max() <= 1 + 1e-12, c
    ts = res.timeseries
    for a in ("rogue_ca", "same_ca_misissuance", "user_installed_ca"):
        np.testing.assert_allclose(ts["lockout_rate"] + ts[f"protected_{a}"] + ts[f"exposed_{a}"], 1.0, atol=1e-9)
