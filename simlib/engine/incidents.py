"""Incident response: detect a lockout, build and ship an out-of-cycle fix, repeat."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.aggregate import fleet_counts, latest_locked, series_many
from simlib.engine.tables import StrategyRun
from simlib.fleet.cohorts import Cohorts
from simlib.fleet.releases import Release, sort_releases

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation
    from simlib.strategies.strategy import PinningStrategy


def run_strategy(
    sim: Simulation,
    strategy: PinningStrategy,
    cohorts: dict[str, Cohorts] | Cohorts,
    active: np.ndarray,
) -> StrategyRun:
    """Evaluate one strategy, shipping out-of-cycle fixes when incident response is on.

    An incident is detected on day d when the newest release fails for some clients, or when
    the lockout rate rises above ``threshold``; none is detected while a fix is in
    preparation. The fix is built ``detect_days`` later with the pins of that day and
    released ``review_days`` after the build.
    """
    ir = sim.scenario.incident_response
    releases = list(sim.base_releases)
    fixes: list[Release] = []
    guard = -1
    while True:
        tables = sim.tables(strategy, releases)
        counts = fleet_counts(sim, tables, cohorts)
        series = series_many(sim, [tables], counts, active=active)[0]
        if ir is None:
            break
        rate = series["locked"] / active
        above = rate > ir.threshold
        crossing = above & ~np.concatenate([[False], above[:-1]])
        trigger = crossing | latest_locked(sim, tables, ir.threshold)
        trigger[: guard + 1] = False
        hits = np.flatnonzero(trigger)
        if not len(hits):
            break
        d = int(hits[0])
        build = d + ir.detect_days
        release = build + ir.review_days
        if release > sim.days - 1:
            break
        fix = Release(f"fix{len(fixes) + 1}", build, release, "fix")
        fixes.append(fix)
        releases = sort_releases([*releases, fix])
        guard = release - 1
    return StrategyRun(tables, counts, series, fixes)
