"""Axis expansion: grid order, random and Latin hypercube draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.batch import load_sweep
from simlib.batch import points as pts

from . import small_base


def test_grid_is_cartesian_product_in_file_order() -> None:
    grid = {"a": [1, 2], "b": ["x", "y", "z"]}
    out = pts.grid_points(grid)
    assert len(out) == 6
    assert out[:4] == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
    ]
    assert list(out[0]) == ["a", "b"]


def test_combine_is_product_of_point_lists() -> None:
    first = [{"a": 1}, {"a": 2}]
    second = [{"b": 10}, {"b": 20}, {"b": 30}]
    out = pts.combine([first, second])
    assert len(out) == 6
    assert out[0] == {"a": 1, "b": 10} and out[-1] == {"a": 2, "b": 30}


def _dists() -> dict[str, pts.Dist]:
    return {
        "u": pts.parse_dist({"uniform": [2, 5]}),
        "l": pts.parse_dist({"loguniform": [0.001, 0.2]}),
        "c": pts.parse_dist({"choice": ["a", [1, 2], 3]}),
        "i": pts.parse_dist({"randint": [1, 4]}),
    }


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 300))
def test_random_points_deterministic_and_in_bounds(seed: int, n: int) -> None:
    dists = _dists()
    a = pts.random_points(n, dists, pts.axis_rng(seed, "random"))
    b = pts.random_points(n, dists, pts.axis_rng(seed, "random"))
    assert a == b
    assert len(a) == n
    for p in a:
        assert 2 <= p["u"] <= 5 and isinstance(p["u"], float)
        assert 0.001 <= p["l"] <= 0.2
        assert p["c"] in ("a", [1, 2], 3)
        assert p["i"] in (1, 2, 3, 4) and type(p["i"]) is int


def test_random_points_depend_on_seed_and_cover_randint_ends() -> None:
    dists = _dists()
    a = pts.random_points(400, dists, pts.axis_rng(1, "random"))
    b = pts.random_points(400, dists, pts.axis_rng(2, "random"))
    assert a != b
    assert {p["i"] for p in a} == {1, 2, 3, 4}  # inclusive on both ends


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 400), d=st.integers(1, 5))
def test_lhs_hits_every_stratum_once_per_dimension(seed: int, n: int, d: int) -> None:
    u = pts.lhs_unit(n, d, np.random.default_rng(seed))
    assert u.shape == (n, d)
    assert ((u >= 0) & (u < 1)).all()
    for j in range(d):
        strata = np.floor(u[:, j] * n).astype(int)
        assert sorted(strata.tolist()) == list(range(n))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    n=st.integers(1, 200),
    lo=st.floats(-1e3, 1e3),
    width=st.floats(1e-3, 1e3),
)
def test_lhs_points_stratified_in_parameter_space(
    seed: int, n: int, lo: float, width: float
) -> None:
    hi = lo + width
    params = {
        "x": pts.parse_dist({"uniform": [lo, hi]}),
        "y": pts.parse_dist({"loguniform": [0.01, 100]}),
    }
    a = pts.latin_hypercube_points(n, params, pts.axis_rng(seed, "latin_hypercube"))
    assert a == pts.latin_hypercube_points(n, params, pts.axis_rng(seed, "latin_hypercube"))
    xs = np.array([p["x"] for p in a])
    ys = np.array([p["y"] for p in a])
    assert ((xs >= lo) & (xs <= hi)).all() and ((ys >= 0.01) & (ys <= 100)).all()
    # Back to the unit interval: every stratum is hit exactly once per parameter.
    for unit in (
        (xs - lo) / (hi - lo),
        (np.log(ys) - math.log(0.01)) / (math.log(100) - math.log(0.01)),
    ):
        strata = np.clip(np.floor(unit * n), 0, n - 1).astype(int)
        assert sorted(strata.tolist()) == list(range(n))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"normal": [0, 1]}, "unknown distribution 'normal'"),
        ({"uniform": [3, 1]}, "uniform: low must be < high"),
        ({"uniform": [1]}, "uniform: must be [low, high]"),
        ({"loguniform": [0, 1]}, "loguniform: low must be > 0"),
        ({"randint": [1.5, 3]}, "randint: low and high must be integers"),
        ({"choice": []}, "choice: needs at least one value"),
        ({"uniform": [0, 1], "choice": [1]}, "must be one of"),
        ([0, 1], "must be one of"),
        ({"randint": [0, 2**63]}, "randint: low and high must be 64-bit integers"),
        ({"randint": [-(2**63) - 1, 0]}, "randint: low and high must be 64-bit integers"),
        ({"randint": [0, 10**30]}, "64-bit integers"),
        ({"uniform": [-1e308, 1e308]}, "uniform: high − low must be a finite number"),
        ({"uniform": [0, 10**400]}, "uniform: low and high must be finite numbers"),
        ({"loguniform": [1, float("inf")]}, "loguniform: low must be < high"),
        ({"randint": [True, 3]}, "randint: low and high must be integers"),
        ({"choice": None}, "choice: must be a list"),
    ],
)
def test_bad_distributions(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        pts.parse_dist(spec)


@pytest.mark.parametrize(
    ("lo", "hi"), [(0, 5), (-(2**63), 2**63 - 1), (2**63 - 1, 2**63 - 1), (-3, 10**12)]
)
def test_randint_reaches_the_int64_ends(lo: int, hi: int) -> None:
    """``endpoint=True`` draws what ``integers(lo, hi + 1)`` drew, without overflowing at 2**63 − 1."""
    dist = pts.parse_dist({"randint": [lo, hi]})
    col = dist.sample_array(np.random.default_rng(8), 500)
    assert col.dtype == np.int64 and lo <= col.min() and col.max() <= hi
    if hi < 2**63 - 1:
        assert (col == np.random.default_rng(8).integers(lo, hi + 1, size=500)).all()


def test_param_types() -> None:
    assert pts.param_type([1, 2]) == "int"
    assert pts.param_type([1, 2.5]) == "float"
    assert pts.param_type([True, False]) == "bool"
    assert pts.param_type(["a", None]) == "str"
    assert pts.param_type([[1], [2]]) == "json"
    assert pts.param_type([1, "a"]) == "json"


def test_sweep_points_follow_seed_and_axis_order() -> None:
    def plan(seed: int):
        return load_sweep(
            {
                "name": "s",
                "base": small_base(),
                "seed": seed,
                "axes": {
                    "grid": {"hosts[0].validity_days": [47, 90]},
                    "latin_hypercube": {
                        "n": 5,
                        "params": {"fleet.adoption.never_update_share": {"uniform": [0.0, 0.1]}},
                    },
                },
            }
        )

    a, b, c = plan(1), plan(1), plan(2)
    assert a.points == b.points and a.points != c.points
    assert a.n_points == 10
    # grid first in the file: it varies slowest
    assert [p["hosts[0].validity_days"] for p in a.points] == [47] * 5 + [90] * 5
    shares = [p["fleet.adoption.never_update_share"] for p in a.points[:5]]
    assert sorted(math.floor(s / 0.1 * 5) for s in shares) == [0, 1, 2, 3, 4]
    assert [a.axes[0].type, a.axes[1].type] == ["int", "float"]


# ----------------------------------------------------------------------------- lazy point lists


def _naive_points(
    seed: int, grid: dict, rnd: dict, lhs: dict, n_rnd: int, n_lhs: int
) -> list[dict]:
    """The points as the list-based implementation drew them (product of materialised lists)."""
    import itertools

    rng = pts.axis_rng(seed, "random")
    columns = {}
    for path, dist in rnd.items():  # one parameter after the other, n draws each
        if dist.kind == "choice":
            columns[path] = [dist.args[int(k)] for k in rng.integers(len(dist.args), size=n_rnd)]
        elif dist.kind == "randint":
            columns[path] = [
                int(v) for v in rng.integers(dist.args[0], dist.args[1] + 1, size=n_rnd)
            ]
        else:
            lo, hi = dist.args
            u = rng.random(n_rnd)
            x = (
                lo + u * (hi - lo)
                if dist.kind == "uniform"
                else np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
            )
            columns[path] = [float(v) for v in np.clip(x, lo, hi)]
    random_list = [{p: columns[p][k] for p in rnd} for k in range(n_rnd)]
    rng = pts.axis_rng(seed, "latin_hypercube")
    unit = np.empty((n_lhs, len(lhs)))
    for j in range(len(lhs)):
        strata = rng.permutation(n_lhs)
        value = (strata + rng.random(n_lhs)) / n_lhs
        unit[:, j] = np.clip(value, strata / n_lhs, np.nextafter((strata + 1) / n_lhs, 0))
    lhs_list = [
        {p: d.ppf(unit[k : k + 1, j])[0] for j, (p, d) in enumerate(lhs.items())}
        for k in range(n_lhs)
    ]
    grid_list = [dict(zip(grid, c, strict=True)) for c in itertools.product(*grid.values())]
    return [{**a, **b, **c} for a, b, c in itertools.product(grid_list, random_list, lhs_list)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), n_rnd=st.integers(1, 7), n_lhs=st.integers(1, 6))
def test_lazy_points_equal_the_materialised_lists(seed: int, n_rnd: int, n_lhs: int) -> None:
    grid = {"g1": [1, 2, 3], "g2": ["a", "b"]}
    rnd = _dists()
    lhs = {
        "x": pts.parse_dist({"uniform": [-3, 7]}),
        "y": pts.parse_dist({"loguniform": [0.01, 100]}),
    }
    lazy = pts.PointList(
        [
            pts.GridBlock(grid),
            pts.random_block(n_rnd, rnd, pts.axis_rng(seed, "random")),
            pts.latin_hypercube_block(n_lhs, lhs, pts.axis_rng(seed, "latin_hypercube")),
        ]
    )
    naive = _naive_points(seed, grid, rnd, lhs, n_rnd, n_lhs)
    assert len(lazy) == len(naive) == 6 * n_rnd * n_lhs
    assert list(lazy) == naive
    assert lazy[-1] == naive[-1] and lazy[2:5] == naive[2:5]
    for got, want in zip(lazy, naive, strict=True):  # same types, not just equal values
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


def test_a_plan_of_ten_million_points_is_small_and_quick() -> None:
    import time
    import tracemalloc

    axes = {
        "grid": {
            "fleet.users": list(range(1_000, 101_000, 1_000)),
            "fleet.adoption.never_update_share": [k / 1000 for k in range(100)],
            "fleet.adoption.components[0].mean_lag_days": [1 + k / 10 for k in range(100)],
            "fleet.adoption.components[1].mean_lag_days": [10 + k for k in range(10)],
        }
    }
    tracemalloc.start()
    t0 = time.perf_counter()
    plan = load_sweep({"name": "big", "base": small_base(), "axes": axes})
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert plan.n_runs == 10**7
    assert elapsed < 10 and peak < 50 * 2**20, (elapsed, peak)
    assert plan.points[10**7 - 1] == {
        "fleet.users": 100_000,
        "fleet.adoption.never_update_share": 0.099,
        "fleet.adoption.components[0].mean_lag_days": 1 + 99 / 10,
        "fleet.adoption.components[1].mean_lag_days": 19,
    }
    assert plan.points[1234]["fleet.adoption.components[0].mean_lag_days"] == 1 + 23 / 10
