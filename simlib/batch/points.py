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
from collections.abc import Mapping, Sequence
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
        if self.kind == "choice":
            idx = rng.integers(len(self.args), size=n)
            return [self.args[int(k)] for k in idx]
        if self.kind == "randint":
            lo, hi = self.args
            return [int(v) for v in rng.integers(lo, hi + 1, size=n)]
        return self.ppf(rng.random(n))

    def ppf(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval values to this distribution (inverse CDF; continuous kinds only)."""
        lo, hi = (float(a) for a in self.args)
        if self.kind == "uniform":
            x = lo + u * (hi - lo)
        elif self.kind == "loguniform":
            x = np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:  # pragma: no cover - guarded by validation
            raise ValueError(f"{self.kind} has no inverse CDF")
        return [float(v) for v in np.clip(x, lo, hi)]


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
        if args[0] > args[1]:
            raise ValueError("randint: low must be ≤ high")
        return Dist(kind, (int(args[0]), int(args[1])))
    if not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise ValueError(f"{kind}: low and high must be numbers")
    lo, hi = float(args[0]), float(args[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise ValueError(f"{kind}: low must be < high")
    if kind == "loguniform" and lo <= 0:
        raise ValueError("loguniform: low must be > 0")
    return Dist(kind, (lo, hi))


def axis_rng(seed: int, kind: str) -> np.random.Generator:
    """The generator that draws one axis kind's values for a sweep seeded ``seed``."""
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(AXIS_STREAM_KEY, AXIS_KINDS.index(kind)))
    )


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Cartesian product in file order: the last path varies fastest."""
    paths = list(grid)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*grid.values())]


def random_points(n: int, params: Mapping[str, Dist], rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n`` points; parameters are drawn one after the other in file order."""
    columns = {path: dist.sample(rng, n) for path, dist in params.items()}
    return [{path: columns[path][k] for path in params} for k in range(n)]


def lhs_unit(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """An ``(n, d)`` Latin hypercube on [0, 1): column j puts one value in each [k/n, (k+1)/n).

    Each dimension is an independent random permutation of the strata, jittered uniformly inside
    its stratum (McKay, Beckman & Conover 1979).
    """
    out = np.empty((n, d))
    for j in range(d):
        strata = rng.permutation(n)
        value = (strata + rng.random(n)) / n
        # (k + u) / n can round to (k + 1) / n for u close to 1; keep each value in its stratum.
        out[:, j] = np.clip(value, strata / n, np.nextafter((strata + 1) / n, 0))
    return out


def latin_hypercube_points(
    n: int, params: Mapping[str, Dist], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """``n`` points, stratified in every (continuous) parameter."""
    unit = lhs_unit(n, len(params), rng)
    columns = {path: dist.ppf(unit[:, j]) for j, (path, dist) in enumerate(params.items())}
    return [{path: columns[path][k] for path in params} for k in range(n)]


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
