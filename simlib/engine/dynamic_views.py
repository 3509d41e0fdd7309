"""Dynamic verdict tables without a (versions × days) array, and the daily sums over them.

:func:`simlib.engine.dynamic.dynamic_tables` finds that on day t every version built at least W
days earlier (W = span + 2, see :mod:`simlib.engine.dynamic`) has one common value: ``old[t]``
while its pins are checked (t < b_k + expires_after_days), ``off[t]`` once they are not. Versions
not yet built are 0. Only the band of recent versions, 0 ≤ t − b_k < W, needs a value per (k, t):
``band[k, t − b_k]``. A :class:`DynamicView` stores exactly that — (T,) + (T,) + (V × W) numbers
— and indexes like the dense (V, T) array it stands for (built only on request).

With build days in version order each group of versions is a contiguous version range, so the
users on it are A(a, t) − A(e, t) (:class:`simlib.fleet.counts.AtLeast`) and

    Σ_k m[k, t] · users_k(t) = off(t) · users(expired) + old(t) · users(old, checked)
                               + Σ_{band} band[k, t − b_k] · users_k(t),

days × (boundaries + W) instead of versions × days. The same holds for the users newly locked,
Σ_k users_k(t) · max(m[k, t] − m[k, t−1], 0): versions old on both days split into expired on
both, expiring on day t and checked on both; the rest are the band pairs, one day wider. Every
value and every user count is the one the dense product uses, only summed in another order.
Build days out of order (incident fixes can be) fall back to the dense product.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simlib.fleet.counts import AtLeast


class DynamicView:
    """A (V, T) probability table of one event of a dynamic strategy, stored compactly."""

    __slots__ = ("_dense", "band", "build", "expiry", "off", "old")

    def __init__(
        self,
        build: np.ndarray,
        expiry: np.ndarray,
        old: np.ndarray,
        off: np.ndarray,
        band: np.ndarray,
    ) -> None:
        self.build = build  # (V,) build day of each version
        self.expiry = expiry  # (V,) pins checked on days t < expiry[k]
        self.old = old  # (T,) value of versions built ≥ W days ago, pins checked
        self.off = off  # (T,) value with pins not checked
        self.band = band  # (V, W) value on day build[k] + d (entries past the horizon unused)
        self._dense: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.build), len(self.old)

    @property
    def width(self) -> int:
        return self.band.shape[1]

    def at(self, k: np.ndarray, t: np.ndarray) -> np.ndarray:
        """m[k, t] for arrays of versions and days (broadcast)."""
        k, t = np.broadcast_arrays(np.asarray(k, dtype=np.int64), np.asarray(t, dtype=np.int64))
        d = t - self.build[k]
        far = np.where(t < self.expiry[k], self.old[t], self.off[t])
        near = self.band[k, np.clip(d, 0, self.width - 1)]
        return np.where(d < 0, 0.0, np.where(d < self.width, near, far))

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key, slice(None))
        kk, ss = key
        V, T = self.shape
        k = np.arange(V)[kk] if isinstance(kk, slice) else np.asarray(kk)
        t = np.arange(T)[ss] if isinstance(ss, slice) else np.asarray(ss)
        if isinstance(kk, slice) and isinstance(ss, slice):
            k, t = k[:, None], t[None, :]
        elif isinstance(kk, slice) and t.ndim:
            k = k.reshape(k.shape + (1,) * t.ndim)
        elif isinstance(ss, slice) and k.ndim:
            k = k[..., None]
        V_ok = (k >= -V) & (k < V)
        T_ok = (t >= -T) & (t < T)
        if not (np.all(V_ok) and np.all(T_ok)):
            raise IndexError(f"index out of bounds for a dynamic table of shape {self.shape}")
        return self.at(np.where(k < 0, k + V, k), np.where(t < 0, t + T, t))[()]

    def dense(self) -> np.ndarray:
        """The (V, T) array (cached): for consumers that index it heavily, and tests."""
        if self._dense is None:
            self._dense = self[:, :]
        return self._dense

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out.astype(dtype) if dtype is not None else out

    def min(self, *args, **kwargs):
        return self.dense().min(*args, **kwargs)

    def max(self, *args, **kwargs):
        return self.dense().max(*args, **kwargs)


def _upto(A: AtLeast, k: np.ndarray, t: np.ndarray, V: int) -> np.ndarray:
    """A(k, t) with A(V, t) = 0 (no version at or above V)."""
    return np.where(k < V, A(np.minimum(k, V - 1), t), 0.0)


def _band_pairs(
    build: np.ndarray, width: int, T: int, lo: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(version, day) for every day build[k] + d, d ∈ [0, width), with lo ≤ day < T."""
    V = len(build)
    v = np.repeat(np.arange(V), width)
    t = build[v] + np.tile(np.arange(width), V)
    keep = (t >= lo) & (t < T)
    return v[keep], t[keep]


def per_day_sums(columns: list, A: AtLeast, T: int) -> tuple[np.ndarray, np.ndarray]:
    """((T, K) Σ_k m[k, t] · users_k(t) per column, (T,) users newly locked by column 0)."""
    first = columns[0]
    compact = all(
        isinstance(m, DynamicView)
        and m.build is first.build
        and m.expiry is first.expiry
        and m.width == first.width
        for m in columns
    ) and bool(np.all(np.diff(first.build) >= 0))
    if not compact:
        return _dense_sums(columns, A, T)
    b, exp, W = first.build, first.expiry, first.width
    V = len(b)
    t = np.arange(T)
    # sums: versions built ≥ W days ago are [0, n), expired among them [0, e)
    n = np.searchsorted(b, t - W, side="right")
    e = np.minimum(np.searchsorted(exp, t, side="right"), n)
    A0, Ae, An = _upto(A, np.zeros(T, dtype=np.int64), t, V), _upto(A, e, t, V), _upto(A, n, t, V)
    v, tt = _band_pairs(b, W, T)
    users = A.exactly(v, tt)
    cols = np.empty((T, len(columns)))
    for i, m in enumerate(columns):
        near = np.bincount(tt, weights=m.band[v, tt - b[v]] * users, minlength=T)
        cols[:, i] = m.off * (A0 - Ae) + m.old * (Ae - An) + near
    newly = np.zeros(T)
    if T > 1:
        newly[1:] = _newly_locked(first, A, T)
    return cols, newly


def _newly_locked(m: DynamicView, A: AtLeast, T: int) -> np.ndarray:
    """Σ_k users_k(t) · max(m[k, t] − m[k, t−1], 0) for t = 1 … T−1."""
    b, exp, W = m.build, m.expiry, m.width
    V = len(b)
    t = np.arange(1, T)
    pos = lambda x: np.clip(x, 0.0, None)  # noqa: E731
    # versions built ≥ W days before t − 1 (old on both days): [0, n); expired on day t − 1:
    # [0, c0); expiring on day t: [c0, c1); checked on both days: [c1, n)
    n = np.searchsorted(b, t - 1 - W, side="right")
    c0 = np.minimum(np.searchsorted(exp, t - 1, side="right"), n)
    c1 = np.minimum(np.searchsorted(exp, t, side="right"), n)
    A0 = _upto(A, np.zeros(len(t), dtype=np.int64), t, V)
    Ac0, Ac1, An = _upto(A, c0, t, V), _upto(A, c1, t, V), _upto(A, n, t, V)
    off, old = m.off, m.old
    out = (
        pos(off[1:] - off[:-1]) * (A0 - Ac0)
        + pos(off[1:] - old[:-1]) * (Ac0 - Ac1)
        + pos(old[1:] - old[:-1]) * (Ac1 - An)
    )
    # the rest: built on day t or within W days before t − 1
    v, tt = _band_pairs(b, W + 1, T, lo=1)
    rise = pos(m.at(v, tt) - m.at(v, tt - 1)) * A.exactly(v, tt)
    return out + np.bincount(tt, weights=rise, minlength=T)[1:]


def _dense_sums(columns: list, A: AtLeast, T: int) -> tuple[np.ndarray, np.ndarray]:
    """The (versions × days) product: for build days out of order."""
    x = A.table()
    cols = np.stack([(x * np.asarray(m)).sum(axis=0) for m in columns], axis=1)
    lock = np.asarray(columns[0])
    newly = np.zeros(T)
    newly[1:] = (x[:, 1:] * np.clip(np.diff(lock, axis=1), 0.0, None)).sum(axis=0)
    return cols, newly
