"""Sensitivity figures from a stored sweep: heatmap cells are the stored means, error bars
the stored 5th and 95th percentiles."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import simlib
from simlib.report import sensitivity
from tests.conftest import make

LIFETIME, LAG = "hosts[0].validity_days", "fleet.adoption.components[1].mean_lag_days"
STRATEGIES = [
    {"name": "none", "pin": "none"},
    {"name": "leaf", "pin": "leaf_spki"},
    {"name": "intermediate", "pin": "intermediate_spki"},
]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A stored Monte Carlo sweep: lifetime 90 / 40 / 60 (base 90) × slow lag 20 / 5, 4 fleets."""
    out = tmp_path_factory.mktemp("sweep") / "mc"
    base = make(strategies=STRATEGIES)
    grid = {LIFETIME: [90, 40, 60], LAG: [20, 5]}
    simlib.sweep(base, grid, replications=4, seed=5, executor=None, out=out, progress=False)
    return out


@pytest.fixture(scope="module")
def stats(stored):
    return sensitivity.load_stats(stored)


def _lockout(stats, strategy="leaf"):
    return stats[(stats["metric"] == "mean_lockout_rate") & (stats["strategy"] == strategy)]


def test_axes_and_fixed_values(stored, stats):
    assert sensitivity.sweep_axes(stored) == [LIFETIME, LAG]
    assert sensitivity.varying(stats, [LIFETIME, LAG, "strategy"]) == [LIFETIME, LAG, "strategy"]
    fixed = sensitivity.fixed_values(stored, stats)
    assert fixed == {LIFETIME: 90, LAG: 20}  # the base's values, both visited
    assert sensitivity.base_scenario(stored).hosts[0].validity_days == 90
    assert sensitivity.strategies_of(stats) == ["none", "leaf", "intermediate"]


def test_pivot_and_heatmap_hold_the_stored_means(stored, stats):
    raw = simlib.load_results(stored)
    means = raw[raw["strategy"] == "leaf"].groupby([LAG, LIFETIME])["mean_lockout_rate"].mean()
    table = sensitivity.pivot(_lockout(stats), LIFETIME, LAG)
    assert table.columns.tolist() == [90, 40, 60]  # sweep order, not sorted
    assert table.index.tolist() == [20, 5]
    for lag in (20, 5):
        for life in (90, 40, 60):
            assert table.loc[lag, life] == pytest.approx(means.loc[(lag, life)], rel=1e-12)
    assert table.to_numpy().max() > 0
    fig, ax = plt.subplots()
    sensitivity.plot_heatmap(_lockout(stats), LIFETIME, LAG, ax=ax)
    np.testing.assert_allclose(ax.images[0].get_array(), table.to_numpy())
    assert ax.get_xlabel() == "leaf certificate lifetime (days)"
    assert ax.get_ylabel() == "slow adopters' mean update lag (days)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["90", "40", "60"]
    cells = [t.get_text() for t in ax.texts]
    assert f"{table.loc[20, 90]:.1%}" in cells and len(cells) == 6
    plt.close(fig)


def test_pivot_refuses_an_axis_left_free(stats):
    with pytest.raises(ValueError, match="hosts"):
        sensitivity.pivot(_lockout(stats), LAG, "strategy")


def test_bands_are_the_stored_percentiles(stats):
    part = sensitivity.at(stats[stats["metric"] == "mean_lockout_rate"], {LAG: 20}, keep=[LIFETIME])
    part = part[part["strategy"].isin(["leaf", "intermediate"])]
    fig, ax = plt.subplots()
    sensitivity.plot_bands(part, LIFETIME, group="strategy", ax=ax)
    containers = ax.containers
    assert [c.get_label() for c in containers] == ["leaf", "intermediate"]
    for container, name in zip(containers, ["leaf", "intermediate"], strict=True):
        want = part[part["strategy"] == name].set_index(LIFETIME).loc[[90, 40, 60]]
        line, _, (bars,) = container.lines
        np.testing.assert_allclose(line.get_ydata(), want["mean"])
        lows = [seg[:, 1].min() for seg in bars.get_segments()]
        highs = [seg[:, 1].max() for seg in bars.get_segments()]
        np.testing.assert_allclose(lows, want["p5"])
        np.testing.assert_allclose(highs, want["p95"])
    assert any((part["p95"] - part["p5"]) > 0)  # the bands are not degenerate
    xs = [c.lines[0].get_xdata() for c in containers]
    np.testing.assert_allclose(xs[1] - xs[0], 0.25)  # dodged sideways, evenly spaced
    np.testing.assert_allclose(np.diff(xs[0]), 1.0)
    assert ax.get_ylabel().endswith("(mean, p5–p95)")
    assert ax.get_legend() is not None
    plt.close(fig)


def test_effect_table_is_last_minus_first(stored, stats):
    fixed = sensitivity.fixed_values(stored, stats)
    table = sensitivity.effect_table(stats, [LIFETIME, LAG], fixed)
    row = table[
        (table["factor"] == sensitivity.axis_label(LIFETIME)) & (table["strategy"] == "leaf")
    ]
    piece = _lockout(stats)
    piece = piece[piece[LAG] == 20].set_index(LIFETIME)["mean"]
    assert row["change"].item() == pytest.approx(piece.loc[60] - piece.loc[90])
    assert table["change"].abs().is_monotonic_decreasing


def test_labels_are_words():
    assert sensitivity.axis_label("fleet.release_every_days") == "days between app releases"
    assert sensitivity.axis_label("strategies[3].dynamic.refresh_days") == "refresh (days)"
    assert sensitivity.axis_label("fleet.users") == "users"
    assert sensitivity.metric_label("mean_protected_rogue_ca").startswith(
        "users protected against rogue CA"
    )
    assert sensitivity.is_share("mean_lockout_rate") and not sensitivity.is_share(
        "locked_user_days"
    )


def test_expected_mode_draws_lines_without_bars(tmp_path):
    out = tmp_path / "exp"
    simlib.sweep(
        make(strategies=STRATEGIES),
        {LIFETIME: [90, 40]},
        seed=1,
        executor=None,
        out=out,
        progress=False,
    )
    stats = sensitivity.load_stats(out, "mean_lockout_rate")
    fig, ax = plt.subplots()
    sensitivity.plot_bands(stats, LIFETIME, group="strategy", ax=ax)
    assert not ax.containers and len(ax.get_lines()) == 3
    assert "p5" not in ax.get_ylabel()
    plt.close(fig)
