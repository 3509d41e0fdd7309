"""Fit the adoption mixture to a version-share time series (an app store or analytics export).

CSV columns ``date, version, share`` (share of active users on exactly that version that day,
0–1), optionally ``release_date`` per row; else a version's release is the first date it
appears. Versions are ordered by release. The share on version ≥ k on day t is the model's
G(t − r_k) with G(d) = (1 − never) Σ wᵢ (1 − e^(−d/τᵢ)) (docs/model.md), so every (day, version)
gives one observation of G at lag t − r_k ≥ 0.

Fitting (numpy only): for fixed lags τ the curve is linear in aᵢ = (1 − never) wᵢ, solved by least
squares; the τ are searched on a log grid, then refined multiplicatively. 1–3 components; more
components are kept only when they cut the RMSE by at least 10 % and 0.001.

Cost: observations are grouped by lag (:class:`Observations`), so each of the ~4 000 least-squares
solves costs the distinct lags (at most the days the file spans), not the observations; the
observations themselves are one per (date, version) pair, built with numpy a block at a time and
bounded up front (:data:`MAX_CELLS`, with what to shrink), so a file of one version a day is
refused at once instead of taking minutes and gigabytes.
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
#: Distinct dates × versions: one observation of G per version already out, each date. Five
#: years of daily shares with a release a week is about 500 000.
MAX_CELLS = 5_000_000
#: From the first release to the last date (100 years): a longer span is a mistyped year.
MAX_SPAN_DAYS = 36_500
#: Cells of the dates × versions grid built at a time.
_BLOCK_CELLS = 1 << 20


@dataclass(frozen=True)
class FleetFit:
    weights: tuple[float, ...]
    mean_lag_days: tuple[float, ...]
    never_update_share: float
    rmse: float
    points: int
    release_every_days: int

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


@dataclass(frozen=True)
class Observations:
    """The observations of G grouped by lag: each lag once, with how many (day, version) pairs
    observed it, the sum of their values and the sum of their squares.

    A least-squares fit over every observation equals one over the lags weighted by their counts
    (plus a constant), so fitting costs what the distinct lags cost, however many versions and
    days produced them.
    """

    lags: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    squares: np.ndarray
    release_every_days: int = 14

    @property
    def points(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def of(cls, lags: np.ndarray, values: np.ndarray, release_every_days: int = 14) -> Observations:
        """Group (lag, value) pairs (the Python API's way in with observations already made)."""
        lags, values = np.asarray(lags, float), np.asarray(values, float)
        seen, inverse = np.unique(lags, return_inverse=True)
        n = len(seen)
        return cls(
            seen,
            np.bincount(inverse, minlength=n),
            np.bincount(inverse, weights=values, minlength=n),
            np.bincount(inverse, weights=values * values, minlength=n),
            release_every_days,
        )


def read_observations(path: str | Path) -> Observations:
    """Read a version-share CSV into :class:`Observations`; errors name the file and line."""
    from simlib.model.yamlio import read_text_file

    source = str(path)
    text = read_text_file(path, "CSV file").removeprefix("\ufeff")  # spreadsheets write a BOM
    try:
        table = _parse(source, csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise ConfigError(source, "", f"malformed CSV ({clip(exc, 120)})") from None
    return _observe(source, table)


@dataclass(frozen=True)
class _Table:
    """The CSV's rows as arrays; versions numbered in release order."""

    days: np.ndarray  # ordinal of each row's date
    versions: np.ndarray  # each row's version number
    shares: np.ndarray
    released: np.ndarray  # ordinal of each version's release (non-decreasing)
    lines: dict[int, int]  # date ordinal -> first CSV line with that date (for messages)


def _parse(source: str, reader: csv.DictReader) -> _Table:
    cols = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in ("date", "version", "share") if c not in cols]
    if missing:
        raise ConfigError(
            source,
            "line 1",
            f"missing column(s) {', '.join(missing)} "
            "(expected date, version, share[, release_date])",
        )
    reader.fieldnames = cols
    seen: set[tuple[int, str]] = set()
    released: dict[str, date] = {}
    given: set[str] = set()  # versions with a release_date: it wins over the first date seen
    rows: list[tuple[int, str, float]] = []
    lines: dict[int, int] = {}
    for count, row in enumerate(reader, start=1):
        n = reader.line_num  # the physical line (a quoted field may span several)
        if count > MAX_ROWS:
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
    if not any(r[2] for r in rows):
        raise ConfigError(source, "", "every share is 0: nothing says who is on which version")
    number = {v: i for i, v in enumerate(versions)}
    return _Table(
        days=np.fromiter((r[0] for r in rows), np.int64, len(rows)),
        versions=np.fromiter((number[r[1]] for r in rows), np.int64, len(rows)),
        shares=np.fromiter((r[2] for r in rows), float, len(rows)),
        released=np.array([released[v].toordinal() for v in versions], np.int64),
        lines=lines,
    )


def _observe(source: str, t: _Table) -> Observations:
    """Every (date, version) with the version out, except the oldest version, is one observation
    of G at lag date − release: that date's share of users on the version or a newer one.

    Built a block of dates at a time as a dense dates × versions grid (vectorised), so the work
    is the number of cells, bounded up front by :data:`MAX_CELLS`.
    """
    days = np.unique(t.days)
    n_versions = len(t.released)
    cells = len(days) * n_versions
    if cells > MAX_CELLS:
        raise ConfigError(
            source,
            "",
            (
                f"{len(days):,} dates × {n_versions:,} versions = {cells:,} (date, version) pairs, "
                f"over the limit of {MAX_CELLS:,}: merge minor versions (4.2.1 and 4.2.2 as 4.2) "
                "or keep one date a week"
            ),
        )
    last_day = int(days[-1])
    span = last_day - int(t.released[0])
    if span > MAX_SPAN_DAYS:
        raise ConfigError(
            source,
            f"line {t.lines[last_day]}",
            (
                f"the data span {span:,} days (first release to {date.fromordinal(last_day)}), more "
                f"than {MAX_SPAN_DAYS:,}: is a year mistyped?"
            ),
        )
    size = max(span, 0) + 1
    counts = np.zeros(size, np.int64)
    sums = np.zeros(size)
    squares = np.zeros(size)
    row_day = np.searchsorted(days, t.days)  # each row's date number
    order = np.argsort(row_day, kind="stable")
    step = max(1, _BLOCK_CELLS // n_versions)
    for first in range(0, len(days), step):
        block = days[first : first + step]
        lo, hi = np.searchsorted(row_day[order], [first, first + len(block)])
        rows = order[lo:hi]
        grid = np.zeros((len(block), n_versions))
        grid[row_day[rows] - first, t.versions[rows]] = t.shares[rows]
        total = grid.sum(axis=1)
        over = np.flatnonzero(total > 1.0001)
        if len(over):
            bad = date.fromordinal(int(block[over[0]]))
            raise ConfigError(source, f"date {bad}", f"shares sum to {total[over[0]]:.4f} > 1")
        at_least = np.cumsum(grid[:, ::-1], axis=1)[:, ::-1]  # share on version ≥ v
        values = np.divide(
            at_least, total[:, None], out=np.zeros_like(at_least), where=total[:, None] > 0
        )
        lag = block[:, None] - t.released[None, :]
        out = lag >= 0
        out[:, 0] = False  # the oldest version: everyone is on it or newer
        lag, values = lag[out], values[out]
        counts += np.bincount(lag, minlength=size)
        sums += np.bincount(lag, weights=values, minlength=size)
        squares += np.bincount(lag, weights=values * values, minlength=size)
    seen = np.flatnonzero(counts)
    gaps = np.diff(t.released)
    every = max(1, round(float(np.median(gaps)))) if len(gaps) else 14
    return Observations(seen.astype(float), counts[seen], sums[seen], squares[seen], every)


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
    )


def fit_csv(path: str | Path, *, max_components: int = 3) -> FleetFit:
    obs = read_observations(path)
    if obs.points == 0:  # every date before the second release: nothing says how users update
        raise ConfigError(
            str(path), "", "no date after the second version's release: nothing to fit"
        )
    return fit(obs, max_components=max_components)
