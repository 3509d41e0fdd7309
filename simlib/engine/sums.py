"""Σ over versions of verdict × users, per day, without a (versions × days) array.

Users on exactly version k are A(k, t) − A(k+1, t) (:class:`simlib.fleet.counts.AtLeast`), so
for a 0/1 verdict column m

    Σ_k m[k, s] · users_k(t) = Σ_k (m[k, s] − m[k−1, s]) · A(k, t)            (by parts)

and only the *breakpoints* of m over versions count. Days are cut into *pieces* (inside one
segment, no release), on which the released versions and every verdict are fixed; on a piece,
A(k, t) has a closed form (:meth:`AtLeast.piece_terms`), so each breakpoint costs once per piece,
not once per day. Two ways to group the work, chosen per table:

* **breakpoints** (:class:`_Breakpoints`): few per segment when verdicts depend on recent builds
  (leaf pins: the versions built before and after a renewal);
* **classes** (:class:`_Classes`): when versions fall into a few pin classes that alternate (one
  per randomly chosen intermediate), users per class U_j(t) are carried from piece to piece by a
  recurrence, and a column is Σ_j X[j, s] · U_j(t). With a closed form for every released
  version (expected mode, mixture curve) the recurrence runs over pieces; with *saturating*
  counts (sampled lags: A(k, t) = const_k + I(t) once t − r_k exceeds the largest lag drawn) a
  class boundary is looked up day by day while it is young and enters a running constant once
  saturated, so the work is days × (boundaries younger than the largest lag), not versions ×
  segments. That way is taken only when every term is an integer (sampled fleets), where float
  sums are exact and it returns the very numbers of the breakpoint way.

Both are exact in real arithmetic; pieces where no closed form exists (forced-update prompts) are
looked up day by day.
"""

from __future__ import annotations

import numpy as np

from simlib.engine.tables import StrategyTables
from simlib.engine.views import VerdictView, breakpoints
from simlib.fleet.counts import AtLeast

#: Version classes up to which the class recurrence is used (its cost is pieces × classes).
MAX_CLASSES = 64
#: Day-by-day lookups of young class boundaries done at once (bounds the transient memory).
CHUNK = 1 << 18


class SumPlan:
    """Daily Σ_k verdict × users for every column of one static table (several client kinds).

    Depends on the verdicts only; users enter at :meth:`evaluate`, so Monte Carlo replications
    of one calendar reuse the plan.
    """

    def __init__(self, sim, tb: StrategyTables, cols: list[VerdictView], names: list[str]) -> None:
        T = sim.days
        self.days = T
        self.cols = cols
        r = tb.release_days
        self.release_days = r
        self.t0 = np.union1d(tb.seg_start, r[(r >= 0) & (r < T)])
        self.t1 = np.append(self.t0[1:], T)
        self.seg = tb.seg_of_day[self.t0]
        self.seg_start = tb.seg_start
        self.seg_of_day = tb.seg_of_day
        self._bp: _Breakpoints | None = None
        self._cls: _Classes | None = None
        cls = cols[0].cls
        uniform = all(np.all(v.first == v.first[0]) and v.first[0] in (0, len(cls)) for v in cols)
        self.class_ok = uniform and cols[0].classes <= MAX_CLASSES
        self.flip_views = [tb.lock[n] for n in names]
        self._newly: list | None = None

    @property
    def newly(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(k, day, sign) breakpoints of "newly locked" per client (built on first use)."""
        if self._newly is None:
            self._newly = [_flips(v, self.seg_start) for v in self.flip_views]
        return self._newly

    def evaluate(self, counts: AtLeast, days: int) -> tuple[np.ndarray, list[np.ndarray]]:
        if self.class_ok and self._cls is None:
            self._cls = _Classes(self)
        if self.class_ok and counts.exact_closed_form:
            out = self._cls.evaluate(self, counts)
        elif self.class_ok and (found := self._cls.saturating(self, counts)) is not None:
            return found
        else:
            if self._bp is None:
                self._bp = _Breakpoints(self)
            out = self._bp.evaluate(self, counts)
        newly = [
            np.bincount(day, weights=sign * counts(k, day), minlength=days)
            for k, day, sign in self.newly
        ]
        return out, newly

    # shared by both ways: per-piece coefficients → daily values
    def daily(self, counts: AtLeast, const, inst, decay, tau) -> np.ndarray:
        """(T, columns) from per-piece coefficients (P, columns) and (P, columns, C)."""
        t = np.arange(self.days)
        p = np.searchsorted(self.t0, t, side="right") - 1
        out = const[p] + inst[p] * counts.installs_to(t)[:, None]
        age = t - self.t0[p]
        for c, tc in enumerate(tau):
            out += decay[p, :, c] * np.exp(-age / tc)[:, None]
        return out


class _Breakpoints:
    """Each breakpoint (version k, segment s) of any column, on every piece of s after r_k."""

    def __init__(self, plan: SumPlan) -> None:
        # the plan is passed to evaluate, not kept: no reference cycle (plans are freed at once)
        q, k, s, sign = breakpoints(plan.cols)
        S = len(plan.seg_start)
        pairs, inverse = np.unique(k * S + s, return_inverse=True)
        signs = np.zeros((len(plan.cols), len(pairs)), dtype=np.int8)  # ±1 per (column, pair)
        signs[q, inverse] = sign
        k, s = pairs // S, pairs % S
        n_seg = np.arange(S)
        lo = np.searchsorted(plan.seg, n_seg, side="left")
        hi = np.searchsorted(plan.seg, n_seg, side="right")
        first = np.maximum(lo[s], np.searchsorted(plan.t0, plan.release_days[k], side="left"))
        n = np.maximum(hi[s] - first, 0)
        # plans live as long as a Monte Carlo calendar: compact integer types
        self.pair = np.repeat(np.arange(len(k), dtype=np.int32), n)
        self.piece = (np.repeat(first, n) + _ramp(n)).astype(np.int32)
        self.k = k[self.pair].astype(np.int32)
        # every (column, entry) with a non-zero sign, and its (piece, column) cell
        Q = len(plan.cols)
        # (column by column: no (columns × entries) temporary)
        es = [np.flatnonzero(signs[c, self.pair]).astype(np.int32) for c in range(Q)]
        self.e = np.concatenate(es)
        self.q = np.repeat(np.arange(Q, dtype=np.int32), [len(x) for x in es])
        self.w = signs[self.q, self.pair[self.e]]
        self.cell = self.piece[self.e].astype(np.int64) * Q + self.q

    def evaluate(self, plan: SumPlan, counts: AtLeast) -> np.ndarray:
        T = plan.days
        P, Q = len(plan.t0), len(plan.cols)
        valid, const, inst, decay, tau = counts.piece_terms(self.k, plan.t0[self.piece])
        e, w = self.e, self.w
        wv = w * valid[e]

        def per_cell(values: np.ndarray) -> np.ndarray:
            return np.bincount(self.cell, weights=wv * values[e], minlength=P * Q).reshape(P, Q)

        cst, ins = per_cell(const), per_cell(inst)
        dec = np.zeros((P, Q, len(tau)))
        for c in range(len(tau)):
            dec[:, :, c] = per_cell(decay[:, c])
        out = plan.daily(counts, cst, ins, dec, tau)
        rest = np.flatnonzero(~valid[e])  # no closed form on these pieces: day by day
        if len(rest):
            pc = self.piece[e[rest]]
            lens = plan.t1[pc] - plan.t0[pc]
            day = np.repeat(plan.t0[pc], lens) + _ramp(lens)
            which = np.repeat(rest, lens)
            values = w[which] * counts(self.k[e[which]], day)
            out += np.bincount(day * Q + self.q[which], weights=values, minlength=T * Q).reshape(
                T, Q
            )
        return out


class _Classes:
    """Users per version class U_j(t), carried across pieces; a column is Σ_j X[j, s] · U_j(t)."""

    def __init__(self, plan: SumPlan) -> None:
        # the plan is passed to evaluate, not kept: no reference cycle (plans are freed at once)
        cls = plan.cols[0].cls
        V, J = len(cls), plan.cols[0].classes
        # class j covers the versions where cls == j: +A(k) where a run of j starts, −A(k) where
        # it ends (summation by parts over the class indicator)
        change = np.flatnonzero(np.diff(cls)) + 1
        self.k = np.concatenate([[0], change, change])
        self.j = np.concatenate([[cls[0]], cls[change], cls[change - 1]])
        self.sign = np.concatenate([[1.0], np.ones(len(change)), -np.ones(len(change))])
        self.J, self.V = J, V
        # verdict of class j on each segment, per column (classes J = "versions whose pins do
        # not apply": the whole fleet, weighted by the off verdict)
        S = len(plan.seg_start)
        M = np.zeros((len(plan.cols), S, J + 1), dtype=bool)
        for q, v in enumerate(plan.cols):
            if v.first[0] == 0:
                M[q, :, :J] = v.X.T
            else:
                M[q, :, J] = v.off
        self.M = M

    def evaluate(self, plan: SumPlan, counts: AtLeast) -> np.ndarray:
        P, J = len(plan.t0), self.J
        r = plan.release_days[self.k]
        # each boundary enters on the piece that starts on its release day
        at = np.searchsorted(plan.t0, r, side="left")
        live = r < plan.days
        k, j, sign, at = self.k[live], self.j[live], self.sign[live], at[live]
        _, const, inst, decay, tau = counts.piece_terms(k, plan.t0[at])
        C = len(tau)
        key = at * (J + 1) + j
        size = P * (J + 1)
        cst = np.cumsum(np.bincount(key, sign * const, size).reshape(P, J + 1), axis=0)
        ins = np.cumsum(np.bincount(key, sign * inst, size).reshape(P, J + 1), axis=0)
        new = np.stack([np.bincount(key, sign * decay[:, c], size) for c in range(C)], -1)
        new = new.reshape(P, J + 1, C)
        dec = np.empty_like(new)
        fade = np.exp(-np.diff(plan.t0, prepend=plan.t0[0])[:, None] / tau[None, :])  # (P, C)
        acc = np.zeros((J + 1, C))
        for p in range(P):  # decaying terms age from piece to piece
            acc = acc * fade[p] + new[p]
            dec[p] = acc
        # the whole fleet (class J): A(0, t)
        _, c0, i0, _, _ = counts.piece_terms(np.zeros(1, dtype=np.int64), plan.t0[:1])
        cst[:, J] = c0[0]
        ins[:, J] = i0[0]
        M = self.M[:, plan.seg, :].astype(float)
        const = np.einsum("qpj,pj->pq", M, cst)
        installs = np.einsum("qpj,pj->pq", M, ins)
        decays = np.einsum("qpj,pjc->pqc", M, dec)
        return plan.daily(counts, const, installs, decays, tau)

    def saturating(
        self, plan: SumPlan, counts: AtLeast
    ) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """(columns, newly locked) from users per class day by day, for counts whose closed form
        holds once a version is old enough (:meth:`AtLeast.piece_terms` valid from some day on).
        ``None`` (use the breakpoints) unless every term is an integer below 2**53, so that
        every sum is exact whatever its order."""
        T, J, W = plan.days, self.J, self.J + 1
        if not counts.piece_terms(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))[0][0]:
            return None  # no closed form at all (prompt steps)
        r = plan.release_days[self.k]
        live = r < T
        k, j, sign, r = self.k[live], self.j[live], self.sign[live], np.maximum(r[live], 0)
        e = _first_closed(counts, k, r, T)
        t = np.arange(T)
        whole = counts(np.zeros(T, dtype=np.int64), t)  # A(0, t): bounds every term
        _, const, inst, _, tau = counts.piece_terms(k, np.minimum(e, T - 1))
        if len(tau) or not (_integral(const) and _integral(inst) and _integral(whole)):
            return None
        if float(np.abs(whole).max(initial=0.0)) * (len(k) + 1) >= 2.0**53:
            return None
        # saturated boundaries: a constant (and the installs so far) from day e on
        sat = e < T
        key = e[sat] * W + j[sat]
        U = np.cumsum(np.bincount(key, sign[sat] * const[sat], T * W).reshape(T, W), axis=0)
        per_install = np.cumsum(
            np.bincount(key, sign[sat] * inst[sat], T * W).reshape(T, W), axis=0
        )
        U += per_install * counts.installs_to(t)[:, None]
        # young boundaries: day by day from release to saturation, a chunk at a time
        n = e - r
        ends = np.cumsum(n)
        a = 0
        while a < len(n):
            b = max(int(np.searchsorted(ends, ends[a] - n[a] + CHUNK, side="right")), a + 1)
            m = n[a:b]
            day = np.repeat(r[a:b], m) + _ramp(m)
            which = np.repeat(np.arange(a, b), m)
            values = counts(k[which], day)
            if not _integral(values):
                return None
            U += np.bincount(day * W + j[which], sign[which] * values, T * W).reshape(T, W)
            a = b
        U[:, J] = whole
        seg = plan.seg_of_day
        out = np.empty((T, len(plan.cols)))
        for q in range(len(plan.cols)):
            out[:, q] = np.einsum("tj,tj->t", self.M[q][seg].astype(float), U)
        # newly locked on a segment's first day: classes locked there and not the day before
        newly = []
        for lock in plan.flip_views:
            F = np.zeros((len(plan.seg_start), W))
            if lock.first[0] == 0:
                F[1:, :J] = lock.X[:, 1:].T & ~lock.X[:, :-1].T
            else:
                F[1:, J] = lock.off[1:] & ~lock.off[:-1]
            d = plan.seg_start
            newly.append(
                np.bincount(d, weights=(F * U[np.minimum(d, T - 1)]).sum(axis=1), minlength=T)
            )
        return out, newly


def _first_closed(counts: AtLeast, k: np.ndarray, r: np.ndarray, T: int) -> np.ndarray:
    """First day ≥ r from which A(k, t) has its closed form (T: not within the horizon), by
    bisection: a closed form that holds from t0 holds from every later day."""
    lo, hi = r.astype(np.int64), np.full(len(k), T, dtype=np.int64)
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        open_ = lo < hi
        valid = counts.piece_terms(k, np.minimum(mid, T - 1))[0]
        hi = np.where(open_ & valid, mid, hi)
        lo = np.where(open_ & ~valid, mid + 1, lo)
    return lo


def _integral(x: np.ndarray) -> bool:
    x = np.asarray(x)
    return bool(np.all(np.isfinite(x)) and np.array_equal(x, np.round(x)))


def _ramp(lengths: np.ndarray) -> np.ndarray:
    """0, 1, …, n₀−1, 0, 1, …, n₁−1, … for run lengths n."""
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _flips(lock: VerdictView, seg_start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breakpoints (k, day, sign) of "locked on segment s, not on s − 1" at each segment start."""
    S = lock.shape[1]
    if S < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    first = lock.first
    if np.all(first == first[0]):
        # the same versions apply on every segment: flips stay a class table
        X = lock.X[:, 1:] & ~lock.X[:, :-1]
        off = lock.off[1:] & ~lock.off[:-1]
        view = VerdictView(lock.cls, X, off, first[1:])
        k, s, sign = view.breakpoints()
    else:  # expiring pins: a threshold that moves between segments
        dense = lock.dense()
        flips = (dense[:, 1:] & ~dense[:, :-1]).astype(np.int8)
        F = np.diff(flips, axis=0, prepend=np.int8(0))
        k, s = np.nonzero(F)
        sign = F[k, s].astype(np.float64)
    return k, seg_start[1:][s], sign
