"""Summary metrics: episodes, lockout events, economics."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.engine.metrics import _runs, summary_row
from tests.conftest import make


def test_runs():
    assert _runs(np.array([False, True, True, False, True])) == (2, 2)
    assert _runs(np.zeros(5, dtype=bool)) == (0, 0)
    assert _runs(np.ones(4, dtype=bool)) == (1, 4)


def test_summary_row_by_hand():
    sc = make({"end": "2025-01-05", "metrics.outage_threshold": 0.05},
              attacks=["rogue_ca"], economics={"cost_per_locked_user_day": 2.0,
                                               "attack_probability_per_day": {"rogue_ca": 0.1},
                                               "loss_per_successful_attack": 1000.0})
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
    sc = make(strategies=[{"name": "none", "pin": "none"}, {"name": "leaf", "pin": "leaf_spki"}],
              attacks=["rogue_ca"],
              economics={"cost_per_locked_user_day": 0.5, "attack_probability_per_day": {"rogue_ca": 0.01},
                         "loss_per_successful_attack": {"rogue_ca": 5.0}})
    s = simulate(sc).summary.set_index("strategy")
    assert s.loc["none", "expected_outage_cost"] == 0
    assert s.loc["none", "expected_attack_loss"] == pytest.approx(0.01 * 5.0 * 365)
    assert set(s["cost_rank"]) == {1, 2}
    assert "expected_total_cost" not in simulate(make()).summary
