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
    pins_over_ct,
    pins_over_ct_html,
    plot_exposure_by_start_day,
)
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
    assert "removes" in text and "rogue CA" in text


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
    assert f"more than {leaf['break_even_attacks']:,.0f} such attack(s)" in text
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
