"""Per-user outage durations: how long a locked user stays locked.

Users present at the start are grouped by (client kind, complier, lag ℓ); each group follows one
deterministic path through the versions, so its outage *spells* (maximal runs of locked days) are
exact. Weighting the spells by the users in each group gives the expected distribution (expected
mode) or one random fleet's distribution (Monte Carlo). A spell still running on the last day is
*censored*: its length is a lower bound. Dynamic strategies lock users at random day by day, so
their spells come from the Monte Carlo panel instead (:mod:`simlib.engine.montecarlo`).

**How spells are found without a (lags × days) table.** Write u = t − ℓ: a user with lag ℓ runs,
on day t, the newest release of day u (:func:`simlib.fleet.cohorts.normal_version`). In the
(u, t) plane the locked days are a union of *boxes*: release window (a run of consecutive windows
whose versions are locked) × verdict segment. A user walks the diagonal u = t − ℓ; within one
segment row every lag entering a box from below, entering it from the left (on the day it updates
into a locked version), leaving it through the top or on its right (updating to a working
version) forms an *interval of lags* whose spell starts (ends) either on a fixed day or on
(fixed day + ℓ). The sweep carries, from row to row, the open spells as such lag intervals
("families"), so its cost is rows × (boxes + open families), not lags × days. A family whose
length depends on ℓ (start and end of different kinds) is at most one row high in lags, so
expanding it lag by lag is linear too. Prompted compliers (forced updates) are split into classes
of lags with the same prompts; each class has one floor step function
(:func:`simlib.fleet.cohorts.prompt_floor`) that refines the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simlib.engine.prompts import fix_indices, prompt_days
from simlib.engine.spell_sweep import clip_to, interval_sums, intervals, path_spells
from simlib.engine.views import VerdictView
from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.cohorts import Cohorts
from simlib.fleet.releases import prompt_floor

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation
    from simlib.engine.tables import StrategyTables


_EMPTY_STATS = {
    "users_ever_locked": 0.0,
    "outage_spells": 0.0,
    "mean_outage_days": 0.0,
    "p50_outage_days": 0.0,
    "p95_outage_days": 0.0,
    "max_outage_days": 0.0,
    "censored_spells": 0.0,
}


def spell_stats(
    length: np.ndarray, censored: np.ndarray, w: np.ndarray, ever: float
) -> dict[str, float]:
    """Statistics of spells of ``length`` days carried by ``w`` users each; ``ever`` = users
    with at least one spell. Quantiles are the smallest length whose cumulative share of spells
    reaches 50 % / 95 %."""
    total = float(w.sum())
    if total <= 0:
        return dict(_EMPTY_STATS)
    order = np.argsort(length, kind="stable")
    cum = np.cumsum(w[order]) / total
    q = lambda p: float(length[order][min(np.searchsorted(cum, p), len(cum) - 1)])  # noqa: E731
    return {
        "users_ever_locked": float(ever),
        "outage_spells": total,
        "mean_outage_days": float((w * length).sum() / total),
        "p50_outage_days": q(0.5),
        "p95_outage_days": q(0.95),
        "max_outage_days": float(length[w > 0].max()),
        "censored_spells": float(w[censored].sum()),
    }


@dataclass(frozen=True)
class SpellTable:
    """Outage spells of the start-of-simulation users, grouped.

    Row i: every lag in ``lag_lo[i]..lag_hi[i]`` of group (client index, complier) has one spell
    of ``length[i]`` days (``censored`` if still running on the last day). ``ever_*``: the lag
    intervals of each group whose users are locked at least once. ``split``: compliers form
    their own groups (only when forced-update prompts happened).
    """

    client: np.ndarray
    complier: np.ndarray
    lag_lo: np.ndarray
    lag_hi: np.ndarray
    length: np.ndarray
    censored: np.ndarray
    ever_client: np.ndarray
    ever_complier: np.ndarray
    ever_lo: np.ndarray
    ever_hi: np.ndarray
    split: bool
    lag_cap: int | None = None  # lags lag_cap+1..T are left out: they must carry no users

    def _sums(self, sim, cohorts, client, complier, lo, hi) -> np.ndarray:
        out = np.zeros(len(lo))
        for (ci, comp), w in group_weights(sim, cohorts, self.split, self.lag_cap).items():
            m = (client == ci) & (complier == comp)
            if m.any():
                out[m] = interval_sums(w, lo[m], hi[m])
        return out

    def weights(self, sim: Simulation, cohorts: Cohorts | dict[str, Cohorts]) -> np.ndarray:
        """Users behind each row (expected or sampled)."""
        return self._sums(sim, cohorts, self.client, self.complier, self.lag_lo, self.lag_hi)

    def ever_locked(self, sim: Simulation, cohorts: Cohorts | dict[str, Cohorts]) -> float:
        return float(
            self._sums(
                sim, cohorts, self.ever_client, self.ever_complier, self.ever_lo, self.ever_hi
            ).sum()
        )

    def stats(self, w: np.ndarray, ever: float) -> dict[str, float]:
        return spell_stats(self.length, self.censored, w, ever)

    def summary(self, sim: Simulation, cohorts: Cohorts | dict[str, Cohorts]) -> dict[str, float]:
        """The duration statistics for these cohorts (expected or sampled)."""
        return self.stats(self.weights(sim, cohorts), self.ever_locked(sim, cohorts))

    def weighted(self, strategy: str, cohorts, sim: Simulation) -> pd.DataFrame:
        w = self.weights(sim, cohorts)
        frame = pd.DataFrame(
            {"duration_days": self.length.astype(np.int64), "censored": self.censored, "spells": w}
        )
        frame = (
            frame[frame["spells"] > 0]
            .groupby(["duration_days", "censored"], as_index=False)["spells"]
            .sum()
        )
        frame.insert(0, "strategy", strategy)
        return frame


def lag_domain(sim: Simulation) -> tuple[int, list[tuple[int, int]]]:
    """(cap, lag intervals): the lags that can carry users. Expected and sampled cohorts both
    weigh lag ℓ ≤ T by the adoption curve's P(ℓ), so lags above the last ℓ with P(ℓ) > 0 (cap)
    hold exactly 0 users in every fleet, except "never within T" (T + 1). A curve whose
    tail underflows (exponential components: P(ℓ) = 0.0 from about 40 mean lags on) then
    gives a lag range that does not grow with the horizon, and so do the spell families."""
    T = sim.days
    pmf = AdoptionCurve(sim.scenario.fleet.adoption).lag_pmf(T)
    nz = np.flatnonzero(pmf[: T + 1] > 0)
    cap = int(nz[-1]) if len(nz) else -1
    if cap >= T:
        return T, [(0, T + 1)]
    return cap, ([(0, cap)] if cap >= 0 else []) + [(T + 1, T + 1)]


def group_weights(
    sim: Simulation, cohorts: Cohorts | dict[str, Cohorts], split: bool, lag_cap: int | None
) -> dict[tuple[int, bool], np.ndarray]:
    """Users by lag of each group (client index, complier), clipped at 0; refuses cohorts with
    users at lags lag_cap+1..T (a table built for the lag domain leaves them out)."""
    out = {}
    for ci, c in enumerate(sim.clients):
        coh = cohorts if isinstance(cohorts, Cohorts) else cohorts[c.name]
        scale = c.share if isinstance(cohorts, Cohorts) else 1.0
        comp = scale * coh.base_complier if split else np.zeros_like(coh.base)
        for complier, w in ((False, scale * coh.base - comp), (True, comp)):
            if lag_cap is not None and np.any(w[lag_cap + 1 : len(w) - 1] != 0):
                raise ValueError("cohorts carry users at lags this spell table leaves out")
            out[(ci, complier)] = np.clip(w, 0.0, None)
    return out


def _families(sim: Simulation, tables: StrategyTables, domain):
    """(client index, complier, families) block by block (:func:`path_spells` rows), for every
    group of start-of-simulation users; also tells whether compliers form their own groups."""
    if tables.per_day:
        raise ValueError(
            f"{tables.strategy.name}: dynamic strategies lock users at random; "
            "use Monte Carlo for their outage durations"
        )
    T = sim.days
    r = tables.release_days
    # effective release windows: the newest version of each release day, from that day on
    last = np.append(r[1:] != r[:-1], True)
    v_eff, r_eff = np.flatnonzero(last), r[last]
    fixes = fix_indices(tables)
    split = bool(fixes) and sim.comply_share > 0
    lags = np.arange(T + 2)

    def blocks():
        for ci, c in enumerate(sim.clients):
            lock = tables.lock[
                c.name
            ]  # indexed per (window, row) only: a VerdictView stays compact
            lock = lock if isinstance(lock, VerdictView) else np.asarray(lock, dtype=bool)
            path = (lock, tables.seg_start, tables.seg_of_day, r_eff, v_eff, T, domain)
            for fams in path_spells(*path):
                yield ci, False, fams
            if not split:
                continue
            E = prompt_days(sim, tables, c, np.zeros(len(lags), dtype=int), lags, fixes)
            pattern, cls = np.unique(E, axis=0, return_inverse=True)
            for n, prompted in enumerate(pattern):
                lo_c, hi_c = intervals(cls.ravel() == n)
                days = np.unique(prompted[prompted < T])
                floor = lambda d, p=prompted: prompt_floor(p[None, :], fixes, d)[0]  # noqa: E731
                for fams in path_spells(*path, days, floor):
                    yield ci, True, clip_to(fams, lo_c, hi_c)

    return split, blocks()


def _spell_rows(fams: np.ndarray) -> tuple[np.ndarray, ...]:
    """(lag lo, lag hi, length, censored) of families: one row per family whose length does not
    depend on ℓ, one row per lag for the others (families one row high)."""
    lo, hi, sk, sc, ek, ec, cens = fams.T
    flat = sk == ek
    length = ec - sc
    width = hi[~flat] - lo[~flat] + 1
    lag = (
        np.repeat(lo[~flat], width)
        + np.arange(width.sum())
        - np.repeat(np.cumsum(width) - width, width)
    )
    slope = np.repeat((ek - sk)[~flat], width)
    return (
        np.concatenate([lo[flat], lag]),
        np.concatenate([hi[flat], lag]),
        np.concatenate([length[flat], np.repeat(length[~flat], width) + slope * lag]),
        np.concatenate([cens[flat], np.repeat(cens[~flat], width)]).astype(bool),
    )


class _Coverage:
    """Lags of each group with at least one spell, as merged intervals (a difference array per
    group: memory grows with lags, not families)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.diff: dict[tuple[int, bool], np.ndarray] = {}

    def add(self, group: tuple[int, bool], fams: np.ndarray) -> None:
        d = self.diff.setdefault(group, np.zeros(self.size + 1, dtype=np.int64))
        np.add.at(d, fams[:, 0], 1)
        np.add.at(d, fams[:, 1] + 1, -1)

    def intervals(self) -> list[tuple]:
        return [
            (ci, comp, *intervals(np.cumsum(d[:-1]) > 0))
            for (ci, comp), d in sorted(self.diff.items())
        ]


def spell_table(sim: Simulation, tables: StrategyTables, full: bool = False) -> SpellTable:
    """Exact outage spells of every start-of-simulation user group for one strategy: of the
    lags that can carry users (:func:`lag_domain`), or of all lags 0..T+1 if ``full``."""
    cap, domain = (sim.days, [(0, sim.days + 1)]) if full else lag_domain(sim)
    split, blocks = _families(sim, tables, domain)
    rows: list[tuple] = []  # (client, complier, lo, hi, length, censored)
    cover = _Coverage(sim.days + 2)
    for ci, complier, fams in blocks:
        rows.append((ci, complier, *_spell_rows(fams)))
        cover.add((ci, complier), fams)
    return _assemble(rows, cover.intervals(), split, cap)


@dataclass(frozen=True)
class SpellHistogram:
    """Weighted outage spells of one strategy for one fleet: users' spells per (length,
    censored) and the users locked at least once."""

    length: np.ndarray
    censored: np.ndarray
    spells: np.ndarray
    ever: float

    def summary(self) -> dict[str, float]:
        return spell_stats(self.length, self.censored, self.spells, self.ever)

    def weighted(self, strategy: str) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "duration_days": self.length.astype(np.int64),
                "censored": self.censored,
                "spells": self.spells,
            }
        )
        frame.insert(0, "strategy", strategy)
        return frame


def spell_histogram(
    sim: Simulation, tables: StrategyTables, cohorts: Cohorts | dict[str, Cohorts]
) -> SpellHistogram:
    """The spells of :func:`spell_table` weighted by ``cohorts`` as they are found, block by
    block: memory grows with days (lengths, lags), not with spell families."""
    if not tables.per_day and _never_locked(sim, tables):  # no spell: skip the sweep
        return SpellHistogram(np.zeros(0, np.intp), np.zeros(0, bool), np.zeros(0), 0.0)
    cap, domain = lag_domain(sim)
    split, blocks = _families(sim, tables, domain)
    size = sim.days + 1  # spell lengths 1..T
    hist = np.zeros((2, size))
    weights = None
    cover = _Coverage(sim.days + 2)
    for ci, complier, fams in blocks:
        if weights is None:
            weights = group_weights(sim, cohorts, split, cap)
        lo, hi, length, cens = _spell_rows(fams)
        w = interval_sums(weights[(ci, complier)], lo, hi)
        hist += np.bincount(cens * size + length, weights=w, minlength=2 * size).reshape(2, size)
        cover.add((ci, complier), fams)
        del fams, lo, hi, length, cens, w  # not held while the next block is swept
    ever = 0.0
    for ci, comp, lo, hi in cover.intervals():
        ever += float(interval_sums(weights[(ci, comp)], lo, hi).sum())
    length, censored = np.nonzero(hist.T > 0)  # by length, then censored (as a groupby)
    return SpellHistogram(length, censored.astype(bool), hist[censored, length], ever)


def spell_key(sim: Simulation, tables: StrategyTables) -> bytes | None:
    """What :func:`spell_histogram` reads of one strategy's tables, as bytes: two strategies of a
    simulation with equal keys have equal spells (a leaf certificate pin and a leaf key pin when
    every renewal brings a new key). None when a key would not cover it all: dynamic pins, or
    fix releases that compliers take (their prompted paths read the releases themselves)."""
    if tables.per_day or (fix_indices(tables) and sim.comply_share > 0):
        return None
    parts = [np.asarray(tables.seg_start), np.asarray(tables.seg_of_day), tables.release_days]
    for c in sim.clients:
        lock = tables.lock[c.name]
        if isinstance(lock, VerdictView):  # equal parts: equal (V, S) tables
            parts += [lock.cls, lock.X, lock.off, lock.first]
        else:
            parts.append(np.asarray(lock, dtype=bool))
    return b"".join(
        f"{p.dtype.str}{p.shape};".encode() + np.ascontiguousarray(p).tobytes()
        for p in map(np.asarray, parts)
    )


def _never_locked(sim: Simulation, tables: StrategyTables) -> bool:
    """No class verdict and no fallback verdict set for any client kind: nobody is ever locked."""
    return not any(
        (lock.X.any() or lock.off.any()) if isinstance(lock, VerdictView) else np.any(lock)
        for lock in (tables.lock[c.name] for c in sim.clients)
    )


def _assemble(rows: list[tuple], ever: list[tuple], split: bool, cap: int) -> SpellTable:
    def col(parts, i, dtype):
        vals = [np.broadcast_to(np.asarray(p[i], dtype=dtype), np.shape(p[2])) for p in parts]
        return np.concatenate(vals) if vals else np.zeros(0, dtype=dtype)

    # kept for every strategy of a result: compact types (days and lags fit in 32 bits)
    return SpellTable(
        col(rows, 0, np.int16),
        col(rows, 1, bool),
        col(rows, 2, np.int32),
        col(rows, 3, np.int32),
        col(rows, 4, np.int32),
        col(rows, 5, bool),
        col(ever, 0, np.int16),
        col(ever, 1, bool),
        col(ever, 2, np.int32),
        col(ever, 3, np.int32),
        split,
        cap,
    )
