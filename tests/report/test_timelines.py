"""Replay figures: served-chain bars sit on the spans, lockout lines are the stored series."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import pytest

import simlib
from simlib.analysis.presets import load_preset
from simlib.report import replay, timelines


@pytest.fixture(scope="module")
def sc081():
    return simlib.simulate(load_preset("sc081-2026-2029"))


def test_served_chain_bars_sit_on_the_segments(sc081):
    fig, ax = plt.subplots(figsize=(10, 2))
    timelines.plot_served_chains(sc081.issuances, ax=ax)
    seg = replay.served_segments(sc081.issuances)
    bars = sorted(
        (round(p.vertices[:, 0].min(), 6), round(p.vertices[:, 0].max(), 6))
        for coll in ax.collections
        if not hasattr(coll, "get_segments")  # bars, not vlines
        for p in coll.get_paths()
    )
    want = sorted(
        (
            round(float(mdates.date2num(pd.Timestamp(s.start))), 6),
            round(float(mdates.date2num(pd.Timestamp(s.end))) + 1, 6),
        )
        for s in seg.itertuples()
    )
    assert len(want) == 28 * 1 + 2 and bars == want  # 28 keys, one intermediate, one root
    assert [t.get_text() for t in ax.get_yticklabels()] == ["leaf key", "intermediate", "root"]
    plt.close(fig)


def test_lockout_timeline_lines_and_legend(sc081):
    fig, ax = plt.subplots()
    ts = sc081.timeseries
    timelines.plot_lockout_timeline(ts, ax=ax, marks=replay.chain_marks(sc081.issuances))
    locking = [n for n, g in ts.groupby("strategy", sort=False) if g["lockout_rate"].max() > 0]
    drawn = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert drawn == locking
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "never locks" in legend and "renewal, new key" in legend
    assert (
        ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1
    )  # beside, not over
    line = next(line for line in ax.get_lines() if line.get_label() == locking[0])
    series = ts[ts["strategy"] == locking[0]]["lockout_rate"].to_numpy()
    assert line.get_ydata().tolist() == series.tolist()
    plt.close(fig)
