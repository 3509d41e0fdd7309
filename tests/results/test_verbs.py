"""The result's verbs (breaks, incurability, expected cost, chains and pins) against closed forms,
and the rule that the report asks the result instead of reading engine internals.

BASE (tests/conftest.py): one host, validity 90, renewed 30 days before expiry with a new key
at every renewal → the leaf key changes on days 60, 120, …; releases every 14 days (lead 3).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import simlib
from simlib.analysis.risk_calendar import calendar
from tests.conftest import make

T = 365
ROOT = {"name": "root", "pin": "root_spki"}
LEAF = {"name": "leaf", "pin": "leaf_spki"}
TRUST_CHANGE = {"type": "trust_store_change", "date": "2025-03-01", "add": ["ca1/I1"]}  # day 59
REPORT = Path(__file__).resolve().parents[2] / "simlib" / "report"


def _strategy(res, name: str):
    ts = res.timeseries
    return ts[ts.strategy == name].reset_index(drop=True)


# ----------------------------------------------------------------------------- incurable
def test_trust_change_under_a_root_pin_is_incurable_from_its_day_without_incident_response():
    """From day 59 every build, a fresh one included, is locked: every locked user is incurable."""
    res = simlib.simulate(make(strategies=[ROOT, LEAF], events=[TRUST_CHANGE]))
    g = _strategy(res, "root")
    t = np.arange(T)
    np.testing.assert_array_equal(res.incurable("root"), t >= 59)
    np.testing.assert_allclose(res.incurable_users("root"), np.where(t >= 59, g.active_users, 0.0))
    assert res.incurable_user_days()["root"] == pytest.approx(g.active_users[59:].sum())
    # a leaf-key pin is untouched by the trust change, and a fresh build pins the new key:
    # its rotation lockouts are all curable
    assert _strategy(res, "leaf").locked_users.sum() > 0
    assert not res.incurable("leaf").any() and res.incurable_user_days()["leaf"] == 0


def test_partly_reached_trust_change_counts_only_the_reached_devices():
    res = simlib.simulate(make(strategies=[ROOT], events=[{**TRUST_CHANGE, "share": 0.6}]))
    g = _strategy(res, "root")
    t = np.arange(T)
    np.testing.assert_allclose(
        res.incurable_users("root"), np.where(t >= 59, 0.6 * g.active_users, 0.0), atol=1e-9
    )


def test_incurable_users_are_per_client_kind_and_incurable_days_need_all_of_them():
    """Leaf + backup CA on iOS: ATS needs its leaf list *and* its CA list to match and ca2's root
    is never served, so every iOS build is locked every day (incurable); Android users are locked
    only on old versions after a rotation (curable). A day is incurable only while no Android
    user is locked."""
    strategies = [{"name": "lb", "pin": "leaf_spki", "backup": ["ca:ca2"]}]
    res = simlib.simulate(
        make({"fleet.platforms": {"android": 0.5, "ios": 0.5}}, strategies=strategies)
    )
    g = _strategy(res, "lb")
    np.testing.assert_allclose(g.locked_users_ios, 0.5 * g.active_users)
    np.testing.assert_allclose(res.incurable_users("lb"), g.locked_users_ios)
    android = g.locked_users_android.to_numpy()
    assert (android > 0).any() and (android == 0).any()
    np.testing.assert_array_equal(res.incurable("lb"), android == 0)
    assert res.incurable_user_days()["lb"] == pytest.approx(g.locked_users_ios.sum())


def test_the_summary_counts_the_same_incurable_days():
    ir = {"threshold": 0.001, "detect_days": 2, "review_days": 3}
    res = simlib.simulate(make({"incident_response": ir}, strategies=[ROOT], events=[TRUST_CHANGE]))
    summary = res.summary.set_index("strategy")
    assert (
        summary.loc["root", "incurable_lockout_days"] == int(res.incurable("root").sum()) == T - 59
    )


# ----------------------------------------------------------------------------- breaks
@pytest.mark.parametrize("threshold", [0.0, 0.05])
def test_breaks_are_newly_locked_above_the_outage_threshold(threshold):
    res = simlib.simulate(make({"metrics.outage_threshold": threshold}, strategies=[LEAF]))
    g = _strategy(res, "leaf")
    expected = (g.newly_locked_users / g.active_users).to_numpy() > threshold
    np.testing.assert_array_equal(res.breaks("leaf"), expected)
    assert res.summary.set_index("strategy").loc["leaf", "lockout_events"] == expected.sum() > 0


def test_risk_calendar_breaks_on_the_break_days_of_the_result():
    """An event breaks a strategy when one of its break days falls within the 7-day window."""
    res = simlib.simulate(make(strategies=[LEAF, {"name": "none", "pin": "none"}]))
    cal = calendar(res.scenario, today=res.scenario.start, result=res)
    sc = res.scenario
    for row in cal.itertuples():
        i = (row.date - sc.start).days
        assert row.breaks == bool(res.breaks(row.strategy)[i : i + 7].any())
    assert cal[cal.strategy == "leaf"].breaks.any() and not cal[cal.strategy == "none"].breaks.any()


# ----------------------------------------------------------------------------- costs
def test_expected_costs_by_hand_and_as_the_summary():
    """No pinning never locks and is exposed to a rogue CA every day: loss = p × loss × 365."""
    eco = {
        "cost_per_locked_user_day": 0.5,
        "attack_probability_per_day": {"rogue_ca": 0.01},
        "loss_per_successful_attack": {"rogue_ca": 5.0},
    }
    strategies = [{"name": "none", "pin": "none"}, LEAF]
    res = simlib.simulate(make(strategies=strategies, attacks=["rogue_ca"], economics=eco))
    costs = res.expected_costs(0.5, {"rogue_ca": 0.01}, {"rogue_ca": 5.0}).set_index("strategy")
    assert costs.loc["none", "outage_cost"] == 0
    assert costs.loc["none", "attack_loss"] == pytest.approx(0.01 * 5.0 * T)
    leaf = _strategy(res, "leaf")
    assert costs.loc["leaf", "outage_cost"] == pytest.approx(0.5 * leaf.locked_users.sum())
    assert costs.loc["leaf", "attack_loss"] == pytest.approx(0.05 * leaf.exposed_rogue_ca.sum())
    summary = res.summary.set_index("strategy")
    for name in ("none", "leaf"):
        assert costs.loc[name, "expected_cost"] == pytest.approx(
            summary.loc[name, "expected_total_cost"]
        )


# ----------------------------------------------------------------------------- chains, pins
def test_served_chain_is_the_issuance_served_that_day():
    res = simlib.simulate(make(strategies=[LEAF]))
    issued = res.issuances.set_index("seq")
    for day, seq in ((0, 0), (59, 0), (60, 1)):
        leaf, inter, root = res.served_chain("api.test", day)
        row = issued.loc[seq]
        assert (leaf.sha256, inter.sha256, root.sha256) == (
            row.spki_sha256,
            row.intermediate_spki_sha256,
            row.root_spki_sha256,
        )
        assert inter.label == row.intermediate and root.label == row.root


def test_shipped_pins_split_primary_and_backup():
    strategies = [
        {"name": "lb", "pin": "leaf_spki", "backup": ["ca:ca2"]},
        ROOT,
        {"name": "none", "pin": "none"},
    ]
    res = simlib.simulate(make(strategies=strategies))
    leaf, _, root = res.served_chain("api.test", 70)
    lb = res.shipped_pins("lb", "api.test", 70)
    assert lb.primary == lb.leaf == (leaf,)
    assert len(lb.ca) == 1 and lb.backup == lb.ca and lb.ca[0].label == "ca2 Root"
    r = res.shipped_pins("root", "api.test", 70)
    assert r.primary == r.ca == (root,) and r.leaf == r.backup == ()
    none = res.shipped_pins("none", "api.test", 70)
    assert none.leaf == none.ca == none.primary == none.backup == ()


def test_both_modes_name_their_strategies_in_scenario_order():
    sc = make(strategies=[LEAF, ROOT], monte_carlo={"replications": 2})
    assert simlib.simulate(sc).strategies == ["leaf", "root"]
    assert simlib.simulate(sc, mode="monte_carlo").strategies == ["leaf", "root"]


# ----------------------------------------------------------------------------- the rule
#: Names that belong to the engine or the server side: the report asks the result instead.
ENGINE_ATTRIBUTES = {
    "runs",
    "tables",
    "simulation",
    "clients",
    "calendar",
    "counts",
    "series",
    "lock",
    "seg_of_day",
    "seg_start",
    "release_days",
    "build_days",
    "registry",
    "serving",
    "_realpki",
    "active",
}
ENGINE_PACKAGES = ("simlib.engine", "simlib.server", "simlib.clients", "simlib.fleet", "simlib.pki")


def engine_names(source: str) -> list[str]:
    """Every engine attribute read and engine import in ``source`` (lazy imports included)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(ENGINE_PACKAGES):
            found.append(f"line {node.lineno}: from {node.module}")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.startswith(ENGINE_PACKAGES)
            ]
    return found


def test_the_rule_catches_engine_reads():
    planted = (
        "def f(res):\n    from simlib.fleet.releases import windows\n"
        "    return res.runs['x'].tables.lock, res.simulation.clients\n"
    )
    assert len(engine_names(planted)) == 6
    assert engine_names("def f(res):\n    return res.incurable_users('x'), res.breaks('x')\n") == []


def test_the_report_never_names_engine_internals():
    offenders = {
        str(path.relative_to(REPORT)): names
        for path in sorted(REPORT.rglob("*.py"))
        if (names := engine_names(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
