"""Incident response: detect a lockout, build and ship an out-of-cycle fix, repeat.

A fix is shipped only when it helps someone the releases already out do not (:func:`helps`): on
the detection day d, a release built on d with the fix strategy (``incident_response.fix_strategy``,
default the strategy itself) must work for some client kind that has locked users on d and that
the newest release fails too (or, with forced updates, that has more locked users than the day
after the last fix's prompt). Otherwise (a distrusted CA,
a trust-store change that cuts the pinned key out of every built chain) the day is *incurable*
and nothing is shipped; ``incurable_lockout_days`` counts such days with locked users. A locked
user is incurable on a day when a release built that day is locked for their client kind too; a
day is incurable when all its locked users are (:func:`incurable`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.aggregate import fleet_counts, latest_locked, series_many
from simlib.engine.tables import StrategyRun, StrategyTables
from simlib.fleet.cohorts import Cohorts
from simlib.fleet.counts import AtLeast
from simlib.fleet.releases import Release, sort_releases, windows
from simlib.strategies.switch import SwitchedStrategy

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
    preparation, and none on a day a new fix would help nobody (:func:`helps`). The fix is built
    ``detect_days`` later with the pins of that day — the fix strategy's pins, for the fix and
    every later build, when ``fix_strategy`` is set — and released ``review_days`` after the
    build.
    """
    ir = sim.scenario.incident_response
    releases = list(sim.base_releases)
    fixes: list[Release] = []
    current = strategy
    probe, kind = probe_strategy(sim, strategy)
    learn = probe if kind == "fix" else None
    guard = -1
    while True:
        tables = sim.tables(current, releases)
        counts = fleet_counts(sim, tables, cohorts)
        series = series_many(sim, [tables], counts, active=active)[0]
        if ir is None:
            return StrategyRun(tables, counts, series, fixes)
        rate = series["locked"] / active
        above = rate > ir.threshold
        crossing = above & ~np.concatenate([[False], above[:-1]])
        trigger = crossing | latest_locked(sim, tables, ir.threshold)
        trigger[: guard + 1] = False
        fresh = fresh_locks(sim, probe, kind, lock_threshold(sim))
        hits = [int(d) for d in np.flatnonzero(trigger)]
        last = fixes[-1].release_day if fixes else None
        d = next((d for d in hits if helps(sim, tables, counts, fresh, d, last)), None)
        if d is None:
            break
        build = d + ir.detect_days
        release = build + ir.review_days
        if release > sim.days - 1:
            break
        if learn is not None and not fixes:
            current = SwitchedStrategy(strategy, learn, build)
        fix = Release(f"fix{len(fixes) + 1}", build, release, "fix")
        fixes.append(fix)
        releases = sort_releases([*releases, fix])
        guard = release - 1
    incurable = incurable_days(sim, tables, counts, fresh, series["locked"])
    return StrategyRun(tables, counts, series, fixes, incurable)


def fresh_locks(
    sim: Simulation, strategy: PinningStrategy, kind: str, threshold: float
) -> dict[str, np.ndarray]:
    """client -> (T,) whether a release built on day t with ``strategy`` is locked on day t.

    One table over daily builds, kept on the simulation (it does not depend on the fleet, so
    Monte Carlo replications share it)."""
    key = (kind, strategy.name)
    if key not in sim.fresh_locks:
        T = sim.days
        daily = [Release(f"probe{t}", t, t, "probe") for t in range(T)]
        tables = sim.tables(strategy, daily)
        t = np.arange(T)
        out = {}
        for c in sim.clients:
            lk = np.asarray(tables.lock[c.name][t, tables.seg_of_day[t]])
            out[c.name] = lk > threshold if tables.per_day else lk.astype(bool)
        sim.fresh_locks[key] = out
    return sim.fresh_locks[key]


def locked_users(tables: StrategyTables, A: AtLeast, client: str, days: np.ndarray) -> np.ndarray:
    """(len(days),) users of one client kind locked on each of ``days``, over all versions
    (users on exactly k = A(k, t) − A(k + 1, t))."""
    k = np.arange(len(tables.releases))[:, None]
    at_least = np.vstack([A(k, days[None, :]), np.zeros((1, len(days)))])
    lock = tables.lock[client][k, tables.seg_of_day[days][None, :]]
    return ((at_least[:-1] - at_least[1:]) * np.asarray(lock, dtype=np.float64)).sum(axis=0)


def helps(
    sim: Simulation, tables, counts, fresh: dict[str, np.ndarray], day: int, last: int | None
) -> bool:
    """Whether a fix built on ``day`` helps someone the releases already out do not.

    It does for a client kind with locked users on ``day`` that a release built that day
    unlocks (``fresh``) when the newest release fails for it too: otherwise its locked users sit
    on older versions and reach the newest release, which works, before any new fix. With
    forced updates a fix's prompt also moves compliers onto the newest release, so it helps when
    that client kind has more locked users than on the day after the last fix's prompt (``last``:
    its release day; ``None``: no fix yet, and any locked user counts).
    """
    newest = int(windows(tables.release_days, sim.days)[day])
    seg = int(tables.seg_of_day[day])
    threshold = lock_threshold(sim)
    days = np.array([day])
    for c in sim.clients:
        if fresh[c.name][day]:
            continue
        n = locked_users(tables, counts[c.name], c.name, days)[0]
        if n <= 0:
            continue
        lk = tables.lock[c.name][newest, seg]
        if (lk > threshold) if tables.per_day else bool(lk):
            return True
        if sim.comply_share > 0:
            if last is None:
                return True
            # the last prompt moves compliers from the day after its release: until then, and
            # while no one new is locked since, a new prompt reaches no one it would not
            if day > last + 1:
                before = locked_users(tables, counts[c.name], c.name, np.array([last + 1]))[0]
                if n > before * (1 + 1e-12) + 1e-9:
                    return True
    return False


def probe_strategy(sim: Simulation, strategy: PinningStrategy) -> tuple[PinningStrategy, str]:
    """The strategy a fix would be built with, and its :func:`fresh_locks` key: the fix strategy
    when ``fix_strategy`` is set (static strategies only), else the strategy itself."""
    learn = sim.fix_strategy if strategy.dynamic is None else None
    return (learn, "fix") if learn is not None else (strategy, "own")


def lock_threshold(sim: Simulation) -> float:
    """Share of a fractional (dynamic) lock above which a fresh build counts as locked:
    ``incident_response.threshold``, or ``metrics.outage_threshold`` without incident response."""
    ir = sim.scenario.incident_response
    return ir.threshold if ir is not None else sim.scenario.metrics.outage_threshold


def incurable(
    sim: Simulation, tables, counts, fresh: dict[str, np.ndarray], locked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The one definition of *incurable* (docs/model.md), as two (T,) arrays:

    * the incurable locked users of each day: those whose client kind is locked on a release
      built that day too (``fresh``), so no app release can cure them;
    * the incurable days: days with locked users all of whom are incurable — a release built
      that day would unlock none of them, so incident response ships nothing.
    """
    T = sim.days
    users = np.zeros(T)
    some = np.logical_or.reduce([fresh[c.name] for c in sim.clients])  # a fresh build is locked
    # only days with locked users and a locked fresh build can hold incurable users: counting
    # users per client kind on those alone keeps this cheap (a fresh build rarely fails)
    days = np.flatnonzero(some & (np.asarray(locked) > 0))
    curable = np.zeros(len(days), dtype=bool)
    for c in sim.clients:
        if not len(days):
            break
        n = locked_users(tables, counts[c.name], c.name, days)
        stuck = fresh[c.name][days]
        users[days[stuck]] += n[stuck]
        curable |= ~stuck & (n > 0)
    mask = np.zeros(T, dtype=bool)
    mask[days[~curable]] = True
    return mask, users


def incurable_days(sim: Simulation, tables, counts, fresh: dict[str, np.ndarray], locked) -> int:
    """Days with locked users on which no release built that day would unlock any of them."""
    return int(incurable(sim, tables, counts, fresh, locked)[0].sum())


def run_incurable(
    sim: Simulation, strategy: PinningStrategy, run: StrategyRun
) -> tuple[np.ndarray, np.ndarray]:
    """(incurable days, incurable locked users) of a finished run (:func:`incurable`), with or
    without incident response."""
    probe, kind = probe_strategy(sim, strategy)
    fresh = fresh_locks(sim, probe, kind, lock_threshold(sim))
    return incurable(sim, run.tables, run.counts, fresh, run.series["locked"])
