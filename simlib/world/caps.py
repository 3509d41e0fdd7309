"""Maximum leaf validity by issue date (``data/world/validity-caps.csv``).

A schedule is a list of steps; a step applies to certificates issued on or after its
``effective_date`` until the next step. Schedules: ``cabf`` (CA/Browser Forum Baseline
Requirements with Ballot SC-081v3), ``letsencrypt-classic``, ``letsencrypt-tlsserver``,
``letsencrypt-shortlived`` and ``acm`` (AWS Certificate Manager).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simlib.errors import ScenarioError
from simlib.world.data import parse_date, read_csv, world_dir

__all__ = ["CapStep", "cap_on", "cap_step_on", "load_caps", "schedules"]

FILE = "validity-caps.csv"


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


def load_caps(directory: Path | None = None) -> dict[str, tuple[CapStep, ...]]:
    """Every schedule's steps in date order (cached per folder)."""
    return _load(((directory or world_dir()) / FILE).resolve())


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


def cap_step_on(schedule: str, day: date) -> CapStep | None:
    """The step in force for a certificate issued on ``day`` (None before the first step)."""
    current = None
    for step in _steps(schedule):
        if step.effective_date <= day:
            current = step
    return current


def cap_on(schedule: str, day: date) -> int | None:
    """Maximum validity in days for a certificate issued on ``day``; None if no cap applies."""
    step = cap_step_on(schedule, day)
    return None if step is None else step.max_days
