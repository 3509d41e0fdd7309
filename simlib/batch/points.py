"""Axis expansion: turn a sweep's ``axes`` block into an ordered list of parameter points.

A *point* is a mapping ``{dotted scenario path: value}``. Three axis kinds exist:

* ``grid`` — the cartesian product of explicit value lists, in file order (the first path varies
  slowest, the last fastest, like nested loops);
* ``random`` — ``n`` independent draws per parameter from ``uniform``, ``loguniform``,
  ``choice`` or ``randint`` distributions;
* ``latin_hypercube`` — ``n`` points whose every parameter hits each of ``n`` equal-probability
  strata exactly once (continuous ``uniform`` / ``loguniform`` only), implemented here with numpy
  so that scipy is not a dependency.

Several axis kinds in one sweep combine as the cartesian product of their point lists. Random
draws come from streams derived from the sweep's root seed (never from global state), so the same
file always expands to the same points.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: First spawn-key word of the streams that draw axis values. Run streams use spawn keys
#: ``(point,)`` and ``(point, replication, ...)``; no sweep has 2**32 - 1 points, so the axis
#: streams can never coincide with a run's stream.
AXIS_STREAM_KEY = 2**32 - 1
AXIS_KINDS = ("grid", "random", "latin_hypercube")
DISTRIBUTIONS = ("uniform", "loguniform", "choice", "randint")
CONTINUOUS = ("uniform", "loguniform")
#: ``randint`` draws and stores int64 (numpy columns, Parquet).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Dist:
    """A validated one-parameter distribution.

    ``uniform``/``loguniform``: ``args = (lo, hi)`` with ``lo < hi`` (``0 < lo`` for loguniform);
    ``randint``: ``(lo, hi)`` integers, both ends inclusive; ``choice``: the candidate values.
    """

    kind: str
    args: tuple[Any, ...]

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        """``n`` independent draws, as plain Python values (JSON- and pydantic-friendly)."""
        col = self.sample_array(rng, n)
        return [_decode(self, v) for v in col]

    def sample_array(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws as one numpy column: values, or indices into ``args`` for ``choice``."""
        if self.kind == "choice":
            return rng.integers(len(self.args), size=n)
        if self.kind == "randint":
            lo, hi = self.args
            # endpoint=True draws the same numbers as (lo, hi + 1) without overflowing at 2**63 - 1
            return rng.integers(lo, hi, size=n, endpoint=True)
        return self.ppf_array(rng.random(n))

    def ppf(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval values to this distribution (inverse CDF; continuous kinds only)."""
        return [float(v) for v in self.ppf_array(np.array(u, dtype=float))]

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        """:meth:`ppf` in place on a float64 array (same bits: ``lo + u·(hi − lo)``, clipped)."""
        lo, hi = (float(a) for a in self.args)
        if self.kind == "uniform":
            u *= hi - lo
            u += lo
        elif self.kind == "loguniform":
            u *= math.log(hi) - math.log(lo)
            u += math.log(lo)
            np.exp(u, out=u)
        else:  # pragma: no cover - guarded by validation
            raise ValueError(f"{self.kind} has no inverse CDF")
        return np.clip(u, lo, hi, out=u)


def parse_dist(spec: Any) -> Dist:
    """Validate ``{uniform: [lo, hi]}`` and friends; raise ``ValueError`` with a short message."""
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ValueError(f"must be one of {{{', '.join(f'{d}: ...' for d in DISTRIBUTIONS)}}}")
    ((kind, args),) = spec.items()
    if kind not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution '{kind}' (expected {', '.join(DISTRIBUTIONS)})")
    if not isinstance(args, Sequence) or isinstance(args, str):
        raise ValueError(f"{kind}: must be a list")
    args = list(args)
    if kind == "choice":
        if not args:
            raise ValueError("choice: needs at least one value")
        return Dist(kind, tuple(args))
    if len(args) != 2:
        raise ValueError(f"{kind}: must be [low, high]")
    if kind == "randint":
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise ValueError("randint: low and high must be integers")
        if not all(INT64_MIN <= a <= INT64_MAX for a in args):
            raise ValueError(
                f"randint: low and high must be 64-bit integers ({INT64_MIN}..{INT64_MAX})"
            )
        if args[0] > args[1]:
            raise ValueError("randint: low must be ≤ high")
        return Dist(kind, (int(args[0]), int(args[1])))
    if not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise ValueError(f"{kind}: low and high must be numbers")
    try:
        lo, hi = float(args[0]), float(args[1])
    except OverflowError:  # an integer beyond any float
        raise ValueError(f"{kind}: low and high must be finite numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise ValueError(f"{kind}: low must be < high")
    if not math.isfinite(hi - lo):  # u · (hi − lo) would be inf
        raise ValueError(f"{kind}: high − low must be a finite number")
    if kind == "loguniform" and lo <= 0:
        raise ValueError("loguniform: low must be > 0")
    return Dist(kind, (lo, hi))


def axis_rng(seed: int, kind: str) -> np.random.Generator:
    """The generator that draws one axis kind's values for a sweep seeded ``seed``."""
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(AXIS_STREAM_KEY, AXIS_KINDS.index(kind)))
    )


class GridBlock:
    """A grid axis: the cartesian product of value lists, addressed by mixed-radix index.

    Point *k* is found by arithmetic (the last path varies fastest), so a grid of 10^7 points
    holds nothing but its value lists.
    """

    def __init__(self, grid: Mapping[str, Sequence[Any]]) -> None:
        self.paths = tuple(grid)
        self.lists = tuple(list(v) for v in grid.values())
        self.size = math.prod(len(v) for v in self.lists)

    def __len__(self) -> int:
        return self.size

    def values(self, k: int) -> tuple[Any, ...]:
        """The values of point *k* (``0 ≤ k < len(self)``), in path order."""
        out = []
        for lst in reversed(self.lists):
            k, j = divmod(k, len(lst))
            out.append(lst[j])
        return tuple(reversed(out))

    def column_type(self, j: int) -> str:
        return param_type(self.lists[j])

    def stride(self, j: int) -> int:
        """Index step between consecutive values of path *j* (the others held fixed)."""
        return math.prod(len(v) for v in self.lists[j + 1 :])


class ColumnBlock:
    """Random or Latin-hypercube points: one numpy column per parameter (8 bytes per point).

    Continuous parameters are stored as their float64 values, ``randint`` as int64 and ``choice``
    as the int64 index of the chosen value, so point *k* is a lookup.
    """

    def __init__(self, params: Mapping[str, Dist], columns: Sequence[np.ndarray]) -> None:
        self.paths = tuple(params)
        self.dists = tuple(params.values())
        self.columns = tuple(columns)
        self.size = len(self.columns[0])

    def __len__(self) -> int:
        return self.size

    def values(self, k: int) -> tuple[Any, ...]:
        return tuple(_decode(d, c[k]) for d, c in zip(self.dists, self.columns, strict=True))

    def column_type(self, j: int) -> str:
        dist, col = self.dists[j], self.columns[j]
        if dist.kind == "choice":  # the type of the values actually drawn
            return param_type([dist.args[int(i)] for i in np.unique(col)])
        return "int" if dist.kind == "randint" else "float"

    def extremes(self) -> list[int]:
        """Indices of each column's smallest and largest value (the points most likely invalid)."""
        out: list[int] = []
        for col in self.columns:
            out += [int(np.argmin(col)), int(np.argmax(col))]
        return out


def _decode(dist: Dist, v: Any) -> Any:
    if dist.kind == "choice":
        return dist.args[int(v)]
    return int(v) if dist.kind == "randint" else float(v)


Block = GridBlock | ColumnBlock


def random_block(n: int, params: Mapping[str, Dist], rng: np.random.Generator) -> ColumnBlock:
    """``n`` independent draws per parameter, drawn one parameter after the other in file order."""
    return ColumnBlock(params, [dist.sample_array(rng, n) for dist in params.values()])


def latin_hypercube_block(
    n: int, params: Mapping[str, Dist], rng: np.random.Generator
) -> ColumnBlock:
    """``n`` points stratified in every (continuous) parameter, one column at a time."""
    return ColumnBlock(params, [dist.ppf_array(_lhs_column(n, rng)) for dist in params.values()])


class PointList(Sequence[dict[str, Any]]):
    """The points of a sweep: the cartesian product of its axis blocks, computed on demand.

    ``points[i]`` is ``{path: value}`` for point *i* (the first block varies slowest). Nothing
    per point is stored, so 10^7 points cost what their random columns cost (if any).
    """

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = tuple(blocks)
        self.paths = tuple(p for b in self.blocks for p in b.paths)
        self.size = math.prod(len(b) for b in self.blocks)

    def __len__(self) -> int:
        return self.size

    def values(self, i: int) -> tuple[Any, ...]:
        """Point *i*'s values in path order."""
        if not 0 <= i < self.size:
            raise IndexError(f"point {i} out of range")
        parts = []
        for b in reversed(self.blocks):
            i, k = divmod(i, len(b))
            parts.append(b.values(k))
        return tuple(v for part in reversed(parts) for v in part)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.size))]
        i = int(i)
        if i < 0:
            i += self.size
        return dict(zip(self.paths, self.values(i), strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(self.size):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def column_type(self, path: str) -> str:
        """Parquet column type of one axis (see :func:`param_type`)."""
        for b in self.blocks:
            if path in b.paths:
                return b.column_type(b.paths.index(path))
        raise KeyError(path)

    def probe_indices(self) -> list[int]:
        """Points that together use every grid value and each random column's extremes.

        Each is point 0 with one block coordinate changed: a grid path stepped through its
        values, or a random/LHS block moved to the point holding a column's minimum or maximum.
        """
        out: list[int] = []
        stride = self.size
        for b in self.blocks:
            stride //= len(b)
            if isinstance(b, GridBlock):
                for j, lst in enumerate(b.lists):
                    out += [v * b.stride(j) * stride for v in range(len(lst))]
            else:
                out += [k * stride for k in b.extremes()]
        return list(dict.fromkeys(out))


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Cartesian product in file order: the last path varies fastest."""
    return list(PointList([GridBlock(grid)]))


def random_points(
    n: int, params: Mapping[str, Dist], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """``n`` points; parameters are drawn one after the other in file order."""
    return list(PointList([random_block(n, params, rng)]))


def _lhs_column(n: int, rng: np.random.Generator, chunk: int = 1 << 20) -> np.ndarray:
    """One Latin-hypercube dimension on [0, 1): a random permutation of the strata, jittered.

    Consumes ``rng`` exactly as ``(rng.permutation(n) + rng.random(n)) / n`` and computes the
    same bits, in place and in chunks (peak memory ~3 × 8 bytes per point, not ~8).
    """
    strata = rng.permutation(n)
    value = rng.random(n)
    value += strata
    value /= n
    # (k + u) / n can round to (k + 1) / n for u close to 1; keep each value in its stratum.
    for s in range(0, n, chunk):
        k = strata[s : s + chunk]
        np.clip(value[s : s + chunk], k / n, np.nextafter((k + 1) / n, 0), out=value[s : s + chunk])
    return value


def lhs_unit(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """An ``(n, d)`` Latin hypercube on [0, 1): column j puts one value in each [k/n, (k+1)/n).

    Each dimension is an independent random permutation of the strata, jittered uniformly inside
    its stratum (McKay, Beckman & Conover 1979).
    """
    out = np.empty((n, d))
    for j in range(d):
        out[:, j] = _lhs_column(n, rng)
    return out


def latin_hypercube_points(
    n: int, params: Mapping[str, Dist], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """``n`` points, stratified in every (continuous) parameter."""
    return list(PointList([latin_hypercube_block(n, params, rng)]))


def combine(point_lists: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Cartesian product of several point lists (the first list varies slowest)."""
    out: list[dict[str, Any]] = []
    for combo in itertools.product(*point_lists):
        merged: dict[str, Any] = {}
        for part in combo:
            merged.update(part)
        out.append(merged)
    return out


def count_points(sizes: Sequence[int]) -> int:
    """Number of points of the product of axis kinds with ``sizes`` points each."""
    return math.prod(sizes)


def param_type(values: Sequence[Any]) -> str:
    """Column type of one axis in result files: ``bool``, ``int``, ``float``, ``str`` or ``json``.

    ``None`` values are ignored for inference (they become nulls); lists, mappings and mixed types
    are stored as JSON strings so every column stays a flat, typed Parquet column.
    """
    vals = [v for v in values if v is not None]
    if not vals:
        return "json"
    if all(isinstance(v, bool) for v in vals):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return "int"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "float"
    if all(isinstance(v, str) for v in vals):
        return "str"
    return "json"
