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

from simlib.errors import clip
from simlib.toolkit.policy import ConfigError

GRID = np.geomspace(0.5, 400.0, 28)
MAX_ROWS = 200_000
#: Distinct dates × versions: the observations of G (one per version already out, each date).
#: Five years of daily shares with a release a week is about 500 000.
MAX_CELLS = 5_000_000
#: From the first release to the last date (100 years): a longer span is a mistyped year.
MAX_SPAN_DAYS = 36_500


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
    """Lags (days) and shares on version ≥ k, and the median days between releases.

    Every observation once: see :func:`read_observations` for the same data grouped by lag.
    """
    obs = read_observations(path)
    return np.repeat(obs.lags, obs.counts), obs.expanded_values(), obs.release_every_days


@dataclass(frozen=True)
class Observations:
    """The observations of G grouped by lag: each lag once, with how many (day, version) pairs
    observed it, the sum of their values and the sum of their squares.

    A least-squares fit over every observation equals one over the lags weighted by their
    counts (plus a constant), so fitting costs what the distinct lags cost — at most the days the
    file spans — however many versions and days produced them.
    """

    lags: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    squares: np.ndarray
    release_every_days: int
    #: every (lag, value) in the order read (kept only for :func:`read_shares`)
    _values: np.ndarray | None = None

    @property
    def points(self) -> int:
        return int(self.counts.sum())

    def expanded_values(self) -> np.ndarray:
        assert self._values is not None
        return self._values


def read_observations(path: str | Path, *, keep_values: bool = False) -> Observations:
    """Read a version-share CSV into :class:`Observations` (errors name the file and line)."""
    from simlib.model.yamlio import read_text_file

    source = str(path)
    text = read_text_file(path, "CSV file")
    try:
        table = _parse(source, csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise ConfigError(source, "", f"malformed CSV ({clip(exc, 120)})") from None
    return _observe(source, table, keep_values=True)


@dataclass
class _Table:
    """The CSV's rows as arrays: day and version index, share; versions in release order."""

    days: np.ndarray  # ordinal of each row's date
    versions: np.ndarray  # index into ``released`` (release order)
    shares: np.ndarray
    released: np.ndarray  # ordinal of each version's release, in release order
    lines: dict[int, int]  # day ordinal -> first CSV line with that date (for messages)


def _parse(source: str, reader: csv.DictReader) -> _Table:
    cols = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in ("date", "version", "share") if c not in cols]
    if missing:
        raise ConfigError(source, "line 1", f"missing column(s) {', '.join(missing)} "
                          "(expected date, version, share[, release_date])")
    reader.fieldnames = cols
    seen: set[tuple[int, str]] = set()
    released: dict[str, date] = {}
    given: set[str] = set()  # versions whose release_date column was filled
    rows: list[tuple[int, str, float]] = []
    lines: dict[int, int] = {}
    for n, row in enumerate(reader, start=2):
        if n > MAX_ROWS + 1:
            raise ConfigError(source, f"line {n}", f"more than {MAX_ROWS:,} rows")
        where = f"line {n}"
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            raise ConfigError(
                source, where, f"date '{clip(row.get('date'), 40)}' is not YYYY-MM-DD"
            ) from None
        version = (row.get("version") or "").strip()
        if not version:
            raise ConfigError(source, where, "empty version")
        try:
            share = float(row.get("share") or "")
        except ValueError:
            raise ConfigError(
                source, where, f"share '{clip(row.get('share'), 40)}' is not a number"
            ) from None
        if not 0 <= share <= 1:
            raise ConfigError(source, where, f"share {share} is not between 0 and 1")
        rel = (row.get("release_date") or "").strip()
        if rel:
            try:
                released[version] = date.fromisoformat(rel)
            except ValueError:
                raise ConfigError(
                    source, where, f"release_date '{clip(rel, 40)}' is not YYYY-MM-DD"
                ) from None
            given.add(version)
        elif version not in given:
            released[version] = min(released.get(version, day), day)
        key = (day.toordinal(), version)
        if key in seen:
            raise ConfigError(source, where, f"{clip(version, 60)} on {day} appears twice")
        seen.add(key)
        lines.setdefault(key[0], n)
        rows.append((key[0], version, share))
    versions = sorted(released, key=lambda v: (released[v], v))
    if len(versions) < 2 or len(rows) < 4:
        raise ConfigError(source, "", "too little data: need at least 2 versions and 4 rows")
    index = {v: i for i, v in enumerate(versions)}
    return _Table(
        days=np.fromiter((r[0] for r in rows), np.int64, len(rows)),
        versions=np.fromiter((index[r[1]] for r in rows), np.int64, len(rows)),
        shares=np.fromiter((r[2] for r in rows), float, len(rows)),
        released=np.array([released[v].toordinal() for v in versions], np.int64),
        lines=lines,
    )


def _observe(source: str, t: _Table, *, keep_values: bool = False) -> Observations:
    """Every (day, version ≥ 2nd) pair with the version out gives one observation of G at lag
    day − release: the share of that day's users on that version or a newer one."""
    days = np.unique(t.days)
    n_versions = len(t.released)
    cells = len(days) * n_versions
    if cells > MAX_CELLS:
        raise ConfigError(source, "", (
            f"{len(days):,} dates × {n_versions:,} versions = {cells:,} (date, version) pairs, "
            f"over the limit of {MAX_CELLS:,}: merge minor versions (4.2.1 and 4.2.2 as 4.2) "
            "or keep one date a week"))
    span = int(days[-1] - t.released[0])
    if span > MAX_SPAN_DAYS:
        raise ConfigError(source, f"line {t.lines[int(days[-1])]}", (
            f"the dates span {span:,} days (from the first release to {date.fromordinal(int(days[-1]))}),"
            f" more than {MAX_SPAN_DAYS:,}: is a year mistyped?"))
    row_day = np.searchsorted(days, t.days)
    counts = np.zeros(span + 1, np.int64)
    sums = np.zeros(span + 1)
    squares = np.zeros(span + 1)
    kept: list[np.ndarray] = []
    order = np.argsort(row_day, kind="stable")
    bounds = np.searchsorted(row_day[order], np.arange(0, len(days) + 1, _chunk(n_versions)))
    bounds = np.append(bounds, len(order))
    first = 0
    for lo, hi in itertools.pairwise(bounds):
        if first >= len(days):
            break
        last = min(first + _chunk(n_versions), len(days))
        grid = np.zeros((last - first, n_versions))  # a block of days × every version
        rows = order[lo:hi]
        grid[row_day[rows] - first, t.versions[rows]] = t.shares[rows]
        total = grid.sum(axis=1)
        over = np.flatnonzero(total > 1.0001)
        if len(over):
            bad = int(days[first + over[0]])
            raise ConfigError(source, f"date {date.fromordinal(bad)}",
                              f"shares sum to {total[over[0]]:.4f} > 1")
        # share on version ≥ v: sums from the newest version down
        at_least = np.cumsum(grid[:, ::-1], axis=1)[:, ::-1]
        values = np.divide(at_least, total[:, None], out=np.zeros_like(at_least),
                           where=total[:, None] > 0)
        lag = days[first:last, None] - t.released[None, :]
        out = lag >= 0
        out[:, 0] = False  # the oldest version: everyone is on it or newer
        lag, values = lag[out], values[out]
        counts += np.bincount(lag, minlength=span + 1)
        sums += np.bincount(lag, weights=values, minlength=span + 1)
        squares += np.bincount(lag, weights=values * values, minlength=span + 1)
        if keep_values:
            # per day newest version first, as the observations were always listed
            flip = np.flatnonzero(out[:, ::-1].ravel())
            kept.append(np.stack([(days[first:last, None] - t.released[None, ::-1]).ravel()[flip],
                                  np.divide(at_least, total[:, None], out=np.zeros_like(at_least),
                                            where=total[:, None] > 0)[:, ::-1].ravel()[flip]]))
        first = last
    seen = np.flatnonzero(counts)
    gaps = np.diff(t.released)
    every = max(1, round(float(np.median(gaps)))) if len(gaps) else 14
    return Observations(
        lags=seen.astype(float), counts=counts[seen], sums=sums[seen], squares=squares[seen],
        release_every_days=every,
        _values=np.concatenate(kept, axis=1)[1] if keep_values and kept else None,
    )


def _chunk(n_versions: int) -> int:
    """Days per block: about a million cells at a time."""
    return max(1, (1 << 20) // max(1, n_versions))


def _solve(obs: Observations, taus: tuple[float, ...]):
    """Least squares over every observation, computed on the lags weighted by their counts."""
    basis = np.stack([1 - np.exp(-obs.lags / t) for t in taus], axis=1)
    root = np.sqrt(obs.counts)
    means = obs.sums / obs.counts
    coef, *_ = np.linalg.lstsq(basis * root[:, None], means * root, rcond=None)
    coef = np.clip(coef, 0, None)
    if coef.sum() > 1:
        coef = coef / coef.sum()
    fitted = basis @ coef
    # Σ (fitted − y)² over the observations of each lag, from the counts, sums and squares
    sse = float(np.sum(obs.counts * fitted**2 - 2 * fitted * obs.sums + obs.squares))
    rmse = float(np.sqrt(max(sse, 0.0) / obs.points))
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
