"""Maximum leaf validity by issue date (``data/world/validity-caps.csv``), the one home of every
cap schedule (the scenario's ``validity_cap: cabf`` reads it here), and the one rule for which
step of a dated schedule is in force (:func:`step_on`).

A schedule is a list of steps; a step applies to certificates issued on or after its
``effective_date`` until the next step. Schedules: ``cabf`` (CA/Browser Forum Baseline
Requirements from BR 1.0, with Ballot SC-081v3), ``letsencrypt-classic``,
``letsencrypt-tlsserver``, ``letsencrypt-shortlived`` and ``acm`` (AWS Certificate Manager).
Which schedule a catalogue CA's ACME profile follows is :data:`PROFILES`.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from simlib.errors import ScenarioError
from simlib.world.data import parse_date, read_csv, world_dir

__all__ = [
    "PROFILES",
    "CapStep",
    "cap_on",
    "cap_step_on",
    "default_profile",
    "load_caps",
    "profile_schedule",
    "schedule_steps",
    "schedules",
    "step_on",
]

FILE = "validity-caps.csv"

#: Catalogue CA -> its validity profiles -> the cap schedule each follows; the first profile is
#: the CA's default (Let's Encrypt's ``classic``). CAs not named here have no profile.
PROFILES: dict[str, dict[str, str]] = {
    "letsencrypt": {
        "classic": "letsencrypt-classic",
        "tlsserver": "letsencrypt-tlsserver",
        "shortlived": "letsencrypt-shortlived",
    },
    "amazon": {"acm": "acm"},
}

T = TypeVar("T")


@dataclass(frozen=True)
class CapStep:
    """From ``effective_date`` on, certificates may live at most ``max_days`` days."""

    schedule: str
    effective_date: date
    max_days: int
    source: str
    confidence: str
    note: str = ""


@functools.cache
def _load(path: Path) -> dict[str, tuple[CapStep, ...]]:
    steps: dict[str, list[CapStep]] = {}
    for row in read_csv(path, ("schedule", "effective_date", "max_days")):
        f, w = row.source_file, row.where
        schedule = row.text("schedule") or ""
        day = parse_date(row.text("effective_date"), f, w, "effective_date")
        text = row.text("max_days") or ""
        if not text.isdigit() or int(text) < 1:
            raise row.error(f"max_days {text!r} is not a positive whole number of days")
        previous = steps.get(schedule, [])
        if previous and day <= previous[-1].effective_date:
            raise row.error(
                f"{schedule}: effective dates must increase ({day} after "
                f"{previous[-1].effective_date})"
            )
        step = CapStep(
            schedule, day, int(text), row["source"], row["confidence"], row.get("note", "")
        )
        steps.setdefault(schedule, []).append(step)
    return {name: tuple(items) for name, items in steps.items()}


@functools.cache
def _shipped() -> dict[str, tuple[CapStep, ...]]:
    # the package's own file: found once (every certificate issuance asks for its cap)
    return _load((world_dir() / FILE).resolve())


def load_caps(directory: Path | None = None) -> dict[str, tuple[CapStep, ...]]:
    """Every schedule's steps in date order (cached per folder)."""
    return _shipped() if directory is None else _load((directory / FILE).resolve())


def schedules() -> tuple[str, ...]:
    """Names of the known cap schedules."""
    return tuple(load_caps())


def _steps(schedule: str) -> tuple[CapStep, ...]:
    caps = load_caps()
    if schedule not in caps:
        raise ScenarioError(
            FILE, "schedule", f"unknown cap schedule {schedule!r}; valid: {', '.join(caps)}"
        )
    return caps[schedule]


def schedule_steps(schedule: str) -> tuple[CapStep, ...]:
    """The steps of one schedule in date order; a one-line error naming the valid schedules."""
    return _steps(schedule)


def step_on(steps: Sequence[T], day: date, when: Callable[[T], date]) -> T | None:
    """The step of ``steps`` (sorted by ``when``, strictly increasing) in force on ``day``: the
    last one dated on or before it; None before the first. The one rule for a dated schedule:
    the world's caps and the scenario's ``validity_cap`` are read with it."""
    i = bisect.bisect_right(steps, day, key=when)
    return steps[i - 1] if i else None


def _effective(step: CapStep) -> date:
    return step.effective_date


def cap_step_on(schedule: str, day: date) -> CapStep | None:
    """The step in force for a certificate issued on ``day`` (None before the first step)."""
    return step_on(_steps(schedule), day, _effective)


def cap_on(schedule: str, day: date) -> int | None:
    """Maximum validity in days for a certificate issued on ``day``; None if no cap applies."""
    step = cap_step_on(schedule, day)
    return None if step is None else step.max_days


def default_profile(ca: str) -> str | None:
    """The profile a host on catalogue CA ``ca`` gets when it names none (None: no profiles)."""
    return next(iter(PROFILES.get(ca, {})), None)


def profile_schedule(ca: str, profile: str | None = None) -> str | None:
    """The cap schedule of ``ca``'s ``profile`` (default: its default profile); None if the CA
    or the profile has none."""
    profiles = PROFILES.get(ca, {})
    return profiles.get(profile if profile is not None else next(iter(profiles), ""))
