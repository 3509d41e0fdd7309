"""The one-call entry point: :func:`simulate`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simlib.engine.expected import run_expected
from simlib.model import Scenario, load_scenario
from simlib.results.expected import SimulationResult
from simlib.results.montecarlo import MonteCarloResult, monte_carlo


def simulate(
    scenario: Scenario | str | Path,
    *,
    mode: str = "expected",
    replications: int | None = None,
    seed: int | np.random.SeedSequence | None = None,
    server_draws: str | None = None,
    progress: bool = False,
) -> SimulationResult | MonteCarloResult:
    """Simulate a scenario.

    ``mode="expected"`` (default) is exact arithmetic over strategy × version × day for the
    scenario's seeded certificate calendar. ``mode="monte_carlo"`` runs ``replications`` random
    fleets (see :mod:`simlib.engine.montecarlo`); ``seed`` overrides the scenario seed for their streams.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if mode == "expected":
        if isinstance(seed, int):
            seed = np.random.SeedSequence(seed)
        return SimulationResult(*run_expected(scenario, seed=seed), mode="expected")
    if mode in ("monte_carlo", "monte-carlo", "mc"):
        return monte_carlo(
            scenario, replications, seed=seed, server_draws=server_draws, progress=progress
        )
    raise ValueError(f"unknown mode '{mode}' (expected or monte_carlo)")
