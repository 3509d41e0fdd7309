"""Per-strategy figures from daily series: lockout, outage episodes, coverage, expected cost.

Pure numpy on the engine's daily series, shared by expected mode and every Monte Carlo
replication (definitions in docs/model.md and :mod:`simlib.results.metrics`).
"""

from __future__ import annotations

import numpy as np

from simlib.model import Scenario


def _runs(above: np.ndarray) -> tuple[int, int]:
    """(number of maximal runs of True, length of the longest run)."""
    if not above.any():
        return 0, 0
    padded = np.concatenate([[False], above, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    return len(starts), int((ends - starts).max())


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
    events = np.flatnonzero(series["newly_locked"] / active > threshold)
    row: dict[str, object] = {
        "locked_user_days": float(locked.sum()),
        "mean_lockout_rate": float(rate.mean()),
        "peak_lockout_rate": float(rate[peak_i]),
        "peak_date": scenario.date(peak_i) if rate[peak_i] > threshold else None,
        "first_lockout_date": scenario.date(int(above[0])) if len(above) else None,
        "outage_episodes": n_ep,
        "longest_outage_days": longest,
        "lockout_events": len(events),
        "pin_violation_user_days": float(series["violation"].sum()),
    }
    working = 1.0 - rate
    exposed = {}
    for a in attack_labels:
        prot = series[f"protected:{a}"] / active
        exposed[a] = np.clip(working - prot, 0.0, None)
        row[f"mean_protected_{a}"] = float(prot.mean())
        row[f"mean_exposed_{a}"] = float(exposed[a].mean())
    eco = scenario.economics
    if eco is not None:
        outage = eco.cost_per_locked_user_day * float(locked.sum())
        loss = 0.0
        for a in attack_labels:
            p = eco.attack_probability_per_day.get(a, 0.0)
            per = eco.loss_per_successful_attack
            per = per.get(a, 0.0) if isinstance(per, dict) else per
            loss += p * per * float(exposed[a].sum())
        row["expected_outage_cost"] = outage
        row["expected_attack_loss"] = loss
        row["expected_total_cost"] = outage + loss
    return row


def incurable_column(scenario: Scenario, days: int) -> dict[str, int]:
    """``incurable_lockout_days`` (with incident response only): days with locked users that no
    app release built that day could cure (engine/incidents.py)."""
    return {} if scenario.incident_response is None else {"incurable_lockout_days": days}
