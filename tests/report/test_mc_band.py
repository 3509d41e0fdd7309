"""The Monte Carlo band on the ranked table: it agrees with expected mode, contains the exact
value, counts first places with ties, is seeded, and says when the ranking is within noise."""

from __future__ import annotations

import pandas as pd
import pytest

import simlib
from simlib.report import mc_band as mcb
from simlib.report.decision import ranked_table
from tests.conftest import make

STRATEGIES = [
    {"name": "leaf key", "pin": "leaf_spki"},
    {"name": "none", "pin": "none"},
    {"name": "root", "pin": "root_spki"},
    {"name": "root again", "pin": "root_spki"},
]
ECONOMICS = {
    "cost_per_locked_user_day": 0.5,
    "attack_probability_per_day": {"rogue_ca": 0.01},
    "loss_per_successful_attack": 1000.0,
}


@pytest.fixture(scope="module")
def priced():
    sc = make({"economics": ECONOMICS}, strategies=STRATEGIES, attacks=["rogue_ca"])
    res = simlib.simulate(sc)
    return res, mcb.mc_band(res, replications=30)


def test_band_agrees_with_the_exact_values(priced) -> None:
    res, band = priced
    table = ranked_table(res)
    assert list(band["strategy"]) == list(table["strategy"])
    assert list(band["exact_locked_user_days"]) == list(table["locked_user_days"])
    assert list(band["exact_expected_cost"]) == list(table["expected_cost"])
    leaf = band.set_index("strategy").loc["leaf key"]
    assert leaf["mc_se_locked_user_days"] > 0  # sampled fleets do differ
    for col in ("locked_user_days", "expected_cost"):
        gap = (band[f"mc_mean_{col}"] - band[f"exact_{col}"]).abs()
        assert (gap <= mcb.AGREE_SE * band[f"mc_se_{col}"] + 1e-6).all(), col
        assert (band[f"p5_{col}"] <= band[f"exact_{col}"] + 1e-6).all(), col
        assert (band[f"exact_{col}"] <= band[f"p95_{col}"] + 1e-6).all(), col
    assert mcb.disagreeing(band) == [] and mcb.disagreeing(band, "expected_cost") == []


def test_cost_of_each_replication_is_the_engines(priced) -> None:
    """The band prices replications from their sampled means; the engine's summary prices them
    from the daily series (engine.metrics.expected_cost): the same number."""
    res, band = priced
    reps = simlib.simulate(res.scenario, mode="monte_carlo", replications=30).replications
    engine = reps.groupby("strategy", sort=False)["expected_total_cost"].mean()
    mine = band.set_index("strategy")["mc_mean_expected_cost"]
    pd.testing.assert_series_equal(mine.reindex(engine.index), engine, check_names=False, rtol=1e-9)


def test_first_places_count_ties(priced) -> None:
    _, band = priced
    first = band.set_index("strategy")["first_share"]
    # root and root again are equal in every replication: tied first or tied not first
    assert first["root"] == first["root again"]
    assert first["leaf key"] == 0.0  # it locks users out at every renewal
    assert first["root"] == 1.0 and first.sum() == 2.0  # each of the tied pair counts


def test_band_is_seeded_from_the_scenario(priced) -> None:
    res, band = priced
    assert band.attrs == {"replications": 30, "seed": res.scenario.seed}
    pd.testing.assert_frame_equal(mcb.mc_band(res, replications=30), band)
    other = mcb.mc_band(res, replications=30, seed=res.scenario.seed + 1)
    assert not other["mc_mean_locked_user_days"].equals(band["mc_mean_locked_user_days"])


def test_without_economics_the_band_has_no_cost() -> None:
    res = simlib.simulate(make(strategies=STRATEGIES[:2], attacks=["rogue_ca"]))
    band = mcb.mc_band(res, replications=5)
    assert "exact_expected_cost" not in band and "p5_expected_cost" not in band
    assert "expected cost" not in " ".join(mcb.band_frame(band).columns)
    assert band.set_index("strategy").loc["none", "first_share"] == 1.0


def _band(first: list[float], mean: list[float]) -> pd.DataFrame:
    band = pd.DataFrame(
        {
            "strategy": ["a", "b"],
            "exact_locked_user_days": [10.0, 20.0],
            "mc_mean_locked_user_days": mean,
            "mc_se_locked_user_days": [1.0, 1.0],
            "p5_locked_user_days": [8.0, 18.0],
            "p95_locked_user_days": [12.0, 22.0],
            "first_share": first,
        }
    )
    band.attrs = {"replications": 10, "seed": 3}
    return band


def test_text_says_when_the_ranking_is_within_noise() -> None:
    steady = mcb.band_text(_band([1.0, 0.0], [10.5, 20.0]), ("a",))
    assert "a: first in every replication" in steady and "within noise" not in steady
    assert "Every Monte Carlo mean is within 3 standard errors" in steady
    noisy = mcb.band_text(_band([0.6, 0.4], [14.0, 20.0]), ("a",))
    assert "The ranking is within noise: a ranks first in 60% of replications." in noisy
    assert "The Monte Carlo mean of a is more than 3 standard errors" in noisy
    cells = mcb.band_frame(_band([0.6, 0.4], [14.0, 20.0]))
    assert list(cells.iloc[0]) == ["a", "10", "14 ± 1", "8 – 12", "60%"]


@pytest.mark.parametrize(
    ("economics", "first"), [(True, ("leaf key",)), (False, ("none", "none again"))]
)
def test_first_place_rule_is_the_ranked_tables(economics, first) -> None:
    """rank_one, applied to the exact numbers, picks ranked_table's rank-1 group: the band
    counts first places by the report's own rule. Cheap lockouts make pinning win on cost;
    without economics the fewest locked user-days win, and the two unpinned tie."""
    strategies = [*STRATEGIES[:2], {"name": "none again", "pin": "none"}]
    over = {"economics": {**ECONOMICS, "cost_per_locked_user_day": 0.02}} if economics else {}
    res = simlib.simulate(make(over, strategies=strategies, attacks=["rogue_ca"]))
    table = ranked_table(res)
    assert tuple(table.loc[table["rank"] == 1, "strategy"]) == first
    rows = table.assign(protected=table["protected_rogue_ca"])
    assert mcb.rank_one(rows, by_cost=economics) == first
    assert mcb.rank_one(rows.iloc[::-1], by_cost=economics) == first[::-1]  # order-free
