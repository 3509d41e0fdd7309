"""Monte Carlo: agreement with expected mode, determinism, per-user durations."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.engine.montecarlo import MonteCarlo, child
from simlib.results.montecarlo import monte_carlo
from tests.conftest import make

ATTACKS = ["rogue_ca", "user_installed_ca"]
STRATEGIES = [
    {"name": "leaf", "pin": "leaf_spki"},
    {"name": "int", "pin": "intermediate_spki"},
    {"name": "next", "pin": "leaf_spki", "backup": ["next_key"]},
]
SMALL = {
    "fleet.users": 500,
    "fleet.platforms": {"android": 0.5, "ios": 0.5},
    "fleet.new_installs": {"per_day": 2},
    "hosts[0].pregenerate_next_key": True,
    "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}],
    "cas[0].selection": "random",
}


def within_3_se(mc_rows, expected, metric):
    for name, g in mc_rows.groupby("strategy"):
        values = g[metric].to_numpy()
        se = values.std(ddof=1) / np.sqrt(len(values))
        want = float(expected.loc[name, metric])
        if se == 0:
            assert values.mean() == pytest.approx(want, abs=1e-9), (name, metric)
        else:
            assert abs(values.mean() - want) <= 3 * se, (name, metric, values.mean(), want, se)


def test_mean_agrees_with_expected_mode():
    sc = make(SMALL, strategies=STRATEGIES, attacks=ATTACKS)
    expected = simulate(sc).summary.set_index("strategy")
    rows = monte_carlo(sc, 300, seed=11).replications
    for metric in (
        "locked_user_days",
        "mean_lockout_rate",
        "mean_protected_rogue_ca",
        "mean_protected_user_installed_ca",
    ):
        within_3_se(rows, expected, metric)


def test_durations_agree_with_expected_distribution():
    sc = make(SMALL | {"fleet.new_installs": None}, strategies=STRATEGIES)
    res = simulate(sc)
    rows = monte_carlo(sc, 300, seed=5).replications
    for name in ("leaf", "next"):
        d = res.outage_durations(name)
        ever = rows[rows.strategy == name]["outage_spells"].to_numpy()
        se = ever.std(ddof=1) / np.sqrt(len(ever))
        assert abs(ever.mean() - d["spells"].sum()) <= 3 * se + 1e-9
        mean = (d["duration_days"] * d["spells"]).sum() / d["spells"].sum()
        got = rows[rows.strategy == name]["mean_outage_days"].mean()
        assert got == pytest.approx(mean, rel=0.05)


def test_resampled_calendars_agree_with_expected_mode_per_calendar():
    """With server_draws=resample each replication draws its own calendar; its expected value
    is what the replication estimates, so the mean difference is within 3 standard errors."""
    sc = make(SMALL, strategies=STRATEGIES)
    mc = MonteCarlo(sc, server_draws="resample")
    root = np.random.SeedSequence(2)
    diffs = []
    calendars = set()
    for r in range(120):
        seed = child(root, r)
        rows, _ = mc.replicate(seed)
        exp = simulate(sc, seed=child(seed, 0)).summary.set_index("strategy")
        calendars.add(tuple(exp["lockout_events"]))
        diffs.append(
            [row["locked_user_days"] - exp.loc[row["strategy"], "locked_user_days"] for row in rows]
        )
    diffs = np.array(diffs)
    assert len(calendars) > 1  # the calendars really differ
    se = diffs.std(axis=0, ddof=1) / np.sqrt(len(diffs))
    assert (np.abs(diffs.mean(axis=0)) <= 3 * se + 1e-9).all()


def test_same_seed_same_rows_any_order():
    sc = make(SMALL, strategies=STRATEGIES)
    root = np.random.SeedSequence(9)
    a = MonteCarlo(sc)
    b = MonteCarlo(sc)
    forward = [a.replicate(child(root, r))[0] for r in range(4)]
    backward = [b.replicate(child(root, r))[0] for r in reversed(range(4))][::-1]
    assert forward == backward


def test_dynamic_panel_agrees_with_expected_mode():
    sc = make(
        {
            **SMALL,
            "fleet.users": 300,
            "end": "2025-06-29",
            "hosts[0].validity_days": 200,
            "hosts[0].renew_before_days": 100,
        },
        strategies=[
            {
                "name": "dyn",
                "pin": "leaf_spki",
                "dynamic": {"refresh_days": 3, "fetch_success": 0.5, "publish_ahead_days": 0},
            }
        ],
        monte_carlo={"panel_users": 300},
    )
    expected = simulate(sc).summary.set_index("strategy")
    rows = monte_carlo(sc, 200, seed=4).replications
    assert expected.loc["dyn", "locked_user_days"] > 0
    within_3_se(rows, expected, "locked_user_days")
    assert (rows["users_ever_locked"] > 0).any()


def test_summary_has_quantiles():
    sc = make(SMALL, strategies=STRATEGIES)
    res = monte_carlo(sc, 20, seed=1)
    s = res.summary
    assert {"mean", "se", "p5", "p50", "p95"} <= set(s.columns)
    row = s[(s.strategy == "leaf") & (s.metric == "locked_user_days")].iloc[0]
    assert row.p5 <= row.p50 <= row.p95 and row.replications == 20
    assert len(res.timeseries) == 3 * sc.days
