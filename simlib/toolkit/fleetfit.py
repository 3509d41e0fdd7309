"""Fit the adoption mixture to a version-share time series (an app store or analytics export).

CSV columns ``date, version, share`` (share of active users on exactly that version that day,
0–1, or percentages 0–100 summing to about 100 per date: detected, or ``percent=True``), and
each version's release date: a ``release_date`` column, or a releases file (``version,
release_date``). Without one a version's release is the first date it appears, which on a
sampled export (a row a week) is late by up to the sampling interval and makes every lag wrong;
the fit says so in :attr:`FleetFit.warnings`. Versions are ordered by release. The share on version ≥ k on day t is the model's
G(t − r_k) with G(d) = (1 − never) Σ wᵢ (1 − e^(−d/τᵢ)) (docs/model.md), so every (day, version)
gives one observation of G at lag t − r_k ≥ 0.

Fitting (numpy only): for fixed lags τ the curve is linear in aᵢ = (1 − never) wᵢ, solved by least
squares; the τ are searched on a log grid, then refined multiplicatively. 1–3 components; more
components are kept only when they cut the RMSE by at least 10 % and 0.001.

Cost: observations are grouped by lag (:class:`~simlib.toolkit.fleetdata.Observations`), so each
of the ~4 000 least-squares solves costs the distinct lags (at most the days the file spans), not
the observations; reading the CSV into them, one per (date, version) pair a block at a time and
bounded up front with what to shrink, is :mod:`simlib.toolkit.fleetdata`, so a file of one
version a day is refused at once instead of taking minutes and gigabytes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simlib.toolkit.fleetdata import Observations, read_observations
from simlib.toolkit.policy import ConfigError

# The CSV, its bounds and the grouped observations live in simlib.toolkit.fleetdata.
__all__ = ["FleetFit", "fit", "fit_csv"]

GRID = np.geomspace(0.5, 400.0, 28)


@dataclass(frozen=True)
class FleetFit:
    weights: tuple[float, ...]
    mean_lag_days: tuple[float, ...]
    never_update_share: float
    rmse: float
    points: int
    release_every_days: int
    #: what the caller should know: release dates inferred, shares read as percentages
    warnings: tuple[str, ...] = ()

    def fleet_block(self, users: int = 100_000) -> dict:
        comps = [
            {"weight": round(w, 4), "mean_lag_days": round(t, 2)}
            for w, t in zip(self.weights, self.mean_lag_days, strict=True)
        ]
        # rounding must keep the weights summing to 1 exactly
        comps[-1]["weight"] = round(1 - sum(c["weight"] for c in comps[:-1]), 4)
        return {
            "users": users,
            "release_every_days": self.release_every_days,
            "adoption": {
                "never_update_share": round(self.never_update_share, 4),
                "components": comps,
            },
        }


def _solve(obs: Observations, taus: tuple[float, ...]):
    """Least squares over every observation, computed on the lags weighted by their counts."""
    basis = np.stack([1 - np.exp(-obs.lags / t) for t in taus], axis=1)
    root = np.sqrt(obs.counts)
    coef, *_ = np.linalg.lstsq(basis * root[:, None], obs.sums / root, rcond=None)
    coef = np.clip(coef, 0, None)
    if coef.sum() > 1:
        coef = coef / coef.sum()
    fitted = basis @ coef
    # Σ (fitted − y)² over each lag's observations, from their count, sum and sum of squares
    sse = float(np.sum(obs.counts * fitted**2 - 2 * fitted * obs.sums + obs.squares))
    return coef, float(np.sqrt(max(sse, 0.0) / obs.points))


def _fit_m(obs: Observations, m: int):
    best = (np.inf, None, None)
    for taus in itertools.combinations(GRID, m):
        coef, rmse = _solve(obs, taus)
        if rmse < best[0]:
            best = (rmse, taus, coef)
    rmse, taus, coef = best
    taus = list(taus)
    for step in (1.3, 1.1, 1.03, 1.01):  # multiplicative refinement, one lag at a time
        improved = True
        while improved:
            improved = False
            for i in range(m):
                for f in (step, 1 / step):
                    trial = taus.copy()
                    trial[i] = min(max(trial[i] * f, 0.05), 5000.0)
                    c, r = _solve(obs, tuple(trial))
                    if r < rmse - 1e-12:
                        rmse, taus, coef, improved = r, trial, c, True
    return rmse, taus, coef


def fit(obs: Observations, *, max_components: int = 3) -> FleetFit:
    """The mixture of 1..max_components exponentials that fits best (module docstring)."""
    if obs.points == 0:
        raise ValueError("no observations to fit")
    results = [_fit_m(obs, m) for m in range(1, max_components + 1)]
    chosen = results[0]
    for r in results[1:]:
        if r[0] < 0.9 * chosen[0] and chosen[0] - r[0] > 1e-3:
            chosen = r
    rmse, taus, coef = chosen
    keep = [(a, t) for a, t in zip(coef, taus, strict=True) if a > 1e-6] or [(1e-6, taus[0])]
    keep.sort(key=lambda p: p[1])
    total = sum(a for a, _ in keep)
    return FleetFit(
        weights=tuple(float(a / total) for a, _ in keep),
        mean_lag_days=tuple(float(t) for _, t in keep),
        never_update_share=float(max(0.0, 1 - total)),
        rmse=rmse,
        points=obs.points,
        release_every_days=obs.release_every_days,
        warnings=obs.warnings,
    )


def fit_csv(
    path: str | Path,
    *,
    max_components: int = 3,
    releases: str | Path | None = None,
    percent: bool | None = None,
) -> FleetFit:
    obs = read_observations(path, releases=releases, percent=percent)
    if obs.points == 0:  # every date before the second release: nothing says how users update
        raise ConfigError(
            str(path), "", "no date after the second version's release: nothing to fit"
        )
    return fit(obs, max_components=max_components)
