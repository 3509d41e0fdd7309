"""Plotting functions: each takes data and an optional ``ax`` and returns the ``ax``."""

from __future__ import annotations

import io
from pathlib import Path

# No backend is chosen here: notebooks keep their inline backend, and without a display
# matplotlib falls back to Agg by itself (figures are saved with Figure.savefig).
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from simlib.results.io import atomic_write


def text_label(text: object) -> str:
    """A name as literal figure text: ``$`` escaped, so names are never read as mathtext."""
    return str(text).replace("$", r"\$")


def plot_lockout(timeseries: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Lockout rate over time, one line per strategy (strategies that never lock are listed)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    never = []
    for name, g in timeseries.groupby("strategy", sort=False):
        if g["lockout_rate"].max() <= 0:
            never.append(str(name))
            continue
        ax.plot(pd.to_datetime(g["date"]), g["lockout_rate"], label=text_label(name), linewidth=1.2)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("users locked out")
    ax.set_ylim(0, 1.02)
    ax.set_title(text_label(title) if title else "Lockout rate by pinning strategy")
    ax.grid(alpha=0.3)
    if never:
        ax.plot([], [], " ", label=text_label("never locks: " + ", ".join(never)))
    ax.legend(loc="upper left", fontsize=8, ncols=2, frameon=False)
    return ax


def plot_coverage(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean share of users protected against each attack, per strategy (grouped bars)."""
    cols = [c for c in summary.columns if c.startswith("mean_protected_")]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    data = summary.set_index("strategy")[cols]
    data.index = [text_label(s) for s in data.index]
    data.columns = [text_label(c.removeprefix("mean_protected_")) for c in cols]
    data.plot.bar(ax=ax, width=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("users protected (mean over days)")
    ax.set_xlabel("")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, frameon=False)
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def figure_png(fig) -> bytes:
    """The figure as PNG bytes, without timestamps or software tags (same data, same bytes).

    Rendering happens here, so a figure that cannot be drawn fails before any file is written.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    return buffer.getvalue()


def save_figure(fig, path: str | Path) -> Path:
    """Render, then save atomically (see :func:`figure_png`)."""
    data = figure_png(fig)
    return atomic_write(path, lambda p: p.write_bytes(data))
