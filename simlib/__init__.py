"""simlib — should we pin certificates, and how?

Simulates fleets of app versions against certificate renewal and CA rotation schedules and
reports, per pinning strategy, who gets locked out and which MITM attacks are rejected.

>>> import simlib
>>> sc = simlib.load_scenario("data/scenarios/quickstart.yaml")   # doctest: +SKIP
>>> res = simlib.simulate(sc)                                       # doctest: +SKIP
>>> res.summary                                                     # doctest: +SKIP
"""

from __future__ import annotations

from simlib._version import __version__
from simlib.api import simulate
from simlib.errors import ScenarioError, SimlibError
from simlib.model import Scenario, apply_overrides, default_scenario, load_scenario
from simlib.strategies.strategy import PinningStrategy


def __getattr__(name: str):
    # Batch machinery (pyarrow datasets, executors) loads only when a sweep is used.
    if name in ("sweep", "load_results"):
        from simlib import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'simlib' has no attribute {name!r}")


__all__ = [
    "PinningStrategy",
    "Scenario",
    "ScenarioError",
    "SimlibError",
    "__version__",
    "apply_overrides",
    "default_scenario",
    "load_results",
    "load_scenario",
    "simulate",
    "sweep",
]
