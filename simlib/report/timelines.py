"""Replay figures: which chain each host served when, and lockout over time.

:func:`plot_served_chains` draws the spans of :func:`~simlib.report.replay.served_segments`
with the days of :func:`~simlib.report.replay.chain_marks` marked, :func:`plot_lockout_timeline`
the lockout of every strategy with those days marked, :func:`plot_replay` both on one time axis.
The tables and words of a replay are in :mod:`simlib.report.replay`.
"""

from __future__ import annotations

import textwrap

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from simlib.report.plots import text_label
from simlib.report.replay import LEVELS, chain_marks, scenario_events, served_segments
from simlib.report.style import MUTED, PALETTE, styled

__all__ = ["MARKS", "plot_lockout_timeline", "plot_replay", "plot_served_chains"]

#: Colour and line style of each kind of mark.
MARKS: dict[str, dict[str, object]] = {
    "renewal, same key": {"color": MUTED, "linestyle": ":"},
    "renewal, new key": {"color": MUTED, "linestyle": "-"},
    "chain change": {"color": "#444444", "linestyle": "-"},
    "other dated event": {"color": "black", "linestyle": "--"},
}


def _num(day) -> float:
    return float(mdates.date2num(pd.Timestamp(day)))


def _mark(ax: Axes, day, kind: str) -> None:
    ax.axvline(_num(day), linewidth=0.9, zorder=0, alpha=0.6, **MARKS[kind])


def plot_served_chains(
    issuances: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Which leaf key, intermediate and root each host served when: one row per (host, level),
    one bar per span (:func:`served_segments`, labelled when it fits), renewals and chain
    changes marked (:func:`chain_marks`; legend under the axes)."""
    segments = served_segments(issuances)
    marks = chain_marks(issuances)
    hosts = list(dict.fromkeys(segments["host"]))
    with styled():
        if ax is None:
            _, ax = plt.subplots(
                figsize=(10, 0.5 + 0.45 * len(LEVELS) * max(1, len(hosts))), layout="constrained"
            )
        labels = []
        if not segments.empty:
            lo, hi = _num(segments["start"].min()), _num(segments["end"].max()) + 1
        else:
            lo, hi = 0.0, 1.0
        # Labels are drawn where they fit: about 60 % of the figure's width is the time axis,
        # one character of 8-point text about 5.5 points wide.
        days_per_char = (hi - lo) / max(ax.figure.get_size_inches()[0] * 0.6 * 72 / 5.5, 1.0)
        row = 0
        for h, host in enumerate(hosts):
            for level, _, _ in LEVELS:
                y = -row
                seg = segments[(segments["host"] == host) & (segments["level"] == level)]
                colours = {
                    p: PALETTE[i % len(PALETTE)] for i, p in enumerate(dict.fromkeys(seg["pin"]))
                }
                for s in seg.itertuples(index=False):
                    start, width = _num(s.start), (s.end - s.start).days + 1
                    ax.broken_barh(
                        [(start, width)],
                        (y - 0.35, 0.7),
                        facecolors=colours[s.pin],
                        alpha=0.55,
                        edgecolor="white",
                        linewidth=0.8,
                    )
                    text = text_label(s.label)
                    if width >= days_per_char * (len(text) + 1):
                        ax.text(
                            start + width / 2,
                            y,
                            text,
                            ha="center",
                            va="center",
                            fontsize=8,
                            clip_on=True,
                        )
                labels.append(
                    text_label(f"{host.split('.')[0]} · {level}" if len(hosts) > 1 else level)
                )
                row += 1
            if h < len(hosts) - 1:
                ax.axhline(-row + 0.5, color=MUTED, linewidth=0.6)
            for m in marks[marks["host"] == host].itertuples(index=False):
                top, bottom = -(row - len(LEVELS)) + 0.5, -row + 0.5
                ax.vlines(
                    _num(m.date),
                    bottom,
                    top,
                    linewidth=1.2 if m.kind == "chain change" else 0.9,
                    zorder=3,
                    **MARKS[m.kind],
                )
        ax.set_yticks([-i for i in range(row)], labels)
        ax.set_ylim(-row + 0.5, 0.5)
        ax.set_xlim(lo, hi)
        ax.xaxis_date()
        ax.grid(False)
        ax.set_title(text_label(title) if title else "Served certificate chain")
        kinds = list(dict.fromkeys(marks["kind"]))
        if kinds:
            handles = [plt.Line2D([], [], label=k, **MARKS[k]) for k in MARKS if k in kinds]
            ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.01, 1),
                frameon=False,
                fontsize=8,
            )
    return ax


def plot_lockout_timeline(
    timeseries: pd.DataFrame,
    ax: Axes | None = None,
    *,
    marks: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    title: str | None = None,
) -> Axes:
    """Share of users locked out over time, one line per strategy (scenario order, strategies
    that never lock named in the legend), with renewals and chain changes (``marks``) and
    scenario events (``events``) as vertical lines. The legend sits right of the axes."""
    with styled():
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 4), layout="constrained")
        never = []
        for k, (name, g) in enumerate(timeseries.groupby("strategy", sort=False)):
            if g["lockout_rate"].max() <= 0:
                never.append(text_label(name))
                continue
            ax.plot(
                pd.to_datetime(g["date"]),
                g["lockout_rate"],
                color=PALETTE[k % len(PALETTE)],
                label=text_label(name),
                linewidth=1.4,
                drawstyle="steps-post",
            )
        kinds = []
        for m in (
            marks if marks is not None else pd.DataFrame(columns=["date", "kind"])
        ).itertuples(index=False):
            _mark(ax, m.date, m.kind)
            kinds.append(m.kind)
        first, last = (
            pd.to_datetime(timeseries["date"]).min(),
            pd.to_datetime(timeseries["date"]).max(),
        )
        if events is not None:
            for e in events.itertuples(index=False):
                if first <= pd.Timestamp(e.date) <= last:
                    _mark(ax, e.date, "other dated event")
                    kinds.append("other dated event")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("users locked out")
        ax.set_title(text_label(title) if title else "Share of users locked out, by strategy")
        handles, _ = ax.get_legend_handles_labels()
        if never:
            text = textwrap.fill("never locks: " + ", ".join(never), 34)
            handles.append(plt.Line2D([], [], linestyle="", label=text))
        handles += [plt.Line2D([], [], label=k, **MARKS[k]) for k in MARKS if k in kinds]
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8
        )
    return ax


def plot_replay(result, fig=None, *, title: str | None = None):
    """One replay on one time axis: the served chains above, lockout per strategy below (with
    renewals, chain changes and scenario events marked). Returns the figure."""
    issuances = result.issuances
    hosts = max(1, issuances["host"].nunique())
    chain_rows = len(LEVELS) * hosts
    with styled():
        if fig is None:
            fig = plt.figure(figsize=(11, 3.6 + 0.32 * chain_rows), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[0.32 * chain_rows + 0.4, 3.2])
        plot_served_chains(issuances, ax=top)
        plot_lockout_timeline(
            result.timeseries,
            ax=bottom,
            marks=chain_marks(issuances),
            events=scenario_events(result.scenario),
        )
        start, end = result.scenario.start, result.scenario.end
        bottom.set_xlim(_num(start), _num(end) + 1)
        bottom.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=10))
        bottom.xaxis.set_major_formatter(
            mdates.ConciseDateFormatter(bottom.xaxis.get_major_locator())
        )
        if title:
            fig.suptitle(text_label(title))
    return fig
