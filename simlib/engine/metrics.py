"""Per-strategy figures from daily series: lockout, breaks, outage episodes, coverage, expected
cost (incurable days are defined in :mod:`simlib.engine.incidents`, which needs the tables).

Pure numpy on the engine's daily series, shared by expected mode, every Monte Carlo replication,
the decision report and the risk calendar: each definition is written here once (docs/model.md,
"Outputs", states them; :mod:`simlib.results.metrics` builds the tidy frames from them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.ct_exposure import exposure_columns

if TYPE_CHECKING:
    from simlib.model import Economics, Scenario


def _runs(above: np.ndarray) -> tuple[int, int]:
    """(number of maximal runs of True, length of the longest run)."""
    if not above.any():
        return 0, 0
    padded = np.concatenate([[False], above, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    return len(starts), int((ends - starts).max())


def share(count: np.ndarray, active: np.ndarray) -> np.ndarray:
    """``count / active`` per day, 0 on a day with no active user."""
    count = np.asarray(count, dtype=float)
    active = np.asarray(active, dtype=float)
    return np.divide(count, active, out=np.zeros_like(count), where=active > 0)


def break_mask(newly_locked: np.ndarray, active: np.ndarray, threshold: float) -> np.ndarray:
    """(T,) whether each day is a *break*: users newly locked on it above ``threshold`` (the
    scenario's ``metrics.outage_threshold``) as a share of the active users. The summary's
    ``lockout_events`` counts these days; the recovery table and the risk calendar use them."""
    return share(newly_locked, active) > threshold


def exposed_share(lockout_rate: np.ndarray, protected: np.ndarray) -> np.ndarray:
    """Share of active users working and not protected against an attack: 1 − locked −
    protected (never below 0), so locked, protected and exposed sum to 1."""
    return np.clip(1.0 - np.asarray(lockout_rate) - np.asarray(protected), 0.0, None)


def cost_rates(
    economics: Economics, labels: list[str]
) -> tuple[float, dict[str, float], dict[str, float]]:
    """(cost per locked user-day, attack label -> daily probability, label -> loss per success)
    of an ``economics`` block; a single ``loss_per_successful_attack`` applies to every class."""
    per = economics.loss_per_successful_attack
    loss = {a: float(per.get(a, 0.0)) if isinstance(per, dict) else float(per) for a in labels}
    prob = {a: float(economics.attack_probability_per_day.get(a, 0.0)) for a in labels}
    return float(economics.cost_per_locked_user_day), prob, loss


def expected_cost(
    locked: np.ndarray,
    exposed: Mapping[str, np.ndarray],
    per_locked_user_day: float,
    attack_probability: Mapping[str, float],
    loss: Mapping[str, float],
) -> tuple[float, float]:
    """(expected outage cost, expected attack loss) over the horizon.

    Outage: cost per locked user-day × Σ locked users. Attack loss: Σ over attack classes a of
    p_a × loss_a × Σ over days of the exposed *share* — each day an attack of class a is tried
    with probability p_a against one random active user and succeeds if that user is exposed.
    """
    outage = per_locked_user_day * float(np.sum(locked))
    attack = sum(
        attack_probability.get(a, 0.0) * loss.get(a, 0.0) * float(np.sum(e))
        for a, e in exposed.items()
    )
    return outage, float(attack)


def summary_row(
    scenario: Scenario,
    series: dict[str, np.ndarray],
    active: np.ndarray,
    attack_labels: list[str],
) -> dict[str, object]:
    """Per-strategy summary from daily series (numpy only: Monte Carlo calls this per run)."""
    threshold = scenario.metrics.outage_threshold
    locked = series["locked"]
    rate = locked / active
    n_ep, longest = _runs(rate > threshold)
    peak_i = int(np.argmax(rate))
    above = np.flatnonzero(rate > threshold)
    breaks = break_mask(series["newly_locked"], active, threshold)
    row: dict[str, object] = {
        "locked_user_days": float(locked.sum()),
        "mean_lockout_rate": float(rate.mean()),
        "peak_lockout_rate": float(rate[peak_i]),
        "peak_date": scenario.date(peak_i) if rate[peak_i] > threshold else None,
        "first_lockout_date": scenario.date(int(above[0])) if len(above) else None,
        "outage_episodes": n_ep,
        "longest_outage_days": longest,
        "lockout_events": int(breaks.sum()),
        "pin_violation_user_days": float(series["violation"].sum()),
    }
    exposed = {}
    for a in attack_labels:
        prot = series[f"protected:{a}"] / active
        exposed[a] = exposed_share(rate, prot)
        row[f"mean_protected_{a}"] = float(prot.mean())
        row[f"mean_exposed_{a}"] = float(exposed[a].mean())
    eco = scenario.economics
    if eco is not None:
        outage, loss = expected_cost(locked, exposed, *cost_rates(eco, attack_labels))
        row["expected_outage_cost"] = outage
        row["expected_attack_loss"] = loss
        row["expected_total_cost"] = outage + loss
    if scenario.monitoring is not None:  # appended only then: default summaries stay as they were
        row |= exposure_columns(scenario, series, active, attack_labels)
    return row


def incurable_column(scenario: Scenario, days: int) -> dict[str, int]:
    """``incurable_lockout_days`` (with incident response only): days with locked users that no
    app release built that day could cure (:func:`simlib.engine.incidents.incurable`)."""
    return {} if scenario.incident_response is None else {"incurable_lockout_days": days}
