"""Does every host have an intermediate to issue from for as long as it is on its CA?

``simlib run`` stops with ``no active intermediate on <day>`` when a renewal falls on a day its
CA has none; this finds such days from the validated scenario alone, so ``simlib validate``
fails where ``run`` would. The rule is the calendar's (``server.calendar.active_intermediates``):
the latest ``intermediate_change`` of the CA on or before the day names the set, else each
intermediate's ``active_from``/``active_until``; an intermediate past its ``not_after`` never
issues. Events are read through what they declare (``model/effects.py``): a host needs its CA
from its first issuance until a dated switch moves it away (``ca_migration``, ``ca_distrust``
with a replacement: ``issuance_effects``), and the target from then on.

A gap is reported when it starts on the host's first issuance or is at least as long as the
longest lifetime the CA (or the host) asks for: every host renews within one lifetime, so such
a gap certainly meets a renewal. A shorter one may fall between renewals and is left to ``run``
(validate never refuses what run accepts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simlib.model.effects import ActiveIntermediates, PlannedSwitch, Reissue
from simlib.model.server import CASpec

if TYPE_CHECKING:
    from simlib.model.scenario import Scenario

__all__ = ["Gap", "horizon_gaps"]

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Gap:
    """``where`` names the CA's intermediates; ``message`` is the one line to show."""

    where: str
    message: str
    ca: str
    host: str
    first: dt.date
    last: dt.date


def _overrides(sc: Scenario, ca: str) -> list[tuple[dt.date, frozenset[str]]]:
    """The CA's dated active sets, from what each event declares (``ca_effects``)."""
    out = [
        (sc.date(change.day), frozenset(change.active))
        for ev in sc.events
        for change in ev.ca_effects(sc.day)
        if isinstance(change, ActiveIntermediates) and change.ca == ca
    ]
    return sorted(out, key=lambda o: o[0])


def _active_on(spec: CASpec, overrides: list[tuple[dt.date, frozenset[str]]], day: dt.date) -> bool:
    named: frozenset[str] | None = None
    for start, names in overrides:
        if start <= day:
            named = names
    for inter in spec.intermediates:
        if named is not None and inter.name not in named:
            continue
        if named is None and (
            (inter.active_from and day < inter.active_from)
            or (inter.active_until and day >= inter.active_until)
        ):
            continue
        if inter.not_after and day > inter.not_after:
            continue
        return True
    return False


def _changes(spec: CASpec, overrides: list[tuple[dt.date, frozenset[str]]]) -> set[dt.date]:
    """Days on which the answer of :func:`_active_on` may change."""
    days = {d for d, _ in overrides}
    for inter in spec.intermediates:
        days |= {d for d in (inter.active_from, inter.active_until) if d is not None}
        if inter.not_after is not None:
            days.add(inter.not_after + _DAY)
    return days


def _longest_lifetime(spec: CASpec, host_days: int | None) -> int:
    return max([spec.validity_days, host_days or 0, *(s.days for s in spec.validity_schedule)])


def _switches(sc: Scenario, host: str) -> list[tuple[dt.date, str, str | None]]:
    """(day, target CA, only if on this CA) of every dated CA switch of the host's issuances."""
    out = []
    for ev in sc.events:
        day = getattr(ev, "date", None)
        if day is None:
            continue  # a random occurrence re-issues but never switches CA
        for effect in ev.issuance_effects(host, sc.day(day), sc.day):
            target = effect.switch_to if isinstance(effect, Reissue) else None
            if isinstance(effect, PlannedSwitch):
                target = effect.to
            if target is not None:
                out.append((sc.date(effect.day), target, effect.only_if_on_ca))
    return sorted(out, key=lambda s: (s[0], s[1]))


def _spans(sc: Scenario, host: str, ca: str, first: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(CA, first day, last day) the host issues from, in order (a switch counts from its day:
    one waiting for the next renewal may leave the old CA later, which is left to ``run``)."""
    out: list[tuple[str, dt.date, dt.date]] = []
    current, since = ca, first
    for day, to, only in _switches(sc, host):
        if only is not None and only != current:
            continue
        if day <= since:
            current = to
            continue
        out.append((current, since, day - _DAY))
        current, since = to, day
    out.append((current, since, sc.end))
    return out


def horizon_gaps(sc: Scenario) -> list[Gap]:
    """Every (host, CA) stretch without an active intermediate that a renewal must meet."""
    specs = {c.name: (i, c) for i, c in enumerate(sc.cas)}
    gaps: list[Gap] = []
    seen: set[tuple[str, dt.date]] = set()
    for host in sc.hosts:
        first = max(sc.start, host.first_issued or sc.start)
        for ca, lo, hi in _spans(sc, host.name, host.ca, first):
            if ca not in specs or lo > hi:
                continue  # an unknown CA is the cross-field checks' to report
            index, spec = specs[ca]
            overrides = _overrides(sc, ca)
            days = sorted({lo, *(d for d in _changes(spec, overrides) if lo < d <= hi)})
            bounds = [*days[1:], hi + _DAY]
            stretch: dt.date | None = None
            for day, nxt in zip(days, bounds, strict=True):
                if not _active_on(spec, overrides, day):
                    stretch = stretch or day
                    end = nxt - _DAY
                    longest = _longest_lifetime(spec, host.validity_days)
                    certain = stretch == first or (end - stretch).days + 1 >= longest
                    if certain and (ca, stretch) not in seen:
                        seen.add((ca, stretch))
                        gaps.append(
                            Gap(
                                f"cas[{index}].intermediates",
                                f"no active intermediate from {stretch} to {end} (host "
                                f"{host.name} renews on {ca} then, so run would stop): add "
                                "intermediates, extend not_after, or end the scenario earlier",
                                ca,
                                host.name,
                                stretch,
                                end,
                            )
                        )
                        break
                else:
                    stretch = None
    return gaps
