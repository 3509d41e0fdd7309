"""Per-user outage spells (exact, by lag cohort)."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.fleet.cohorts import AdoptionCurve
from tests.conftest import make

T = 180
ONE_ROTATION = {"end": "2025-06-29", "hosts[0].validity_days": 200, "hosts[0].renew_before_days": 100}


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
    table = SpellTable(np.zeros(n, int), np.zeros(n, bool), np.arange(n), np.array([1, 2, 3, 10]),
                       np.array([False, False, False, True]), np.ones(n, bool), False)
    stats = table.stats(np.array([1.0, 1.0, 1.0, 1.0]))
    assert stats["mean_outage_days"] == 4.0 and stats["max_outage_days"] == 10
    assert stats["p50_outage_days"] == 2 and stats["users_ever_locked"] == 4
    assert stats["censored_spells"] == 1


def test_duration_stats_match_monte_carlo_columns():
    from simlib.engine.montecarlo import monte_carlo

    sc = make(ONE_ROTATION, strategies=[{"name": "leaf", "pin": "leaf_spki"}])
    stats = simulate(sc).duration_stats.set_index("strategy")
    rows = monte_carlo(sc, 100, seed=3).replications
    for col in ("users_ever_locked", "outage_spells", "mean_outage_days", "censored_spells"):
        values = rows[col].to_numpy()
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - stats.loc["leaf", col]) <= 3 * se + 1e-9, col
