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
ONE_ROTATION = {
    "end": "2025-06-29",
    "hosts[0].validity_days": 200,
    "hosts[0].renew_before_days": 100,
}


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
        strategies=[
            {
                "name": "dyn",
                "pin": "leaf_spki",
                "dynamic": {
                    "refresh_days": R,
                    "fetch_success": p,
                    "publish_ahead_days": A,
                    "max_age_days": 1000,
                },
            }
        ],
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
    opened = simulate(
        make(ONE_ROTATION, strategies=[{**common, "dynamic": {**dyn, "on_stale": "fail_open"}}])
    )
    closed = simulate(
        make(ONE_ROTATION, strategies=[{**common, "dynamic": {**dyn, "on_stale": "fail_closed"}}])
    )
    lk_open = opened.runs["d"].tables.lock["android"]
    lk_closed = closed.runs["d"].tables.lock["android"]
    v7 = 7  # built on day 95
    assert lk_open[v7, 100] == 1.0 and lk_open[v7, 115] == 1.0
    assert lk_open[v7, 116] == 0.0  # 116 − 95 = 21 > 20 days: stale, pinning off
    assert lk_closed[v7, 116] == 1.0
    # a stale fail-open list protects nobody; a fail-closed one still rejects a rogue CA
    attack = {"attacks": ["rogue_ca"]}
    o = simulate(
        make(
            ONE_ROTATION,
            strategies=[{**common, "dynamic": {**dyn, "on_stale": "fail_open"}}],
            **attack,
        )
    )
    prot = o.runs["d"].tables.protect["android"]["rogue_ca"]
    assert prot[0, 30] == 0.0  # version 0 list (day 0) is 30 days old on day 30
    assert prot[0, 20] == 1.0


def test_probabilities_in_unit_interval_and_coverage_sums():
    sc = make(
        {"fleet.platforms": {"android": 0.5, "ios": 0.5}},
        strategies=[
            {
                "name": "d",
                "pin": "intermediate_spki",
                "dynamic": {"refresh_days": 2, "fetch_success": 0.7, "publish_ahead_days": 5},
            }
        ],
        attacks=["rogue_ca", "same_ca_misissuance", "user_installed_ca"],
    )
    res = simulate(sc)
    for c, lk in res.runs["d"].tables.lock.items():
        assert lk.min() >= -1e-12 and lk.max() <= 1 + 1e-12, c
    ts = res.timeseries
    for a in ("rogue_ca", "same_ca_misissuance", "user_installed_ca"):
        np.testing.assert_allclose(
            ts["lockout_rate"] + ts[f"protected_{a}"] + ts[f"exposed_{a}"], 1.0, atol=1e-9
        )


# ------------------------------------------------- against the dense (days × days) reference
def reference_probabilities(sim, strategy, releases):
    """The straightforward algorithm: q(t, f) and every event as dense (days × days) arrays."""
    from simlib.engine.verdicts import targets_of

    dyn = strategy.dynamic
    T = sim.days
    b = np.array([r.build_day for r in releases])
    t = np.arange(T)
    lag = t[:, None] - t[None, :]
    valid = lag >= 0
    q = np.where(
        valid,
        (dyn.fetch_success / dyn.refresh_days)
        * (1 - dyn.fetch_success) ** (np.maximum(lag, 0) // dyn.refresh_days),
        0.0,
    )
    fresh = valid & (lag <= dyn.max_age_days) if dyn.on_stale == "fail_open" else valid
    seg = sim.table.seg_of_day
    expiry = (
        b + strategy.expires_after_days if strategy.expires_after_days else np.full(len(b), 10**9)
    )
    checked = t[None, :] < expiry[:, None]

    def pub_of(h):
        pub = np.zeros((T, sim.table.n_ids + 1), dtype=bool)
        if not strategy.pins_host(h):
            return pub
        for it in sim.calendar.by_host[h]:
            lo, hi = max(0, it.day - dyn.publish_ahead_days), min(T - 1, it.end_day)
            if hi >= lo:
                bk = strategy.backup_pins(sim.calendar, it, max(it.day, 0))
                pub[
                    lo : hi + 1,
                    list(strategy.targets(sim.calendar, it, max(it.day, 0)))
                    + list(bk.leaf | bk.ca),
                ] = True
        return pub

    def prob(on, off):
        out = np.zeros((len(b), T))
        for v, bv in enumerate(b):
            for day in range(T):
                if not checked[v, day]:
                    out[v, day] = off[day]
                elif bv <= day:
                    f = np.arange(bv + 1, day + 1)
                    w = q[day, f]
                    out[v, day] = (w * on[day, f]).sum() + (1 - w.sum()) * on[day, bv]
        return out

    out = {}
    for c in sim.clients:
        lk, lk_off = np.zeros((T, T), dtype=bool), np.zeros(T, dtype=bool)
        vi = np.zeros((T, T), dtype=bool)
        rej = {a: np.ones((T, T), dtype=bool) for a in sim.attack_labels}
        rej_off = {a: np.ones(T, dtype=bool) for a in sim.attack_labels}
        for h in sim.table.hosts:
            ch = sim.table.legit[(h, c.name)]
            pub = pub_of(h)
            acc = (pub[:, ch.leaf].any(-1) | pub[:, ch.ca].any(-1)).T[seg]
            tr = ch.trusted[seg]
            enf = fresh & strategy.pins_host(h) & strategy.enforce
            lk |= ~tr[:, None] | (enf & ~acc)
            lk_off |= ~tr
            vi |= tr[:, None] & fresh & strategy.pins_host(h) & ~acc
            for a in sim.attack_labels:
                if h in targets_of(sim, a):
                    ach = sim.table.attack[(a, h, c.name)]
                    acc_a = (pub[:, ach.leaf].any(-1) | pub[:, ach.ca].any(-1)).T[seg]
                    at = ach.trusted[seg]
                    rej[a] &= ~at[:, None] | (enf & ~acc_a)
                    rej_off[a] &= ~at
        out[(c.name, "lock")] = prob(lk, lk_off)
        out[(c.name, "violation")] = prob(vi, np.zeros(T, dtype=bool))
        for a in sim.attack_labels:
            out[(c.name, a)] = prob(~lk & rej[a], ~lk_off & rej_off[a])
    return out


@pytest.mark.parametrize(
    "dyn",
    [
        {"refresh_days": 3, "fetch_success": 0.6, "publish_ahead_days": 5, "max_age_days": 10},
        {
            "refresh_days": 1,
            "fetch_success": 0.95,
            "publish_ahead_days": 0,
            "max_age_days": 4,
            "on_stale": "fail_closed",
        },
        {
            "refresh_days": 7,
            "fetch_success": 0.3,
            "publish_ahead_days": 20,
            "max_age_days": 30,
            "on_stale": "fail_closed",
        },
        {"refresh_days": 2, "fetch_success": 1.0, "publish_ahead_days": 3, "max_age_days": 2},
    ],
)
def test_probabilities_equal_the_dense_reference(dyn):
    check_against_reference(dyn)


def test_chunks_of_days_change_nothing(monkeypatch):
    """A few days per chunk: band pairs and windows split across chunk boundaries."""
    from simlib.engine import dynamic

    monkeypatch.setattr(dynamic, "CHUNK", 40)
    check_against_reference(
        {"refresh_days": 3, "fetch_success": 0.6, "publish_ahead_days": 5, "max_age_days": 10}
    )
    check_against_reference({"refresh_days": 1, "fetch_success": 0.9, "on_stale": "fail_closed"})


def check_against_reference(dyn):
    sc = make(
        {
            "end": "2025-08-31",
            "fleet.platforms": {"android": 0.5, "ios": 0.5},
            "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}],
            "cas[0].selection": "random",
            "hosts[0].validity_days": 40,
            "hosts[0].renew_before_days": 10,
        },
        strategies=[
            {"name": "leaf", "pin": "leaf_spki", "dynamic": dyn},
            {"name": "int", "pin": "intermediate_spki", "dynamic": dyn, "expires_after_days": 50},
        ],
        attacks=["rogue_ca", "same_ca_misissuance", "stolen_leaf_key"],
    )
    res = simulate(sc)
    sim = res.simulation
    for st in sim.strategies:
        tables = res.runs[st.name].tables
        ref = reference_probabilities(sim, st, tables.releases)
        for c in sim.clients:
            np.testing.assert_allclose(
                tables.lock[c.name], ref[(c.name, "lock")], rtol=1e-12, atol=1e-15
            )
            np.testing.assert_allclose(
                tables.violate[c.name], ref[(c.name, "violation")], rtol=1e-12, atol=1e-15
            )
            for a in sim.attack_labels:
                np.testing.assert_allclose(
                    tables.protect[c.name][a], ref[(c.name, a)], rtol=1e-12, atol=1e-15
                )


# ------------------------------------- compact tables and sums against the dense (V, T) product
COMPACT = {
    "end": "2025-12-31",
    "fleet.platforms": {"android": 0.6, "ios": 0.4},
    "fleet.new_installs": {"per_day": 5.0},
    "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}],
    "cas[0].selection": "random",
    "hosts[0].validity_days": 40,
    "hosts[0].renew_before_days": 10,
}
COMPACT_STRATEGIES = [
    {
        "name": "open",
        "pin": "leaf_spki",
        "dynamic": {
            "refresh_days": 3,
            "fetch_success": 0.6,
            "publish_ahead_days": 5,
            "max_age_days": 10,
        },
    },
    {
        "name": "open-expiring",
        "pin": "intermediate_spki",
        "expires_after_days": 50,
        "dynamic": {
            "refresh_days": 2,
            "fetch_success": 0.9,
            "publish_ahead_days": 0,
            "max_age_days": 4,
        },
    },
    {
        "name": "closed",
        "pin": "leaf_spki",
        "dynamic": {
            "refresh_days": 1,
            "fetch_success": 0.95,
            "publish_ahead_days": 2,
            "on_stale": "fail_closed",
        },
    },
    {
        "name": "closed-expiring",
        "pin": "intermediate_spki",
        "expires_after_days": 30,
        "dynamic": {
            "refresh_days": 7,
            "fetch_success": 0.3,
            "publish_ahead_days": 20,
            "on_stale": "fail_closed",
        },
    },
]


def compare_sums(res):
    from simlib.engine.aggregate import verdict_columns
    from simlib.engine.dynamic_views import DynamicView, _dense_sums, per_day_sums

    sim = res.simulation
    checked = 0
    for name, run in res.runs.items():
        tables = run.tables
        for c in sim.clients:
            cols = verdict_columns(sim, tables, c)
            assert all(isinstance(m, DynamicView) for m in cols)
            got, got_newly = per_day_sums(cols, run.counts[c.name], sim.days)
            want, want_newly = _dense_sums(cols, run.counts[c.name], sim.days)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9, err_msg=f"{name} {c.name}")
            np.testing.assert_allclose(
                got_newly, want_newly, rtol=1e-12, atol=1e-9, err_msg=f"{name} {c.name}"
            )
            checked += want.any() + want_newly.any()
    assert checked  # the comparison saw non-zero series


def test_compact_sums_equal_the_dense_product():
    """fail open and fail closed, with and without expiry, installs, two platforms."""
    res = simulate(
        make(COMPACT, strategies=COMPACT_STRATEGIES, attacks=["rogue_ca", "stolen_leaf_key"])
    )
    compare_sums(res)
    for run in res.runs.values():  # old, expired and band values all occur
        lk = run.tables.lock["android"]
        assert lk.width < lk.shape[1] or run.tables.strategy.name == "closed-expiring"


@pytest.mark.parametrize("review", [2, 5])
def test_compact_sums_with_fixes_and_prompts(review):
    """Incident fixes (prompt steps in A(k, t)). Reviewed within the build lead (3 days), a fix
    is built before every later release; reviewed longer, build days are out of version order
    and the sums fall back to the dense product."""
    ir = {
        "incident_response": {
            "threshold": 0.001,
            "detect_days": 2,
            "review_days": review,
            "forced_update": {"comply_share": 0.5},
        }
    }
    res = simulate(make({**COMPACT, **ir}, strategies=COMPACT_STRATEGIES[:3]))
    fixed = [run for run in res.runs.values() if run.fixes]
    assert fixed
    in_order = [bool(np.all(np.diff(run.tables.build_days) >= 0)) for run in fixed]
    assert all(in_order) if review <= 3 else not any(in_order)
    compare_sums(res)


def test_view_indexes_like_the_dense_array():
    res = simulate(make(COMPACT, strategies=COMPACT_STRATEGIES[1:2], attacks=["rogue_ca"]))
    view = res.runs["open-expiring"].tables.protect["ios"]["rogue_ca"]
    dense = np.array(view[:, :])
    V, T = dense.shape
    rng = np.random.default_rng(0)
    k, t = rng.integers(V, size=50), rng.integers(T, size=50)
    np.testing.assert_array_equal(view[k, t], dense[k, t])
    np.testing.assert_array_equal(view[:, 17], dense[:, 17])
    np.testing.assert_array_equal(view[3], dense[3])
    np.testing.assert_array_equal(view[k, :], dense[k, :])
    np.testing.assert_array_equal(view[:, t], dense[:, t])
    np.testing.assert_array_equal(view[2:9:3, -5:], dense[2:9:3, -5:])
    assert view[-1, -1] == dense[-1, -1]
    np.testing.assert_array_equal(np.asarray(view), dense)
