"""CT enforcement and CT monitoring: exposure user-days per attack instance against closed forms.

The scenario: 1000 users (android 400, ios 600), no new installs, a 90-day certificate issued on
day 0 and renewed on day 60, so inside the T = 30 days nothing renews and nobody is locked.
Unpinned, every active user is exposed to a rogue CA every day (E_p(t) = N_p); root-pinned,
nobody is. With no validity cap an attack started on day t0 runs to the end of the horizon
(n = T); monitoring stops it after W = D + R days, so a logged instance runs min(W, T − t0) days.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.api import simulate
from simlib.engine.ct_exposure import exposure_by_start_day
from simlib.engine.expected import run_expected
from simlib.errors import ScenarioError
from tests.conftest import make

T = 30
N = {"android": 400.0, "ios": 600.0}
t0 = np.arange(T)
STRATEGIES = [{"name": "none", "pin": "none"}, {"name": "root", "pin": "root_spki"}]
ATTACKS = ["rogue_ca", "same_ca_misissuance", "user_installed_ca", "stolen_leaf_key"]


def scenario(ct: dict | None = None, platforms: dict | None = None, **top):
    top = {"end": "2025-01-30", "strategies": STRATEGIES, "attacks": ATTACKS, **top}
    if ct is not None:
        top["monitoring"] = {"ct": ct}
    return make({"fleet.platforms": platforms or {"android": 0.4, "ios": 0.6}}, **top)


def row(res, strategy):
    s = res.summary
    return s[s["strategy"] == strategy].iloc[0]


def window(W: int, n: np.ndarray | int = T) -> np.ndarray:
    """Days an instance started on t0 runs: min(t0 + W, n) − t0."""
    return np.minimum(t0 + W, n) - t0


def test_unpinned_blocklist_closes_the_window_after_detection_and_response() -> None:
    res = simulate(scenario({"detection_days": 3, "response_days": 2, "response": "blocklist"}))
    r = row(res, "none")
    # mean_t0 min(5, 30 − t0) = (26·5 + 4 + 3 + 2 + 1) / 30 = 140/30
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(1000 * 140 / 30, rel=1e-12)
    # without monitoring it runs to the horizon's end: mean_t0 (30 − t0) = 15.5
    assert r["exposure_user_days_ct_only_rogue_ca"] == pytest.approx(1000 * 15.5, rel=1e-12)
    assert r["exposure_user_days_same_ca_misissuance"] == pytest.approx(1000 * 140 / 30)


def test_pins_remove_the_rest_and_the_difference_is_what_pins_add() -> None:
    res = simulate(scenario({"detection_days": 3, "response_days": 2}))
    assert row(res, "root")["exposure_user_days_rogue_ca"] == 0.0
    assert row(res, "root")["exposure_user_days_ct_only_rogue_ca"] == 0.0
    added = (
        row(res, "none")["exposure_user_days_rogue_ca"]
        - row(res, "root")["exposure_user_days_rogue_ca"]
    )
    assert added == pytest.approx(1000 * 140 / 30)


def test_kill_switch_reaches_everyone_like_a_blocklist() -> None:
    a = row(
        simulate(scenario({"detection_days": 1, "response_days": 0, "response": "kill_switch"})),
        "none",
    )
    # W = 1: every instance runs exactly one day
    assert a["exposure_user_days_rogue_ca"] == pytest.approx(1000.0)


def test_revocation_reaches_only_clients_that_check_it() -> None:
    ct = {"detection_days": 3, "response_days": 2, "response": "revocation"}
    # world data: neither platform checks revocation (assumption) — monitoring changes nothing
    r = row(simulate(scenario(ct)), "none")
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(1000 * 15.5)
    r = row(simulate(scenario({**ct, "revocation_share": {"ios": 1.0}})), "none")
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(600 * 140 / 30 + 400 * 15.5)
    r = row(simulate(scenario({**ct, "revocation_share": {"ios": 0.5}})), "none")
    want = 600 * (15.5 - 0.5 * (15.5 - 140 / 30)) + 400 * 15.5
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(want)


def test_an_unlogged_certificate_is_rejected_where_ct_is_enforced() -> None:
    ct = {"detection_days": 3, "response_days": 2, "logged_share": 0.0}
    r = row(simulate(scenario(ct)), "none")
    # iOS enforces CT (issued after 2018-10-15): only Android users, for the whole horizon
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(400 * 15.5)
    assert r["exposure_user_days_ct_only_rogue_ca"] == pytest.approx(400 * 15.5)
    mixed = row(simulate(scenario({**ct, "logged_share": 0.25})), "none")
    want = 0.25 * 1000 * 140 / 30 + 0.75 * 400 * 15.5
    assert mixed["exposure_user_days_rogue_ca"] == pytest.approx(want)
    assert mixed["exposure_user_days_ct_only_rogue_ca"] == pytest.approx(
        0.25 * 1000 * 15.5 + 0.75 * 400 * 15.5
    )


def test_an_android_only_app_that_does_not_opt_in_sees_no_logged_attack() -> None:
    """Nobody enforces CT, so by default the attacker does not log and monitoring sees nothing."""
    ct = {"detection_days": 3, "response_days": 2}
    sc = scenario(ct, platforms={"android": 1.0})
    r = row(simulate(sc), "none")
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(1000 * 15.5)
    opted = scenario({**ct, "enforcing_share": {"android": 1.0}}, platforms={"android": 1.0})
    r = row(simulate(opted), "none")
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(1000 * 140 / 30)


def test_ct_applies_to_certificates_issued_after_the_apple_date() -> None:
    """An iOS-only fleet from 2018-10-10: days 0–5 (up to 2018-10-15) are not enforced."""
    sc = scenario(
        {"detection_days": 0, "response_days": 0, "logged_share": 0.0},
        start="2018-10-10",
        end="2018-10-19",
        platforms={"ios": 1.0},
    )
    x = exposure_by_start_day(sc, *_series(sc, "none"), "rogue_ca")
    days = np.arange(10)
    want = np.where(days <= 5, 1000.0 * (10 - days), 0.0)
    np.testing.assert_allclose(x.monitored, want)
    np.testing.assert_allclose(x.ct_only, want)


def test_the_validity_cap_ends_an_undetected_attack() -> None:
    cap = [{"from": "2024-01-01", "max_days": 10}]
    r = row(simulate(scenario({"detection_days": 3, "response_days": 2}, validity_cap=cap)), "none")
    # mean_t0 min(10, 30 − t0) = (21·10 + 9 + … + 1) / 30 = 8.5
    assert r["exposure_user_days_ct_only_rogue_ca"] == pytest.approx(1000 * 8.5)
    assert r["exposure_user_days_rogue_ca"] == pytest.approx(1000 * 140 / 30)


def test_attacks_ct_does_not_see_keep_their_whole_window() -> None:
    r = row(simulate(scenario({"detection_days": 0, "response_days": 0})), "none")
    # a user-installed root: iOS only (Android apps ignore user CAs), never logged
    assert r["exposure_user_days_user_installed_ca"] == pytest.approx(600 * 15.5)
    assert r["exposure_user_days_ct_only_user_installed_ca"] == pytest.approx(600 * 15.5)
    # the current key: its certificate is valid all horizon and already logged
    assert r["exposure_user_days_stolen_leaf_key"] == pytest.approx(1000 * 15.5)


def test_without_monitoring_the_outputs_are_unchanged() -> None:
    plain = simulate(scenario())
    watched = simulate(scenario({"detection_days": 3}))
    new = [c for c in watched.summary.columns if c.startswith("exposure_user_days_")]
    assert len(new) == 2 * len(ATTACKS)
    assert not any(c.startswith("exposure_user_days_") for c in plain.summary.columns)
    assert plain.summary.equals(watched.summary.drop(columns=new))
    assert plain.timeseries.equals(watched.timeseries)
    assert "monitoring" not in scenario().to_dict()


def test_exposure_matches_the_timeseries_exposed_users_with_locks() -> None:
    """With leaf-key pins the renewal on day 60 locks old versions: the exposure sums the
    timeseries' exposed users (active × exposed share) over each window (one platform)."""
    D, R = 4, 3
    sc = make(
        {"fleet.platforms": {"android": 1.0}},
        end="2025-04-30",
        strategies=[{"name": "leaf", "pin": "leaf_spki"}],
        attacks=["user_installed_ca", "stolen_leaf_key"],
        monitoring={"ct": {"detection_days": D, "response_days": R}},
    )
    res = simulate(sc)
    ts = res.timeseries
    Tn = sc.days
    e = (ts["active_users"] * ts["exposed_stolen_leaf_key"]).to_numpy()
    assert ts["lockout_rate"].max() > 0  # the check is not vacuous: some users are locked
    c = np.concatenate([[0.0], np.cumsum(e)])
    want = np.mean([c[Tn] - c[s] for s in range(Tn)])
    got = row(res, "leaf")["exposure_user_days_stolen_leaf_key"]
    assert got == pytest.approx(want, rel=1e-9)


def _series(sc, name):
    _sim, runs, active = run_expected(sc)
    return runs[name].series, active


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    d=st.integers(0, 40),
    r=st.integers(0, 40),
    logged=st.none() | st.floats(0, 1),
    response=st.sampled_from(["revocation", "blocklist", "kill_switch"]),
)
def test_monitoring_never_adds_exposure_and_shrinks_with_a_faster_response(
    d: int, r: int, logged: float | None, response: str
) -> None:
    ct = {"detection_days": d, "response_days": r, "logged_share": logged, "response": response}
    sc = scenario(ct)
    series, active = _series(sc, "none")
    x = exposure_by_start_day(sc, series, active, "rogue_ca")
    assert np.all(x.monitored <= x.ct_only + 1e-9)
    assert np.all(x.monitored >= 0)
    faster = scenario({**ct, "detection_days": max(0, d - 1)})
    y = exposure_by_start_day(faster, series, active, "rogue_ca")
    assert np.all(y.monitored <= x.monitored + 1e-9)


def test_bad_monitoring_input_is_one_clear_error() -> None:
    with pytest.raises(ScenarioError, match="monitoring"):
        scenario({"detection_days": -1})
    with pytest.raises(ScenarioError, match="response"):
        scenario({"response": "prayer"})
    with pytest.raises(ScenarioError, match="enforcing_share: unknown platform 'windows'"):
        scenario({"enforcing_share": {"windows": 1.0}})


def test_monte_carlo_reports_the_same_columns_including_dynamic_panels() -> None:
    """Replications (and the panel of a dynamic strategy, split by platform share) give the
    closed form: nothing is random for an unpinned app, nobody is exposed behind fresh pins."""
    sc = scenario(
        {"detection_days": 3, "response_days": 2},
        strategies=[
            {"name": "none", "pin": "none"},
            {"name": "dyn", "pin": "leaf_spki", "dynamic": {}},
        ],
        attacks=["rogue_ca"],
        monte_carlo={"panel_users": 1000},
    )
    mc = simulate(sc, mode="monte-carlo", replications=2).summary
    got = mc[mc["metric"] == "exposure_user_days_rogue_ca"].set_index("strategy")["mean"]
    assert got["none"] == pytest.approx(1000 * 140 / 30)
    assert got["dyn"] == pytest.approx(0.0, abs=1e-9)


def test_counting_locked_users_as_exposed_leaves_only_protection() -> None:
    """Leaf-key pins, T = 71, W = 5: the renewal on day 60 locks all 1000 users to the end
    (L(t) = 1000 for t ≥ 60), who were protected against a rogue CA on every day before. The
    locked users' exposure X' − X is, per instance, Σ_t0 |[t0, min(t0 + 5, 71)) ∩ [60, 71)| = 55
    user-days per user for a rogue CA and Σ_t0 |[t0, 71) ∩ [60, 71)| = 726 for a stolen key
    (nobody protected, so X' is the unpinned figure, Σ_t0 (71 − t0) = 2556)."""
    sc = scenario(
        {"detection_days": 3, "response_days": 2},
        platforms={"android": 0.5, "ios": 0.5},
        end="2025-03-12",
        strategies=[{"name": "leaf", "pin": "leaf_spki"}],
    )
    Tn = sc.days
    series, active = _series(sc, "leaf")
    assert Tn == 71 and list(series["locked"][55:]) == [0.0] * 5 + [1000.0] * 11
    rogue = exposure_by_start_day(sc, series, active, "rogue_ca")
    assert rogue.monitored.sum() == 0.0
    assert rogue.monitored_counting_locked.sum() == pytest.approx(1000 * 55)
    assert rogue.ct_only_counting_locked.sum() == pytest.approx(1000 * 726)
    key = exposure_by_start_day(sc, series, active, "stolen_leaf_key")
    assert key.monitored_counting_locked.sum() == pytest.approx(1000 * 2556)
    assert (key.monitored_counting_locked - key.monitored).sum() == pytest.approx(1000 * 726)
    assert np.array_equal(key.ct_only_counting_locked, key.monitored_counting_locked)
