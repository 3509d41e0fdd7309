"""Monte Carlo results: replications, their summary (mean, se, p5, p50, p95) and daily bands.

:class:`MonteCarloResult` answers the same protocol as the expected-mode result
(``summary``, ``timeseries``, ``write``); :func:`monte_carlo` runs the replications of
:class:`simlib.engine.montecarlo.MonteCarlo` in this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simlib._rng import as_seed, child
from simlib.engine.montecarlo import BAND_REPLICATIONS, MonteCarlo
from simlib.model import Scenario
from simlib.results.io import write_results
from simlib.results.metrics import day_index


@dataclass
class MonteCarloResult:
    """Replications of a scenario: per-replication rows, their summary and daily bands."""

    scenario: Scenario
    replications: pd.DataFrame
    timeseries: pd.DataFrame
    server_draws: str

    @property
    def summary(self) -> pd.DataFrame:
        return aggregate(self.replications)

    @property
    def strategies(self) -> list[str]:
        """The strategy names, in scenario order (as the expected-mode result has them)."""
        return [s.name for s in self.scenario.strategies]

    def write(self, out_dir: str | Path, formats: tuple[str, ...] = ("csv",)) -> list[Path]:
        """Write replications, summary, timeseries and the resolved scenario, each atomically."""
        tables = {
            "replications": self.replications,
            "summary": self.summary,
            "timeseries": self.timeseries,
        }
        return write_results(out_dir, tables, formats, self.scenario.to_yaml())


def aggregate(rows: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Mean, standard error, p5, p50, p95 of every numeric metric across replications.

    Long format: one row per (group…, strategy, metric).
    """
    by = [*(by or []), "strategy"]
    skip = {"replication", "point", "run_id", "seed_entropy", *by}
    metrics = [c for c in rows.columns if c not in skip and pd.api.types.is_numeric_dtype(rows[c])]
    long = rows.melt(id_vars=by, value_vars=metrics, var_name="metric")
    g = long.groupby([*by, "metric"], sort=False, dropna=False)["value"]
    out = g.agg(
        replications="count",
        mean="mean",
        sd="std",
        p5=lambda v: v.quantile(0.05),
        p50=lambda v: v.quantile(0.5),
        p95=lambda v: v.quantile(0.95),
    ).reset_index()
    out.insert(out.columns.get_loc("sd") + 1, "se", out["sd"] / np.sqrt(out["replications"]))
    return out


def monte_carlo(
    scenario: Scenario,
    replications: int | None = None,
    *,
    seed: int | np.random.SeedSequence | None = None,
    server_draws: str | None = None,
    progress: bool = False,
) -> MonteCarloResult:
    """Run ``replications`` Monte Carlo replications in this process.

    Replication *r* uses the stream ``SeedSequence(seed).spawn``-keyed ``(r,)``; ``seed``
    defaults to the scenario seed. For many replications or parameter sweeps use
    :func:`simlib.sweep`, which spreads the same replications over processes or a Dask cluster.
    """
    reps = replications or scenario.monte_carlo.replications
    root = as_seed(seed, scenario.seed)
    mc = MonteCarlo(scenario, server_draws=server_draws)
    rows: list[dict] = []
    bands: dict[str, list[np.ndarray]] = {}
    iterator = range(reps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=scenario.name, unit="rep")
    for r in iterator:
        out, daily = mc.replicate(child(root, r), keep_series=r < BAND_REPLICATIONS)
        for row in out:
            rows.append({"replication": r, **row})
        for name, rate in daily.items():
            bands.setdefault(name, []).append(rate)
    frame = pd.DataFrame(rows)
    dates = day_index(scenario)  # datetime64[ns], as in expected results
    ts = []
    for name, series in bands.items():
        arr = np.vstack(series)
        ts.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "strategy": name,
                    "lockout_rate_mean": arr.mean(axis=0),
                    "lockout_rate_p5": np.quantile(arr, 0.05, axis=0),
                    "lockout_rate_p95": np.quantile(arr, 0.95, axis=0),
                    "replications": len(arr),
                }
            )
        )
    timeseries = pd.concat(ts, ignore_index=True) if ts else pd.DataFrame()
    return MonteCarloResult(scenario, frame, timeseries, mc.server_draws)
