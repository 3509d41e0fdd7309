"""Replaying a scenario, as tables and words: which chain each host served when, what changed,
and what the lockout numbers of one replay say.

:func:`served_segments` turns a result's ``issuances`` table into spans of days during which a
host served the same leaf key, intermediate or root; :func:`chain_marks` lists the days the
served certificate changed (a renewal with the same key, with a new key, or a chain change: new
CA, intermediate or root); :func:`scenario_events` the scenario's other dated events.
:func:`replay_cases` says which scenarios a notebook's ``scenario`` / ``preset`` parameters
replay, :func:`replay_table` and :func:`replay_text` what the numbers of one replay say. The
figures of a replay are in :mod:`simlib.report.timelines`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from simlib.report.wording import human_count, share

if TYPE_CHECKING:
    from simlib.model import Scenario

__all__ = [
    "LEVELS",
    "ReplayCase",
    "case",
    "chain_marks",
    "question_for",
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


def _day(value) -> dt.date:
    return pd.Timestamp(value).date()


# ----------------------------------------------------------------------------- served chains
def _served(issuances: pd.DataFrame) -> pd.DataFrame:
    """Issuances served inside the horizon, with ``first_served`` / ``last_served`` dates, in
    host order (of first appearance), then by first day served."""
    frame = issuances.copy()
    frame["first_served"] = [_day(v) for v in frame["served_from"]]
    frame["last_served"] = [_day(v) for v in frame["served_until"]]
    hosts = list(dict.fromkeys(frame["host"]))
    frame["host_order"] = frame["host"].map({h: i for i, h in enumerate(hosts)})
    frame = frame.sort_values(["host_order", "first_served", "seq"]).reset_index(drop=True)
    return frame[[a <= b for a, b in zip(frame["first_served"], frame["last_served"], strict=True)]]


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
    frame = _served(issuances)
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
    frame = _served(issuances)
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
    from simlib.analysis.risk_calendar import dated_events

    rows = [{"date": e.date, "kind": e.kind, "event": e.event} for e in dated_events(scenario)]
    return pd.DataFrame(rows, columns=["date", "kind", "event"])


# ----------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class ReplayCase:
    """One scenario to replay: its name, the question it answers, the scenario and the warnings
    loading it gave (extrapolated intermediates, profiles assumed early: shown with the case)."""

    name: str
    question: str
    scenario: Scenario
    warnings: tuple[str, ...] = ()


def question_for(scenario=None, preset: str | None = None) -> str:
    """The question of a preset, or of a scenario file (its ``# Question:`` line), or ""."""
    from simlib.analysis.presets import preset as find_preset
    from simlib.analysis.presets import question_of

    if preset:
        return find_preset(preset).question
    if isinstance(scenario, (str, Path)) and str(scenario):
        return question_of(scenario)
    return ""


def replay_cases(scenario=None, preset: str | None = None) -> list[ReplayCase]:
    """What a notebook with these parameters replays: every preset (both ``None``), or the one
    scenario :func:`~simlib.report.notebook.scenario_from` gives for them."""
    from simlib.analysis.presets import presets
    from simlib.report.notebook import scenario_from

    if not preset and (scenario is None or str(scenario) == ""):
        out = []
        for p in presets():
            sc, notes = _loaded(lambda p=p: scenario_from(preset=p.name))
            out.append(ReplayCase(p.name, p.question, sc, notes))
        return out
    sc, notes = _loaded(lambda: scenario_from(scenario, preset))
    one = case(sc, question_for(scenario, preset), preset)
    return [ReplayCase(one.name, one.question, one.scenario, notes)]


def _loaded(load: Callable[[], Scenario]) -> tuple[Scenario, tuple[str, ...]]:
    """The scenario and its loading warnings as text: the rule the decision report uses too
    (:func:`simlib.report.notebook.loaded`)."""
    from simlib.report.notebook import loaded

    return loaded(load)


def case(scenario: Scenario, question: str = "", name: str | None = None) -> ReplayCase:
    """One scenario as a :class:`ReplayCase` (its question defaults to its description)."""
    return ReplayCase(name or scenario.name, question or scenario.description.strip(), scenario)


# ----------------------------------------------------------------------------- numbers and words
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
            f"- *{r.strategy}*: up to {share(r[1])} of users locked out (mean {share(r[2])}), first on "
            f"{r[3]}{trigger}; {r[5]} lockout event{'s' if r[5] != 1 else ''}, "
            f"{human_count(r[6])} locked user-days."
        )
    if lines:
        parts.append("**Lockout.**\n" + "\n".join(lines))
    parts.append(
        "**Never locked out:** "
        + (", ".join(f"*{n}*" for n in never) if never else "no strategy")
        + "."
    )
    return "\n\n".join(p for p in parts if p)
