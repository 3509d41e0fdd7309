"""Expected mode: exact expected lockout and coverage for the scenario's seeded calendar."""

from __future__ import annotations

import numpy as np

from simlib.engine.aggregate import fleet_counts, series_many
from simlib.engine.incidents import run_strategy
from simlib.engine.simulation import Simulation
from simlib.engine.tables import StrategyRun
from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.counts import AtLeast
from simlib.model import Scenario


def run_expected(
    scenario: Scenario, *, seed: np.random.SeedSequence | None = None
) -> tuple[Simulation, dict[str, StrategyRun], np.ndarray]:
    """Every strategy of ``scenario`` in expected mode: (simulation, runs by name, active users)."""
    sim = Simulation(scenario, seed=seed)
    cohorts = sim.cohorts_expected()
    active = cohorts.active_users()
    if scenario.incident_response is not None:
        runs = {st.name: run_strategy(sim, st, cohorts, active) for st in sim.strategies}
        return sim, runs, active
    # Without incident fixes every strategy has the same releases: users per version are looked
    # up once for the whole fleet and every strategy is evaluated against them.
    tables = [sim.tables(st, sim.base_releases) for st in sim.strategies]
    curve = AdoptionCurve(scenario.fleet.adoption)
    everyone = AtLeast(cohorts, tables[0].release_days, curve=curve)
    counts = fleet_counts(sim, tables[0], cohorts)
    series = series_many(sim, tables, counts, everyone, active=active)
    runs = {
        st.name: StrategyRun(tb, counts, se)
        for st, tb, se in zip(sim.strategies, tables, series, strict=True)
    }
    return sim, runs, active
