"""Shared fixtures: small scenarios built from dicts, so each test states what matters."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pytest

from simlib.fleet.adoption import AdoptionCurve
from simlib.model import Scenario, ScenarioWarning, scenario_from_dict, set_path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

BASE: dict = {
    "name": "test",
    "start": "2025-01-01",
    "end": "2025-12-31",
    "seed": 3,
    "fleet": {
        "users": 1000,
        "release_every_days": 14,
        "build_lead_days": 3,
        "adoption": {
            "never_update_share": 0.05,
            "components": [
                {"weight": 0.5, "mean_lag_days": 3.0},
                {"weight": 0.5, "mean_lag_days": 20.0},
            ],
        },
        "platforms": {"android": 1.0},
    },
    "cas": [
        {"name": "ca1", "intermediates": [{"name": "I1"}]},
        {"name": "ca2"},
    ],
    "hosts": [
        {
            "name": "api.test",
            "ca": "ca1",
            "validity_days": 90,
            "renew_before_days": 30,
            "key_policy": "rotate",
        }
    ],
    "strategies": [{"name": "none", "pin": "none"}],
    "attacks": [],
    "validity_cap": "none",
}


def make(overrides: dict | None = None, **top) -> Scenario:
    """BASE with dotted-path overrides (and top-level keyword replacements)."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(top))
    for path, value in (overrides or {}).items():
        data = set_path(data, path, copy.deepcopy(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return scenario_from_dict(data)


def G(sc: Scenario, d) -> np.ndarray:
    """The scenario's adoption curve, evaluated independently of the engine's cohorts."""
    d = np.asarray(d, dtype=float)
    a = sc.fleet.adoption
    if a.components is None:
        return AdoptionCurve(a).share(d)
    g = sum(c.weight * (1 - np.exp(-np.maximum(d, 0) / c.mean_lag_days)) for c in a.components)
    return np.where(d >= 0, (1 - a.never_update_share) * g, 0.0)


@pytest.fixture
def quickstart() -> Scenario:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        from simlib.model import load_scenario

        return load_scenario(DATA / "scenarios" / "quickstart.yaml")
