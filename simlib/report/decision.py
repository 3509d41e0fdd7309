"""The numbers behind the decision: ranking, recommendation, Pareto frontier, findings.

Pure functions of a :class:`~simlib.results.expected.SimulationResult` (and its scenario); no
canned text — every sentence is built from the numbers it states.

Ranking rule
------------
* With an ``economics`` block in the scenario: lowest expected total cost first.
* Without one (the default cost assumptions of ``data/world/cost-defaults.csv`` are then shown,
  labelled as assumptions, but do not rank), lexicographically: fewest locked user-days, then
  the highest protected share averaged over attack classes, then the lowest peak lockout, then
  scenario order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simlib.model import Scenario
from simlib.report.wording import num, pct
from simlib.results.metrics import cost_rates
from simlib.results.recovery import recovery_days
from simlib.world.data import parse_float, read_csv, world_dir

#: Lockout levels for "time to recover": days until the lockout a break added falls below each.
RECOVERY_LEVELS: tuple[float, ...] = (0.01, 0.001)
COST_FILE = "cost-defaults.csv"


# ------------------------------------------------------------------------------ assumptions
def load_cost_defaults(directory: Path | None = None) -> pd.DataFrame:
    """``data/world/cost-defaults.csv`` as a frame (parameter, attack, value, unit, source,
    confidence, note); values as floats."""
    rows = read_csv(
        (directory or world_dir()) / COST_FILE, ("parameter", "attack", "value", "unit")
    )
    frame = pd.DataFrame(
        [
            {
                "parameter": r["parameter"],
                "attack": r.get("attack") or "",
                "value": parse_float(r["value"], r.source_file, r.where, "value"),
                "unit": r.get("unit") or "",
                "source": r["source"],
                "confidence": r["confidence"],
                "note": r.get("note") or "",
            }
            for r in rows
        ]
    )
    return frame


@dataclass(frozen=True)
class CostInputs:
    """The cost inputs a report uses, and whether they came from the scenario."""

    per_locked_user_day: float
    attack_probability: dict[str, float]
    loss: dict[str, float]
    from_scenario: bool
    assumptions: (
        pd.DataFrame
    )  # one row per input: parameter, attack, value, unit, source, confidence


def cost_inputs(scenario: Scenario, defaults: pd.DataFrame | None = None) -> CostInputs:
    """The scenario's economics, or the defaults (every row labelled as an assumption)."""
    labels = [a.label or a.name for a in scenario.attacks]
    kinds = {a.label or a.name: a.name for a in scenario.attacks}
    eco = scenario.economics
    if eco is not None:
        per_day, prob, loss = cost_rates(eco, labels)
        rows = [("cost_per_locked_user_day", "", per_day, "per locked user-day")]
        rows += [("attack_probability_per_day", a, prob[a], "probability per day") for a in labels]
        rows += [
            ("loss_per_successful_attack", a, loss[a], "per successful attack") for a in labels
        ]
        frame = pd.DataFrame(rows, columns=["parameter", "attack", "value", "unit"])
        frame["source"] = f"scenario '{scenario.name}' (economics)"
        frame["confidence"] = "scenario input"
        frame["note"] = ""
        return CostInputs(per_day, prob, loss, True, frame)
    d = load_cost_defaults() if defaults is None else defaults

    def pick(parameter: str, attack: str = "") -> pd.Series:
        rows = d[(d["parameter"] == parameter) & (d["attack"] == attack)]
        if rows.empty:
            rows = d[(d["parameter"] == parameter) & (d["attack"] == "")]
        return rows.iloc[0]

    used = [pick("cost_per_locked_user_day")]
    prob, loss = {}, {}
    for a in labels:
        p, lo = (
            pick("attack_probability_per_day", kinds[a]),
            pick("loss_per_successful_attack", kinds[a]),
        )
        prob[a], loss[a] = float(p["value"]), float(lo["value"])
        used += [p.copy(), lo.copy()]
        used[-2]["attack"], used[-1]["attack"] = a, a
    frame = pd.DataFrame(used).drop_duplicates(["parameter", "attack"]).reset_index(drop=True)
    frame["confidence"] = frame["confidence"].where(
        frame["confidence"] != "unconfirmed", "assumption"
    )
    return CostInputs(float(used[0]["value"]), prob, loss, False, frame)


# ------------------------------------------------------------------------------ recovery
def recovery_table(res, levels: tuple[float, ...] = RECOVERY_LEVELS) -> pd.DataFrame:
    """One row per (strategy, lockout event): event date, users newly locked and the days until
    the lockout the event added falls below each level (``days_below_1%`` …, see
    :func:`recovery_days`; ``inf`` = not within the horizon). The events are the strategy's
    breaks (:meth:`~simlib.results.expected.SimulationResult.breaks`)."""
    rows = []
    for name, g in res.timeseries.groupby("strategy", sort=False):
        rate = g["lockout_rate"].to_numpy()
        newly = g["newly_locked_users"].to_numpy() / g["active_users"].to_numpy()
        events = np.flatnonzero(res.breaks(name))
        rec = {lv: recovery_days(rate, events, lv) for lv in levels}
        dates = g["date"].to_numpy()
        for i, e in enumerate(events):
            row = {
                "strategy": name,
                "event_date": pd.Timestamp(dates[e]),
                "newly_locked_share": newly[e],
            }
            row |= {_level_col(lv): rec[lv][i] for lv in levels}
            rows.append(row)
    cols = ["strategy", "event_date", "newly_locked_share", *(_level_col(lv) for lv in levels)]
    return pd.DataFrame(rows, columns=cols)


def _level_col(level: float) -> str:
    return f"days_below_{level * 100:g}%"


# ------------------------------------------------------------------------------ costs, table
def expected_costs(res, inputs: CostInputs) -> pd.DataFrame:
    """Expected outage cost, attack loss and total per strategy under ``inputs`` (the result's
    :meth:`~simlib.results.expected.SimulationResult.expected_costs`: one definition)."""
    return res.expected_costs(inputs.per_locked_user_day, inputs.attack_probability, inputs.loss)


#: Column -> one-line explanation (the report prints these under the table).
COLUMN_NOTES: dict[str, str] = {
    "rank": "position under the ranking rule stated above the table (strategies equal on every ranked number share a rank)",
    "users_ever_locked": "users (present at the start) locked out on at least one day",
    "locked_user_days": "sum over days of users locked out",
    "peak_lockout": "highest share of active users locked out on one day",
    "median_recovery_1%": "days until the lockout a break added falls below 1 % of users, median over the strategy's breaks (never: not within the horizon; 0: no break)",
    "median_recovery_0.1%": "the same, below 0.1 %",
    "outage_p50_days": "median length of a user's outage, among users who had one",
    "outage_p95_days": "95th percentile of a user's outage length, among users who had one",
    "incurable_user_days": "locked user-days of users whose device is locked on a release built that same day too: no app release cures them",
    "protected_<attack>": "mean share of users working and rejecting that attack",
    "expected_cost": "locked user-days × downtime cost + Σ attacks of daily probability × loss × exposed share summed over days",
}


def ranked_table(res, inputs: CostInputs | None = None) -> pd.DataFrame:
    """Every strategy with the decision columns, ranked (see the module docstring)."""
    inputs = inputs or cost_inputs(res.scenario)
    summary = res.summary.set_index("strategy")
    durations = res.duration_stats.set_index("strategy")
    rec = recovery_table(res)
    incurable = res.incurable_user_days()
    costs = expected_costs(res, inputs).set_index("strategy")
    labels = list(inputs.attack_probability) or [
        c.removeprefix("mean_protected_") for c in summary if c.startswith("mean_protected_")
    ]
    table = pd.DataFrame(index=summary.index)
    table["users_ever_locked"] = durations["users_ever_locked"].reindex(table.index)
    table["locked_user_days"] = summary["locked_user_days"]
    table["peak_lockout"] = summary["peak_lockout_rate"]
    for lv in RECOVERY_LEVELS:
        typical = rec.groupby("strategy")[_level_col(lv)].median()
        table[f"median_recovery_{lv * 100:g}%"] = typical.reindex(table.index).fillna(0.0)
    table["outage_p50_days"] = durations["p50_outage_days"].reindex(table.index)
    table["outage_p95_days"] = durations["p95_outage_days"].reindex(table.index)
    table["incurable_user_days"] = pd.Series(incurable)
    for a in labels:
        table[f"protected_{a}"] = summary[f"mean_protected_{a}"]
    table["outage_cost"] = costs["outage_cost"]
    table["attack_loss"] = costs["attack_loss"]
    table["expected_cost"] = costs["expected_cost"]
    prot = (
        table[[f"protected_{a}" for a in labels]].mean(axis=1)
        if labels
        else pd.Series(0.0, table.index)
    )
    order = pd.DataFrame(
        {
            "cost": table["expected_cost"].round(6) if inputs.from_scenario else 0.0,
            "locked": table["locked_user_days"].round(6),
            "prot": -prot.round(9),
            "peak": table["peak_lockout"].round(9),
            "pos": np.arange(len(table)),
        },
        index=table.index,
    )
    keys = ["cost", "locked", "prot", "peak"]
    order = order.sort_values([*keys, "pos"])
    ranked = table.loc[order.index].reset_index()
    # Strategies equal on every ranked number share a rank (1, 1, 1, 4): a tie is a tie, and the
    # listed order among them is only the scenario's.
    key_rows = [tuple(r) for r in order[keys].itertuples(index=False)]
    ranks = [1 + next(j for j, k in enumerate(key_rows) if k == key) for key in key_rows]
    ranked.insert(0, "rank", np.array(ranks, dtype=np.int64))
    ranked.attrs["rule"] = ranking_rule(inputs)
    return ranked


def ranking_rule(inputs: CostInputs) -> str:
    """The ranking rule in one sentence."""
    if inputs.from_scenario:
        return "ranked by expected total cost (the scenario's economics), lowest first"
    return (
        "ranked by locked user-days (fewest first), then protected share averaged over attack "
        "classes, then peak lockout; the expected cost at default assumptions is shown but does not rank"
    )


# ------------------------------------------------------------------------------ recommendation
@dataclass(frozen=True)
class Recommendation:
    """The top of the ranking: ``strategy`` is the first listed of ``tied`` (every strategy of
    rank 1; one name when nothing ties), and ``why`` says so when several tie."""

    strategy: str
    rule: str
    why: str
    tied: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The recommendation as a reader sees it: one name, or the tied names."""
        if len(self.tied) > 1:
            return f"{_names(self.tied)} (tied)"
        return self.strategy


def _names(names: tuple[str, ...] | list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def recommendation(table: pd.DataFrame) -> Recommendation:
    """The top of the ranking and why, in two sentences built from the numbers; strategies tied
    at the top (equal on every ranked number) are named together."""
    best = table.iloc[0]
    top = tuple(str(n) for n in table.loc[table["rank"] == table["rank"].iloc[0], "strategy"])
    prot_cols = [c for c in table if c.startswith("protected_")]
    prot = float(best[prot_cols].mean()) if prot_cols else 0.0
    rule = str(table.attrs.get("rule", ""))
    by_cost = rule.startswith("ranked by expected total cost")
    if by_cost:
        first = (
            f"{best['strategy']} has the lowest expected cost, {num(best['expected_cost'])} "
            f"({num(best['outage_cost'])} from lockouts, {num(best['attack_loss'])} from attacks)."
        )
    else:
        first = (
            f"{best['strategy']} locks out the fewest users ({num(best['locked_user_days'])} locked "
            f"user-days, peak {pct(best['peak_lockout'])}) and, among strategies tied on that, "
            f"protects the most: {pct(prot)} of users on average across attack classes."
        )
    if len(top) > 1:
        what = "expected cost" if by_cost else "locked user-days, protection and peak lockout"
        first = f"{_names(top)} tie: the same {what} " + (
            f"({num(best['expected_cost'])})."
            if by_cost
            else f"({num(best['locked_user_days'])} locked user-days, {pct(prot)} protected "
            f"on average, peak {pct(best['peak_lockout'])})."
        )
        first += (
            " The simulation cannot choose between them: choose on what it does not model "
            "(effort to run, what each needs in place below)."
        )
    if len(table) > len(top):
        nxt = table.iloc[len(top)]
        if by_cost:
            second = (
                f"The runner-up, {nxt['strategy']}, would cost {num(nxt['expected_cost'])}: "
                f"{num(nxt['locked_user_days'])} locked user-days against {num(best['locked_user_days'])}."
            )
        else:
            nprot = float(nxt[prot_cols].mean()) if prot_cols else 0.0
            second = (
                f"The runner-up, {nxt['strategy']}, locks {num(nxt['locked_user_days'])} user-days "
                f"(peak {pct(nxt['peak_lockout'])}) and protects {pct(nprot)} on average."
            )
    elif len(table) > 1:
        second = "No other strategy is compared."
    else:
        second = "It is the only strategy in the scenario."
    return Recommendation(str(best["strategy"]), rule, f"{first} {second}", top)


# ------------------------------------------------------------------------------ Pareto
def pareto(table: pd.DataFrame) -> pd.DataFrame:
    """Per attack class, each strategy's (locked user-days, protected share) and whether another
    strategy is at least as good on both and better on one (``dominated``)."""
    rows = []
    for col in (c for c in table if c.startswith("protected_")):
        locked = table["locked_user_days"].to_numpy(dtype=float)
        prot = table[col].to_numpy(dtype=float)
        for i, name in enumerate(table["strategy"]):
            better = (
                (locked <= locked[i])
                & (prot >= prot[i])
                & ((locked < locked[i]) | (prot > prot[i]))
            )
            rows.append(
                {
                    "attack": col.removeprefix("protected_"),
                    "strategy": name,
                    "locked_user_days": locked[i],
                    "protected": prot[i],
                    "dominated": bool(better.any()),
                }
            )
    return pd.DataFrame(
        rows, columns=["attack", "strategy", "locked_user_days", "protected", "dominated"]
    )
