"""The one-call entry point: :func:`simulate`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from simlib.engine.expected import run_expected
from simlib.errors import ScenarioError
from simlib.model import Scenario, load_scenario
from simlib.model.base import MAX_SEED
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

    Raises :class:`~simlib.errors.ScenarioError` for a bad scenario file or a bad argument value
    (an unknown ``mode`` or ``server_draws``, ``replications`` outside 1-1,000,000, a negative
    ``seed``), one line naming the argument; ``TypeError`` only for a value of the wrong Python
    type (a programming error).
    """
    _check_arguments(mode, replications, seed, server_draws)
    if not isinstance(scenario, Scenario):
        if not isinstance(scenario, (str, os.PathLike)):
            raise TypeError(f"scenario must be a Scenario or a path, not {type(scenario).__name__}")
        scenario = load_scenario(scenario)
    if isinstance(seed, (int, np.integer)):
        seed = np.random.SeedSequence(int(seed))
    if mode == "expected":
        return SimulationResult(*run_expected(scenario, seed=seed), mode="expected")
    if mode in ("monte_carlo", "monte-carlo", "mc"):
        return monte_carlo(
            scenario, replications, seed=seed, server_draws=server_draws, progress=progress
        )
    raise AssertionError(mode)  # _check_arguments refused it


_MODES = ("expected", "monte_carlo", "monte-carlo", "mc")
_MAX_REPLICATIONS = 1_000_000  # as the scenario's monte_carlo.replications


def _check_arguments(
    mode: object, replications: object, seed: object, server_draws: object
) -> None:
    """One-line errors for argument values simulate() cannot use, before any work is done."""

    def refuse(name: str, message: str) -> None:
        raise ScenarioError("simulate()", name, message)

    if not isinstance(mode, str):
        raise TypeError(f"mode must be a string, not {type(mode).__name__}")
    if mode not in _MODES:
        refuse("mode", f"unknown mode {mode!r}; expected 'expected' or 'monte_carlo'")
    whole = (int, np.integer)
    for name, value, also in (
        ("replications", replications, ()),
        ("seed", seed, (np.random.SeedSequence,)),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, whole + also)):
            raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
    if replications is not None and not 1 <= replications <= _MAX_REPLICATIONS:
        refuse("replications", f"must be between 1 and {_MAX_REPLICATIONS:,}, not {replications}")
    if isinstance(seed, whole) and not 0 <= seed <= MAX_SEED:
        refuse("seed", f"must be a whole number from 0 to {MAX_SEED}, not {seed}")
    if server_draws is not None and server_draws not in ("fixed", "resample"):
        refuse("server_draws", f"unknown value {server_draws!r}; expected 'fixed' or 'resample'")
