"""Adoption curves, lag cohorts and users per version."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.cohorts import Cohorts, exact_counts
from simlib.fleet.releases import Release, regular_releases, sort_releases
from simlib.model import Adoption
from tests.conftest import make


def test_mixture_formula():
    a = Adoption(
        never_update_share=0.02,
        components=[{"weight": 0.47, "mean_lag_days": 3.3}, {"weight": 0.53, "mean_lag_days": 29}],
    )
    g = AdoptionCurve(a).share(np.array([-1, 0, 7, 30]))
    want = 0.98 * (
        0.47 * (1 - np.exp(-np.array([7, 30]) / 3.3)) + 0.53 * (1 - np.exp(-np.array([7, 30]) / 29))
    )
    np.testing.assert_allclose(g, [0, 0, *want], rtol=1e-12)
    # the central fit of adoption-costs-studies.md §1.7: 52 % on day 7, 80 % on day 30
    assert g[2] == pytest.approx(0.52, abs=0.01) and g[3] == pytest.approx(0.80, abs=0.01)


def test_empirical_curve_interpolates_from_origin():
    curve = AdoptionCurve(Adoption(points=[(1, 0.155), (7, 0.421), (31, 0.568)]))
    np.testing.assert_allclose(
        curve.share(np.array([0, 1, 4, 7, 31, 400])), [0, 0.155, 0.288, 0.421, 0.568, 0.568]
    )
    pmf = curve.lag_pmf(100)
    assert pmf.sum() == pytest.approx(1.0) and pmf[-1] == pytest.approx(1 - 0.568)


def test_releases():
    rel = regular_releases(40, 14, 3)
    assert [(r.build_day, r.release_day) for r in rel] == [(0, 0), (11, 14), (25, 28)]
    assert regular_releases(40, 14, 20)[1].build_day == 0  # never built before the start
    fix = Release("fix1", 27, 28, "fix")
    assert [r.label for r in sort_releases([*rel, fix])] == ["v0", "v1", "v2", "fix1"]


def test_expected_counts_equal_n_times_g():
    sc = make()
    coh = Cohorts.expected(sc.fleet, sc.days)
    r = np.arange(0, sc.days, 14)
    ge = coh.at_least(r)
    t = np.arange(sc.days)
    g = AdoptionCurve(sc.fleet.adoption).share(t[None, :] - r[1:, None])
    np.testing.assert_allclose(ge[1:], 1000 * g, rtol=1e-12)
    assert (ge[0] == 1000).all()


@settings(max_examples=40, deadline=None)
@given(
    never=st.floats(0, 0.5),
    w=st.floats(0, 1),
    tau1=st.floats(0.1, 50),
    tau2=st.floats(0.1, 400),
    every=st.integers(1, 40),
    users=st.integers(1, 10**9),
    seed=st.integers(0, 2**32 - 1),
)
def test_counts_are_consistent(never, w, tau1, tau2, every, users, seed):
    """Users per version are non-negative, sum to the fleet, and the share on ≥ k never drops
    below the share on ≥ k+1 — in expected mode and for a sampled fleet."""
    sc = make(
        {
            "fleet.users": users,
            "fleet.release_every_days": every,
            "fleet.adoption": {
                "never_update_share": never,
                "components": [
                    {"weight": w, "mean_lag_days": tau1},
                    {"weight": 1 - w, "mean_lag_days": tau2},
                ],
            },
        }
    )
    r = np.arange(0, sc.days, every)
    pmf = AdoptionCurve(sc.fleet.adoption).lag_pmf(sc.days)
    for coh in (
        Cohorts.expected(sc.fleet, sc.days),
        Cohorts.sample(pmf, users, 0.0, sc.days, np.random.default_rng(seed)),
    ):
        ge = coh.at_least(r)
        x = exact_counts(ge)
        assert (x >= -1e-6 * users).all()
        np.testing.assert_allclose(x.sum(axis=0), users, rtol=1e-9)
        assert (np.diff(ge, axis=0) <= 1e-6 * users).all()


def test_sampled_fleet_is_seeded():
    sc = make()
    pmf = AdoptionCurve(sc.fleet.adoption).lag_pmf(sc.days)
    a = Cohorts.sample(pmf, 1000, 5.0, sc.days, np.random.default_rng(1), 0.3)
    b = Cohorts.sample(pmf, 1000, 5.0, sc.days, np.random.default_rng(1), 0.3)
    assert (a.base == b.base).all() and (a.installs == b.installs).all() and a.base.sum() == 1000
    assert (a.base_complier <= a.base).all()
