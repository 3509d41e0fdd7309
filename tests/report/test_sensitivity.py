"""Sensitivity figures from a stored sweep: heatmap cells are the stored means, error bars
the stored 5th and 95th percentiles."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import simlib
from simlib.report import sensitivity, sweeps
from tests.conftest import make
from tests.report.stored_sweep import LAG, LIFETIME, STRATEGIES, lockout


def test_heatmap_cells_are_the_pivot(stats):
    table = sweeps.pivot(lockout(stats), LIFETIME, LAG)
    fig, ax = plt.subplots()
    sensitivity.plot_heatmap(lockout(stats), LIFETIME, LAG, ax=ax)
    np.testing.assert_allclose(ax.images[0].get_array(), table.to_numpy())
    assert ax.get_xlabel() == "leaf certificate lifetime (days)"
    assert ax.get_ylabel() == "slow adopters' mean update lag (days)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["90", "40", "60"]
    cells = [t.get_text() for t in ax.texts]
    assert f"{table.loc[20, 90]:.1%}" in cells and len(cells) == 6
    plt.close(fig)


def test_bands_are_the_stored_percentiles(stats):
    part = sweeps.at(stats[stats["metric"] == "mean_lockout_rate"], {LAG: 20}, keep=[LIFETIME])
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
    stats = sweeps.load_stats(out, "mean_lockout_rate")
    fig, ax = plt.subplots()
    sensitivity.plot_bands(stats, LIFETIME, group="strategy", ax=ax)
    assert not ax.containers and len(ax.get_lines()) == 3
    assert "p5" not in ax.get_ylabel()
    plt.close(fig)
