"""Reading a stored sweep: axes, fixed values, pivots and effects are the stored numbers."""

from __future__ import annotations

import pytest

import simlib
from simlib.report import sweeps
from tests.report.stored_sweep import LAG, LIFETIME, lockout


def test_axes_and_fixed_values(stored, stats):
    assert sweeps.sweep_axes(stored) == [LIFETIME, LAG]
    assert sweeps.varying(stats, [LIFETIME, LAG, "strategy"]) == [LIFETIME, LAG, "strategy"]
    fixed = sweeps.fixed_values(stored, stats)
    assert fixed == {LIFETIME: 90, LAG: 20}  # the base's values, both visited
    assert sweeps.base_scenario(stored).hosts[0].validity_days == 90
    assert sweeps.strategies_of(stats) == ["none", "leaf", "intermediate"]


def test_pivot_holds_the_stored_means(stored, stats):
    raw = simlib.load_results(stored)
    means = raw[raw["strategy"] == "leaf"].groupby([LAG, LIFETIME])["mean_lockout_rate"].mean()
    table = sweeps.pivot(lockout(stats), LIFETIME, LAG)
    assert table.columns.tolist() == [90, 40, 60]  # sweep order, not sorted
    assert table.index.tolist() == [20, 5]
    for lag in (20, 5):
        for life in (90, 40, 60):
            assert table.loc[lag, life] == pytest.approx(means.loc[(lag, life)], rel=1e-12)
    assert table.to_numpy().max() > 0


def test_pivot_refuses_an_axis_left_free(stats):
    with pytest.raises(ValueError, match="hosts"):
        sweeps.pivot(lockout(stats), LAG, "strategy")


def test_effect_table_is_last_minus_first(stored, stats):
    fixed = sweeps.fixed_values(stored, stats)
    table = sweeps.effect_table(stats, [LIFETIME, LAG], fixed)
    row = table[(table["factor"] == sweeps.axis_label(LIFETIME)) & (table["strategy"] == "leaf")]
    piece = lockout(stats)
    piece = piece[piece[LAG] == 20].set_index(LIFETIME)["mean"]
    assert row["change"].item() == pytest.approx(piece.loc[60] - piece.loc[90])
    assert table["change"].abs().is_monotonic_decreasing


def test_labels_are_words():
    assert sweeps.axis_label("fleet.release_every_days") == "days between app releases"
    assert sweeps.axis_label("strategies[3].dynamic.refresh_days") == "refresh (days)"
    assert sweeps.axis_label("fleet.users") == "users"
    assert sweeps.metric_label("mean_protected_rogue_ca").startswith(
        "users protected against rogue CA"
    )
    assert sweeps.is_share("mean_lockout_rate") and not sweeps.is_share("locked_user_days")
