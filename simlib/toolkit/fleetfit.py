"""Fit the adoption mixture to a version-share time series (an app store or analytics export).

CSV columns ``date, version, share`` (share of active users on exactly that version that day,
0–1), optionally ``release_date`` per row; else a version's release is the first date it
appears. Versions are ordered by release. The share on version ≥ k on day t is the model's
G(t − r_k) with G(d) = (1 − never) Σ wᵢ (1 − e^(−d/τᵢ)) (docs/model.md), so every (day, version)
gives one observation of G at lag t − r_k ≥ 0.

Fitting (numpy only): for fixed lags τ the curve is linear in aᵢ = (1 − never) wᵢ, solved by least
squares; the τ are searched on a log grid, then refined multiplicatively. 1–3 components; more
components are kept only when they cut the RMSE by at least 10 % and 0.001.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from simlib.toolkit.policy import ConfigError

GRID = np.geomspace(0.5, 400.0, 28)
MAX_ROWS = 200_000


@dataclass(frozen=True)
class FleetFit:
    weights: tuple[float, ...]
    mean_lag_days: tuple[float, ...]
    never_update_share: float
    rmse: float
    points: int
    release_every_days: int

    def fleet_block(self, users: int = 100_000) -> dict:
        comps = [{"weight": round(w, 4), "mean_lag_days": round(t, 2)}
                 for w, t in zip(self.weights, self.mean_lag_days, strict=True)]
        # rounding must keep the weights summing to 1 exactly
        comps[-1]["weight"] = round(1 - sum(c["weight"] for c in comps[:-1]), 4)
        return {"users": users, "release_every_days": self.release_every_days,
                "adoption": {"never_update_share": round(self.never_update_share, 4),
                             "components": comps}}


def read_shares(path: str | Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Lags (days) and shares on version ≥ k, and the median days between releases."""
    from simlib.model.yamlio import read_text_file

    source = str(path)
    text = read_text_file(path, "CSV file")
    try:
        return _parse(source, csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise ConfigError(source, "", f"malformed CSV ({exc})") from None


def _parse(source: str, reader: csv.DictReader) -> tuple[np.ndarray, np.ndarray, int]:
    cols = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in ("date", "version", "share") if c not in cols]
    if missing:
        raise ConfigError(source, "line 1", f"missing column(s) {', '.join(missing)} "
                          "(expected date, version, share[, release_date])")
    reader.fieldnames = cols
    shares: dict[tuple[date, str], float] = {}
    released: dict[str, date] = {}
    for n, row in enumerate(reader, start=2):
        if n > MAX_ROWS:
            raise ConfigError(source, f"line {n}", f"more than {MAX_ROWS:,} rows")
        where = f"line {n}"
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            raise ConfigError(source, where, f"date {row.get('date')!r} is not YYYY-MM-DD") from None
        version = (row.get("version") or "").strip()
        if not version:
            raise ConfigError(source, where, "empty version")
        try:
            share = float(row.get("share") or "")
        except ValueError:
            raise ConfigError(source, where, f"share {row.get('share')!r} is not a number") from None
        if not 0 <= share <= 1:
            raise ConfigError(source, where, f"share {share} is not between 0 and 1")
        rel = (row.get("release_date") or "").strip()
        if rel:
            try:
                released[version] = date.fromisoformat(rel)
            except ValueError:
                raise ConfigError(source, where, f"release_date {rel!r} is not YYYY-MM-DD") from None
        released.setdefault(version, day)
        released[version] = min(released[version], day) if not rel else released[version]
        if (day, version) in shares:
            raise ConfigError(source, where, f"{version} on {day} appears twice")
        shares[(day, version)] = share
    versions = sorted(released, key=lambda v: (released[v], v))
    if len(versions) < 2 or len(shares) < 4:
        raise ConfigError(source, "", "too little data: need at least 2 versions and 4 rows")
    lags, values = [], []
    for day in sorted({d for d, _ in shares}):
        total = sum(shares.get((day, v), 0.0) for v in versions)
        if total > 1.0001:
            raise ConfigError(source, f"date {day}", f"shares sum to {total:.4f} > 1")
        cum = 0.0
        for v in reversed(versions):  # newest first: share on version ≥ v
            cum += shares.get((day, v), 0.0)
            if released[v] <= day and v != versions[0]:
                lags.append((day - released[v]).days)
                values.append(cum / total if total > 0 else 0.0)
    gaps = np.diff([released[v].toordinal() for v in versions])
    every = max(1, round(float(np.median(gaps)))) if len(gaps) else 14
    return np.asarray(lags, float), np.asarray(values, float), every


def _solve(lags: np.ndarray, values: np.ndarray, taus: tuple[float, ...]):
    basis = np.stack([1 - np.exp(-lags / t) for t in taus], axis=1)
    coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
    coef = np.clip(coef, 0, None)
    if coef.sum() > 1:
        coef = coef / coef.sum()
    rmse = float(np.sqrt(np.mean((basis @ coef - values) ** 2)))
    return coef, rmse


def _fit_m(lags: np.ndarray, values: np.ndarray, m: int):
    best = (np.inf, None, None)
    for taus in itertools.combinations(GRID, m):
        coef, rmse = _solve(lags, values, taus)
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
                    c, r = _solve(lags, values, tuple(trial))
                    if r < rmse - 1e-12:
                        rmse, taus, coef, improved = r, trial, c, True
    return rmse, taus, coef


def fit(lags: np.ndarray, values: np.ndarray, *, max_components: int = 3,
        release_every_days: int = 14) -> FleetFit:
    results = [_fit_m(lags, values, m) for m in range(1, max_components + 1)]
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
        rmse=rmse, points=len(values), release_every_days=release_every_days,
    )


def fit_csv(path: str | Path, *, max_components: int = 3) -> FleetFit:
    lags, values, every = read_shares(path)
    return fit(lags, values, max_components=max_components, release_every_days=every)
