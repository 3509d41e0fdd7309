"""Metrics: tidy daily series and per-strategy summaries, shared by expected mode and Monte Carlo.

Definitions (docs/model.md):

* ``lockout_rate`` = locked users / active users on the day;
* ``newly_locked_users`` = users whose version works on the previous day and fails today (a
  server, trust-store or expiry change broke it; users who update into a broken version are not
  counted); a *lockout event* (a *break*) is a day with newly locked users above
  ``outage_threshold`` (:func:`simlib.engine.metrics.break_mask`);
* ``protected_<attack>`` = share of active users who are working and would reject the attack;
  ``exposed_<attack>`` = share working and not rejecting it; with the locked share they sum to 1
  (:func:`simlib.engine.metrics.exposed_share`);
* an *outage episode* is a maximal run of days whose lockout rate exceeds
  ``metrics.outage_threshold`` (default 0: any locked user);
* economics: a locked user-day costs ``cost_per_locked_user_day``; each day an attack of class *a*
  is attempted with probability p_a against a random active user and succeeds if that user is
  exposed, costing ``loss_per_successful_attack`` (:func:`simlib.engine.metrics.expected_cost`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.engine.metrics import cost_rates, exposed_share
from simlib.model import Scenario

# cost_rates is the report's way to the one reading of an economics block (report/ never imports
# the engine).
__all__ = ["cost_rates", "day_index", "display_summary", "rank_costs", "timeseries_frame"]


def day_index(scenario: Scenario) -> pd.DatetimeIndex:
    """The simulated days as ``datetime64[ns]`` (so ``timeseries.resample("W", on="date")`` works)."""
    return pd.date_range(scenario.start, scenario.end, freq="D", unit="ns", name="date")


def timeseries_frame(
    scenario: Scenario,
    series: dict[str, dict[str, np.ndarray]],
    active: np.ndarray,
    attack_labels: list[str],
    platforms: list[str],
) -> pd.DataFrame:
    """One tidy frame, a row per (strategy, date), from each strategy's daily series.

    Built column by column over all strategies at once (one DataFrame, no concat): this is on
    the interactive path (a slider move re-simulates and redraws).
    """
    names = list(series)
    n = len(names)
    T = len(active)

    def col(key: str) -> np.ndarray:
        return np.concatenate([series[s][key] for s in names]) if names else np.zeros(0)

    act = np.tile(active, n)
    locked = col("locked")
    rate = locked / act
    data: dict[str, object] = {
        "date": np.tile(day_index(scenario).to_numpy(), n),
        "strategy": np.repeat(np.array(names, dtype=object), T),
        "active_users": act,
        "locked_users": locked,
        "lockout_rate": rate,
        "newly_locked_users": col("newly_locked"),
        "pin_violation_rate": col("violation") / act,
    }
    for p in platforms:
        data[f"locked_users_{p}"] = col(f"locked:{p}")
    for a in attack_labels:
        protected = col(f"protected:{a}") / act
        data[f"protected_{a}"] = protected
        data[f"exposed_{a}"] = exposed_share(rate, protected)
    return pd.DataFrame(data)


def rank_costs(summary: pd.DataFrame) -> pd.DataFrame:
    """Add ``cost_rank`` (1 = cheapest expected total) when economics are present."""
    if "expected_total_cost" in summary and len(summary):
        summary["cost_rank"] = summary["expected_total_cost"].rank(method="min").astype(int)
    return summary


def display_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary columns a reader needs first, formatted as text (terminal and reports)."""
    table = pd.DataFrame({"strategy": summary["strategy"]})
    table["breaks / changes"] = [
        f"{b}/{n}"
        for b, n in zip(summary["lockout_events"], summary["certificate_changes"], strict=True)
    ]
    table["mean locked"] = summary["mean_lockout_rate"].map(lambda v: f"{v:.1%}")
    table["peak locked"] = summary["peak_lockout_rate"].map(lambda v: f"{v:.1%}")
    table["locked user-days"] = summary["locked_user_days"].map(lambda v: f"{v:,.0f}")
    table["longest outage (d)"] = summary["longest_outage_days"].astype(str)
    if "incurable_lockout_days" in summary:
        table["no fix can cure (d)"] = summary["incurable_lockout_days"].astype(str)
    for col in summary.columns:
        if col.startswith("mean_protected_"):
            table["protected: " + col.removeprefix("mean_protected_")] = summary[col].map(
                lambda v: f"{v:.0%}"
            )
    if "expected_total_cost" in summary:
        table["expected cost"] = summary["expected_total_cost"].map(lambda v: f"{v:,.0f}")
        table["cost rank"] = summary["cost_rank"].astype(str)
    return table
