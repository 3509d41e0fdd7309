"""simlib — should we pin certificates, and how?

Simulates fleets of app versions against certificate renewal and CA rotation schedules and
reports, per pinning strategy, who gets locked out and which MITM attacks are rejected.

>>> import simlib
>>> sc = simlib.load_scenario("data/scenarios/quickstart.yaml")   # doctest: +SKIP
>>> res = simlib.simulate(sc)                                       # doctest: +SKIP
>>> res.summary                                                     # doctest: +SKIP

The public names below load on first use: ``import simlib`` (and so ``simlib --help`` and every
worker start) does not import numpy, pandas or pydantic until something needs them.

Every error a user can cause is a :class:`SimlibError` with a one-line message; the ones the
calls here raise are exported too, and :mod:`simlib.errors` defines and documents them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simlib._version import __version__
from simlib.errors import OutputError, ScenarioError, ScenarioWarning, SimlibError, SweepError

#: public name → the module that defines it
_LAZY = {
    "simulate": "simlib.api",
    "Scenario": "simlib.model",
    "apply_overrides": "simlib.model",
    "default_scenario": "simlib.model",
    "load_scenario": "simlib.model",
    "StrategySpec": "simlib.model",
    "sweep": "simlib.batch",
    "load_results": "simlib.batch",
}

#: names once exported → what to use instead
_REMOVED = {
    "PinningStrategy": "strategies are StrategySpec values (simlib.StrategySpec(name=..., pin=...) "
    "in Scenario.strategies); the engine builds their behaviour",
}

if TYPE_CHECKING:
    from simlib.api import simulate
    from simlib.batch import load_results, sweep
    from simlib.model import (
        Scenario,
        StrategySpec,
        apply_overrides,
        default_scenario,
        load_scenario,
    )


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        hint = _REMOVED.get(name)
        raise AttributeError(
            f"module 'simlib' has no attribute {name!r}" + (f": {hint}" if hint else "")
        )
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "OutputError",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "SimlibError",
    "StrategySpec",
    "SweepError",
    "__version__",
    "apply_overrides",
    "default_scenario",
    "load_results",
    "load_scenario",
    "simulate",
    "sweep",
]
