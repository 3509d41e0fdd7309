"""A Monte Carlo band on the ranked table: is the ranking within noise?

:func:`mc_band` runs the scenario in Monte Carlo mode (``REPLICATIONS`` replications seeded from
the scenario seed: sampled users, lags, installs and prompts) and gives per strategy the exact
value beside the Monte Carlo mean, its standard error and the 5th-95th percentile of locked
user-days (and of expected cost when the ranking uses it), and how often each strategy ranks
first. :func:`band_frame` and :func:`band_text` are the report's table and sentences (plain
text: the report escapes them). Pure functions of a result; no plotting.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simlib.report.decision import CostInputs, cost_inputs, ranked_table
from simlib.report.wording import num, share

__all__ = [
    "AGREE_SE",
    "REPLICATIONS",
    "band_frame",
    "band_text",
    "disagreeing",
    "mc_band",
    "rank_one",
]

#: Monte Carlo replications of the band.
REPLICATIONS = 20
#: The Monte Carlo mean agrees with the exact value when within this many standard errors.
AGREE_SE = 3.0


def mc_band(
    result,
    inputs: CostInputs | None = None,
    *,
    replications: int = REPLICATIONS,
    seed: int | None = None,
) -> pd.DataFrame:
    """Per strategy (ranked-table order): the exact locked user-days, the Monte Carlo mean, its
    standard error, p5 and p95; the same for expected cost when the ranking uses it; and
    ``first_share``, the share of replications in which the strategy ranks first (tied
    strategies each count, so shares may sum past 1). ``seed`` defaults to the scenario's."""
    from simlib.api import simulate

    scenario = result.scenario
    inputs = inputs or cost_inputs(scenario)
    table = ranked_table(result, inputs)
    reps = simulate(scenario, mode="monte_carlo", replications=replications, seed=seed).replications
    labels = list(inputs.attack_probability) or [
        c.removeprefix("mean_protected_") for c in reps if c.startswith("mean_protected_")
    ]
    # Each replication's expected cost as expected_cost defines it: Σ over days of the exposed
    # share is the sampled daily mean × days.
    cost = inputs.per_locked_user_day * reps["locked_user_days"]
    for a, p in inputs.attack_probability.items():
        cost = cost + p * inputs.loss.get(a, 0.0) * scenario.days * reps[f"mean_exposed_{a}"]
    prot = (
        reps[[f"mean_protected_{a}" for a in labels]].mean(axis=1)
        if labels
        else pd.Series(0.0, reps.index)
    )
    keys = pd.DataFrame(
        {
            "strategy": reps["strategy"],
            "expected_cost": cost,
            "locked_user_days": reps["locked_user_days"],
            "protected": prot,
            "peak_lockout": reps["peak_lockout_rate"],
        }
    )
    first: dict[str, int] = {}
    for _, g in keys.groupby(reps["replication"], sort=True):
        for name in rank_one(g, by_cost=inputs.from_scenario):
            first[name] = first.get(name, 0) + 1
    frame = reps.assign(cost=cost)
    rows = []
    for name, exact_locked, exact_cost in zip(
        table["strategy"], table["locked_user_days"], table["expected_cost"], strict=True
    ):
        g = frame[frame["strategy"] == name]
        row = {"strategy": name, "exact_locked_user_days": float(exact_locked)}
        row |= _stats(g["locked_user_days"], "locked_user_days")
        if inputs.from_scenario:
            row["exact_expected_cost"] = float(exact_cost)
            row |= _stats(g["cost"], "expected_cost")
        row["first_share"] = first.get(name, 0) / replications
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["replications"] = replications
    out.attrs["seed"] = scenario.seed if seed is None else seed
    return out


def rank_one(rows: pd.DataFrame, *, by_cost: bool) -> tuple[str, ...]:
    """The rank-1 strategies of ``rows`` (strategy, expected_cost, locked_user_days, protected:
    mean over attack classes, peak_lockout) by :func:`~simlib.report.decision.ranked_table`'s
    rule, its keys rounded as there: every strategy equal to the least on all of them."""
    keys = list(
        zip(
            rows["expected_cost"].round(6) if by_cost else [0.0] * len(rows),
            rows["locked_user_days"].round(6),
            -rows["protected"].round(9),
            rows["peak_lockout"].round(9),
            strict=True,
        )
    )
    best = min(keys)
    return tuple(str(n) for n, k in zip(rows["strategy"], keys, strict=True) if k == best)


def _stats(values: pd.Series, name: str) -> dict[str, float]:
    v = values.to_numpy(dtype=float)
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else math.nan
    return {
        f"mc_mean_{name}": float(v.mean()),
        f"mc_se_{name}": se,
        f"p5_{name}": float(np.quantile(v, 0.05)),
        f"p95_{name}": float(np.quantile(v, 0.95)),
    }


def disagreeing(band: pd.DataFrame, column: str = "locked_user_days") -> list[str]:
    """Strategies whose Monte Carlo mean is more than ``AGREE_SE`` standard errors from the
    exact value (with no spread at all, beyond float rounding)."""
    gap = (band[f"mc_mean_{column}"] - band[f"exact_{column}"]).abs()
    slack = AGREE_SE * band[f"mc_se_{column}"].fillna(0.0)
    rounding = 1e-9 * band[f"exact_{column}"].abs().clip(lower=1.0)
    return [str(n) for n in band.loc[gap > slack + rounding, "strategy"]]


def band_frame(band: pd.DataFrame) -> pd.DataFrame:
    """The band as the report's table: one text cell per number."""

    def spread(lo: str, hi: str) -> list[str]:
        return [f"{num(a)} – {num(b)}" for a, b in zip(band[lo], band[hi], strict=True)]

    cols: dict[str, object] = {
        "strategy": band["strategy"],
        "exact locked user-days": band["exact_locked_user_days"].map(num),
        "Monte Carlo mean ± se": [
            f"{num(m)} ± {num(s)}"
            for m, s in zip(
                band["mc_mean_locked_user_days"], band["mc_se_locked_user_days"], strict=True
            )
        ],
        "p5 – p95 locked user-days": spread("p5_locked_user_days", "p95_locked_user_days"),
    }
    if "exact_expected_cost" in band:
        cols["exact expected cost"] = band["exact_expected_cost"].map(num)
        cols["p5 – p95 expected cost"] = spread("p5_expected_cost", "p95_expected_cost")
    cols["ranks first"] = band["first_share"].map(lambda v: share(v, 0))
    return pd.DataFrame(cols)


def band_text(band: pd.DataFrame, recommended: tuple[str, ...]) -> str:
    """What the band says, in sentences built from its numbers: how it was made, whether the
    recommended strategies rank first in every replication, and whether the means agree."""
    by_cost = "exact_expected_cost" in band
    head = (
        f"Monte Carlo band: {band.attrs['replications']} replications seeded from the scenario "
        f"seed ({band.attrs['seed']}), sampling users, lags, installs and prompts; per strategy "
        "the 5th–95th percentile of locked user-days"
        + (" and of expected cost" if by_cost else "")
        + " and the share of replications in which it ranks first (tied strategies each count)."
    )
    best = band[band["strategy"].isin(recommended)]
    low = best[best["first_share"] < 1]
    if low.empty:
        noise = f"{', '.join(best['strategy'])}: first in every replication."
    else:
        noise = (
            "The ranking is within noise: "
            + "; ".join(
                f"{n} ranks first in {share(v, 0)} of replications"
                for n, v in zip(low["strategy"], low["first_share"], strict=True)
            )
            + "."
        )
    off = disagreeing(band) + (disagreeing(band, "expected_cost") if by_cost else [])
    agree = (
        f"Every Monte Carlo mean is within {AGREE_SE:g} standard errors of the exact value."
        if not off
        else f"The Monte Carlo mean of {', '.join(dict.fromkeys(off))} is more than "
        f"{AGREE_SE:g} standard errors from the exact value (Monte Carlo incident detection "
        "reacts to the sampled lockout, expected mode to the expected one)."
    )
    return f"{head} {noise} {agree}"
