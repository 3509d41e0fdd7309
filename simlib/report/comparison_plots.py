"""Figures for comparing strategies and variants (the comparison and quickstart notebooks).

Axes-level functions take an optional ``ax`` and return it; figure-level functions take an
optional ``fig`` and return it. Every figure is drawn in simlib's style (:func:`styled`), names
pass through :func:`~simlib.report.plots.text_label` / :func:`~simlib.report.plots.readable`,
shares are on percent axes and legends sit outside the data.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from simlib.report.plots import plot_pareto, readable, text_label
from simlib.report.style import MUTED, PALETTE, styled

#: Columns of an answer table that :func:`plot_answer` draws, with their axis labels.
ANSWER_PANELS: tuple[tuple[str, str], ...] = (
    ("mean_lockout", "users locked out (mean over days)"),
    ("peak_lockout", "users locked out (worst day)"),
    ("protected_mean", "users protected (mean over days and attacks)"),
)

#: Lockout only (what-if comparisons, where protection is not the question).
LOCKOUT_PANELS: tuple[tuple[str, str], ...] = ANSWER_PANELS[:2]
#: Report-only comparisons: lockout, reported pin failures and protection.
REPORT_PANELS: tuple[tuple[str, str], ...] = (
    ("mean_lockout", "users locked out (mean over days)"),
    ("peak_violation", "pins failing, reported or not (worst day)"),
    ("protected_mean", "users protected (mean)"),
)


def plot_variant_bars(
    table: pd.DataFrame, column: str, ax: Axes | None = None, *, xlabel: str | None = None
) -> Axes:
    """One horizontal bar per (strategy, world) of a tidy answer table, a share on a percent
    axis; worlds are coloured in palette order, strategies keep the table's order."""
    with styled():
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.45 * len(table) + 1.2), layout="constrained")
        names = list(dict.fromkeys(table["strategy"]))
        worlds = list(dict.fromkeys(table["world"])) if "world" in table else [None]
        height = 0.8 / len(worlds)
        for j, world in enumerate(worlds):
            rows = table if world is None else table[table["world"] == world]
            values = rows.set_index("strategy")[column].reindex(names)
            y = np.arange(len(names)) + (j - (len(worlds) - 1) / 2) * height
            ax.barh(y, values.fillna(0).to_numpy(), height=height * 0.95, color=PALETTE[j % len(PALETTE)],
                    label=text_label(world) if world is not None else None)  # fmt: skip
        ax.set_yticks(np.arange(len(names)), [text_label(n) for n in names])
        if not ax.yaxis_inverted():  # panels sharing the axis invert it once
            ax.invert_yaxis()
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlim(0, 1.02)
        ax.set_xlabel(xlabel or readable(column))
        ax.grid(axis="y", visible=False)
    return ax


def plot_answer(table: pd.DataFrame, fig=None, *, title: str | None = None,
                panels: tuple[tuple[str, str], ...] = ANSWER_PANELS):  # fmt: skip
    """An answer table as side-by-side bar panels (by default mean lockout, worst-day lockout
    and protection), one bar per strategy and world, worlds in a legend below. Returns the
    figure."""
    panels = tuple((c, label) for c, label in panels if c in table)
    worlds = list(dict.fromkeys(table["world"]))
    n = table["strategy"].nunique()
    with styled():
        if fig is None:
            fig = plt.figure(
                figsize=(4.2 * len(panels), 0.32 * n * len(worlds) + 1.8), layout="constrained"
            )
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False).ravel()
        for ax, (column, label) in zip(axes, panels, strict=True):
            plot_variant_bars(table, column, ax, xlabel=label)
        if len(worlds) > 1:
            handles = [
                Patch(color=PALETTE[j % len(PALETTE)], label=text_label(w))
                for j, w in enumerate(worlds)
            ]
            fig.legend(
                handles=handles,
                loc="outside lower center",
                ncols=min(len(worlds), 3),
                frameon=False,
            )
        if title:
            fig.suptitle(text_label(title))
    return fig


def plot_pareto_panels(front: pd.DataFrame, fig=None, ncols: int = 2):
    """:func:`~simlib.report.plots.plot_pareto` for every attack class, one panel each, one
    shared legend below. Returns the figure."""
    attacks = list(dict.fromkeys(front["attack"]))
    ncols = max(1, min(ncols, len(attacks)))
    nrows = max(1, -(-len(attacks) // ncols))
    with styled():
        if fig is None:
            fig = plt.figure(figsize=(6.5 * ncols, 4.2 * nrows + 0.6), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, attack in zip(axes, attacks, strict=False):
            plot_pareto(front, attack, ax)
            handles, labels = ax.get_legend_handles_labels()
            ax.get_legend().remove()
        for ax in axes[len(attacks) :]:
            ax.set_visible(False)
        if attacks:
            fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    return fig


#: Per-replication metrics :func:`plot_mc_distribution` draws: column, axis label, is a share.
MC_PANELS: tuple[tuple[str, str, bool], ...] = (
    ("mean_lockout_rate", "users locked out (mean over days)", True),
    ("p95_outage_days", "95th percentile of a user's outage (days)", False),
)


def plot_mc_metric(
    replications: pd.DataFrame,
    column: str,
    ax: Axes | None = None,
    *,
    xlabel: str | None = None,
    share: bool = True,
) -> Axes:
    """One metric of a Monte Carlo run across replications, a horizontal box per strategy
    (box: 25th–75th percentile, whiskers: 5th–95th, line: median); strategies in run order."""
    names = list(dict.fromkeys(replications["strategy"]))
    data = [
        replications.loc[replications["strategy"] == n, column].to_numpy(dtype=float) for n in names
    ]
    with styled():
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(names) + 1.2), layout="constrained")
        boxes = ax.boxplot(
            data,
            orientation="horizontal",
            whis=(5, 95),
            showfliers=False,
            widths=0.6,
            patch_artist=True,
        )
        for i, values in enumerate(data):  # strategies that never lock anyone: grey
            color = MUTED if not np.any(values) else PALETTE[0]
            boxes["boxes"][i].set(facecolor=color, alpha=0.4, edgecolor=color)
            boxes["medians"][i].set(color=color, linewidth=1.6)
            for part in ("whiskers", "caps"):
                for line in boxes[part][2 * i : 2 * i + 2]:
                    line.set(color=color)
        ax.set_yticks(np.arange(1, len(names) + 1), [text_label(n) for n in names])
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
        if share:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_xlim(0, 1.02)
        else:
            ax.set_xlim(left=0)
        ax.set_xlabel(xlabel or readable(column))
        ax.grid(axis="y", visible=False)
    return ax


def plot_mc_distribution(
    replications: pd.DataFrame,
    fig=None,
    panels: tuple[tuple[str, str, bool], ...] = MC_PANELS,
):
    """:func:`plot_mc_metric` side by side for ``panels`` (by default the mean share locked and
    the 95th-percentile outage). Returns the figure."""
    n = replications["strategy"].nunique()
    reps = (
        replications["replication"].nunique()
        if "replication" in replications
        else len(replications)
    )
    with styled():
        if fig is None:
            fig = plt.figure(figsize=(5 * len(panels), 0.4 * n + 1.6), layout="constrained")
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False).ravel()
        for ax, (column, label, share) in zip(axes, panels, strict=True):
            plot_mc_metric(replications, column, ax, xlabel=label, share=share)
        fig.suptitle(
            f"Spread across {reps} Monte Carlo replications "
            "(box: 25th–75th percentile, whiskers: 5th–95th)"
        )
    return fig
