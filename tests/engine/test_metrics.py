"""Summary metrics: episodes, lockout events, economics, and the one definition of each of
exposed share, break and expected cost (docs/model.md, "Definitions")."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.engine.metrics import (
    _runs,
    break_mask,
    cost_rates,
    expected_cost,
    exposed_share,
    summary_row,
)
from simlib.model import Economics
from tests.conftest import make


def test_runs():
    assert _runs(np.array([False, True, True, False, True])) == (2, 2)
    assert _runs(np.zeros(5, dtype=bool)) == (0, 0)
    assert _runs(np.ones(4, dtype=bool)) == (1, 4)


def test_summary_row_by_hand():
    sc = make(
        {"end": "2025-01-05", "metrics.outage_threshold": 0.05},
        attacks=["rogue_ca"],
        economics={
            "cost_per_locked_user_day": 2.0,
            "attack_probability_per_day": {"rogue_ca": 0.1},
            "loss_per_successful_attack": 1000.0,
        },
    )
    active = np.full(5, 100.0)
    series = {
        "locked": np.array([0, 10, 20, 0, 6.0]),
        "newly_locked": np.array([0, 10, 10, 0, 6.0]),
        "violation": np.zeros(5),
        "protected:rogue_ca": np.array([50, 40, 30, 100, 0.0]),
    }
    row = summary_row(sc, series, active, ["rogue_ca"])
    assert row["locked_user_days"] == 36
    assert row["peak_lockout_rate"] == pytest.approx(0.2)
    assert str(row["peak_date"]) == "2025-01-03"
    assert (row["outage_episodes"], row["longest_outage_days"]) == (2, 2)
    assert row["lockout_events"] == 3
    exposed = np.array([0.5, 0.5, 0.5, 0.0, 0.94])
    assert row["mean_exposed_rogue_ca"] == pytest.approx(exposed.mean())
    assert row["expected_outage_cost"] == pytest.approx(72.0)
    assert row["expected_attack_loss"] == pytest.approx(0.1 * 1000 * exposed.sum())


def test_economics_ranks_strategies():
    sc = make(
        strategies=[{"name": "none", "pin": "none"}, {"name": "leaf", "pin": "leaf_spki"}],
        attacks=["rogue_ca"],
        economics={
            "cost_per_locked_user_day": 0.5,
            "attack_probability_per_day": {"rogue_ca": 0.01},
            "loss_per_successful_attack": {"rogue_ca": 5.0},
        },
    )
    s = simulate(sc).summary.set_index("strategy")
    assert s.loc["none", "expected_outage_cost"] == 0
    assert s.loc["none", "expected_attack_loss"] == pytest.approx(0.01 * 5.0 * 365)
    assert set(s["cost_rank"]) == {1, 2}
    assert "expected_total_cost" not in simulate(make()).summary


def test_exposed_share_closed_form():
    """1 − locked − protected, never below 0 (a rounding excess is not a negative exposure)."""
    rate = np.array([0.0, 0.2, 0.5, 1.0])
    prot = np.array([0.3, 0.8, 0.5, 0.0])
    np.testing.assert_allclose(exposed_share(rate, prot), [0.7, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(exposed_share(np.array([0.1]), np.array([0.2])), [0.7])


def test_break_mask_closed_form():
    newly = np.array([0.0, 1.0, 5.0, 0.5, 3.0])
    active = np.array([100.0, 100.0, 100.0, 100.0, 0.0])
    np.testing.assert_array_equal(break_mask(newly, active, 0.0), [False, True, True, True, False])
    np.testing.assert_array_equal(
        break_mask(newly, active, 0.01), [False, False, True, False, False]
    )


def test_cost_rates_scalar_and_per_class_losses():
    eco = Economics(
        cost_per_locked_user_day=2.0,
        attack_probability_per_day={"a": 0.1},
        loss_per_successful_attack=50.0,
    )
    assert cost_rates(eco, ["a", "b"]) == (2.0, {"a": 0.1, "b": 0.0}, {"a": 50.0, "b": 50.0})
    eco = Economics(
        cost_per_locked_user_day=1.0,
        attack_probability_per_day={"a": 0.1, "b": 0.2},
        loss_per_successful_attack={"b": 7.0},
    )
    assert cost_rates(eco, ["a", "b"]) == (1.0, {"a": 0.1, "b": 0.2}, {"a": 0.0, "b": 7.0})


def test_expected_cost_closed_form():
    """c · Σ locked + Σ_a p_a · ℓ_a · Σ_t exposed share."""
    locked = np.array([0.0, 10.0, 30.0])
    exposed = {"a": np.array([0.5, 0.25, 0.25]), "b": np.array([1.0, 1.0, 0.0])}
    outage, loss = expected_cost(locked, exposed, 3.0, {"a": 0.1, "b": 0.5}, {"a": 100.0, "b": 2.0})
    assert outage == pytest.approx(120.0)
    assert loss == pytest.approx(0.1 * 100.0 * 1.0 + 0.5 * 2.0 * 2.0)
    assert expected_cost(locked, exposed, 0.0, {}, {}) == (0.0, 0.0)
