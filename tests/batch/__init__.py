"""Tests of simlib.batch (sweeps): shared helpers."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import yaml

from simlib.model import load_scenario

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "data" / "scenarios" / "quickstart.yaml"
SWEEPS = ROOT / "data" / "sweeps"


def small_base(users: int = 1000, end: str = "2025-12-31") -> dict[str, Any]:
    """The quickstart scenario with a small fleet and a one-year horizon (fast, noisy MC)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_scenario(QUICKSTART).to_dict()
    data["fleet"]["users"] = users
    data["end"] = end
    return data


def write_sweep(folder: Path, data: dict[str, Any], name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def small_sweep(**overrides: Any) -> dict[str, Any]:
    """A small Monte Carlo sweep: 2 × 2 points × 3 replications on the small base."""
    data: dict[str, Any] = {
        "name": "small",
        "base": small_base(),
        "seed": 42,
        "replications": 3,
        "axes": {
            "grid": {
                "hosts[0].validity_days": [47, 90],
                "fleet.adoption.components[1].mean_lag_days": [10.0, 60.0],
            }
        },
    }
    data.update(overrides)
    return data
