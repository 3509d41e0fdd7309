"""Shares are exactly in [0, 1], exact zeros stay zero, and the peak lands on its first day."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from simlib.api import simulate
from simlib.model import load_scenario
from tests.conftest import DATA, make

EXAMPLES = sorted((DATA / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module", params=[p.name for p in EXAMPLES])
def result(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate(load_scenario(DATA / "scenarios" / request.param))


def test_every_share_is_in_the_unit_interval(result):
    ts = result.timeseries
    shares = [
        c for c in ts.columns if c.endswith("_rate") or c.startswith(("protected_", "exposed_"))
    ]
    values = ts[shares].to_numpy()
    assert np.nanmin(values) >= 0.0 and np.nanmax(values) <= 1.0
    assert (ts["locked_users"] <= ts["active_users"]).all()
    protected = ts[[c for c in ts.columns if c.startswith("protected_")]].to_numpy()
    # locked, protected and exposed are computed apart: their sum is 1 up to one rounding
    assert (protected + ts["lockout_rate"].to_numpy()[:, None] <= 1.0 + 1e-15).all()


def test_no_pinning_is_exactly_zero_and_summary_has_no_rounding_dust(result):
    ts = result.timeseries
    summary = result.summary.set_index("strategy")
    static = [st.name for st in result.scenario.strategies if st.dynamic is None]
    for name in static:  # dynamic lists lock with genuinely tiny probabilities
        rate = ts.loc[ts.strategy == name, "lockout_rate"].to_numpy()
        # a share is 0 exactly or clearly above rounding
        assert np.all((rate == 0.0) | (rate > 1e-12)), name
        if (rate == 0).all():
            assert summary.loc[name, "mean_lockout_rate"] == 0.0
            assert summary.loc[name, "locked_user_days"] == 0.0


def test_full_lockout_is_exactly_one_and_peak_is_its_first_day():
    """Every version built before the renewal on day 60 is locked: the rate is exactly 1 on the
    renewal day (nobody runs a later build yet), and the peak date is that first day."""
    sc = make(strategies=[{"name": "leaf", "pin": "leaf_spki"}])
    res = simulate(sc)
    rate = res.timeseries["lockout_rate"].to_numpy()
    assert rate[60] == 1.0
    assert rate.max() == 1.0
    peak = res.summary.iloc[0]["peak_date"]
    assert peak == sc.date(int(np.argmax(rate))) == sc.date(60)
