"""Exposure user-days per attack instance of one strategy of a result, by the day the attack
starts (docs/model.md, "CT enforcement and monitoring"; computed by ``engine.ct_exposure``)."""

from __future__ import annotations

from simlib.engine.ct_exposure import AttackExposure
from simlib.engine.ct_exposure import exposure_by_start_day as _by_start_day
from simlib.errors import ScenarioError

__all__ = ["AttackExposure", "exposure_by_start_day"]


def exposure_by_start_day(result, strategy: str, label: str) -> AttackExposure:
    """Under CT + monitoring and under CT alone, for the instance started on each day, as
    exposed and counting locked users as exposed (what only protection lowers); the result's
    scenario must have a ``monitoring`` block."""
    sc = result.scenario
    if sc.monitoring is None:
        raise ScenarioError(sc.source, "monitoring", "exposure per attack needs a monitoring block")
    if strategy not in result.runs:
        raise ScenarioError("<result>", "strategy", f"no strategy {strategy!r} in this result")
    if label not in {a.label for a in sc.attacks}:
        raise ScenarioError("<result>", "attacks", f"no attack labelled {label!r} in this result")
    return _by_start_day(sc, result.runs[strategy].series, result.active, label)
