"""What pins add over CT + monitoring: the report's numbers against closed forms, its wording,
and the variant it simulates when the scenario lacks a monitoring block or an unpinned strategy.

The scenario: 1000 users, T = 120 days, a 90-day certificate renewed with a new key on day 60,
no validity cap, so an unpinned app's users are all exposed to a rogue CA every day and a
monitored attack started on t0 runs min(W, T − t0) days (W = detection + response days).
"""

from __future__ import annotations

import math

import matplotlib
import matplotlib.pyplot as plt
import pytest

import simlib
from simlib.errors import ScenarioError
from simlib.model.monitoring import CTMonitoring
from simlib.report.ct_monitoring import (
    attacks_count,
    pins_over_ct,
    pins_over_ct_html,
    plot_exposure_by_start_day,
)
from simlib.report.wording import pct
from simlib.results.ct import exposure_by_start_day
from tests.conftest import make

matplotlib.use("Agg")  # tests only

T = 120
STRATEGIES = [
    {"name": "none", "pin": "none"},
    {"name": "root", "pin": "root_spki"},
    {"name": "leaf key", "pin": "leaf_spki"},
]


def scenario(monitoring: dict | None = None, strategies: list | None = None):
    top: dict = {"end": "2025-04-30", "strategies": strategies or STRATEGIES}
    top["attacks"] = ["rogue_ca", "user_installed_ca"]
    if monitoring is not None:
        top["monitoring"] = monitoring
    return make({"fleet.platforms": {"android": 0.5, "ios": 0.5}}, **top)


def mean_window(W: int) -> float:
    """mean over t0 of min(W, T − t0)."""
    return sum(min(W, T - t) for t in range(T)) / T


def test_pins_add_the_unpinned_exposure_and_break_even_is_lockouts_over_it() -> None:
    res = simlib.simulate(scenario({"ct": {"detection_days": 3, "response_days": 2}}))
    got = pins_over_ct(res)
    assert not got.assumed and not got.added_baseline and got.baseline == "none"
    f = got.frame.set_index(["strategy", "attack"])
    unpinned = 1000 * mean_window(5)  # (116·5 + 4 + 3 + 2 + 1) / 120 per user
    root = f.loc[("root", "rogue_ca")]
    assert root["exposure_without_pins"] == pytest.approx(unpinned)
    assert root["exposure_with_pins"] == 0.0
    assert root["pins_add"] == pytest.approx(unpinned) and root["share_removed"] == 1.0
    assert root["break_even_attacks"] == 0.0  # no lockouts to pay
    leaf = f.loc[("leaf key", "rogue_ca")]
    locked = float(res.summary.set_index("strategy").loc["leaf key", "locked_user_days"])
    assert locked > 0
    assert leaf["break_even_attacks"] == pytest.approx(locked / leaf["pins_add"])
    # the fall of exposure splits into protection and lockout, and lockout is not credited
    fall = leaf["exposure_without_pins"] - leaf["exposure_with_pins"]
    assert leaf["pins_add"] + leaf["removed_by_lockout"] == pytest.approx(fall)
    assert 0 < leaf["pins_add"] < fall
    # CT alone (nobody watching the logs): the attack runs to the horizon's end, (T + 1)/2 days
    assert root["pins_add_ct_only"] == pytest.approx(1000 * (T + 1) / 2)
    # a user-installed root: CT does not apply; iOS users only, the whole remaining horizon
    ui = f.loc[("root", "user_installed_ca")]
    assert not ui["ct_applies"]
    assert ui["exposure_without_pins"] == pytest.approx(500 * (T + 1) / 2)


def test_without_a_monitoring_block_the_defaults_are_assumed_and_said() -> None:
    res = simlib.simulate(scenario())
    assert not any(c.startswith("exposure_") for c in res.summary.columns)
    got = pins_over_ct(res)
    assert got.assumed and got.ct == CTMonitoring()
    row = got.frame.set_index(["strategy", "attack"]).loc[("root", "rogue_ca")]
    assert row["exposure_without_pins"] == pytest.approx(1000 * mean_window(2))
    text = pins_over_ct_html(got, "root", T)
    assert "an assumption" in text and 'id="pins-over-ct"' in text
    assert "pins protect users for" in text and "rogue CA" in text


def test_an_unpinned_strategy_is_added_when_the_scenario_has_none() -> None:
    res = simlib.simulate(scenario({"ct": {}}, STRATEGIES[1:]))
    got = pins_over_ct(res)
    assert got.added_baseline and got.baseline == "no pinning"
    assert set(got.frame["strategy"]) == {"root", "leaf key"}
    assert "added for this comparison" in pins_over_ct_html(got, "root", T)


def test_the_sentence_states_break_even_for_a_strategy_that_locks() -> None:
    res = simlib.simulate(scenario({"ct": {"detection_days": 3, "response_days": 2}}))
    got = pins_over_ct(res)
    text = pins_over_ct_html(got, "leaf key", T)
    leaf = got.frame.set_index(["strategy", "attack"]).loc[("leaf key", "rogue_ca")]
    assert f"more than {attacks_count(leaf['break_even_attacks'])} such attack(s)" in text
    assert math.isfinite(leaf["break_even_attacks"])


def test_figure_draws_the_three_curves() -> None:
    got = pins_over_ct(simlib.simulate(scenario({"ct": {}})))
    fig, ax = plt.subplots()
    plot_exposure_by_start_day(ax, got, "root")
    assert len(ax.lines) == 3
    plt.close(fig)


def test_exposure_by_start_day_refuses_what_it_cannot_answer() -> None:
    res = simlib.simulate(scenario())
    with pytest.raises(ScenarioError, match="monitoring"):
        exposure_by_start_day(res, "root", "rogue_ca")
    res = simlib.simulate(scenario({"ct": {}}))
    with pytest.raises(ScenarioError, match="strategy"):
        exposure_by_start_day(res, "nope", "rogue_ca")
    with pytest.raises(ScenarioError, match="attack"):
        exposure_by_start_day(res, "root", "nope")


def test_pins_are_credited_with_protected_users_only_never_with_locked_ones() -> None:
    """Leaf-key pins, T = 71: the renewal on day 60 locks all 1000 users to the horizon's end
    (L(t) = 1000 for t ≥ 60; 11 days, 11,000 locked user-days) and they are protected against
    a rogue CA on every day before. W = 5, so without pins a rogue-CA instance leaves
    Σ_t0 min(5, 71 − t0) = 67·5 + 10 = 345 user-days per user; the part of it on locked days is
    Σ_t0 |[t0, t0 + 5) ∩ [60, 71)| = (1 + 2 + 3 + 4) + 7·5 + (4 + 3 + 2 + 1) = 55. A stolen
    key is accepted by every working user (nobody protected): its exposure falls only through
    lockouts, Σ_t0 |[t0, 71) ∩ [60, 71)| = 60·11 + 66 = 726."""
    sc = make(
        {"fleet.platforms": {"android": 0.5, "ios": 0.5}},
        end="2025-03-12",
        strategies=[STRATEGIES[0], STRATEGIES[2]],
        attacks=["rogue_ca", "stolen_leaf_key"],
        monitoring={"ct": {"detection_days": 3, "response_days": 2}},
    )
    res = simlib.simulate(sc)
    Tn = sc.days
    ts = res.timeseries[res.timeseries["strategy"] == "leaf key"]
    assert Tn == 71 and list(ts["locked_users"][55:]) == [0.0] * 5 + [1000.0] * 11
    got = pins_over_ct(res)
    f = got.frame.set_index(["strategy", "attack"])
    rogue = f.loc[("leaf key", "rogue_ca")]
    assert rogue["exposure_without_pins"] == pytest.approx(1000 * 345 / Tn)
    assert rogue["exposure_with_pins"] == 0.0
    assert rogue["pins_add"] == pytest.approx(1000 * (345 - 55) / Tn)
    assert rogue["removed_by_lockout"] == pytest.approx(1000 * 55 / Tn)
    assert rogue["locked_user_days"] == pytest.approx(11_000)
    assert rogue["break_even_attacks"] == pytest.approx(11_000 * Tn / 290_000)  # 2.69
    key = f.loc[("leaf key", "stolen_leaf_key")]
    assert key["exposure_without_pins"] == pytest.approx(1000 * (Tn + 1) / 2)
    assert key["pins_add"] == 0.0 and key["share_removed"] == 0.0
    assert key["removed_by_lockout"] == pytest.approx(1000 * 726 / Tn)
    assert key["break_even_attacks"] == math.inf
    text = pins_over_ct_html(got, "leaf key", Tn)
    assert f"protect users for 4.08k of them ({pct(rogue['share_removed'])};" in text
    assert "more than 2.7 such attack(s)" in text and "(one every 26 days)" in text
    assert "775 fewer exposure user-days because users are locked out — not protection" in text
    assert "<td>stolen leaf key</td><td>36k</td><td>25.8k</td><td>0</td>" in text
    assert "<td>pins add nothing</td>" in text


def test_a_strategy_that_protects_nobody_gets_no_break_even() -> None:
    """Root pins accept a certificate the host's own CA mis-issues (same chain): they protect
    nobody against it, so they add nothing and have no break-even, and the sentence says so."""
    res = simlib.simulate(
        make(
            {"fleet.platforms": {"android": 0.5, "ios": 0.5}},
            end="2025-04-30",
            strategies=[STRATEGIES[0], STRATEGIES[1]],
            attacks=["same_ca_misissuance"],
            monitoring={"ct": {"detection_days": 3, "response_days": 2}},
        )
    )
    got = pins_over_ct(res)
    row = got.frame.iloc[0]
    assert row["pins_add"] == 0.0 and row["break_even_attacks"] == math.inf
    assert "pins add nothing against this attack" in pins_over_ct_html(got, "root", T)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (0.04, "< 0.1"), (0.2, "0.2"), (2.693, "2.7"), (12.4, "12"), (1234.5, "1,234")],
)
def test_break_even_figures_are_rounded_for_a_reader_never_to_zero(value, text) -> None:
    assert attacks_count(value) == text
    assert attacks_count(math.inf) == "pins add nothing" and attacks_count(math.nan) == "n/a"
