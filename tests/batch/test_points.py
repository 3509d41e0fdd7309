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
def test_lhs_points_stratified_in_parameter_space(seed: int, n: int, lo: float, width: float) -> None:
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
    for unit in ((xs - lo) / (hi - lo), (np.log(ys) - math.log(0.01)) / (math.log(100) - math.log(0.01))):
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
    ],
)
def test_bad_distributions(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        pts.parse_dist(spec)


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
