"""One-way sensitivity: thresholds found where the linear costs cross (derived in closed form),
inputs that cannot change the answer say so, the cap, determinism and the report section."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simlib
from simlib.errors import ScenarioError
from simlib.report import robustness as rb
from simlib.report.decision import cost_inputs, ranked_table
from simlib.report.document import DecisionReport
from simlib.report.html import PAGE_POLICY, active_content
from tests.conftest import make

LEAF_NONE = [{"name": "leaf key", "pin": "leaf_spki"}, {"name": "none", "pin": "none"}]
P, LOSS = 0.01, 1000.0
COST = "economics.cost_per_locked_user_day"


def _priced(per_day: float, strategies=LEAF_NONE):
    return make(
        {
            "economics": {
                "cost_per_locked_user_day": per_day,
                "attack_probability_per_day": {"rogue_ca": P},
                "loss_per_successful_attack": LOSS,
            }
        },
        strategies=strategies,
        attacks=["rogue_ca"],
    )


@pytest.fixture(scope="module")
def crossing():
    """The leaf-key-or-nothing result and its crossing point c*.

    Expected cost is linear in each cost input: cost_s = c·L_s + p·loss·days·Ē_s (L locked
    user-days, Ē the mean exposed share). The two strategies cost the same where
    c* = p·loss·days·(Ē_none − Ē_leaf) / (L_leaf − L_none); below it pinning is cheaper.
    """
    res = simlib.simulate(_priced(1.0))
    s = res.summary.set_index("strategy")
    days = res.scenario.days
    gain = (
        P
        * LOSS
        * days
        * (s.at["none", "mean_exposed_rogue_ca"] - s.at["leaf key", "mean_exposed_rogue_ca"])
    )
    c_star = gain / (s.at["leaf key", "locked_user_days"] - s.at["none", "locked_user_days"])
    assert c_star > 0
    return res, c_star, gain


def _cost_row(res, per_day: float, path: str = COST) -> rb.Sensitivity:
    ow = rb.one_way(res, _inputs(res, per_day), max_simulations=0, only=[path])
    assert ow.simulations == 0  # cost inputs re-rank the same result
    (row,) = ow.rows
    return row


def _inputs(res, per_day: float):
    from dataclasses import replace

    return replace(cost_inputs(res.scenario), per_locked_user_day=per_day)


def test_cost_threshold_is_the_closed_form_crossing(crossing) -> None:
    res, c_star, _ = crossing
    c0 = c_star / 1.5  # pinning is recommended now; ×4 reaches past c*
    assert ranked_table(res, _inputs(res, c0))["strategy"].iloc[0] == "leaf key"
    row = _cost_row(res, c0)
    assert row.lower is None  # cheaper lockouts only favour pinning more
    ch = row.higher
    assert ch is not None and ch.exact and ch.answer == ("none",)
    assert ch.same < c_star <= ch.at and ch.at - ch.same <= row.assumption.tolerance
    assert row.assumption.tolerance == pytest.approx(0.01 * c0)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(factor=st.floats(0.26, 3.9).filter(lambda f: abs(f - 1) > 0.03))
def test_bisection_finds_the_crossing_on_its_side(crossing, factor) -> None:
    """Wherever the current value is (c* within ×0.25…×4 of it), the change found is the one at
    c*, on the right side, within the stated tolerance."""
    res, c_star, _ = crossing
    c0 = c_star / factor
    row = _cost_row(res, c0)
    below = c_star < c0
    ch, other = (row.lower, row.higher) if below else (row.higher, row.lower)
    assert other is None and ch is not None and ch.exact
    lo, hi = sorted((ch.same, ch.at))
    assert lo <= c_star <= hi and hi - lo <= row.assumption.tolerance + 1e-12
    assert ch.answer == (("leaf key",) if below else ("none",))


def test_probability_and_loss_thresholds_follow_from_the_same_line(crossing) -> None:
    """At c0 the loss term equals ``gain`` × (p / P): pinning stops paying where p·loss falls to
    c0·ΔL/(days·ΔĒ), i.e. p* = P·c0/c* (and loss* = LOSS·c0/c*)."""
    res, c_star, _ = crossing
    c0 = c_star / 1.5
    ow = rb.one_way(
        res,
        _inputs(res, c0),
        max_simulations=0,
        only=[
            "economics.attack_probability_per_day.rogue_ca",
            "economics.loss_per_successful_attack",
        ],
    )
    rows = {r.assumption.path: r for r in ow.rows}
    for path, current in (
        ("economics.attack_probability_per_day.rogue_ca", P),
        ("economics.loss_per_successful_attack", LOSS),
    ):
        row = rows[path]
        expect = current * c0 / c_star
        assert row.higher is None and row.lower is not None and row.lower.answer == ("none",)
        assert row.lower.at < expect <= row.lower.same
        assert row.lower.same - row.lower.at <= row.assumption.tolerance
    text = ow.frame().set_index("input").loc["economics.loss_per_successful_attack"]
    assert text["changes at"].startswith("below the current value: between")
    assert text["new recommendation"] == "none"


def test_an_input_that_cannot_change_the_answer_says_so() -> None:
    # Root pinning locks no one under any fleet (the root never changes) and stops a rogue CA:
    # no lag, cadence or share can move the recommendation. Costs do not rank here.
    sc = make(
        strategies=[{"name": "none", "pin": "none"}, {"name": "root", "pin": "root_spki"}],
        attacks=["rogue_ca"],
    )
    res = simlib.simulate(sc)
    ow = rb.one_way(res)
    assert ow.answer == ("root",) and not ow.costs_rank and not ow.capped
    paths = [r.assumption.path for r in ow.rows]
    assert "fleet.adoption.components[1].mean_lag_days" in paths and not any(
        p.startswith("economics.") for p in paths
    )
    frame = ow.frame()
    assert set(frame["changes at"]) == {"does not change within the range"}
    assert set(frame["new recommendation"]) == {""}
    assert ow.skipped == {
        "fleet.platforms.android.share": "the only member of a group that sums to 1"
    }


def test_found_changes_hold_when_simulated_again(crossing) -> None:
    """Every simulated change: the current answer at ``same``, the new one at ``at``."""
    res, c_star, _ = crossing
    inputs = _inputs(res, c_star / 1.5)
    ow = rb.one_way(
        res, inputs, only=["fleet.release_every_days", "fleet.adoption.never_update_share"]
    )
    changes = [(r.assumption, c) for r in ow.rows for c in (r.lower, r.higher) if c is not None]
    assert changes, "the search should find the cadence change of this scenario"
    for a, c in changes:
        for x, want in ((c.same, ow.answer), (c.at, c.answer)):
            variant = simlib.simulate(simlib.apply_overrides(res.scenario, a.overrides(x)))
            top = ranked_table(variant, inputs)
            assert tuple(top.loc[top["rank"] == 1, "strategy"]) == want
        if a.integer:
            assert abs(c.at - c.same) == 1


def test_the_search_is_deterministic_and_capped(crossing) -> None:
    res, c_star, _ = crossing
    inputs = _inputs(res, c_star / 1.5)
    first, again = rb.one_way(res, inputs), rb.one_way(res, inputs)
    assert first == again and first.frame().equals(again.frame())
    assert 0 < first.simulations <= rb.MAX_SIMULATIONS and not first.capped
    cut = rb.one_way(res, inputs, max_simulations=3)
    assert cut.simulations <= 3 and cut.capped
    frame = cut.frame().set_index("input")
    assert "not searched in full: cap reached" in set(frame["changes at"])
    # the free cost rows are still searched in full
    assert frame.loc[COST, "changes at"] == first.frame().set_index("input").loc[COST, "changes at"]
    with pytest.raises(ScenarioError, match="max_simulations"):
        rb.one_way(res, inputs, max_simulations=-1)


def test_shares_keep_their_group_summing_to_one() -> None:
    sc = make(
        {
            "fleet.adoption.components": [
                {"weight": 0.2, "mean_lag_days": 2.0},
                {"weight": 0.3, "mean_lag_days": 9.0},
                {"weight": 0.5, "mean_lag_days": 40.0},
            ],
            "fleet.platforms": {"android": 0.6, "ios": 0.4},
        },
        strategies=LEAF_NONE,
    )
    found, _ = rb.assumptions(sc)
    by = {a.path: a for a in found}
    weights = [p for p in by if p.endswith(".weight")]
    assert len(weights) == 3  # a group of three: each varied, the others rescaled
    assert [p for p in by if "platforms" in p] == ["fleet.platforms.android.share"]  # a pair once
    for path in (*weights, "fleet.platforms.android.share"):
        a = by[path]
        assert a.share and 0 <= a.low < a.value < a.high <= 1
        for x in (a.low, a.high, (a.low + a.high) / 2):
            ov = a.overrides(x)
            group = [v for p, v in ov.items()]
            assert math.isclose(sum(group), 1.0)
            simlib.apply_overrides(sc, ov)  # validates


def test_section_renders_inert_and_escaped(crossing) -> None:
    hostile = "<img src=x onerror=alert(1)>\u202eleaf"
    res = simlib.simulate(
        _priced(0.02, [{"name": hostile, "pin": "leaf_spki"}, {"name": "none", "pin": "none"}])
    )
    report = DecisionReport(res)
    html = report.robustness(max_simulations=6, replications=3).html
    assert 'id="sensitivity"' in html and 'id="mc-band"' in html
    meta = f'<meta http-equiv="Content-Security-Policy" content="{PAGE_POLICY}">'
    assert (
        active_content(f"<!DOCTYPE html><html><head>{meta}</head><body>{html}</body></html>") == []
    )
    assert "<img" not in html and "\u202e" not in html and "&lt;img src=x" in html
    used = re.search(r"(\d+) simulation\(s\) of the 6 allowed", html)
    assert used and int(used.group(1)) <= 6


def _scenario_file(tmp_path, body: str):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nstart: 2025-01-01\nend: 2025-06-30\n"
        "fleet: {users: 1000, release_every_days: 14, adoption: {components: [{weight: 1, mean_lag_days: 5}]}}\n"
        "strategies: [{name: none, pin: none}, {name: root, pin: root_spki}]\n" + body
    )
    return simlib.load_scenario(path)


def test_list_items_are_named_by_what_they_are() -> None:
    """le-2025's deciding row says which event it is (Root YR removed on day one), not only
    ``events[0].share``."""
    from tests.conftest import DATA

    res = simlib.simulate(simlib.load_scenario(DATA / "presets/le-2025-intermediate-rotation.yaml"))
    ow = rb.one_way(res, only=["events[0].share", "hosts[0].renew_at_fraction"])
    names = list(ow.frame()["input"])
    assert names[0] == (
        "hosts[0].renew_at_fraction (host api.example.com: share of the lifetime before renewal)"
    )
    assert names[1] == (
        "events[0].share (trust_store_change on 2025-06-01, removes letsencrypt-gen-y: "
        "share of devices)"
    )


def test_refused_values_are_said_only_where_they_cut_the_range() -> None:
    """renew_at_fraction must be < 1: its range's top (1) is refused, in plain words with how
    far the search reached; a range validation never cut says nothing."""
    from tests.conftest import DATA

    res = simlib.simulate(simlib.load_scenario(DATA / "presets/le-2025-intermediate-rotation.yaml"))
    ow = rb.one_way(res, only=["hosts[0].renew_at_fraction", "fleet.build_lead_days"])
    ranges = {r.assumption.path: r for r in ow.rows}
    frame = ow.frame().set_index("input")["range"]
    fraction = frame[ranges["hosts[0].renew_at_fraction"].assumption.name]
    lead = frame["fleet.build_lead_days"]
    assert "refused" not in fraction and "valid" not in lead
    assert fraction.endswith("; values of 1 and above are not valid: searched to 0.8334")
    row = next(r for r in ow.rows if r.assumption.path == "hosts[0].renew_at_fraction")
    assert row.refused == (1.0,)


def test_inputs_that_cannot_affect_the_simulation_are_not_varied(tmp_path) -> None:
    """A CA's validity when every host on it sets its own, a CA that issues nothing (a backup
    pin only: its validity is never used) and a CA nothing names are skipped with the reason;
    a CA a host takes its validity from is varied."""
    from simlib.model.loading import default_scenario

    found, skipped = rb.assumptions(default_scenario())  # the quickstart
    assert skipped["cas[0].validity_days"] == (
        "CA public-ca: every host it issues to sets its own validity_days"
    )
    assert skipped["cas[1].validity_days"] == (
        "CA other-ca issues no certificate: no host is on it or moves to it"
    )
    assert not any(a.path.startswith("cas[") for a in found)

    sc = _scenario_file(
        tmp_path,
        "cas: [{name: ca1}, {name: ca2}, {name: ca3}]\n"
        "hosts: [{name: a.test, ca: ca1}, {name: b.test, ca: ca2, validity_days: 30}]\n"
        "events: [{type: ca_migration, date: 2025-03-01, to: ca2, hosts: [a.test]}]\n",
    )
    found, skipped = rb.assumptions(sc)
    varied = {a.path for a in found}
    # ca1 and ca2 (which a.test, without its own validity, moves to) set lifetimes
    assert {"cas[0].validity_days", "cas[1].validity_days"} <= varied
    assert skipped["cas[2].validity_days"] == "no host, event, attack or strategy names CA ca3"
