"""The row sweep behind exact outage spells: lag *families* instead of a lags × days table.

With u = t − ℓ, the locked days of a version path form boxes (a run of locked release windows ×
one verdict segment); a user of lag ℓ walks the diagonal u = t − ℓ through them. The sweep goes
row by row (one segment per row) and carries open spells as families — an interval of lags whose
spell starts on a fixed day or on day + ℓ — so cost follows families, not lags × days
(:mod:`simlib.engine.durations` turns families into weighted spell statistics).

Rows are swept in *blocks* of bounded work (:data:`BLOCK` (row, release window) cells): the
boxes of a block are found, swept with the families still open from the previous block, and
its closed families handed on, so transient memory does not grow with the horizon.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

import numpy as np

_FAR = 1 << 62  # an unbounded release window (before version 1 / after the newest)
#: (row, release window) cells read per block of rows (bounds the transient memory).
BLOCK = 1 << 14


def _reach(r_eff, row_start, row_end, domain):
    """Per row and lag interval of ``domain``, the first and last release window a lag of it
    runs during the row (u from row start − dhi to row end − 1 − dlo)."""
    return [
        (
            np.maximum(np.searchsorted(r_eff, row_start - dhi, side="right") - 1, 0),
            np.maximum(np.searchsorted(r_eff, row_end - 1 - dlo, side="right") - 1, 0),
        )
        for dlo, dhi in domain
    ]


def _rows_and_boxes(lock, seg_of_day, r_eff, v_eff, row_start, row_end, floor, domain):
    """Locked boxes of every row: (row index, u from, u to) with u = t − ℓ.

    Only the release windows a lag of ``domain`` runs during the row are read (u from
    row start − dhi to row end − 1 − dlo), so the work is rows × (windows a lag range spans),
    not rows × all windows. A run of locked windows cut at the edge of that range gets the
    edge as its end: the sweep only compares it with days no lag of the domain reaches there.
    """
    rows = np.arange(len(row_start))
    parts = [(rows, k0, k1) for k0, k1 in _reach(r_eff, row_start, row_end, domain)]
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
    locked = np.asarray(lock[versions, seg_of_day[row_start][row]], dtype=bool) & (
        r_eff[k] < row_end[row]
    )
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
    return row[starts], a, r_ext[k[ends] + 1]


def _sweep(row_start, row_end, box_row, box_a, box_b, T, domain, opened):
    """Spell families of the lags in ``domain`` (ascending disjoint (lo, hi) lag intervals)
    for one version path, over a block of rows; see the module docstring.

    Returns (families, opened): families as rows (lo, hi, start kind, start day, end kind,
    end day, censored): for lag ℓ in lo..hi the spell runs from start day (+ ℓ if start kind
    is 1) to end day (+ ℓ if end kind is 1), exclusive; ``opened``: the spells still running
    at the end of the block (pass them to the next block). Only the boxes a lag of the domain
    can reach are visited (bisection: the boxes of a row are sorted and disjoint in u).
    """
    bounds = np.searchsorted(box_row, np.arange(len(row_start) + 1)).tolist()
    closed = array("q")  # flat 7-tuples of int64: a family costs 56 bytes, not a tuple of ints
    put = closed.extend
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
    return np.frombuffer(closed, dtype=np.int64).reshape(-1, 7), opened


def path_spells(
    lock, seg_start, seg_of_day, r_eff, v_eff, T, domain, floor_days=None, floor_vals=None
):
    """Families of one version path, block by block (arrays of :func:`_sweep` rows): the normal
    path, or a prompted class whose floor steps to ``floor_vals[n]`` on ``floor_days[n]``."""
    if floor_days is None or not len(floor_days):
        row_start, floor = seg_start, None
    else:
        row_start = np.union1d(seg_start, floor_days[floor_days < T])
        floor = floor_vals(row_start)
    row_end = np.append(row_start[1:], T)
    cells = sum(k1 - k0 + 1 for k0, k1 in _reach(r_eff, row_start, row_end, domain))
    cuts = np.searchsorted(
        np.cumsum(cells), np.arange(BLOCK, int(cells.sum()), BLOCK), side="right"
    )
    edges = np.unique(np.concatenate([[0], cuts, [len(row_start)]]))
    opened: list[tuple] = []  # (lo, hi, sk, sc) locked on the last day of the previous row
    for i0, i1 in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        rs, re = row_start[i0:i1], row_end[i0:i1]
        fl = None if floor is None else floor[i0:i1]
        box_row, a, b = _rows_and_boxes(lock, seg_of_day, r_eff, v_eff, rs, re, fl, domain)
        fams, opened = _sweep(rs, re, box_row, a, b, T, domain, opened)
        del box_row, a, b
        if len(fams):
            yield fams
        del fams  # not held while the next block is swept


def intervals(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1


def clip_to(fams: np.ndarray, lo_c: np.ndarray, hi_c: np.ndarray) -> np.ndarray:
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
    while True:
        # every interval adds 0.0 where it has no block on this level (x + 0.0 is x, all sums
        # are ≥ 0): the same sums in the same order as masked updates, at a third less cost
        top = len(level) - 1
        m = (left & 1).astype(bool) & (left < right)
        out += np.where(m, level[np.minimum(left, top)], 0.0)
        left += m
        m = (right & 1).astype(bool) & (left < right)
        right -= m
        out += np.where(m, level[np.minimum(right, top)], 0.0)
        left >>= 1
        right >>= 1
        if not (left < right).any():
            break
        if len(level) % 2:
            level = np.append(level, 0.0)
        level = level[0::2] + level[1::2]
    return out
