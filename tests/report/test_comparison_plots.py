"""Comparison figures: one bar per strategy and world, panels per attack, Monte Carlo spread;
percent axes, escaped names, legends outside the data."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.ticker import PercentFormatter

import simlib
from simlib.report import comparison_plots as cp
from simlib.report import decision
from simlib.report.style import MUTED, PALETTE
from simlib.report.wording import human_count
from tests.conftest import make


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def answer_table() -> pd.DataFrame:
    rows = []
    for world in ("as given", "moved"):
        for i, name in enumerate(["cheap $5 pin", "root", "leaf"]):
            rows.append(
                {"world": world, "strategy": name, "mean_lockout": 0.1 * i,
                 "peak_lockout": 0.3 * i, "protected_mean": 0.5}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_variant_bars_one_bar_per_strategy_and_world_in_table_order() -> None:
    ax = cp.plot_variant_bars(answer_table(), "mean_lockout")
    bars = ax.patches
    assert len(bars) == 6
    assert {b.get_facecolor()[:3] for b in bars} == {
        matplotlib.colors.to_rgb(PALETTE[0]),
        matplotlib.colors.to_rgb(PALETTE[1]),
    }
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [r"cheap \$5 pin", "root", "leaf"]
    assert ax.yaxis_inverted()  # first strategy on top
    assert isinstance(ax.xaxis.get_major_formatter(), PercentFormatter)
    assert max(b.get_width() for b in bars) == pytest.approx(0.2)


def test_answer_panels_share_one_inverted_axis_and_a_legend_below() -> None:
    fig = cp.plot_answer(answer_table(), title="Q?")
    axes = fig.get_axes()
    assert len(axes) == 3
    assert all(ax.yaxis_inverted() for ax in axes)  # inverted once, not once per panel
    assert all(ax.get_legend() is None for ax in axes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["as given", "moved"]
    one_world = answer_table().query("world == 'moved'")
    fig = cp.plot_answer(one_world, panels=cp.LOCKOUT_PANELS)
    assert len(fig.get_axes()) == 2 and not fig.legends


def test_pareto_panels_one_per_attack_and_one_legend() -> None:
    sc = make(
        strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "none", "pin": "none"},
                    {"name": "root", "pin": "root_spki"}],
        attacks=["rogue_ca", "same_ca_misissuance", "stolen_leaf_key"],
    )  # fmt: skip
    front = decision.pareto(decision.ranked_table(simlib.simulate(sc)))
    fig = cp.plot_pareto_panels(front)
    visible = [ax for ax in fig.get_axes() if ax.get_visible()]
    assert len(visible) == 3
    assert all(ax.get_legend() is None for ax in visible)
    assert len(fig.legends) == 1
    assert (
        human_count(2.5e9) == "2.5B"
        and human_count(2.5e8) == "250M"
        and human_count(1200) == "1.2k"
        and human_count(0) == "0"
    )
    assert all(ax.xaxis.get_major_formatter().func is human_count for ax in visible)


def test_mc_distribution_boxes_per_strategy_grey_when_never_locked() -> None:
    sc = make(strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "none", "pin": "none"}])
    mc = simlib.simulate(sc, mode="monte_carlo", replications=4)
    fig = cp.plot_mc_distribution(mc.replications)
    share_ax, days_ax = fig.get_axes()
    assert [t.get_text() for t in share_ax.get_yticklabels()] == ["leaf", "none"]
    assert isinstance(share_ax.xaxis.get_major_formatter(), PercentFormatter)
    assert not isinstance(days_ax.xaxis.get_major_formatter(), PercentFormatter)
    boxes = [p for p in share_ax.patches]
    assert matplotlib.colors.to_rgb(boxes[0].get_facecolor()) == matplotlib.colors.to_rgb(
        PALETTE[0]
    )
    assert matplotlib.colors.to_rgb(boxes[1].get_facecolor()) == matplotlib.colors.to_rgb(MUTED)
    assert "4 Monte Carlo replications" in fig._suptitle.get_text()
