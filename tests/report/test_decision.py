"""Decision numbers: ranking, recommendation, recovery, Pareto and findings on small scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlib
from simlib.report import decision
from simlib.report.findings import findings
from tests.conftest import make
from tests.results.test_recovery import naive_recovery

TWO_PLATFORMS = {"fleet.platforms": {"android": 0.5, "ios": 0.5}}
STRATEGIES = [
    {"name": "leaf + backup CA", "pin": "leaf_spki", "backup": ["ca:ca2"]},
    {"name": "root", "pin": "root_spki"},
    {"name": "leaf", "pin": "leaf_spki"},
    {"name": "none", "pin": "none"},
]


@pytest.fixture(scope="module")
def res():
    return simlib.simulate(
        make(TWO_PLATFORMS, strategies=STRATEGIES, attacks=["rogue_ca", "user_installed_ca"])
    )


def test_recovery_table_matches_the_timeseries(res) -> None:
    rec = decision.recovery_table(res)
    g = res.timeseries[res.timeseries.strategy == "leaf"].reset_index(drop=True)
    first = rec[rec.strategy == "leaf"].iloc[0]
    e = int(np.flatnonzero(g["date"] == first["event_date"])[0])
    rate = g["lockout_rate"].to_numpy()
    assert first["days_below_1%"] == naive_recovery(rate, [e], 0.01)[0]
    assert g.loc[e, "newly_locked_users"] > 0


def test_ranked_table_equals_simulate_and_recommendation_is_its_top(res) -> None:
    table = decision.ranked_table(res)
    summary = res.summary.set_index("strategy")
    for row in table.itertuples():
        assert row.locked_user_days == pytest.approx(summary.loc[row.strategy, "locked_user_days"])
        assert row.peak_lockout == pytest.approx(summary.loc[row.strategy, "peak_lockout_rate"])
    # no economics: fewest locked user-days, then most protection
    assert list(table["locked_user_days"]) == sorted(table["locked_user_days"])
    assert table.iloc[0]["strategy"] == "root"
    rec = decision.recommendation(table)
    assert rec.strategy == table.iloc[0]["strategy"]
    assert rec.why.count(". ") == 1 and "root" in rec.why
    assert "0 locked user-days" in rec.why


def test_cost_ranking_uses_the_scenario_economics() -> None:
    sc = make(
        TWO_PLATFORMS,
        strategies=STRATEGIES,
        attacks=["rogue_ca"],
        economics={
            "cost_per_locked_user_day": 1.0,
            "attack_probability_per_day": {"rogue_ca": 0.5},
            "loss_per_successful_attack": 1000.0,
        },
    )
    res = simlib.simulate(sc)
    inputs = decision.cost_inputs(sc)
    assert inputs.from_scenario and (inputs.assumptions["confidence"] == "scenario input").all()
    table = decision.ranked_table(res, inputs)
    summary = res.summary.set_index("strategy")
    for row in table.itertuples():
        assert row.expected_cost == pytest.approx(summary.loc[row.strategy, "expected_total_cost"])
    assert list(table["expected_cost"]) == sorted(table["expected_cost"])
    assert decision.recommendation(table).strategy == table.iloc[0]["strategy"]


def test_default_costs_are_labelled_assumptions() -> None:
    sc = make(strategies=STRATEGIES, attacks=["rogue_ca"])
    inputs = decision.cost_inputs(sc)
    assert not inputs.from_scenario
    a = inputs.assumptions
    assert set(a["parameter"]) == {
        "cost_per_locked_user_day",
        "attack_probability_per_day",
        "loss_per_successful_attack",
    }
    assert a["source"].str.len().gt(0).all()
    assert (a.loc[a.parameter == "cost_per_locked_user_day", "confidence"] == "assumption").all()
    assert set(decision.load_cost_defaults()["confidence"]) <= {
        "primary",
        "secondary",
        "unconfirmed",
    }


def test_pareto_flags_dominated_strategies(res) -> None:
    front = decision.pareto(decision.ranked_table(res))
    rogue = front[front.attack == "rogue_ca"].set_index("strategy")
    assert not rogue.loc["root", "dominated"]
    assert rogue.loc["none", "dominated"] and rogue.loc["leaf", "dominated"]


def test_ats_trap_fires_for_leaf_plus_backup_ca_only(res) -> None:
    kinds = {(f.kind, f.strategy) for f in findings(res)}
    assert ("ats_trap", "leaf + backup CA") in kinds
    assert not any(s in ("root", "leaf") for k, s in kinds if k == "ats_trap")
    text = next(f.text for f in findings(res) if f.kind == "ats_trap")
    assert "100 %" in text  # iOS never matches both lists


def test_ats_trap_needs_an_ats_platform() -> None:
    res = simlib.simulate(make(strategies=STRATEGIES))  # android only
    assert not [f for f in findings(res) if f.kind == "ats_trap"]


def test_pin_expiry_and_no_fix_findings() -> None:
    sc = make(
        strategies=[
            {"name": "leaf, expires", "pin": "leaf_spki", "expires_after_days": 60},
            {"name": "root", "pin": "root_spki"},
        ],
        attacks=["rogue_ca"],
    )
    kinds = {(f.kind, f.strategy) for f in findings(simlib.simulate(sc))}
    assert ("pin_expiry", "leaf, expires") in kinds
    assert not any(k == "no_fix" for k, _ in kinds)  # a later release always pins the new key


def test_pinned_update_check_finding() -> None:
    ir = {"forced_update": {"comply_share": 0.8}}
    strategies = [{"name": "leaf", "pin": "leaf_spki"}]
    pinned = simlib.simulate(make(strategies=strategies, incident_response=ir))
    assert [f.kind for f in findings(pinned)] == ["pinned_update_check"]
    unpinned = simlib.simulate(
        make(strategies=strategies, incident_response={**ir, "update_check_host": None})
    )
    assert not [f for f in findings(unpinned) if f.kind == "pinned_update_check"]


def test_no_fix_finding_on_a_trust_store_change() -> None:
    res = simlib.simulate(simlib.load_scenario("data/scenarios/trust-store-change.yaml"))
    assert any(f.kind == "no_fix" for f in findings(res))
    assert isinstance(decision.recovery_table(res), pd.DataFrame)


def test_incurable_and_recovery_columns_come_from_the_result(res) -> None:
    """One definition each: the table's incurable user-days are the result's (for leaf + backup
    CA, every iOS user-day: ATS never matches both lists, on a fresh build either), and the
    recovery table has one row per break day of the result."""
    table = decision.ranked_table(res).set_index("strategy")
    incurable = res.incurable_user_days()
    for name in table.index:
        assert table.loc[name, "incurable_user_days"] == pytest.approx(incurable[name])
    ios = res.timeseries[res.timeseries.strategy == "leaf + backup CA"]["locked_users_ios"].sum()
    assert incurable["leaf + backup CA"] == pytest.approx(ios) and ios > 0
    assert incurable["leaf"] == 0 and incurable["none"] == 0
    assert ("no_fix", "leaf + backup CA") in {(f.kind, f.strategy) for f in findings(res)}
    rec = decision.recovery_table(res)
    for name in res.strategies:
        dates = res.timeseries[res.timeseries.strategy == name]["date"].to_numpy()
        expected = list(dates[res.breaks(name)])
        assert list(rec[rec.strategy == name]["event_date"].to_numpy()) == expected


# -- ties --------------------------------------------------------------------------------------
# No event and a key reused for ever: nothing any strategy pins ever changes, so no strategy locks
# anyone, and root, root + a backup CA and the intermediate all reject both attacks alike.
TIED = [
    {"name": "leaf", "pin": "leaf_spki"},
    {"name": "root", "pin": "root_spki"},
    {"name": "root + ca2", "pin": "root_spki", "backup": ["ca:ca2"]},
    {"name": "intermediate", "pin": "intermediate_spki"},
    {"name": "none", "pin": "none"},
]


def _tied_report():
    from simlib.report.document import DecisionReport

    sc = make(
        {"hosts[0].key_policy": "reuse", "attacks": ["rogue_ca"]},
        strategies=TIED,
    )
    return DecisionReport(simlib.simulate(sc))


def test_a_tie_is_reported_as_a_tie() -> None:
    rep = _tied_report()
    table = rep.table.set_index("strategy")
    assert (table["locked_user_days"] == 0).all()
    top = list(table.index[table["rank"] == 1])
    # every pin that rejects the rogue CA's chain ties on every ranked number; "none" ranks below
    assert top == ["leaf", "root", "root + ca2", "intermediate"]
    assert table.loc["none", "rank"] == 5
    rec = rep.recommended
    assert rec.tied == tuple(top) and rec.strategy == "leaf"
    assert rec.label == "leaf, root, root + ca2 and intermediate (tied)"
    assert "tie" in rec.why and "cannot choose" in rec.why
    assert "The runner-up, none," in rec.why


def test_tied_strategies_each_get_their_prerequisites() -> None:
    html = _tied_report().prerequisites().html
    for name in ("leaf", "root", "root + ca2", "intermediate"):
        assert f"<b>{name}</b> (tied)" in html
    assert html.count("<table") == 4


def test_no_tie_keeps_one_name() -> None:
    sc = make({"attacks": ["rogue_ca"]}, strategies=TIED[:2])
    from simlib.report.document import DecisionReport

    rec = DecisionReport(simlib.simulate(sc)).recommended
    assert len(rec.tied) == 1 and rec.label == rec.strategy


def test_ats_trap_fires_for_a_literal_pin_that_is_a_ca_key(res) -> None:
    """A literal ``spki:`` backup equal to another CA's root joins ATS's CA list (the engine's
    rule), so leaf key + that literal locks every iOS user from day 0, as leaf + ``ca:ca2`` does."""
    host = res.scenario.hosts[0].name
    (ca2_root,) = res.shipped_pins("leaf + backup CA", host, 0).backup
    literal = [
        {"name": "leaf + literal", "pin": "leaf_spki", "backup": [f"spki:{ca2_root.sha256}"]}
    ]
    got = simlib.simulate(make(TWO_PLATFORMS, strategies=literal, attacks=["rogue_ca"]))
    shipped = got.shipped_pins("leaf + literal", host, 0)
    assert shipped.leaf and [p.sha256 for p in shipped.ca] == [ca2_root.sha256]
    traps = [f for f in findings(got) if f.kind == "ats_trap"]
    assert [f.strategy for f in traps] == ["leaf + literal"] and "100 %" in traps[0].text
    # an offline key (no scenario CA has it) stays in the leaf list: no trap
    offline = [{"name": "leaf + offline", "pin": "leaf_spki", "backup": ["spki:" + "A" * 43 + "="]}]
    other = simlib.simulate(make(TWO_PLATFORMS, strategies=offline, attacks=["rogue_ca"]))
    assert not [f for f in findings(other) if f.kind == "ats_trap"]


def test_shipped_pins_of_a_leaf_certificate_strategy_are_certificate_pins() -> None:
    """A ``leaf_cert`` release ships the served certificate's SHA-256 (the issuances table's
    ``cert_sha256``), and the findings (which read shipped pins) run on it."""
    got = simlib.simulate(
        make(TWO_PLATFORMS, strategies=[{"name": "cert", "pin": "leaf_cert"}], attacks=["rogue_ca"])
    )
    host = got.scenario.hosts[0].name
    (pin,) = got.shipped_pins("cert", host, 0).primary
    first = got.issuances[got.issuances.host == host].iloc[0]
    assert pin.sha256 == first["cert_sha256"] != first["spki_sha256"]
    assert not [f for f in findings(got) if f.kind == "ats_trap"]
