"""Risk calendar: every dated event ahead within a scenario's horizon, and what it does to each
pinning strategy.

Events come from four places: validity-cap steps (the scenario's own caps, or the CA/B Forum
schedule from ``data/world/validity-caps.csv`` for ``validity_cap: cabf``, plus the world
schedule of a scenario CA named like a catalogue CA), CA roadmap steps
(``simlib.world.events``) for scenario CAs whose name is a catalogue name, the scenario's own
dated events and root expiries, and the renewals of the simulated certificate calendar.

For each (event, strategy) the expected-mode result says whether the strategy *breaks* (one of
its break days — users newly locked above ``metrics.outage_threshold`` of the active users, the
days the summary counts as ``lockout_events`` — falls on one of the ``window_days`` days
that start on the event day), the peak share locked from the event day until the
lockout it added falls back to less than ``RECOVERED_SHARE`` above the day before the event
(users who never update stay locked by earlier breaks; they are not this event's doing) and how
many days that took (``None``: not within the horizon, or — ``cut_by_next_break`` — not
before the strategy's next break). Rows resting on an unconfirmed source say so in ``assumption``.

What the host shorthand copied from the catalogue into the scenario is one row, not two: a CA's
validity step equal to a world step of one of its profiles is that world row, and an
``intermediate_change`` the roadmap lists on its day (same CA, its certificates) is left to the
roadmap row; one no roadmap row lists (the set in force at the start) carries the source of the
catalogue active set it names. A trust-store change of a browser's own store says that it reaches
browsers only (the simulated fleet is an app on the platform's TLS stack).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from simlib.model import Scenario

__all__ = ["COLUMNS", "RECOVERED_SHARE", "calendar", "dated_events"]

#: A lockout counts as over once the locked share is below this (1 %).
RECOVERED_SHARE = 0.01

COLUMNS = [
    "date",
    "kind",
    "event",
    "source",
    "confidence",
    "assumption",
    "strategy",
    "breaks",
    "newly_locked_users",
    "peak_locked_share",
    "days_to_recover",
    "cut_by_next_break",
]


@dataclass(frozen=True)
class DatedEvent:
    date: dt.date
    kind: str  # validity_cap, ca_roadmap, scenario_event, root_expiry, renewal
    event: str
    source: str
    confidence: str  # primary / secondary / unconfirmed, or "scenario" / "simulated"


def _world_cap_steps(schedule: str, name: str, suffix: str = "") -> list[tuple[int, DatedEvent]]:
    """(days, event) for each step of a world cap schedule, saying what the cap was before."""
    from simlib.world.caps import schedule_steps

    out, was = [], ""
    for step in schedule_steps(schedule):
        what = f"{name} {was}{step.max_days} days{suffix}"
        source = f"validity-caps.csv: {step.source}"
        event = DatedEvent(step.effective_date, "validity_cap", what, source, step.confidence)
        out.append((step.max_days, event))
        was = f"{step.max_days} → "
    return out


def _world_cap_events(schedule: str, name: str, suffix: str = "") -> list[DatedEvent]:
    return [e for _days, e in _world_cap_steps(schedule, name, suffix)]


def _catalogue_ca(name: str) -> str | None:
    """The catalogue CA a scenario CA is named after ("letsencrypt", or a later root generation
    the host shorthand named "letsencrypt <generation>"), else None."""
    from simlib.world.catalogue import catalogue

    known = catalogue().cas
    return next((c for c in known if name == c or name.startswith(f"{c} ")), None)


def _cap_events(sc: Scenario) -> list[DatedEvent]:
    from simlib.world.caps import PROFILES, profile_schedule

    out: list[DatedEvent] = []
    if sc.validity_cap == "cabf":
        out += _world_cap_events("cabf", "CA/B Forum cap")
    elif isinstance(sc.validity_cap, list):
        for step in sc.validity_cap:
            out.append(
                DatedEvent(
                    step.from_,
                    "validity_cap",
                    f"scenario cap {step.max_days} days",
                    "scenario",
                    "scenario",
                )
            )
    for ca in sc.cas:
        # a scenario CA named like a catalogue CA: its default profile's world schedule, and the
        # world steps of any of its profiles its own schedule repeats (the host shorthand copies
        # one): such a step is the world row, with its source, not a second "scenario" row
        schedule = profile_schedule(ca.name)
        default = [] if schedule is None else _world_cap_steps(schedule, schedule, " (world data)")
        world = list(default)
        others = PROFILES.get(_catalogue_ca(ca.name) or ca.name, {}).values()
        for name in dict.fromkeys(others):
            if name != schedule:
                world += _world_cap_steps(name, name, " (world data)")
        for vs in ca.validity_schedule:
            same = [e for days, e in world if e.date == vs.from_ and days == vs.days]
            if same:
                out.append(same[0])
                continue
            out.append(
                DatedEvent(
                    vs.from_,
                    "validity_cap",
                    f"{ca.name} certificates {vs.days} days",
                    "scenario",
                    "scenario",
                )
            )
        out += [e for _days, e in default]
    return list(dict.fromkeys(out))  # a world step both repeated and of the default schedule


def _roadmap_events(sc: Scenario) -> list[DatedEvent]:
    from simlib.world.catalogue import catalogue
    from simlib.world.extrapolation import extrapolated_events
    from simlib.world.roadmap import events

    known = set(catalogue().cas)
    out = []
    for ca in sc.cas:
        if ca.name not in known:
            continue
        for e in events(ca.name, sc.start, sc.end):
            what = f"{ca.name} {e.kind.replace('_', ' ')}: {e.detail}{_scope(e)}"
            out.append(
                DatedEvent(e.date, "ca_roadmap", what, f"ca-roadmap.csv: {e.source}", e.confidence)
            )
        # past the published roadmap: the CA's practice continued (every row an assumption)
        for e in extrapolated_events(ca.name, sc.start, sc.end):
            what = f"{ca.name} {e.kind.replace('_', ' ')}: {e.detail}"
            out.append(DatedEvent(e.date, "ca_roadmap", what, e.source, e.confidence))
    return out


#: Words of a roadmap detail naming a browser's own trust store or path building: such a change
#: reaches browsers only. The simulated fleet is an app on the platform's TLS stack, which it
#: does not touch (a browser app models it as its own scenario event, as the Brave preset does).
BROWSER_ONLY = ("Chrome PKI Metadata", "Chromium", "Brave", "Firefox", "CRLite")


def _scope(e) -> str:
    if e.kind == "trust_store_change" and any(w in e.detail for w in BROWSER_ONLY):
        return " [scope: browsers only — apps on the platform trust store are not affected]"
    return ""


def _catalogue_origin(sc: Scenario, ev) -> tuple[bool, tuple[str, str] | None]:
    """For an ``intermediate_change`` of a catalogue CA: (repeats a world roadmap row — the
    host shorthand made it from that row — , (source, confidence) of the catalogue active set
    it names). Matched by date, CA and certificates: a scenario's own change of another set
    stays the scenario's."""
    from simlib.world.catalogue import catalogue
    from simlib.world.extrapolation import extrapolated_events
    from simlib.world.roadmap import events

    ca = _catalogue_ca(str(getattr(ev, "ca", "") or ""))
    if ev.type != "intermediate_change" or ca is None:
        return False, None
    members = set(ev.active)
    rows = [*events(ca, ev.date, ev.date), *extrapolated_events(ca, sc.start, sc.end)]
    if any(
        r.date == ev.date and r.kind == "intermediate_rotation" and members <= set(r.certificates)
        for r in rows
    ):
        return True, None
    found = [
        s
        for s in catalogue().ca(ca).active_sets
        if s.start <= ev.date and members <= {*s.rsa, *s.ecdsa}
    ]
    if not found:
        return False, None
    row = max(found, key=lambda s: s.start)
    return False, (
        f"ca-catalogue.yaml {ca} active set from {row.start}: {row.source}",
        row.confidence,
    )


def _scenario_events(sc: Scenario) -> list[DatedEvent]:
    from simlib.world.extrapolation import assumption_label

    out = []
    for ev in sc.events:
        day = getattr(ev, "date", None)
        if day is None:
            continue
        repeats, origin = _catalogue_origin(sc, ev)
        if repeats:  # the world roadmap row of that day lists it, with its source
            continue
        fields = ev.model_dump(exclude={"type", "date"}, exclude_none=True, by_alias=True)
        detail = ", ".join(f"{k}={v}" for k, v in fields.items() if v not in ([], {}))
        # an intermediate_change the host shorthand made from extrapolated sets, or a migration
        # to a stand-in root generation, is an assumption
        named = [*(getattr(ev, "active", None) or []), getattr(ev, "to", None) or ""]
        assumed = next(filter(None, map(assumption_label, named)), None)
        source, confidence = (
            (origin or ("scenario", "scenario")) if assumed is None else (assumed, "unconfirmed")
        )
        out.append(
            DatedEvent(day, "scenario_event", f"{ev.type} {detail}".strip(), source, confidence)
        )
    for ca in sc.cas:
        if ca.root_not_after is not None:
            out.append(
                DatedEvent(
                    ca.root_not_after + dt.timedelta(days=1),
                    "root_expiry",
                    f"{ca.root or ca.name + ' Root'} expired",
                    "scenario",
                    "scenario",
                )
            )
    return out


def _renewals(issuances: pd.DataFrame) -> list[DatedEvent]:
    from simlib.world.extrapolation import assumption_label

    out = []
    for row in issuances.itertuples(index=False):
        day = pd.Timestamp(row.date).date()
        # a leaf from an intermediate invented past the CA's roadmap rests on an assumption
        assumed = assumption_label(str(row.intermediate))
        out.append(
            DatedEvent(
                day,
                "renewal",
                f"{row.host}: {row.reason} ({row.ca} / {row.intermediate}, "
                f"{row.lifetime_days} days)",
                "simulated" if assumed is None else f"simulated; {assumed}",
                "simulated" if assumed is None else "unconfirmed",
            )
        )
    return out


def dated_events(scenario: Scenario, issuances: pd.DataFrame | None = None) -> list[DatedEvent]:
    """Every dated event of the scenario's horizon, in date order (renewals if given)."""
    found = _cap_events(scenario) + _roadmap_events(scenario) + _scenario_events(scenario)
    if issuances is not None:
        found += _renewals(issuances)
    inside = [e for e in found if scenario.start <= e.date <= scenario.end]
    return sorted(inside, key=lambda e: (e.date, e.kind, e.event))


def _default_today(sc: Scenario) -> dt.date:
    real = dt.date.today()
    return real if sc.start <= real <= sc.end else sc.start


def _effects(
    rate: np.ndarray,
    broke: np.ndarray,
    newly: np.ndarray,
    i: int,
    window: int,
    recover: float,
) -> tuple[bool, float, float, int | None, bool]:
    """(breaks, newly locked, peak share, days to recover, recovery censored by a later break);
    ``broke``: the strategy's break days; ``recover``:
    :func:`~simlib.results.recovery.recovery_days` of day ``i`` (no horizon cut)."""
    stop = min(len(rate), i + window)
    breaks = bool(broke[i:stop].any())
    total = float(newly[i:stop].sum())
    if not breaks:
        return False, total, float(rate[i]), None, False
    later = np.flatnonzero(broke[stop:])
    horizon = len(rate) if later.size == 0 else stop + int(later[0])
    recovered = i + recover < horizon  # before the strategy's next break
    end = i + int(recover) if recovered else horizon
    peak = float(rate[i : max(end, stop)].max())
    if recovered:
        return True, total, peak, int(recover), False
    return True, total, peak, None, later.size > 0


def calendar(
    scenario: Scenario | str | os.PathLike[str],
    today: dt.date | str | None = None,
    *,
    window_days: int = 7,
    result=None,
) -> pd.DataFrame:
    """One row per (dated event from ``today`` to the end, strategy): see the module doc.

    ``result``: the expected-mode result of ``scenario`` if the caller has it (else simulated).
    ``scenario`` may be a path (read with :func:`simlib.load_scenario`); a bad file, ``today`` or
    ``window_days`` is a :class:`~simlib.errors.ScenarioError`, another type a ``TypeError``.
    """
    from simlib._dates import to_date
    from simlib.api import simulate
    from simlib.errors import ScenarioError
    from simlib.model import Scenario, load_scenario
    from simlib.results.recovery import recovery_days

    if isinstance(scenario, (str, os.PathLike)):
        scenario = load_scenario(scenario)
    elif not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario or a path, not {type(scenario).__name__}")
    if isinstance(window_days, bool) or not isinstance(window_days, int):
        raise TypeError(f"window_days must be a whole number, not {type(window_days).__name__}")
    if window_days < 0:
        raise ScenarioError("calendar()", "window_days", f"must be 0 or more, not {window_days}")
    try:
        start = _default_today(scenario) if today is None else to_date(today)
    except ValueError as exc:
        raise ScenarioError("calendar()", "today", str(exc)) from None
    res = simulate(scenario) if result is None else result
    ts = res.timeseries.sort_values(["strategy", "date"])
    series = {}
    for name, g in ts.groupby("strategy", sort=False):
        newly = g["newly_locked_users"].to_numpy(dtype=float)
        series[name] = (g["lockout_rate"].to_numpy(dtype=float), res.breaks(name), newly)
    events = [ev for ev in dated_events(scenario, res.issuances) if ev.date >= start]
    days = np.array([(ev.date - scenario.start).days for ev in events], dtype=int)
    recover = {
        name: recovery_days(rate, days, RECOVERED_SHARE) for name, (rate, _, _) in series.items()
    }
    rows = []
    for n, ev in enumerate(events):
        i = int(days[n])
        for strat in scenario.strategies:
            rate, broke, newly = series[strat.name]
            effects = _effects(rate, broke, newly, i, window_days, float(recover[strat.name][n]))
            rows.append(
                (
                    ev.date,
                    ev.kind,
                    ev.event,
                    ev.source,
                    ev.confidence,
                    ev.confidence == "unconfirmed",
                    strat.name,
                    *effects,
                )
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["days_to_recover"] = frame["days_to_recover"].astype("Int64")
    return frame
