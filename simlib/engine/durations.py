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

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simlib.engine.prompts import fix_indices, prompt_days
from simlib.engine.views import VerdictView
from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.cohorts import Cohorts
from simlib.fleet.releases import prompt_floor

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation
    from simlib.engine.tables import StrategyTables

_FAR = 1 << 62  # an unbounded release window (before version 1 / after the newest)

_EMPTY_STATS = {
    "users_ever_locked": 0.0, "outage_spells": 0.0, "mean_outage_days": 0.0,
    "p50_outage_days": 0.0, "p95_outage_days": 0.0, "max_outage_days": 0.0,
    "censored_spells": 0.0,
}


def spell_stats(length: np.ndarray, censored: np.ndarray, w: np.ndarray, ever: float) -> dict[str, float]:
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


def interval_sums(w: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Σ w[lo..hi] (inclusive) for many intervals, as sums of O(log n) aligned blocks.

    ``w`` is non-negative, so there is no cancellation: every sum has the relative rounding
    error of an ordinary sum of its own terms, and it is > 0 exactly when a term is.
    """
    level = np.asarray(w, dtype=float)
    if level.sum() < 2**53 and np.array_equal(level, np.floor(level)):
        # sampled counts (Monte Carlo): integer prefix sums are exact, no blocks needed
        prefix = np.concatenate([[0.0], np.cumsum(level)])
        return prefix[np.asarray(hi, dtype=np.int64) + 1] - prefix[np.asarray(lo, dtype=np.int64)]
    out = np.zeros(len(lo))
    lo, hi = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
    one = lo == hi  # one term: the term itself (what the blocks would give), no block arrays
    out[one] = level[lo[one]]
    many = np.flatnonzero(~one)
    if len(many) < len(lo):
        out[many] = interval_sums(level, lo[many], hi[many]) if len(many) else 0.0
        return out
    left, right = lo.copy(), hi + 1
    while len(left):
        m = ((left & 1) == 1) & (left < right)
        out[m] += level[left[m]]
        left[m] += 1
        m = ((right & 1) == 1) & (left < right)
        right[m] -= 1
        out[m] += level[right[m]]
        left >>= 1
        right >>= 1
        if not (left < right).any():
            break
        if len(level) % 2:
            level = np.append(level, 0.0)
        level = level[0::2] + level[1::2]
    return out


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


    def _group_weights(self, sim: Simulation, cohorts: Cohorts | dict[str, Cohorts]):
        for ci, c in enumerate(sim.clients):
            coh = cohorts if isinstance(cohorts, Cohorts) else cohorts[c.name]
            scale = c.share if isinstance(cohorts, Cohorts) else 1.0
            comp = scale * coh.base_complier if self.split else np.zeros_like(coh.base)
            rest = scale * coh.base - comp
            yield ci, False, rest
            yield ci, True, comp

    def _sums(self, sim, cohorts, client, complier, lo, hi) -> np.ndarray:
        out = np.zeros(len(lo))
        for ci, comp, w in self._group_weights(sim, cohorts):
            if self.lag_cap is not None and np.any(w[self.lag_cap + 1 : len(w) - 1] != 0):
                raise ValueError("cohorts carry users at lags this spell table leaves out")
            m = (client == ci) & (complier == comp)
            if m.any():
                out[m] = interval_sums(np.clip(w, 0.0, None), lo[m], hi[m])
        return out

    def weights(self, sim: Simulation, cohorts: Cohorts | dict[str, Cohorts]) -> np.ndarray:
        """Users behind each row (expected or sampled)."""
        return self._sums(sim, cohorts, self.client, self.complier, self.lag_lo, self.lag_hi)

    def ever_locked(self, sim: Simulation, cohorts: Cohorts | dict[str, Cohorts]) -> float:
        return float(
            self._sums(sim, cohorts, self.ever_client, self.ever_complier, self.ever_lo, self.ever_hi).sum()
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
        frame = frame[frame["spells"] > 0].groupby(["duration_days", "censored"], as_index=False)["spells"].sum()
        frame.insert(0, "strategy", strategy)
        return frame


# ----------------------------------------------------------------------------- the sweep
def _rows_and_boxes(lock, seg_of_day, r_eff, v_eff, row_start, floor, T, domain):
    """Locked boxes of every row: (row index, u from, u to) with u = t − ℓ.

    Only the release windows a lag of ``domain`` runs during the row are read (u from
    row start − dhi to row end − 1 − dlo), so the work is rows × (windows a lag range spans),
    not rows × all windows. A run of locked windows cut at the edge of that range gets the
    edge as its end: the sweep only compares it with days no lag of the domain reaches there.
    """
    row_end = np.append(row_start[1:], T)
    rows = np.arange(len(row_start))
    parts = [
        (rows,
         np.maximum(np.searchsorted(r_eff, row_start - dhi, side="right") - 1, 0),
         np.maximum(np.searchsorted(r_eff, row_end - 1 - dlo, side="right") - 1, 0))
        for dlo, dhi in domain
    ]
    R, K0, K1 = (np.concatenate(c) for c in zip(*parts, strict=True))
    order = np.lexsort((K0, R))
    R, K0, K1 = R[order], K0[order], K1[order]
    big = len(r_eff) + 2
    reach = np.maximum.accumulate(R * big + K1) - R * big  # highest window so far in the row
    new = np.ones(len(R), dtype=bool)
    new[1:] = (R[1:] != R[:-1]) | (K0[1:] > reach[:-1] + 1)
    g = np.flatnonzero(new)
    R, K0 = R[g], K0[g]
    K1 = np.maximum.reduceat(K1, g) if len(g) else K1[g]
    n = K1 - K0 + 1
    offset = np.cumsum(n) - n
    row = np.repeat(R, n)
    k = np.repeat(K0 - offset, n) + np.arange(int(n.sum()))
    versions = v_eff[k] if floor is None else np.maximum(v_eff[k], floor[row])
    locked = np.asarray(lock[versions, seg_of_day[row_start][row]], dtype=bool) & (r_eff[k] < row_end[row])
    head = np.zeros(len(k), dtype=bool)
    head[offset] = True
    tail = np.zeros(len(k), dtype=bool)
    tail[offset + n - 1] = True
    prev = np.concatenate([[False], locked[:-1]])
    nxt = np.concatenate([locked[1:], [False]])
    starts = np.flatnonzero(locked & (head | ~prev))
    ends = np.flatnonzero(locked & (tail | ~nxt))
    r_ext = np.concatenate([r_eff, [_FAR]])
    k_from = k[starts]
    a = np.where(k_from == 0, -_FAR, r_eff[k_from])
    return row_end, row[starts], a, r_ext[k[ends] + 1]


def _sweep(row_start, row_end, box_row, box_a, box_b, T, domain=None):
    """Spell families of the lags in ``domain`` (ascending disjoint (lo, hi) lag intervals;
    default: all lags 0..T+1) for one version path; see the module docstring.

    Returns tuples (lo, hi, start kind, start day, end kind, end day, censored): for lag ℓ in
    lo..hi the spell runs from start day (+ ℓ if start kind is 1) to end day (+ ℓ if end kind
    is 1), exclusive. Only the boxes a lag of the domain can reach are visited (bisection: the
    boxes of a row are sorted and disjoint in u).
    """
    domain = [(0, T + 1)] if domain is None else domain
    bounds = np.searchsorted(box_row, np.arange(len(row_start) + 1)).tolist()
    closed = array("q")  # flat 7-tuples of int64: a family costs 56 bytes, not a tuple of ints
    put = closed.extend
    opened: list[tuple] = []  # (lo, hi, sk, sc) locked on the last day of the previous row
    box_a, box_b = box_a.tolist(), box_b.tolist()
    for i, (s0, e0) in enumerate(zip(row_start.tolist(), row_end.tolist(), strict=True)):
        pieces: list[tuple] = []
        j = 0
        x0, x1 = bounds[i], bounds[i + 1]
        for dlo, dhi in domain:
            # boxes a lag dlo..dhi enters from below: b > s0 − dhi and a ≤ s0 − dlo
            first = bisect_right(box_b, s0 - dhi, x0, x1)
            last = bisect_right(box_a, s0 - dlo, x0, x1)
            for x in range(last - 1, first - 1, -1):  # bottom entries, ascending in ℓ
                a, b = box_a[x], box_b[x]
                p, q = max(dlo, s0 - b + 1), min(dhi, s0 - a)
                if p > q:
                    continue
                while j < len(opened) and opened[j][1] < p:
                    lo, hi, sk, sc = opened[j]
                    put((lo, hi, sk, sc, 0, s0, 0))
                    j += 1
                cur = p
                while j < len(opened) and opened[j][0] <= q:
                    lo, hi, sk, sc = opened[j]
                    if lo < p:
                        put((lo, p - 1, sk, sc, 0, s0, 0))
                        lo = p
                    if lo > cur:
                        pieces.append((cur, lo - 1, 0, s0, b))
                    top = min(hi, q)
                    pieces.append((lo, top, sk, sc, b))
                    cur = top + 1
                    if hi > q:
                        opened[j] = (q + 1, hi, sk, sc)
                        break
                    j += 1
                if cur <= q:
                    pieces.append((cur, q, 0, s0, b))
        for lo, hi, sk, sc in opened[j:]:
            put((lo, hi, sk, sc, 0, s0, 0))
        for dlo, dhi in domain:  # left entries: updating into a locked version
            # lags s0 − a + 1 .. e0 − a − 1 meet dlo..dhi: s0 − dhi < a < e0 − dlo
            first = bisect_right(box_a, s0 - dhi, x0, x1)
            last = bisect_left(box_a, e0 - dlo, x0, x1)
            for x in range(first, last):
                a, b = box_a[x], box_b[x]
                if a > -_FAR:
                    lo, hi = max(dlo, s0 - a + 1), min(dhi, e0 - a - 1)
                    if lo <= hi:
                        pieces.append((lo, hi, 1, a, b))
        opened = []
        for lo, hi, sk, sc, b in pieces:
            thr = e0 - b  # lags ≥ thr are still in the box on day e0 − 1
            if lo < thr:
                put((lo, min(hi, thr - 1), sk, sc, 1, b, 0))
            lo = max(lo, thr)
            if lo <= hi:
                if e0 >= T:
                    put((lo, hi, sk, sc, 0, T, 1))
                else:
                    opened.append((lo, hi, sk, sc))
        opened.sort()
    return np.frombuffer(closed, dtype=np.int64).reshape(-1, 7)


def _path_spells(lock, seg_start, seg_of_day, r_eff, v_eff, T, domain, floor_days=None, floor_vals=None):
    """Families of one version path: the normal path, or a prompted class whose floor steps to
    ``floor_vals[n]`` on ``floor_days[n]``."""
    if floor_days is None or not len(floor_days):
        row_start, floor = seg_start, None
    else:
        row_start = np.union1d(seg_start, floor_days[floor_days < T])
        floor = floor_vals(row_start)
    row_end, box_row, a, b = _rows_and_boxes(lock, seg_of_day, r_eff, v_eff, row_start, floor, T, domain)
    return _sweep(row_start, row_end, box_row, a, b, T, domain)


def _intervals(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1


def _clip_to(fams: np.ndarray, lo_c: np.ndarray, hi_c: np.ndarray) -> np.ndarray:
    """Families (rows of :func:`_sweep`) restricted to the lags of a class (sorted disjoint
    intervals)."""
    first = np.searchsorted(hi_c, fams[:, 0])
    count = np.searchsorted(lo_c, fams[:, 1], side="right") - first
    count = np.maximum(count, 0)
    row = np.repeat(np.arange(len(fams)), count)
    n = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    out = fams[row].copy()
    out[:, 0] = np.maximum(out[:, 0], lo_c[n])
    out[:, 1] = np.minimum(out[:, 1], hi_c[n])
    return out


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


def spell_table(sim: Simulation, tables: StrategyTables, full: bool = False) -> SpellTable:
    """Exact outage spells of every start-of-simulation user group for one strategy: of the
    lags that can carry users (:func:`lag_domain`), or of all lags 0..T+1 if ``full``."""
    cap, domain = (sim.days, [(0, sim.days + 1)]) if full else lag_domain(sim)
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
    rows: list[tuple] = []  # (client, complier, lo, hi, length, censored)
    ever: list[tuple] = []
    for ci, c in enumerate(sim.clients):
        lock = tables.lock[c.name]  # indexed per (window, row) only: a VerdictView stays compact
        lock = lock if isinstance(lock, VerdictView) else np.asarray(lock, dtype=bool)
        groups = [(False, _path_spells(lock, tables.seg_start, tables.seg_of_day, r_eff, v_eff, T, domain))]
        if split:
            E = prompt_days(sim, tables, c, np.zeros(len(lags), dtype=int), lags, fixes)
            pattern, cls = np.unique(E, axis=0, return_inverse=True)
            parts: list[np.ndarray] = []
            for n, prompted in enumerate(pattern):
                lo_c, hi_c = _intervals(cls.ravel() == n)
                days = np.unique(prompted[prompted < T])
                floor = lambda d, p=prompted: prompt_floor(p[None, :], fixes, d)[0]  # noqa: E731
                path = _path_spells(lock, tables.seg_start, tables.seg_of_day, r_eff, v_eff, T, domain, days, floor)
                parts.append(_clip_to(path, lo_c, hi_c))
            groups.append((True, np.concatenate(parts)))
        for complier, fams in groups:
            if not len(fams):
                continue
            f = np.asarray(fams, dtype=np.int64)
            lo, hi, sk, sc, ek, ec, cens = f.T
            flat = sk == ek
            length = ec - sc
            rows.append((ci, complier, lo[flat], hi[flat], length[flat], cens[flat].astype(bool)))
            # lengths that grow or shrink with ℓ: one row per lag (families one row high)
            width = hi[~flat] - lo[~flat] + 1
            lag = np.repeat(lo[~flat], width) + np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width)
            slope = np.repeat((ek - sk)[~flat], width)
            rows.append((ci, complier, lag, lag, np.repeat(length[~flat], width) + slope * lag,
                         np.repeat(cens[~flat].astype(bool), width)))
            order = np.argsort(lo, kind="stable")
            e_lo, e_hi = lo[order], hi[order]
            run_hi = np.maximum.accumulate(e_hi)
            new = np.concatenate([[True], e_lo[1:] > run_hi[:-1] + 1])
            starts = np.flatnonzero(new)
            ends = np.append(starts[1:], len(e_lo)) - 1
            ever.append((ci, complier, e_lo[starts], run_hi[ends]))
    return _assemble(rows, ever, split, cap)


def _assemble(rows: list[tuple], ever: list[tuple], split: bool, cap: int) -> SpellTable:
    def col(parts, i, dtype):
        vals = [np.broadcast_to(np.asarray(p[i], dtype=dtype), np.shape(p[2])) for p in parts]
        return np.concatenate(vals) if vals else np.zeros(0, dtype=dtype)

    # kept for every strategy of a result: compact types (days and lags fit in 32 bits)
    return SpellTable(
        col(rows, 0, np.int16), col(rows, 1, bool), col(rows, 2, np.int32), col(rows, 3, np.int32),
        col(rows, 4, np.int32), col(rows, 5, bool),
        col(ever, 0, np.int16), col(ever, 1, bool), col(ever, 2, np.int32), col(ever, 3, np.int32),
        split, cap,
    )
