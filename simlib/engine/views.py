"""Verdicts stored by *version class* instead of by version.

Versions whose pins are identical for every host form a class (a root pin: one class for all
versions; a random-intermediate pin: one class per intermediate). A verdict over (version,
segment) is then

    m[k, s] = X[cls[k], s]   where the version's pins are enforced (k ≥ first[s])
            = off[s]         where they are not (expired, or report-only)

so tables are (classes × segments), and the breakpoints over versions that the aggregation needs
(:mod:`simlib.engine.aggregate`) are read off class boundaries. ``first[s]`` is the first version
whose pins still apply on segment s (versions are built in order, so expiry is a threshold).
A view indexes like the dense (V, S) array it stands for.
"""

from __future__ import annotations

import numpy as np


class VerdictView:
    """A (V, S) boolean verdict table stored as (classes × segments) plus a per-segment fallback."""

    __slots__ = ("_J", "_packed", "cls", "first", "off")

    def __init__(self, cls: np.ndarray, X: np.ndarray, off: np.ndarray, first: np.ndarray) -> None:
        self.cls = cls  # (V,) class of each version
        self._J = X.shape[0]
        # (C, S) verdicts where pins apply, 8 classes a byte (packed through the transpose:
        # packing along contiguous rows is about 3× faster than down the columns)
        self._packed = np.ascontiguousarray(
            np.packbits(np.ascontiguousarray(np.asarray(X, dtype=bool).T), axis=1).T
        )
        self.off = off  # (S,) verdict where they do not
        self.first = first  # (S,) first version whose pins apply

    @property
    def X(self) -> np.ndarray:
        """(classes, S) verdict where pins apply (unpacked on use: tables stay 8× smaller)."""
        return np.unpackbits(self._packed, axis=0, count=self._J).view(bool)

    @property
    def classes(self) -> int:
        return self._J

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cls), self._packed.shape[1]

    def __getitem__(self, key):
        k, s = key
        if isinstance(k, slice) and isinstance(s, slice) and k == s == slice(None):
            return self.dense()
        V, S = self.shape
        k = np.arange(V)[k] if isinstance(k, slice) else np.asarray(k)
        s = np.arange(S)[s] if isinstance(s, slice) else np.asarray(s)
        if isinstance(key[0], slice) and isinstance(key[1], slice):
            k, s = k[:, None], s[None, :]
        elif isinstance(key[0], slice) and s.ndim == 0:
            pass
        elif isinstance(key[0], slice):
            k = k.reshape(k.shape + (1,) * s.ndim)
        elif isinstance(key[1], slice) and k.ndim == 0:
            pass
        elif isinstance(key[1], slice):
            k = k[..., None]
        k, s = np.broadcast_arrays(k, s)
        if k.size >= self._packed.size * 8:  # as many cells as the table: unpack it once
            return np.where(k >= self.first[s], self.X[self.cls[k], s], self.off[s])
        c = self.cls[k]  # a few cells: read the packed bits in place, no unpacking
        bit = (self._packed[c >> 3, s] >> (7 - (c & 7)).astype(np.uint8)) & 1
        return np.where(k >= self.first[s], bit.astype(bool), self.off[s])

    def dense(self) -> np.ndarray:
        """The (V, S) table it stands for (built on each call: callers keep what they need)."""
        applies = np.arange(len(self.cls))[:, None] >= self.first[None, :]
        return np.where(applies, self.X[self.cls], self.off[None, :])  # whole rows gathered

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out.astype(dtype) if dtype is not None else out

    def __invert__(self) -> np.ndarray:
        return ~self.dense()

    def __and__(self, other):
        return self.dense() & np.asarray(other)

    def __or__(self, other):
        return self.dense() | np.asarray(other)

    def any(self, *args, **kwargs):
        return self.dense().any(*args, **kwargs)

    def all(self, *args, **kwargs):
        return self.dense().all(*args, **kwargs)

    def breakpoints(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(k, s, sign): where m[k, s] − m[k−1, s] ≠ 0 (m[−1, s] = 0), sign ∈ {−1, +1}."""
        _, k, s, sign = breakpoints([self])
        return k, s, sign


def breakpoints(views: list[VerdictView]) -> tuple[np.ndarray, ...]:
    """(column, k, s, sign) of several views over the same version classes.

    m[k, s] − m[k−1, s] (with m[−1, s] = 0) is non-zero only at k = 0, where a segment's pins
    start to apply (off → X), and at class boundaries above it. Views that share their tables
    (attacks every version rejects alike) are worked out once; one (boundaries × segments)
    difference is held at a time.
    """
    cls = views[0].cls
    V = len(cls)
    b = np.flatnonzero(cls[1:] != cls[:-1]) + 1
    done: dict[tuple[int, int, int], tuple[np.ndarray, ...]] = {}
    parts = []
    for q, v in enumerate(views):
        key = (id(v._packed), id(v.off), id(v.first))
        if key not in done:
            done[key] = _view_breakpoints(v, cls, V, b)
        k, s, d = done[key]
        parts.append((np.full(len(k), q), k, s, d))
    q, k, s, d = (np.concatenate(part) for part in zip(*parts, strict=True))
    return q, k, s, d.astype(np.float64)


def _view_breakpoints(
    v: VerdictView, cls: np.ndarray, V: int, b: np.ndarray
) -> tuple[np.ndarray, ...]:
    X, off, first = v.X, v.off.astype(np.int8), v.first
    ks, ss, ds = [], [], []
    # k = 0: the value itself
    v0 = np.where(first <= 0, X[cls[0]], off).astype(np.int8)
    s = np.flatnonzero(v0)
    ks.append(np.zeros(len(s), dtype=np.int64))
    ss.append(s)
    ds.append(v0[s])
    # where pins start to apply (0 < first < V): off → X
    s = np.flatnonzero((first > 0) & (first < V))
    if len(s):
        k = first[s]
        d = X[cls[k], s].astype(np.int8) - off[s]
        nz = d != 0
        ks.append(k[nz])
        ss.append(s[nz])
        ds.append(d[nz])
    # class boundaries inside the applying range
    if len(b):
        # where adjacent classes differ, found on bits packed along segments (8 a byte: the
        # (boundaries × S) comparison and its scan are 8× smaller)
        packed = np.packbits(X, axis=1)
        diff = packed[cls[b]] ^ packed[cls[b - 1]]  # (boundaries, ⌈S/8⌉)
        bi, byte = np.nonzero(diff)
        row, bit = np.nonzero(np.unpackbits(diff[bi, byte][:, None], axis=1))
        bi, s = bi[row], byte[row] * 8 + bit
        keep = b[bi] > first[s]
        bi, s = bi[keep], s[keep]
        ks.append(b[bi])
        ss.append(s)
        ds.append(X[cls[b[bi]], s].astype(np.int8) - X[cls[b[bi] - 1], s].astype(np.int8))
    return np.concatenate(ks), np.concatenate(ss), np.concatenate(ds)


def first_applying(
    build_days: np.ndarray, seg_start: np.ndarray, expires_after: int | None
) -> np.ndarray:
    """(S,) first version whose pins are still checked on each segment (pins are checked on
    days t < b + N). Needs build days in version order (:func:`builds_in_order`)."""
    if not expires_after:
        return np.zeros(len(seg_start), dtype=np.int64)
    return np.searchsorted(build_days, seg_start - expires_after, side="right")


def builds_in_order(build_days: np.ndarray) -> bool:
    return bool(np.all(np.diff(build_days) >= 0))
