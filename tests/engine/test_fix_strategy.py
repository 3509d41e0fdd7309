"""Incident response that learns (``fix_strategy``) and incurable lockouts, against closed forms.

BASE: validity 90, renew 30 days before expiry, a new key at every renewal → the leaf key changes
on days 60, 120, 180, … Releases every 14 days (lead 3): version 4 (r=56, b=53) is the newest on
day 60 and pins the old key.
"""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.errors import ScenarioError
from tests.conftest import G, make

T = 365
IR = {"threshold": 0.001, "detect_days": 2, "review_days": 3}
LEAF = {"name": "leaf", "pin": "leaf_spki"}
ROOT = {"name": "root", "pin": "root_spki"}


def rate(res, name):
    ts = res.timeseries
    return ts[ts.strategy == name]["lockout_rate"].to_numpy()


def summary(res, name):
    return res.summary.set_index("strategy").loc[name]


def test_without_learning_every_rotation_needs_a_fix():
    res = simulate(make({"incident_response": IR}, strategies=[LEAF]))
    assert summary(res, "leaf")["fix_releases"] == 5  # rotations on days 60, 120, …, 300
    assert summary(res, "leaf")["incurable_lockout_days"] == 0


@pytest.mark.parametrize("fix", ["root", {"name": "learned", "pin": "root_spki"}])
def test_fix_switches_to_root_pins_and_one_fix_is_enough(fix):
    """Detected on day 60, fix built on 62 with root pins, released on 65. Every later build
    pins the root too, so only versions 0–4 (the old leaf key) are ever locked:
    rate = 1 − G(t − 65) from day 60, and no further fix."""
    sc = make({"incident_response": {**IR, "fix_strategy": fix}}, strategies=[LEAF, ROOT])
    res = simulate(sc)
    run = res.runs["leaf"]
    assert [(f.build_day, f.release_day) for f in run.fixes] == [(62, 65)]
    t = np.arange(T)
    np.testing.assert_allclose(
        rate(res, "leaf"), np.where(t < 60, 0.0, 1.0 - G(sc, t - 65)), atol=1e-12
    )
    cal = res.simulation.calendar
    root_key = cal.cas["ca1"].root_key
    strategy = run.tables.strategy
    assert strategy.pins(cal, "api.test", 62).ca == {root_key}
    assert strategy.pins(cal, "api.test", 61).leaf == {cal.serving("api.test", 61).leaf_key}
    assert summary(res, "root")["fix_releases"] == 0  # the root strategy itself never breaks


TRUST_CHANGE = [{"type": "trust_store_change", "date": "2025-03-01", "add": ["ca1/I1"]}]  # day 59


def test_trust_store_change_under_a_root_pin_is_incurable():
    """From day 59 path building stops at I1 and the root is not in any built chain: every
    version, a fresh build included, is locked. No fix is shipped; every day is incurable."""
    res = simulate(make({"incident_response": IR}, strategies=[ROOT], events=TRUST_CHANGE))
    t = np.arange(T)
    np.testing.assert_array_equal(rate(res, "root"), np.where(t < 59, 0.0, 1.0))
    assert summary(res, "root")["fix_releases"] == 0
    assert summary(res, "root")["incurable_lockout_days"] == T - 59


def test_incurable_for_the_strategy_but_curable_by_the_fix_strategy():
    """With fix_strategy all intermediates the lockout is curable: detected on 59, fix built on
    61, released on 64 → rate = 1 − G(t − 64) from day 59."""
    fix = {"name": "ints", "pin": "intermediate_spki", "intermediates": "all"}
    sc = make(
        {"incident_response": {**IR, "fix_strategy": fix}}, strategies=[ROOT], events=TRUST_CHANGE
    )
    res = simulate(sc)
    t = np.arange(T)
    np.testing.assert_allclose(
        rate(res, "root"), np.where(t < 59, 0.0, 1.0 - G(sc, t - 64)), atol=1e-12
    )
    assert summary(res, "root")["fix_releases"] == 1
    assert summary(res, "root")["incurable_lockout_days"] == 0


def test_partly_reached_trust_change_is_incurable_for_the_reached_devices():
    """60 % of devices get the change: those are locked on every version, the others never."""
    events = [{**TRUST_CHANGE[0], "share": 0.6}]
    res = simulate(make({"incident_response": IR}, strategies=[ROOT], events=events))
    t = np.arange(T)
    np.testing.assert_allclose(rate(res, "root"), np.where(t < 59, 0.0, 0.6), atol=1e-12)
    assert summary(res, "root")["fix_releases"] == 0
    assert summary(res, "root")["incurable_lockout_days"] == T - 59


def test_no_incurable_column_without_incident_response():
    res = simulate(make(strategies=[ROOT], events=TRUST_CHANGE))
    assert "incurable_lockout_days" not in res.summary


@pytest.mark.parametrize(
    ("fix", "message"),
    [
        ("nope", "unknown strategy 'nope'"),
        ({"name": "d", "pin": "leaf_spki", "dynamic": {}}, "static"),
        ({"name": "c", "pin": "root_spki", "backup": ["ca:zz"]}, "unknown CA 'zz'"),
    ],
)
def test_fix_strategy_is_checked(fix, message):
    with pytest.raises(ScenarioError, match=r"incident_response\.fix_strategy") as err:
        make({"incident_response": {**IR, "fix_strategy": fix}}, strategies=[LEAF])
    assert message in str(err.value)
