"""Sensitivity figures from a stored sweep, read and sliced with :mod:`simlib.report.sweeps`.

:func:`plot_heatmap` draws one metric over two swept axes, :func:`plot_heatmaps` one heatmap
per strategy on one colour scale, :func:`plot_bands` the mean with 5th–95th percentile bars
against one axis. :func:`plot_sweep_heatmaps` and :func:`plot_sweep_bands` draw these for a
whole stored sweep (what the sensitivity notebook shows for each of its sweeps). Plot functions take an optional ``ax`` and return it; override paths are
shown as words (:func:`~simlib.report.sweeps.axis_label`), shares as percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from simlib.report.plots import text_label
from simlib.report.style import PALETTE, styled
from simlib.report.sweeps import (
    at,
    axis_label,
    check_one_row_each,
    is_share,
    metric_label,
    pivot,
    strategies_of,
    sweep_order,
)
from simlib.report.wording import human_count
from simlib.report.wording import share as share_text

__all__ = ["plot_bands", "plot_heatmap", "plot_heatmaps", "plot_sweep_bands", "plot_sweep_heatmaps"]


def _value_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return text_label(value)


def _single(frame: pd.DataFrame, column: str) -> str | None:
    if column not in frame:
        return None
    values = pd.unique(frame[column])
    return str(values[0]) if len(values) == 1 else None


def plot_heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    value: str = "mean",
    ax: Axes | None = None,
    *,
    title: str | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
) -> Axes:
    """A heatmap of ``value`` over two swept axes (one row per cell: see :func:`pivot`), each
    cell annotated; shares (by the frame's ``metric``) in percent, 0 to ``vmax`` (default: 100 %
    for shares, else the largest value)."""
    table = pivot(frame, x, y, value)
    metric = _single(frame, "metric") or value
    share = is_share(metric)
    data = table.to_numpy(dtype=float)
    top = (
        vmax
        if vmax is not None
        else (1.0 if share else float(np.nanmax(data)) if data.size else 1.0)
    )
    with styled():
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        image = ax.imshow(
            data, cmap="viridis", vmin=0, vmax=top or 1.0, aspect="auto", origin="lower"
        )
        ax.set_xticks(range(table.shape[1]), [_value_text(v) for v in table.columns])
        ax.set_yticks(range(table.shape[0]), [_value_text(v) for v in table.index])
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel(axis_label(y))
        ax.grid(False)
        for (i, j), v in np.ndenumerate(data):
            if np.isnan(v):
                continue
            text = share_text(v) if share else human_count(v)
            light = image.norm(v) < 0.6
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if light else "black",
            )
        if colorbar:
            bar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
            bar.set_label(metric_label(metric))
            if share:
                bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        name = _single(frame, "strategy")
        ax.set_title(
            text_label(title) if title else (text_label(name) if name else metric_label(metric))
        )
    return ax


def plot_bands(
    frame: pd.DataFrame,
    x: str,
    group: str | None = "strategy",
    ax: Axes | None = None,
    *,
    title: str | None = None,
    legend: bool = True,
) -> Axes:
    """Mean of the frame's metric against ``x``, one line per value of ``group``, with error
    bars from the 5th to the 95th percentile across replications (``p5``, ``p95``). The
    x values are evenly spaced in sweep order; lines are dodged sideways so bars do not hide one
    another. ``frame`` must hold one row per (x, group) (see :func:`at`)."""
    keys = [x] if group is None else [x, group]
    check_one_row_each(frame, keys)
    metric = _single(frame, "metric") or "mean"
    order = sweep_order(frame, x)
    groups = [None] if group is None else sweep_order(frame, group)
    # Expected-mode sweeps have one run per point: lines without bars, not dodged.
    spread = "replications" not in frame or bool((frame["replications"] > 1).any())
    width = 0.25 if len(groups) > 1 and spread else 0.0
    with styled():
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
        for k, name in enumerate(groups):
            g = frame if name is None else frame[frame[group] == name]
            g = g.set_index(x).reindex(order).dropna(subset=["mean"])
            pos = np.array([order.index(v) for v in g.index], dtype=float)
            if width:
                pos += width * (k / (len(groups) - 1) - 0.5)
            mean = g["mean"].to_numpy(dtype=float)
            low = np.clip(mean - g["p5"].to_numpy(dtype=float), 0, None)
            high = np.clip(g["p95"].to_numpy(dtype=float) - mean, 0, None)
            label = (
                None
                if name is None
                else (text_label(name) if group == "strategy" else _value_text(name))
            )
            style = {
                "marker": "o",
                "markersize": 4,
                "color": PALETTE[k % len(PALETTE)],
                "label": label,
            }
            if spread:
                ax.errorbar(pos, mean, yerr=[low, high], capsize=4, elinewidth=1.2, **style)
            else:
                ax.plot(pos, mean, **style)
        ax.set_xticks(range(len(order)), [_value_text(v) for v in order])
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel(metric_label(metric) + (" (mean, p5–p95)" if spread else ""))
        if is_share(metric):
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_ylim(bottom=0)
        if title:
            ax.set_title(text_label(title))
        elif group != "strategy" and _single(frame, "strategy"):
            ax.set_title(text_label(_single(frame, "strategy")))
        if legend and group is not None:
            ax.legend(
                title=None if group == "strategy" else axis_label(group),
                loc="upper left",
                bbox_to_anchor=(1.01, 1),
                frameon=False,
            )
    return ax


def plot_heatmaps(
    frame: pd.DataFrame,
    x: str,
    y: str,
    strategies: Sequence[str] | None = None,
    fig=None,
    *,
    ncols: int = 3,
    value: str = "mean",
):
    """Small multiples of :func:`plot_heatmap`, one per strategy (default: every strategy in
    ``frame``), on one colour scale with one colour bar. ``frame`` holds one metric with every
    axis but ``x`` and ``y`` fixed. Returns the figure."""
    names = list(strategies) if strategies is not None else strategies_of(frame)
    metric = _single(frame, "metric") or value
    share = is_share(metric)
    top = 1.0 if share else float(frame[value].max() or 1.0)
    ncols = max(1, min(ncols, len(names)))
    nrows = max(1, -(-len(names) // ncols))
    with styled():
        if fig is None:
            fig = plt.figure(figsize=(3.6 * ncols + 1.2, 3.0 * nrows + 0.6), layout="constrained")
        grid = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        used = []
        for ax, name in zip(grid.ravel(), names, strict=False):
            plot_heatmap(
                frame[frame["strategy"] == name], x, y, value, ax=ax, vmax=top, colorbar=False
            )
            if ax not in grid[-1]:
                ax.set_xlabel("")
            if ax not in grid[:, 0]:
                ax.set_ylabel("")
            used.append(ax)
        for ax in grid.ravel()[len(names) :]:
            ax.set_visible(False)
        if used:
            bar = fig.colorbar(used[0].images[0], ax=used, shrink=0.9)
            bar.set_label(metric_label(metric))
            if share:
                bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return fig


def plot_sweep_heatmaps(
    frame: pd.DataFrame,
    axes: Sequence[str],
    fixed: Mapping[str, Any],
    strategies: Sequence[str],
):
    """:func:`plot_heatmaps` of ``frame`` (one metric of a sweep) over its first two varying
    ``axes``, the other axes at ``fixed``. Returns the figure, or None when fewer than two axes
    vary or no strategy is given."""
    if len(axes) < 2 or not strategies:
        return None
    x, y = axes[0], axes[1]
    return plot_heatmaps(at(frame, fixed, keep=[x, y]), x, y, strategies)


def plot_sweep_bands(
    frame: pd.DataFrame,
    axes: Sequence[str],
    fixed: Mapping[str, Any],
    strategies: Sequence[str],
) -> list:
    """One figure per varying axis: :func:`plot_bands` of ``frame`` (one metric of a sweep) for
    ``strategies`` against that axis, the other axes at ``fixed``. Returns the figures."""
    figures = []
    for axis in axes:
        part = at(frame, fixed, keep=[axis])
        with styled():
            fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
        plot_bands(
            part[part["strategy"].isin(strategies)],
            axis,
            group="strategy",
            ax=ax,
            title=f"Lockout vs {axis_label(axis)}",
        )
        figures.append(fig)
    return figures
