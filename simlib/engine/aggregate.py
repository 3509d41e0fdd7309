"""Daily series from verdict tables and the fleet: users locked, protected, violating per day.

For static strategies the sum over versions is taken *by parts* (see :mod:`simlib.fleet.counts`):
Σ_k m[k, s] · users_k(t) = Σ_k (m[k, s] − m[k−1, s]) · A(k, t). A verdict column changes at a few
versions per segment (a renewal splits the versions built before and after it), so the work is
days × breakpoints, not days × versions: linear in the horizon for every strategy whose verdicts
depend on a bounded number of recent builds. Verdicts stay 0/1 and A(k, t) is looked up exactly,
so nothing is approximated; client-kind weights are applied afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.dynamic_views import per_day_sums
from simlib.engine.prompts import fix_indices, prompt_steps
from simlib.engine.sums import SumPlan
from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.cohorts import Cohorts
from simlib.fleet.counts import AtLeast
from simlib.fleet.releases import windows

if TYPE_CHECKING:
    from simlib.clients.trust import ClientKind
    from simlib.engine.simulation import Simulation
    from simlib.engine.tables import StrategyTables

#: A value within this many units of rounding (relative to the users active that day) of zero
#: is zero: sums of ± A(k, t) that cancel exactly in real arithmetic stay exactly 0.
ZERO_ULPS = 64


def fleet_counts(
    sim: Simulation, tables: StrategyTables, cohorts: dict[str, Cohorts] | Cohorts
) -> dict[str, AtLeast]:
    """A(k, t) per client kind, with forced-update prompts when fixes were shipped.

    ``cohorts`` is one expected :class:`Cohorts` for the whole fleet (split across client kinds
    by share) or sampled cohorts per client kind.
    """
    r = tables.release_days
    shared = isinstance(cohorts, Cohorts)
    fixes = fix_indices(tables)
    curve = AdoptionCurve(sim.scenario.fleet.adoption) if shared else None
    out: dict[str, AtLeast] = {}
    for c in sim.clients:
        coh = cohorts if shared else cohorts[c.name]
        scale = c.share if shared else 1.0
        steps = None
        if fixes and sim.comply_share > 0:
            steps = prompt_steps(sim, tables, c, coh, fixes, scale)
        out[c.name] = AtLeast(coh, r, scale=scale, steps=steps, curve=curve if shared else None)
    return out


def verdict_columns(
    sim: Simulation, tables: StrategyTables, client: ClientKind
) -> list[np.ndarray]:
    """Per client-level column (locked, violation, protected per attack): (V, S) verdicts."""
    mats = [tables.lock[client.name], tables.violate[client.name]]
    return mats + [tables.protect[client.name][a] for a in sim.attack_labels]


def verdict_columns_of(sim: Simulation, tables: StrategyTables, names: list[str]) -> list:
    by_name = {c.name: c for c in sim.clients}
    return [m for n in names for m in verdict_columns(sim, tables, by_name[n])]


def series_many(
    sim: Simulation,
    tables_list: list[StrategyTables],
    counts: dict[str, AtLeast],
    everyone: AtLeast | None = None,
    cache: dict | None = None,
    active: np.ndarray | None = None,
) -> list[dict[str, np.ndarray]]:
    """Daily series of several strategies that share one release list.

    When ``everyone`` is given (expected mode), each client kind is its share of the whole fleet
    and A(k, t) is looked up once for all of them. ``cache`` (owned by the caller) keeps the
    breakpoint plans between calls with the same tables (Monte Carlo replications). ``active``
    (users with the app each day) bounds every count; by default the counts' own total.
    """
    T = sim.days
    if active is None:
        t = np.arange(T)
        active = sum(A(np.zeros(T, dtype=np.int64), t) for A in counts.values())
    K0 = 2 + len(sim.attack_labels)
    by_platform = _platform_active(sim, counts) if sim.scenario.monitoring is not None else None
    if everyone is not None:
        groups = [(everyone, [c.name for c in sim.clients])]
        weights = {c.name: c.share for c in sim.clients}
    else:
        groups = [(counts[c.name], [c.name]) for c in sim.clients]
        weights = {c.name: 1.0 for c in sim.clients}
    results = []
    for tb in tables_list:
        per_client: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if tb.per_day:
            for c in sim.clients:  # dynamic verdicts vary by day: old / expired / recent band
                per_client[c.name] = per_day_sums(verdict_columns(sim, tb, c), counts[c.name], T)
            ones = {c.name: 1.0 for c in sim.clients}
            results.append(_combine(sim, per_client, ones, active, by_platform))
            continue
        for A, names in groups:
            key = (id(tb), tuple(names))
            plan = cache.get(key) if cache is not None else None
            if plan is None:
                plan = SumPlan(sim, tb, verdict_columns_of(sim, tb, names), names)
                if cache is not None:
                    cache[key] = plan
            out, newly = plan.evaluate(A, T)
            for i, n in enumerate(names):
                per_client[n] = (out[:, i * K0 : (i + 1) * K0], newly[i])
        results.append(_combine(sim, per_client, weights, active, by_platform))
    return results


def _platform_active(sim: Simulation, counts: dict[str, AtLeast]) -> dict[str, np.ndarray]:
    """Users with the app per platform and day (the users on version >= 0 of its client kinds)."""
    T = sim.days
    t, zero = np.arange(T), np.zeros(T, dtype=np.int64)
    out = {p: np.zeros(T) for p in sim.platforms}
    for c in sim.clients:
        out[c.platform] = out[c.platform] + counts[c.name](zero, t)
    return out


def _combine(
    sim: Simulation,
    per_client: dict[str, tuple[np.ndarray, np.ndarray]],
    weights: dict[str, float],
    active: np.ndarray,
    platform_active: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Weighted sum of client-level columns into the named daily series, clamped to [0, active].

    With ``platform_active`` (a ``monitoring`` block) also ``active@<platform>`` and
    ``protected:<attack>@<platform>``, which CT enforcement needs (engine.ct_exposure)."""
    T = sim.days
    K0 = 2 + len(sim.attack_labels)
    total = np.zeros((T, K0))
    newly = np.zeros(T)
    by_platform = {p: np.zeros(T) for p in sim.platforms}
    for c in sim.clients:
        cols, nl = per_client[c.name]
        w = weights[c.name]
        total += w * cols
        newly += w * nl
        by_platform[c.platform] += w * cols[:, 0]
    out = {"locked": total[:, 0], "violation": total[:, 1], "newly_locked": newly}
    out |= {f"protected:{a}": total[:, 2 + n] for n, a in enumerate(sim.attack_labels)}
    out |= {f"locked:{p}": v for p, v in by_platform.items()}
    if platform_active is not None:
        out |= {f"active@{p}": v for p, v in platform_active.items()}
        for n, a in enumerate(sim.attack_labels):
            for p in sim.platforms:
                kinds = [c for c in sim.clients if c.platform == p]
                cols = [weights[c.name] * per_client[c.name][0][:, 2 + n] for c in kinds]
                out[f"protected:{a}@{p}"] = sum(cols, np.zeros(T))
    cleaned = clean(np.stack(list(out.values())), active[None, :])
    return dict(zip(out, cleaned, strict=True))


def clean(values: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Clamp user counts to [0, active] and snap values within rounding of 0 or active to them."""
    tol = ZERO_ULPS * np.finfo(np.float64).eps * np.maximum(active, 1.0)
    v = np.clip(values, 0.0, active)
    v = np.where(v <= tol, 0.0, v)
    return np.where(active - v <= tol, active, v)


def latest_locked(sim: Simulation, tables: StrategyTables, threshold: float) -> np.ndarray:
    """(T,) whether the newest release fails for some client kind on each day."""
    newest = windows(tables.release_days, sim.days)
    seg = tables.seg_of_day
    out = np.zeros(sim.days, dtype=bool)
    for c in sim.clients:
        lk = tables.lock[c.name][newest, seg]
        out |= lk > threshold if tables.per_day else lk
    return out
