"""Replaying a scenario: which chain each host served when, and lockout over time.

:func:`served_segments` turns a result's ``issuances`` table into spans of days during which a
host served the same leaf key, intermediate or root; :func:`chain_marks` lists the days the
served certificate changed (a renewal with the same key, with a new key, or a chain change: new
CA, intermediate or root). :func:`plot_served_chains` draws the spans, :func:`plot_lockout_timeline`
the lockout of every strategy with those days marked, :func:`plot_replay` both on one time axis.
:func:`replay_cases` says which scenarios a notebook's ``scenario`` / ``preset`` parameters
replay, :func:`replay_table` and :func:`replay_text` what the numbers of one replay say.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from simlib.report.plots import text_label
from simlib.report.style import MUTED, PALETTE, styled

if TYPE_CHECKING:
    from simlib.model import Scenario

__all__ = [
    "LEVELS",
    "MARKS",
    "ReplayCase",
    "case",
    "chain_marks",
    "plot_lockout_timeline",
    "plot_replay",
    "plot_served_chains",
    "question_for",
    "question_of",
    "replay_cases",
    "replay_table",
    "replay_text",
    "scenario_events",
    "served_segments",
]

#: Chain levels, top to bottom: (name, identity column, label column).
LEVELS: tuple[tuple[str, str, str], ...] = (
    ("leaf key", "spki_sha256", "key_id"),
    ("intermediate", "intermediate_spki_sha256", "intermediate"),
    ("root", "root_spki_sha256", "root"),
)
#: Colour and line style of each kind of mark.
MARKS: dict[str, dict[str, object]] = {
    "renewal, same key": {"color": MUTED, "linestyle": ":"},
    "renewal, new key": {"color": MUTED, "linestyle": "-"},
    "chain change": {"color": "#444444", "linestyle": "-"},
    "other dated event": {"color": "black", "linestyle": "--"},
}


def _day(value) -> dt.date:
    return pd.Timestamp(value).date()


# ----------------------------------------------------------------------------- tables
def _ordered(issuances: pd.DataFrame) -> pd.DataFrame:
    frame = issuances.copy()
    frame["first_served"] = [_day(v) for v in frame["served_from"]]
    frame["last_served"] = [_day(v) for v in frame["served_until"]]
    hosts = list(dict.fromkeys(frame["host"]))
    frame["host_order"] = frame["host"].map({h: i for i, h in enumerate(hosts)})
    return frame.sort_values(["host_order", "first_served", "seq"]).reset_index(drop=True)


def served_segments(issuances: pd.DataFrame) -> pd.DataFrame:
    """Spans of days during which a host served the same certificate at one chain level.

    One row per (host, level, span): ``host, level`` (``leaf key``, ``intermediate``, ``root``),
    ``label`` (``key N`` numbered per host in order of first use, or the CA's name), ``pin``
    (its SPKI pin), ``start`` and ``end`` (dates, both served), ``issuances`` (how many
    certificates the span covers) and ``changed`` (the span starts with a change at this level,
    not with the host's first certificate). Consecutive issuances with the same key at a level
    merge into one span; issuances never served inside the horizon are left out.
    """
    columns = ["host", "level", "label", "pin", "start", "end", "issuances", "changed"]
    if issuances.empty:
        return pd.DataFrame(columns=columns)
    frame = _ordered(issuances)
    frame = frame[
        [a <= b for a, b in zip(frame["first_served"], frame["last_served"], strict=True)]
    ]
    rows = []
    for _, g in frame.groupby("host_order", sort=True):
        name = g["host"].iloc[0]
        keys = {k: i + 1 for i, k in enumerate(dict.fromkeys(g["spki_sha256"]))}
        for level, ident, label_col in LEVELS:
            current = None
            for row in g.itertuples(index=False):
                pin = getattr(row, ident)
                label = (
                    f"key {keys[row.spki_sha256]}"
                    if level == "leaf key"
                    else str(getattr(row, label_col))
                )
                if current is not None and current["pin"] == pin:
                    current["end"] = row.last_served
                    current["issuances"] += 1
                    continue
                if current is not None:
                    rows.append(current)
                current = {
                    "host": name,
                    "level": level,
                    "label": label,
                    "pin": pin,
                    "start": row.first_served,
                    "end": row.last_served,
                    "issuances": 1,
                    "changed": current is not None,
                }
            if current is not None:
                rows.append(current)
    return pd.DataFrame(rows, columns=columns)


def chain_marks(issuances: pd.DataFrame) -> pd.DataFrame:
    """The days a host started serving a different certificate: ``date`` (first day served),
    ``host``, ``kind`` (``renewal, same key``, ``renewal, new key`` or ``chain change`` — a
    new CA, intermediate or root) and ``what`` (words for the change)."""
    columns = ["date", "host", "kind", "what"]
    if issuances.empty:
        return pd.DataFrame(columns=columns)
    frame = _ordered(issuances)
    frame = frame[
        [a <= b for a, b in zip(frame["first_served"], frame["last_served"], strict=True)]
    ]
    rows = []
    for _, g in frame.groupby("host_order", sort=True):
        prev = None
        for row in g.itertuples(index=False):
            if prev is not None:
                changes = [
                    f"{what} {getattr(prev, col)} → {getattr(row, col)}"
                    for what, col, ident in (
                        ("CA", "ca", "ca"),
                        ("intermediate", "intermediate", "intermediate_spki_sha256"),
                        ("root", "root", "root_spki_sha256"),
                    )
                    if getattr(prev, ident) != getattr(row, ident)
                ]
                if changes:
                    if row.spki_sha256 != prev.spki_sha256:
                        changes.insert(0, "new leaf key")
                    kind, what = "chain change", "; ".join(changes)
                elif row.spki_sha256 == prev.spki_sha256:
                    kind, what = "renewal, same key", "renewal with the same key"
                else:
                    kind, what = "renewal, new key", "renewal with a new key"
                rows.append(
                    {"date": row.first_served, "host": row.host, "kind": kind, "what": what}
                )
            prev = row
    return pd.DataFrame(rows, columns=columns)


def scenario_events(scenario: Scenario) -> pd.DataFrame:
    """Dated events of the scenario other than renewals (trust-store changes, root expiries,
    CA roadmap steps, validity-cap steps): ``date, kind, event`` (from the risk calendar)."""
    from simlib.world.calendar import dated_events

    rows = [{"date": e.date, "kind": e.kind, "event": e.event} for e in dated_events(scenario)]
    return pd.DataFrame(rows, columns=["date", "kind", "event"])


# ----------------------------------------------------------------------------- figures
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


# ----------------------------------------------------------------------------- cases and words
@dataclass(frozen=True)
class ReplayCase:
    """One scenario to replay: its name, the question it answers and the scenario."""

    name: str
    question: str
    scenario: Scenario


def question_of(path: str | Path) -> str:
    """The ``# Question:`` line of a scenario file's opening comment block, or ""."""
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text.lower().startswith("question:"):
            return text.split(":", 1)[1].strip()
    return ""


def question_for(scenario=None, preset: str | None = None) -> str:
    """The question of a preset, or of a scenario file (its ``# Question:`` line), or ""."""
    from simlib.world.presets import preset as find_preset

    if preset:
        return find_preset(preset).question
    if isinstance(scenario, (str, Path)) and str(scenario):
        return question_of(scenario)
    return ""


def replay_cases(scenario=None, preset: str | None = None) -> list[ReplayCase]:
    """What a notebook with these parameters replays: every preset (both ``None``), or the one
    scenario :func:`~simlib.report.notebook.scenario_from` gives for them."""
    from simlib.report.notebook import scenario_from
    from simlib.world.presets import presets

    if not preset and (scenario is None or str(scenario) == ""):
        return [ReplayCase(p.name, p.question, scenario_from(preset=p.name)) for p in presets()]
    return [case(scenario_from(scenario, preset), question_for(scenario, preset), preset)]


def case(scenario: Scenario, question: str = "", name: str | None = None) -> ReplayCase:
    """One scenario as a :class:`ReplayCase` (its question defaults to its description)."""
    return ReplayCase(name or scenario.name, question or scenario.description.strip(), scenario)


def replay_table(result) -> pd.DataFrame:
    """Per strategy: peak and mean share locked out, the first day anyone was locked out and
    what changed on that day or the latest day before it (``trigger``), lockout events and
    locked user-days."""
    summary = result.summary
    marks = chain_marks(result.issuances)
    events = scenario_events(result.scenario)
    causes = [(m.date, f"{m.host}: {m.what}") for m in marks.itertuples(index=False)]
    causes += [
        (e.date, e.event) for e in events.itertuples(index=False) if e.kind != "validity_cap"
    ]
    rows = []
    for row in summary.itertuples(index=False):
        first = row.first_lockout_date
        trigger = ""
        if isinstance(first, str | dt.date) and first:
            day = _day(first)
            before = [c for c in causes if c[0] <= day]
            if before:
                when = max(c[0] for c in before)
                trigger = "; ".join(sorted({c[1] for c in before if c[0] == when}))
                if when != day:
                    trigger += f" ({(day - when).days} days earlier)"
        rows.append(
            {
                "strategy": row.strategy,
                "peak locked out": float(row.peak_lockout_rate),
                "mean locked out": float(row.mean_lockout_rate),
                "first lockout": _day(first)
                if isinstance(first, str | dt.date) and first
                else None,
                "trigger": trigger,
                "lockout events": int(row.lockout_events),
                "locked user-days": float(row.locked_user_days),
            }
        )
    return pd.DataFrame(rows)


_KIND_WORDS = {
    "renewal, same key": ("renewal with the same key", "renewals with the same key"),
    "renewal, new key": ("renewal with a new key", "renewals with a new key"),
    "chain change": (
        "chain change (new CA, intermediate or root)",
        "chain changes (new CA, intermediate or root)",
    ),
}


def _count(n: int, kind: str) -> str:
    one, many = _KIND_WORDS.get(kind, (kind, kind))
    return f"{n} {one if n == 1 else many}"


def _millions(value: float) -> str:
    return f"{value / 1e6:,.1f} M" if value >= 1e5 else f"{value:,.0f}"


def replay_text(result, question: str = "") -> str:
    """What the numbers of one replay say, as Markdown built from the result (no canned text)."""
    table = replay_table(result)
    marks = chain_marks(result.issuances)
    counts = marks["kind"].value_counts()
    sc = result.scenario
    parts = [f"**Question.** {question}" if question else ""]
    changes = ", ".join(_count(n, kind) for kind, n in counts.items()) or "no change of certificate"
    hosts = result.issuances["host"].nunique()
    parts.append(
        f"**Served chains.** {sc.start} to {sc.end}, {hosts} host{'s' if hosts != 1 else ''}: {changes}."
    )
    events = scenario_events(sc)
    events = events[events["kind"] != "renewal"]
    if len(events):
        listed = "; ".join(f"{e.date}: {e.event}" for e in events.itertuples(index=False))
        parts.append(f"**Other dated events.** {listed}.")
    locked = table[table["peak locked out"] > 0]
    never = table[table["peak locked out"] <= 0]["strategy"].tolist()
    lines = []
    for r in locked.sort_values("locked user-days", ascending=False).itertuples(index=False):
        trigger = f" after {r.trigger}" if r.trigger else ""
        lines.append(
            f"- *{r.strategy}*: up to {r[1]:.1%} of users locked out (mean {r[2]:.1%}), first on "
            f"{r[3]}{trigger}; {r[5]} lockout event{'s' if r[5] != 1 else ''}, "
            f"{_millions(r[6])} locked user-days."
        )
    if lines:
        parts.append("**Lockout.**\n" + "\n".join(lines))
    parts.append(
        "**Never locked out:** "
        + (", ".join(f"*{n}*" for n in never) if never else "no strategy")
        + "."
    )
    return "\n\n".join(p for p in parts if p)
