"""Reading a version-share CSV (and a releases file) into the observations the fleet fit uses:
the bounds, the percent detection and the vectorised (date, version) grid (see
:mod:`simlib.toolkit.fleetfit` for the model and the fit).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from simlib.errors import clip
from simlib.toolkit.policy import ConfigError

MAX_ROWS = 200_000
#: Distinct dates × versions: one observation of G per version already out, each date. Five
#: years of daily shares with a release a week is about 500 000.
MAX_CELLS = 5_000_000
#: From the first release to the last date (100 years): a longer span is a mistyped year.
MAX_SPAN_DAYS = 36_500
#: Cells of the dates × versions grid built at a time.
_BLOCK_CELLS = 1 << 20


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
    warnings: tuple[str, ...] = ()

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


def read_observations(
    path: str | Path, *, releases: str | Path | None = None, percent: bool | None = None
) -> Observations:
    """Read a version-share CSV into :class:`Observations`; errors name the file and line.

    ``releases``: a CSV of ``version, release_date`` (wins over a ``release_date`` column).
    ``percent``: shares are percentages (None: detected, see :func:`_percent`)."""
    from simlib.model.yamlio import read_text_file

    source = str(path)
    given = _read_releases(releases) if releases is not None else {}
    text = read_text_file(path, "CSV file").removeprefix("\ufeff")  # spreadsheets write a BOM
    if not text.strip():  # as audit says it: no header is not a missing column
        raise ConfigError(source, "", "empty file")
    try:
        table = _parse(source, csv.DictReader(io.StringIO(text)), given, percent)
    except csv.Error as exc:
        raise ConfigError(source, "", f"malformed CSV ({clip(exc, 120)})") from None
    return _observe(source, table)


def _read_releases(path: str | Path) -> dict[str, date]:
    """``version → release date`` from a ``version, release_date`` CSV."""
    from simlib.model.yamlio import read_text_file

    source = str(path)
    text = read_text_file(path, "CSV file").removeprefix("\ufeff")
    if not text.strip():
        raise ConfigError(source, "", "empty file")
    try:
        reader = csv.DictReader(io.StringIO(text))
        cols = [c.strip().lower() for c in reader.fieldnames or []]
        if "version" not in cols or "release_date" not in cols:
            raise ConfigError(source, "line 1", "expected columns version, release_date")
        reader.fieldnames = cols
        out: dict[str, date] = {}
        for count, row in enumerate(reader, start=1):
            where = f"line {reader.line_num}"
            if count > MAX_ROWS:
                raise ConfigError(source, where, f"more than {MAX_ROWS:,} rows")
            version = (row.get("version") or "").strip()
            text_date = (row.get("release_date") or "").strip()
            if not version:
                raise ConfigError(source, where, "empty version")
            try:
                day = date.fromisoformat(text_date)
            except ValueError:
                raise ConfigError(
                    source, where, f"release_date '{clip(text_date, 40)}' is not YYYY-MM-DD"
                ) from None
            if version in out and out[version] != day:
                raise ConfigError(source, where, f"{clip(version, 60)} has two release dates")
            out[version] = day
    except csv.Error as exc:
        raise ConfigError(source, "", f"malformed CSV ({clip(exc, 120)})") from None
    if not out:
        raise ConfigError(source, "", "no release dates")
    return out


def _percent(shares: np.ndarray, days: np.ndarray) -> bool:
    """Shares look like percentages: some above 1, none above 100, and each date's shares sum
    to about 100 (at most 100.5; half the dates at least 90, exports drop tiny versions)."""
    if not len(shares) or shares.max() <= 1 or shares.max() > 100:
        return False
    _, inverse = np.unique(days, return_inverse=True)
    sums = np.bincount(inverse, weights=shares)
    return bool(sums.max() <= 100.5 and np.median(sums) >= 90)


@dataclass(frozen=True)
class _Table:
    """The CSV's rows as arrays; versions numbered in release order."""

    days: np.ndarray  # ordinal of each row's date
    versions: np.ndarray  # each row's version number
    shares: np.ndarray
    released: np.ndarray  # ordinal of each version's release (non-decreasing)
    lines: dict[int, int]  # date ordinal -> first CSV line with that date (for messages)
    warnings: tuple[str, ...] = ()


def _parse(
    source: str,
    reader: csv.DictReader,
    releases: dict[str, date] | None = None,
    percent: bool | None = None,
) -> _Table:
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
    over_one: tuple[str, float] | None = None  # first share above 1: (line, value)
    limit = 1.0 if percent is False else 100.0
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
        if not 0 <= share <= limit:
            raise ConfigError(
                source,
                where,
                f"share {share} is not between 0 and 1"
                + ("" if limit == 1 else " (nor a percentage, 0 to 100)"),
            )
        if share > 1 and over_one is None:
            over_one = (where, share)
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
    warnings: list[str] = []
    days = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    shares = np.fromiter((r[2] for r in rows), float, len(rows))
    if over_one is not None or percent:
        if not (percent or _percent(shares, days)):
            where, value = over_one  # type: ignore[misc]
            raise ConfigError(
                source,
                where,
                f"share {value} is not between 0 and 1 (percentages are 0 to 100 and sum to "
                "about 100 per date: give --percent)",
            )
        shares = shares / 100.0
        if percent is None:
            warnings.append("shares read as percentages (above 1, summing to about 100 a date)")
    releases = releases or {}
    inferred = [v for v in released if v not in given and v not in releases]
    released.update({v: d for v, d in releases.items() if v in released})
    if inferred:
        some = (
            f"{len(inferred):,} of {len(released):,} versions have"
            if len(inferred) < len(released)
            else "no version has"
        )
        warnings.append(
            f"{some} a release date: each is taken as the first date it appears, late by up "
            "to the sampling interval (the fit can be many times worse); give --releases "
            "FILE (version,release_date) or a release_date column"
        )
    versions = sorted(released, key=lambda v: (released[v], v))
    if len(versions) < 2 or len(rows) < 4:
        raise ConfigError(source, "", "too little data: need at least 2 versions and 4 rows")
    if not any(r[2] for r in rows):
        raise ConfigError(source, "", "every share is 0: nothing says who is on which version")
    number = {v: i for i, v in enumerate(versions)}
    return _Table(
        days=days,
        versions=np.fromiter((number[r[1]] for r in rows), np.int64, len(rows)),
        shares=shares,
        released=np.array([released[v].toordinal() for v in versions], np.int64),
        lines=lines,
        warnings=tuple(warnings),
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
    return Observations(
        seen.astype(float), counts[seen], sums[seen], squares[seen], every, t.warnings
    )
