"""The explorer: the overrides each control produces, one-line errors, the cache, redraw in
place, and headline numbers equal to ``simulate`` of the overridden scenario."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import simlib
from simlib.errors import ScenarioError
from simlib.model.overrides import lifetime_overrides
from simlib.report import questions
from simlib.report.explorer import CONTROLS, Explorer
from tests.conftest import make

matplotlib.use("Agg")  # tests only

STRATEGIES = [
    {"name": "none", "pin": "none"},
    {"name": "leaf", "pin": "leaf_spki"},
    {"name": "root", "pin": "root_spki"},
]
TWO_HOSTS = [
    {"name": "api.test", "ca": "ca1", "validity_days": 90, "renew_before_days": 30},
    {"name": "cdn.test", "ca": "ca2", "renew_at_fraction": 0.5, "key_policy": "reuse",
     "policy_schedule": [{"from": "2025-06-01", "key_policy": "rotate", "renew_at_fraction": 0.6},
                         {"from": "2025-09-01", "key_policy": "reuse"}]},
]  # fmt: skip


@pytest.fixture
def sc():
    return make(
        {"fleet.platforms": {"android": 0.7, "ios": 0.3}},
        strategies=STRATEGIES,
        hosts=TWO_HOSTS,
        attacks=["rogue_ca", "stolen_leaf_key"],
    )


def test_defaults_produce_no_overrides(sc):
    ex = Explorer(sc)
    assert ex.defaults() == {
        "update_speed": 1.0,
        "lifetime_days": 90,
        "key_policy": None,
        "android_share": 0.7,
        "strategy": "leaf",  # the first strategy that pins
    }
    assert ex.overrides() == {}
    assert ex.overrides(**ex.defaults()) == {}
    assert ex.overrides(strategy="root") == {}  # picks a line, never re-simulates


def test_update_speed_divides_every_lag(sc):
    assert Explorer(sc).overrides(update_speed=2) == {
        "fleet.adoption.components[0].mean_lag_days": 1.5,
        "fleet.adoption.components[1].mean_lag_days": 10.0,
    }


def test_update_speed_scales_an_empirical_curve():
    curve = make({"fleet.adoption": {"points": [[0, 0.1], [10, 0.5], [40, 0.9]]}})
    ex = Explorer(curve)
    assert ex.overrides(update_speed=0.5) == {
        "fleet.adoption.points": [[0.0, 0.1], [20.0, 0.5], [80.0, 0.9]]
    }
    points = ex.scenario_for(update_speed=0.5).fleet.adoption.points
    assert [tuple(p) for p in points] == [(0.0, 0.1), (20.0, 0.5), (80.0, 0.9)]


def test_lifetime_applies_to_every_host_renewing_at_most_a_third_before_expiry(sc):
    ex = Explorer(sc)
    assert ex.overrides(lifetime_days=45) == {
        "hosts[0].validity_days": 45,
        "hosts[0].renew_before_days": 15,  # 45 // 3, shorter than the host's own 30
        "hosts[1].validity_days": 45,  # renew_at_fraction is already relative
    }
    # the same rule as the what-if question's
    assert ex.scenario_for(lifetime_days=47) == questions.with_validity(sc, 47)
    assert ex.overrides(lifetime_days=47) == lifetime_overrides(sc, 47)
    # renew_before_days stays at least 1, so the scenario stays valid
    short = ex.scenario_for(lifetime_days=2)
    assert (short.hosts[0].validity_days, short.hosts[0].renew_before_days) == (2, 1)


def test_key_policy_per_host_replaces_dated_key_steps(sc):
    ex = Explorer(sc)
    assert ex.overrides(key_policy="rotate") == {
        "hosts[1].key_policy": "rotate",  # host 0 already rotates: nothing to change
        "hosts[1].policy_schedule": [
            {"from": "2025-06-01", "renew_before_days": None, "renew_at_fraction": 0.6}
        ],
    }
    assert ex.overrides(key_policy={"api.test": "reuse", "cdn.test": None}) == {
        "hosts[0].key_policy": "reuse"
    }
    variant = ex.scenario_for(key_policy="reuse")
    assert [h.key_policy for h in variant.hosts] == ["reuse", "reuse"]
    assert all(step.key_policy is None for step in variant.hosts[1].policy_schedule)


def test_android_share_sets_both_platforms(sc):
    assert Explorer(sc).overrides(android_share=0.25) == {
        "fleet.platforms.android.share": 0.25,
        "fleet.platforms.ios.share": 0.75,
    }
    one = Explorer(make())  # android only: iOS is added with its defaults
    variant = one.scenario_for(android_share=0.6)
    assert variant.fleet.platforms["ios"].share == pytest.approx(0.4)
    assert variant.fleet.platforms["ios"].client == "ats"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"update_speed": 10}, "<explorer>: update_speed: must be between 0.25 and 4 (got 10)"),
        ({"update_speed": "fast"}, "<explorer>: update_speed: must be a number (got 'fast')"),
        ({"update_speed": float("nan")}, "<explorer>: update_speed: must be finite (got nan)"),
        ({"lifetime_days": 1}, "<explorer>: lifetime_days: must be between 2 and 36500 days (got 1)"),
        ({"lifetime_days": 30.5}, "<explorer>: lifetime_days: must be a whole number of days (got 30.5)"),
        ({"key_policy": "sometimes"}, "<explorer>: key_policy: 'sometimes' for api.test: must be reuse or rotate"),
        ({"key_policy": {"www.test": "reuse"}}, "<explorer>: key_policy: unknown host 'www.test'; valid: api.test, cdn.test"),
        ({"android_share": 1.5}, "<explorer>: android_share: must be between 0 and 1 (got 1.5)"),
        ({"strategy": "pin everything"}, "<explorer>: strategy: unknown strategy 'pin everything'; valid: none, leaf, root"),
        ({"speed": 2}, f"<explorer>: speed: unknown control; valid: {', '.join(CONTROLS)}"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_on_one_line(sc, values, message):
    ex = Explorer(sc)
    before = dict(ex.settings_)
    with pytest.raises(ScenarioError) as err:
        ex.update(**values)
    assert str(err.value) == message
    assert ex.settings_ == before  # a refused value changes nothing


def test_bad_attack_is_refused(sc):
    with pytest.raises(
        ScenarioError, match="attack: unknown attack 'dns'; valid: rogue_ca, stolen_leaf_key"
    ):
        Explorer(sc, attack="dns")


def test_unchanged_settings_and_strategy_changes_do_not_resimulate(sc):
    ex = Explorer(sc)
    ex.update()
    assert ex.simulations_ == 1
    ex.update(strategy="root")
    ex.update(update_speed=1.0, lifetime_days=90)  # the defaults again
    assert ex.simulations_ == 1
    ex.update(lifetime_days=45)
    ex.update(lifetime_days=45)
    ex.update(strategy="leaf")
    assert ex.simulations_ == 2
    ex.update(lifetime_days=90)  # back to a setting seen before: cached
    assert ex.simulations_ == 2


def test_redraw_moves_the_same_artists(sc):
    ex = Explorer(sc)
    ex.update()
    fig = ex.figure
    fig.canvas.draw()
    axes = list(fig.axes)
    lines = [list(ax.lines) for ax in axes]
    patches = [list(ax.patches) for ax in axes]
    leaf = ex.drawing_.artists["lines"]["leaf"]
    before = leaf.get_ydata().copy()
    ex.update(
        lifetime_days=30, key_policy="reuse", strategy="root", android_share=0.2, update_speed=3
    )
    fig.canvas.draw()
    assert ex.figure is fig
    assert fig.axes == axes
    assert [list(ax.lines) for ax in fig.axes] == lines
    assert [list(ax.patches) for ax in fig.axes] == patches
    assert (leaf.get_ydata() != before).any()
    assert ex.png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_headline_equals_simulate_of_the_overridden_scenario(sc):
    ex = Explorer(sc, attack="stolen_leaf_key")
    values = {"lifetime_days": 60, "update_speed": 0.5, "key_policy": {"cdn.test": "rotate"},
              "android_share": 0.4, "strategy": "leaf"}  # fmt: skip
    head = ex.update(**values)
    res = simlib.simulate(simlib.apply_overrides(sc, ex.overrides()))
    row = res.summary.set_index("strategy").loc["leaf"]
    ever = res.duration_stats.set_index("strategy").loc["leaf", "users_ever_locked"]
    assert head.strategy == "leaf"
    assert head.locked_user_days == pytest.approx(row["locked_user_days"])
    assert head.peak_lockout == pytest.approx(row["peak_lockout_rate"])
    assert head.protected_share == pytest.approx(row["mean_protected_stolen_leaf_key"])
    assert head.users_ever_locked == pytest.approx(ever)
    assert head.locked_user_days > 0
    line = ex.drawing_.artists["lines"]["leaf"].get_ydata()
    assert list(line) == pytest.approx(
        list(res.timeseries.query("strategy == 'leaf'")["lockout_rate"])
    )


def test_widget_controls_drive_the_explorer(sc):
    ex = Explorer(sc)
    box = ex.widget()
    sliders = {c.description: c for row in box.children[0].children for c in row.children}
    image, status = box.children[2], box.children[1]
    first = image.value
    sliders["certificate lifetime (days)"].value = 30
    assert ex.settings_["lifetime_days"] == 30 and image.value != first
    assert "leaf:" in status.value
    sliders["key policy: cdn.test"].value = "rotate"
    assert ex.settings_["key_policy"] == {"cdn.test": "rotate"}
    assert sliders["update speed ×"].continuous_update is False


def test_headline_says_n_a_for_users_a_dynamic_strategy_does_not_count():
    dyn = {"name": "dyn", "pin": "leaf_spki", "dynamic": {"on_stale": "fail_closed"}}
    for strategies in ([dyn, {"name": "leaf", "pin": "leaf_spki"}], [dyn]):
        head = Explorer(make(strategies=strategies)).update(strategy="dyn")
        assert np.isnan(head.users_ever_locked)
        text = str(head)
        assert text.startswith("dyn: n/a users ever locked, ") and "nan" not in text
        assert f"{head.locked_user_days:,.0f} locked user-days" in text
