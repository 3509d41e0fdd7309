"""Per-user outage spells (exact, by lag cohort)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.api import simulate
from simlib.fleet.adoption import AdoptionCurve
from tests.conftest import make

T = 180
ONE_ROTATION = {
    "end": "2025-06-29",
    "hosts[0].validity_days": 200,
    "hosts[0].renew_before_days": 100,
}


def test_spell_length_is_time_to_the_first_good_version():
    """One rotation on day 100; the first version with the new key is released on day 112. A
    user with lag ℓ stays locked from day 100 until day 112 + ℓ: a spell of 12 + ℓ days, cut at
    the horizon (censored) when 112 + ℓ > 179."""
    sc = make(ONE_ROTATION, strategies=[{"name": "leaf", "pin": "leaf_spki"}])
    res = simulate(sc)
    d = res.outage_durations("leaf")
    pmf = AdoptionCurve(sc.fleet.adoption).lag_pmf(T) * sc.fleet.users
    want: dict[tuple[int, bool], float] = {}
    for lag, w in enumerate(pmf):
        end = 112 + lag if lag <= T else 10**9
        length = min(end, T) - 100
        key = (length, end > T - 1)
        want[key] = want.get(key, 0.0) + w
    got = {(int(r.duration_days), bool(r.censored)): r.spells for r in d.itertuples()}
    assert set(got) == {k for k, v in want.items() if v > 0}
    for k, v in want.items():
        if v > 0:
            assert got[k] == pytest.approx(v, rel=1e-12)


def test_dynamic_strategies_point_to_monte_carlo():
    sc = make(ONE_ROTATION, strategies=[{"name": "d", "pin": "leaf_spki", "dynamic": {}}])
    with pytest.raises(ValueError, match="use Monte Carlo"):
        simulate(sc).outage_durations("d")


def test_stats_of_a_known_distribution():
    from simlib.engine.durations import SpellTable

    n = 4
    lags = np.arange(n)
    table = SpellTable(
        np.zeros(n, int),
        np.zeros(n, bool),
        lags,
        lags,
        np.array([1, 2, 3, 10]),
        np.array([False, False, False, True]),
        np.zeros(1, int),
        np.zeros(1, bool),
        np.zeros(1, int),
        np.array([n - 1]),
        False,
    )
    stats = table.stats(np.array([1.0, 1.0, 1.0, 1.0]), 4.0)
    assert stats["mean_outage_days"] == 4.0 and stats["max_outage_days"] == 10
    assert stats["p50_outage_days"] == 2 and stats["users_ever_locked"] == 4
    assert stats["censored_spells"] == 1


def test_duration_stats_match_monte_carlo_columns():
    from simlib.results.montecarlo import monte_carlo

    sc = make(ONE_ROTATION, strategies=[{"name": "leaf", "pin": "leaf_spki"}])
    stats = simulate(sc).duration_stats.set_index("strategy")
    rows = monte_carlo(sc, 100, seed=3).replications
    for col in ("users_ever_locked", "outage_spells", "mean_outage_days", "censored_spells"):
        values = rows[col].to_numpy()
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - stats.loc["leaf", col]) <= 3 * se + 1e-9, col


# ----------------------------------------------------------- against the day-by-day reference
def reference_spells(sim, tables) -> dict:
    """The straightforward algorithm: every (client, complier, lag) group's version on every
    day, its locked days, and the maximal runs of them (O(lags × days))."""
    from simlib.engine.prompts import fix_indices, prompt_days
    from simlib.fleet.releases import normal_version, windows

    T = sim.days
    lags = np.arange(T + 2)
    t = np.arange(T)
    fixes = fix_indices(tables)
    split = bool(fixes) and sim.comply_share > 0
    normal = normal_version(windows(tables.release_days, T), lags[:, None], t[None, :])
    out = {}
    for ci, c in enumerate(sim.clients):
        for complier in (False, True) if split else (False,):
            version = normal
            if complier:
                E = prompt_days(sim, tables, c, np.zeros(len(lags), dtype=int), lags, fixes)
                floor = np.full((len(lags), T), -1)
                for n, k in enumerate(fixes):  # runs fix k from day E[:, n] on
                    floor = np.where(t[None, :] >= E[:, n, None], np.maximum(floor, k), floor)
                version = np.maximum(normal, floor)
            locked = np.asarray(tables.lock[c.name], dtype=bool)[
                version, tables.seg_of_day[None, :]
            ]
            for lag in lags:
                row = locked[lag]
                d = np.diff(np.concatenate([[0], row.astype(int), [0]]))
                starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
                out[(ci, complier, int(lag))] = [
                    (int(e - s), bool(e == T)) for s, e in zip(starts, ends, strict=True)
                ]
    return out


def expand(table) -> dict:
    """The grouped SpellTable back to one list of (length, censored) per (client, complier, lag)."""
    out: dict = {}
    for i in range(len(table.length)):
        for lag in range(int(table.lag_lo[i]), int(table.lag_hi[i]) + 1):
            key = (int(table.client[i]), bool(table.complier[i]), lag)
            out.setdefault(key, []).append((int(table.length[i]), bool(table.censored[i])))
    return {k: sorted(v) for k, v in out.items()}


def reference_stats(sim, cohorts, spells: dict) -> dict:
    lengths, cens, w, ever = [], [], [], 0.0
    for (ci, complier, lag), runs in spells.items():
        c = sim.clients[ci]
        comp = c.share * cohorts.base_complier[lag] if any(k[1] for k in spells) else 0.0
        weight = comp if complier else c.share * cohorts.base[lag] - comp
        for length, censored in runs:
            lengths.append(length), cens.append(censored), w.append(weight)
        if runs:
            ever += weight
    from simlib.engine.durations import spell_stats

    return spell_stats(np.array(lengths), np.array(cens, dtype=bool), np.array(w), ever)


CASES = {
    "random intermediates, two hosts, expiry": make(
        {
            "end": "2026-06-30",
            "fleet.platforms": {"android": 0.7, "ios": 0.3},
            "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}],
            "cas[0].selection": "random",
            "hosts[0].validity_days": 60,
            "hosts[0].renew_before_days": 20,
            "hosts[0].pregenerate_next_key": True,
        },
        hosts=[
            {
                "name": "api.test",
                "ca": "ca1",
                "validity_days": 60,
                "renew_before_days": 20,
                "key_policy": "rotate",
                "pregenerate_next_key": True,
            },
            {
                "name": "cdn.test",
                "ca": "ca2",
                "validity_days": 45,
                "renew_before_days": 5,
                "key_policy": {"rotate_every": 2},
            },
        ],
        strategies=[
            {"name": "leaf", "pin": "leaf_spki"},
            {"name": "int", "pin": "intermediate_spki"},
            {"name": "next", "pin": "leaf_spki", "backup": ["next_key"], "hosts": ["api.test"]},
            {"name": "exp", "pin": "leaf_spki", "expires_after_days": 40},
            {"name": "cert", "pin": "leaf_cert"},
        ],
    ),
    "forced updates, pinned endpoint": make(
        {
            "end": "2025-12-31",
            "hosts[0].validity_days": 70,
            "hosts[0].renew_before_days": 25,
            "incident_response": {
                "threshold": 0.01,
                "detect_days": 2,
                "review_days": 3,
                "forced_update": {"comply_share": 0.4},
            },
        },
        strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "cert", "pin": "leaf_cert"}],
    ),
    "forced updates, unpinned endpoint, empirical curve": make(
        {
            "end": "2025-10-31",
            "fleet.adoption": {"points": [[0, 0.0], [5, 0.4], [30, 0.9], [60, 0.97]]},
            "hosts[0].validity_days": 50,
            "hosts[0].renew_before_days": 10,
            "incident_response": {
                "threshold": 0.05,
                "detect_days": 1,
                "review_days": 2,
                "update_check_host": None,
                "forced_update": {"comply_share": 0.7},
            },
        },
        strategies=[{"name": "leaf", "pin": "leaf_spki"}],
    ),
    # lag_pmf underflows to 0.0 from ℓ ≈ 110 on: the default table covers lags 0..cap and T + 1
    "random intermediates, short-tailed curve": make(
        {
            "end": "2025-12-31",
            "fleet.adoption": {
                "never_update_share": 0.05,
                "components": [
                    {"weight": 0.6, "mean_lag_days": 1},
                    {"weight": 0.4, "mean_lag_days": 3},
                ],
            },
            "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}, {"name": "I3"}],
            "cas[0].selection": "random",
            "hosts[0].validity_days": 30,
            "hosts[0].renew_before_days": 7,
        },
        strategies=[
            {"name": "int", "pin": "intermediate_spki"},
            {"name": "leaf", "pin": "leaf_spki"},
        ],
    ),
}


def test_short_tailed_curve_leaves_lags_out():
    from simlib.engine.durations import lag_domain, spell_table

    res = simulate(CASES["random intermediates, short-tailed curve"])
    cap, domain = lag_domain(res.simulation)
    assert 0 < cap < res.simulation.days - 100 and domain[-1] == (res.simulation.days + 1,) * 2
    table = spell_table(res.simulation, res.runs["int"].tables)
    assert table.lag_hi.max() == res.simulation.days + 1
    cohorts = res.simulation.cohorts_expected()
    cohorts.base[cap + 1] = 1.0
    with pytest.raises(ValueError, match="lags this spell table leaves out"):
        table.weights(res.simulation, cohorts)


@pytest.mark.parametrize("case", list(CASES))
def test_spells_equal_the_day_by_day_reference(case):
    from simlib.engine.durations import lag_domain, spell_table

    res = simulate(CASES[case])
    sim = res.simulation
    cohorts = sim.cohorts_expected()
    cap, _ = lag_domain(sim)
    for name, run in res.runs.items():
        ref = reference_spells(sim, run.tables)
        want_all = {k: sorted(v) for k, v in ref.items() if v}
        assert expand(spell_table(sim, run.tables, full=True)) == want_all, (case, name)
        # the default table: only the lags that can carry users (0..cap and "never", T + 1)
        table = spell_table(sim, run.tables)
        assert table.lag_cap == cap
        assert expand(table) == {
            k: v for k, v in want_all.items() if k[2] <= cap or k[2] == sim.days + 1
        }
        want = reference_stats(sim, cohorts, ref)
        stats = res.duration_stats.set_index("strategy").loc[name].to_dict()
        for key, value in want.items():
            assert stats[key] == pytest.approx(value, rel=1e-12, abs=1e-9), (case, name, key)
        # the distribution too
        d = res.outage_durations(name)
        assert d["spells"].sum() == pytest.approx(want["outage_spells"], rel=1e-12)


@pytest.mark.parametrize(
    "case", ["random intermediates, two hosts, expiry", "forced updates, pinned endpoint"]
)
def test_small_blocks_give_the_same_spells(case, monkeypatch):
    """Rows swept a few at a time (open spells carried from block to block) give the table of
    the day-by-day reference, and the histogram weighted block by block gives its statistics."""
    from simlib.engine import spell_sweep
    from simlib.engine.durations import spell_histogram, spell_table

    monkeypatch.setattr(spell_sweep, "BLOCK", 8)
    res = simulate(CASES[case])
    sim = res.simulation
    cohorts = sim.cohorts_expected()
    for name, run in res.runs.items():
        ref = reference_spells(sim, run.tables)
        want_all = {k: sorted(v) for k, v in ref.items() if v}
        assert expand(spell_table(sim, run.tables, full=True)) == want_all, (case, name)
        table = spell_table(sim, run.tables)
        hist = spell_histogram(sim, run.tables, cohorts)
        want = table.summary(sim, cohorts)
        for key, value in hist.summary().items():
            assert value == pytest.approx(want[key], rel=1e-12, abs=1e-9), (case, name, key)
        frame = table.weighted(name, cohorts, sim)
        np.testing.assert_allclose(hist.weighted(name)["spells"], frame["spells"], rtol=1e-12)
        assert list(hist.weighted(name)["duration_days"]) == list(frame["duration_days"])


def test_a_strategy_that_never_locks_skips_the_sweep(monkeypatch):
    """No verdict locks anyone (no pinning, a root that never changes): the histogram is empty
    without sweeping, and equals what the sweep finds; a strategy that locks is still swept."""
    from simlib.engine import durations

    sc = make(
        ONE_ROTATION,
        strategies=[
            {"name": "none", "pin": "none"},
            {"name": "root", "pin": "root_spki"},
            {"name": "leaf", "pin": "leaf_spki"},
        ],
    )
    res = simulate(sc)
    sim = res.simulation
    cohorts = sim_cohorts = sim.cohorts_expected()
    swept = []
    real_families = durations._families
    monkeypatch.setattr(
        durations,
        "_families",
        lambda s, t, d: swept.append(t.strategy.name) or real_families(s, t, d),
    )
    for name in ("none", "root"):
        hist = durations.spell_histogram(sim, res.runs[name].tables, sim_cohorts)
        assert len(hist.length) == len(hist.spells) == 0 and hist.ever == 0.0
        assert hist.summary() == durations.spell_table(sim, res.runs[name].tables).summary(
            sim, cohorts
        )
    assert swept == ["none", "root"]  # spell_table's sweeps only: the histograms skipped theirs
    leaf = durations.spell_histogram(sim, res.runs["leaf"].tables, sim_cohorts)
    assert swept[-1] == "leaf" and leaf.ever > 0 and leaf.spells.sum() > 0


def _masked_block_sums(w, lo, hi):
    """The aligned-block sums with masked updates, term by term as interval_sums adds them."""
    out = np.zeros(len(lo))
    level = np.asarray(w, dtype=float)
    left, right = np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64) + 1
    while (left < right).any():
        m = ((left & 1) == 1) & (left < right)
        out[m] += level[left[m]]
        left[m] += 1
        m = ((right & 1) == 1) & (left < right)
        right[m] -= 1
        out[m] += level[right[m]]
        left >>= 1
        right >>= 1
        if len(level) % 2:
            level = np.append(level, 0.0)
        level = level[0::2] + level[1::2]
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(0, 1e6) | st.just(0.0), min_size=1, max_size=300),
    st.lists(st.tuples(st.integers(0, 299), st.integers(0, 299)), min_size=1, max_size=40),
)
def test_interval_sums_add_the_same_blocks_in_the_same_order(w, pairs):
    """Bit for bit the masked block sums (no term added twice, none left out, one order), and
    within rounding of the exact sum."""
    import math

    from simlib.engine.spell_sweep import interval_sums

    w = np.array(w) + 0.5  # fractional: the block path, not the integer prefix sums
    lo = np.array([min(a, b) % len(w) for a, b in pairs])
    hi = np.array([max(max(a, b) % len(w), min(a, b) % len(w)) for a, b in pairs])
    got = interval_sums(w, lo, hi)
    many = lo < hi
    want = _masked_block_sums(w, lo[many], hi[many])
    assert np.array_equal(got[many].view(np.int64), want.view(np.int64))
    assert np.array_equal(got[~many], w[lo[~many]])
    for g, a, b in zip(got, lo, hi, strict=True):
        assert g == pytest.approx(math.fsum(w[a : b + 1]), rel=1e-13)


def test_strategies_with_equal_verdicts_share_one_sweep():
    """A leaf certificate pin and a leaf key pin lock alike when every renewal brings a new key:
    equal spell keys, one histogram, the statistics a sweep of each gives; different verdicts
    (an expiring pin) or fix releases compliers take get their own."""
    from simlib.engine.durations import spell_histogram, spell_key

    sc = make(
        {**ONE_ROTATION, "hosts[0].key_policy": "rotate"},
        strategies=[
            {"name": "leaf", "pin": "leaf_spki"},
            {"name": "cert", "pin": "leaf_cert"},
            {"name": "exp", "pin": "leaf_spki", "expires_after_days": 20},
        ],
    )
    res = simulate(sc)
    sim, cohorts = res.simulation, res.simulation.cohorts_expected()
    keys = {name: spell_key(sim, run.tables) for name, run in res.runs.items()}
    assert keys["leaf"] == keys["cert"] is not None and keys["exp"] != keys["leaf"]
    assert res._spells("cert") is res._spells("leaf")
    for name, run in res.runs.items():
        alone = spell_histogram(sim, run.tables, cohorts)
        assert res._spells(name).summary() == alone.summary()
    stats = res.duration_stats.set_index("strategy")
    assert stats.loc["cert"].equals(stats.loc["leaf"]) and stats.loc["leaf", "outage_spells"] > 0

    forced = simulate(CASES["forced updates, pinned endpoint"])
    assert all(spell_key(forced.simulation, r.tables) is None for r in forced.runs.values())
    dynamic = simulate(
        make(ONE_ROTATION, strategies=[{"name": "d", "pin": "leaf_spki", "dynamic": {}}])
    )
    assert spell_key(dynamic.simulation, dynamic.runs["d"].tables) is None
