"""Every preset's ``# Documented outcome:`` is a test of its own run (expected mode).

One test per preset; each assertion checks one claim of the sentence, stated in words next to
it, against the simulated result (breaks, lockout series, releases, issuances, incurable
days). The numbers are the ones the header prints, so a header and its run cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools

import numpy as np
import pandas as pd
import pytest

import simlib
from simlib.analysis.presets import header_notes, load_preset, preset, preset_names
from simlib.model import Scenario
from simlib.model.overrides import apply_overrides

CHECKED: set[str] = set()  # the presets this module tests, filled by @checks


def checks(name: str):
    """Mark a test as the outcome test of preset ``name`` (one per preset)."""

    def mark(test):
        assert name not in CHECKED, name
        CHECKED.add(name)
        return test

    return mark


@functools.cache
def run(name: str):
    return simlib.simulate(load_preset(name))


def variant(name: str, overrides: dict[str, object]):
    """The preset's run with ``overrides`` (from the scenario of :func:`run`)."""
    scenario: Scenario = apply_overrides(run(name).scenario, overrides)
    return simlib.simulate(scenario)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def series(res, strategy: str, column: str = "lockout_rate") -> pd.Series:
    ts = res.timeseries
    out = ts[ts.strategy == strategy].set_index("date")[column]
    out.index = [pd.Timestamp(t).date() for t in out.index]
    return out


def rate(res, strategy: str, day: str, column: str = "lockout_rate") -> float:
    return float(series(res, strategy, column)[d(day)])


def break_days(res, strategy: str) -> list[dt.date]:
    """The days ``strategy`` breaks (the summary's lockout events)."""
    return [res.scenario.date(int(t)) for t in np.flatnonzero(res.breaks(strategy))]


def never_locks(res, strategy: str) -> bool:
    """Nobody is locked out on any day (stronger than "no lockout event")."""
    return float(series(res, strategy).max()) == 0.0


def issued(res) -> pd.DataFrame:
    """Issuances within the horizon (renewals and moves), with plain dates."""
    iss = res.issuances.assign(date=[pd.Timestamp(t).date() for t in res.issuances.date])
    return iss[iss.date >= res.scenario.start].reset_index(drop=True)


def renewal_days(res) -> list[dt.date]:
    return list(issued(res).date)


def intermediate_changes(res) -> list[dt.date]:
    """Issuance days whose intermediate differs from the one served before."""
    iss = res.issuances
    days = [pd.Timestamp(t).date() for t in iss.date]
    return [
        days[i]
        for i in range(1, len(iss))
        if iss.intermediate.iloc[i] != iss.intermediate.iloc[i - 1]
        and days[i] >= res.scenario.start
    ]


def fixes(res, strategy: str) -> pd.DataFrame:
    rel = res.releases
    return rel[(rel.strategy == strategy) & (rel.kind == "fix")]


def gaps(days: list[dt.date]) -> list[int]:
    return [(b - a).days for a, b in itertools.pairwise(days)]


def test_every_preset_has_an_outcome_test_and_an_outcome() -> None:
    assert set(preset_names()) == CHECKED
    for name in preset_names():
        assert header_notes(preset(name).file).get("Documented outcome"), name


@checks("le-2024-random-intermediates")
def test_le_2024_random_intermediates() -> None:
    res = run("le-2024-random-intermediates")
    first_new = d("2024-07-18")
    # the first renewal from R10/R11 is on 2024-07-18
    iss = issued(res)
    assert iss[iss.intermediate.isin(["R10", "R11"])].date.min() == first_new
    # R3-pinned versions lock out everyone not yet on a version built after it (above 95 %)
    assert rate(res, "intermediate", "2024-07-17") == 0
    assert rate(res, "intermediate", "2024-07-18") > 0.95
    # after it, the serving-intermediate pin breaks exactly when the draw changes: 3 of the 6
    # later renewals (2024-11-15, 2025-03-15, 2025-05-14)
    later = [t for t in renewal_days(res) if t > first_new]
    assert len(later) == 6
    draws = [t for t in intermediate_changes(res) if t > first_new]
    assert draws == [d("2024-11-15"), d("2025-03-15"), d("2025-05-14")]
    assert break_days(res, "intermediate") == [first_new, *draws]
    # all intermediates (R10/R11 pinnable from 2024-03-19), root, root + backup CA and no
    # pinning never break
    for safe in ("all intermediates", "root", "root + backup CA", "no pinning"):
        assert never_locks(res, safe), safe
    # leaf-key pins break at every renewal (8 in all)
    assert break_days(res, "leaf key") == renewal_days(res)
    assert len(renewal_days(res)) == 8
    # modelling note: without the announcement, the versions built before 2024-06-06 pin only
    # R3 and about 16 % of users are locked out on 2024-07-18
    bare = variant(
        "le-2024-random-intermediates",
        {"cas[0].intermediates[1].announced": None, "cas[0].intermediates[2].announced": None},
    )
    assert break_days(bare, "all intermediates") == [first_new]
    assert rate(bare, "all intermediates", "2024-07-18") == pytest.approx(0.16, abs=0.01)


@checks("le-2025-intermediate-rotation")
def test_le_2025_rotation_and_gen_y() -> None:
    res = run("le-2025-intermediate-rotation")
    iss = issued(res)
    r12, gen_y = d("2025-09-17"), d("2026-07-14")
    # 2025-09-17 is the first renewal after 2025-08-20 (R10 -> R13), 2026-07-14 the first
    # after 2026-05-28 (R13 -> YR1)
    assert iss[iss.intermediate.isin(["R12", "R13"])].date.min() == r12
    assert iss[iss.ca == "letsencrypt-gen-y"].date.min() == gen_y
    assert [t for t in renewal_days(res) if d("2025-08-20") <= t < r12] == []
    assert [t for t in renewal_days(res) if d("2026-05-28") <= t < gen_y] == []
    # the serving-intermediate pin breaks exactly when the served intermediate changes: both
    # steps and the draws of 2025-07-19, 2026-01-15 and 2026-05-15 (5 breaks)
    steps = [d("2025-07-19"), r12, d("2026-01-15"), d("2026-05-15"), gen_y]
    assert intermediate_changes(res) == steps
    assert break_days(res, "intermediate") == steps
    for t in steps:  # every version built before each
        assert rate(res, "intermediate", t.isoformat()) > 0.95
    # "all intermediates" does not break at the R12/R13 step, breaks once at the Gen Y step
    # (above 95 % that day, below 10 % on 2026-09-30)
    assert break_days(res, "all intermediates") == [gen_y]
    assert series(res, "all intermediates")[: gen_y - dt.timedelta(days=1)].max() == 0
    assert rate(res, "all intermediates", "2026-07-14") > 0.95
    assert rate(res, "all intermediates", "2026-09-30") < 0.10
    # ISRG Root X1 root pins, root + Gen Y root and no pinning never break
    for safe in ("root", "root + Gen Y root", "no pinning"):
        assert never_locks(res, safe), safe
    # leaf-key pins break at every renewal (8)
    assert break_days(res, "leaf key") == renewal_days(res)
    assert len(renewal_days(res)) == 8


@checks("dst-root-x3-expiry-2021")
def test_dst_root_x3_expiry_is_a_trust_failure_not_a_pin_failure() -> None:
    res = run("dst-root-x3-expiry-2021")
    users = res.scenario.fleet.users
    # nothing fails on 2021-09-30 (leaf-key users locked since the 2021-08-19 renewal aside)
    for strategy in res.strategies:
        assert rate(res, strategy, "2021-09-30", "newly_locked_users") == 0, strategy
        if strategy != "leaf key":
            assert rate(res, strategy, "2021-09-30") == 0, strategy
    # from 2021-10-01 the iOS devices without X1 that check anchor expiry (2 % of iOS = 1 % of
    # users) fail under every strategy including no pinning
    assert rate(res, "no pinning", "2021-10-01", "locked_users_ios") == pytest.approx(
        0.01 * users, rel=1e-9
    )
    # Android without X1 (24 % of Android) keeps working: only the legacy path builders (5 % of
    # Android = 2.5 % of users) fail, X1 trusted or not
    assert rate(res, "no pinning", "2021-10-01", "locked_users_android") == pytest.approx(
        0.025 * users, rel=1e-9
    )
    # 3.5 % of users in all, to the end
    assert np.allclose(series(res, "no pinning")[d("2021-10-01") :], 0.035, rtol=1e-9, atol=0)
    # a trust failure, not a pin failure: X1, R3 and DST pins lock out exactly the users no
    # pinning does, every day
    unpinned = series(res, "no pinning").to_numpy()
    for strategy in ("root", "intermediate", "root + DST root"):
        assert np.allclose(series(res, strategy).to_numpy(), unpinned, rtol=0, atol=1e-12)
    # leaf-key pins break at each renewal (2021-08-19, 2021-10-18, 2021-12-17) besides the
    # expiry day
    assert renewal_days(res) == [d("2021-08-19"), d("2021-10-18"), d("2021-12-17")]
    assert break_days(res, "leaf key") == sorted([*renewal_days(res), d("2021-10-01")])


@checks("entrust-distrust-2024")
def test_entrust_distrust_forces_the_move_at_the_next_renewal() -> None:
    res = run("entrust-distrust-2024")
    moved = d("2025-01-22")
    # the host moves to DigiCert at its renewal after the distrust dates, on 2025-01-22
    iss = issued(res)
    assert list(iss.date) == [moved] and list(iss.ca) == ["digicert"]
    # nothing breaks on the distrust dates themselves (nor before the move)
    for strategy in res.strategies:
        assert series(res, strategy)[: moved - dt.timedelta(days=1)].max() == 0, strategy
    # leaf key, intermediate and Entrust-root pins lock out every version built before the
    # move, on Android and iOS alike (above 95 % that day), decaying as users update (about
    # 30 % on 2025-02-22)
    half = res.scenario.fleet.users / 2
    for broken in ("leaf key", "intermediate", "root"):
        assert break_days(res, broken) == [moved], broken
        assert rate(res, broken, "2025-01-22") > 0.95
        for column in ("locked_users_android", "locked_users_ios"):
            assert rate(res, broken, "2025-01-22", column) > 0.95 * half, (broken, column)
        assert rate(res, broken, "2025-02-22") == pytest.approx(0.30, abs=0.03)
        after = series(res, broken)[moved:].to_numpy()
        assert (np.diff(after) <= 1e-12).all()
    # root + backup CA (DigiCert) and no pinning never break
    for safe in ("root + backup CA", "no pinning"):
        assert never_locks(res, safe), safe
    # Apple's distrust is OS-wide, Chrome's does not reach Android apps on the platform
    # verifier: had the host renewed from Entrust, iOS users would be refused, Android not
    stay = variant("entrust-distrust-2024", {"events[0].replacement": None})
    assert rate(stay, "no pinning", "2025-01-22", "locked_users_ios") == pytest.approx(half)
    assert never_locks(stay, "no pinning") is False
    assert series(stay, "no pinning", "locked_users_android").max() == 0


@checks("acm-rekey-198d")
def test_acm_rekeys_every_renewal_60_then_45_days_before_expiry() -> None:
    res = run("acm-rekey-198d")
    renewals = [d("2026-04-01"), d("2026-09-01"), d("2027-02-01")]
    # the 395-day certificate of 2025-05-01 is renewed 60 days before expiry (after 335 days),
    # then every 198 - 45 = 153 days, each renewal a 198-day certificate
    assert renewal_days(res) == renewals
    assert gaps([d("2025-05-01"), *renewals]) == [395 - 60, 198 - 45, 198 - 45]
    assert list(issued(res).lifetime_days) == [198, 198, 198]
    # leaf-certificate and leaf-key pins break at each of the 3 renewals (ACM re-keys)
    for strategy in ("leaf cert", "leaf key"):
        assert break_days(res, strategy) == renewals, strategy
    # the serving-intermediate pin breaks exactly when the draw changes: here at all three
    assert [str(x) for x in res.issuances.intermediate] == [
        f"Amazon RSA 2048 M0{k}" for k in (3, 2, 1, 4)
    ]
    assert intermediate_changes(res) == renewals
    assert break_days(res, "intermediate") == intermediate_changes(res)
    # Amazon root pins, root + backup CA and no pinning never break
    for safe in ("root", "root + backup CA", "no pinning"):
        assert never_locks(res, safe), safe


@checks("sc081-2026-2029")
def test_sc081_schedule_multiplies_leaf_breaks() -> None:
    res = run("sc081-2026-2029")
    iss = res.issuances
    days = [pd.Timestamp(t).date() for t in iss.date]
    # the 398-day certificate of 2025-12-01 is renewed once, on 2026-08-23
    assert days[:2] == [d("2025-12-01"), d("2026-08-23")] and iss.lifetime_days.iloc[0] == 398
    # each certificate is renewed at 2/3 of its lifetime: 398 -> 265, 200 -> 133, 100 -> 66,
    # 47 -> 31 days
    interval = {398: 265, 200: 133, 100: 66, 47: 31}
    for life, gap in zip(iss.lifetime_days.iloc[:-1], gaps(days), strict=True):
        assert gap == interval[int(life)], (life, gap)
    assert set(iss.lifetime_days) == set(interval)
    # 1 renewal in 2026, 5 in 2027, 6 in 2028, 9 in 2029
    per_year = pd.Series([t.year for t in renewal_days(res)]).value_counts()
    assert [per_year[y] for y in (2026, 2027, 2028, 2029)] == [1, 5, 6, 9]
    # leaf-key pins break at every renewal (27 in all)
    assert break_days(res, "leaf key") == renewal_days(res)
    assert len(renewal_days(res)) == 27
    # with the next key pinned too the first renewal breaks nobody, each later one breaks only
    # users two or more rotations behind: a peak of about a third, in the 47-day years,
    # against 100 % for the leaf key alone
    assert rate(res, "leaf key + next key", "2026-08-23", "newly_locked_users") == 0
    assert break_days(res, "leaf key + next key") == renewal_days(res)[1:]
    s = res.summary.set_index("strategy")
    assert s.loc["leaf key + next key", "peak_lockout_rate"] == pytest.approx(1 / 3, abs=0.03)
    assert s.loc["leaf key + next key", "peak_date"] >= d("2029-05-11")  # first 47-day cert
    assert s.loc["leaf key", "peak_lockout_rate"] == pytest.approx(1.0)
    # root pins, root + backup CA and no pinning never break
    for safe in ("root", "root + backup CA", "no pinning"):
        assert never_locks(res, safe), safe


@checks("cert-manager-1.18-rotation-default")
def test_cert_manager_default_change_ends_key_reuse() -> None:
    res = run("cert-manager-1.18-rotation-default")
    renewals = renewal_days(res)
    upgraded = [t for t in renewals if t >= d("2025-06-10")]
    # renewals every 60 days; the key is reused at the 2025-04-21 renewal, no leaf-key lockout
    # before the upgrade
    assert set(gaps([d("2025-02-20"), *renewals])) == {60}
    iss = res.issuances
    assert iss.key_id.iloc[0] == iss.key_id.iloc[1] and renewals[0] == d("2025-04-21")
    assert series(res, "leaf key")[: upgraded[0] - dt.timedelta(days=1)].max() == 0
    # from the first renewal after the upgrade (2025-06-20) every renewal (5) locks out
    # everyone on a version built before it
    assert upgraded[0] == d("2025-06-20") and len(upgraded) == 5
    assert break_days(res, "leaf key") == upgraded
    for t in upgraded:
        assert rate(res, "leaf key", t.isoformat()) == pytest.approx(1.0)
    # leaf-certificate pins break at every renewal (6)
    assert break_days(res, "leaf cert") == renewals and len(renewals) == 6
    # the serving-intermediate pin breaks exactly when the issuing intermediate changes:
    # 2025-04-21 (R11 -> R10), 2025-10-18 (the first renewal after 2025-08-20, R12/R13),
    # 2025-12-17 and 2026-02-15
    changes = [d("2025-04-21"), d("2025-10-18"), d("2025-12-17"), d("2026-02-15")]
    assert intermediate_changes(res) == changes
    assert break_days(res, "intermediate") == changes
    by_day = dict(zip(issued(res).date, issued(res).intermediate, strict=True))
    assert by_day[d("2025-08-19")] in ("R10", "R11") and by_day[d("2025-10-18")] in ("R12", "R13")
    # pinning all four published intermediates and root pins never break
    for safe in ("all intermediates", "root", "no pinning"):
        assert never_locks(res, safe), safe


@checks("brave-2026-root-pin")
def test_brave_root_pin_breaks_on_android_and_the_fix_cures_it() -> None:
    res = run("brave-2026-root-pin")
    half = res.scenario.fleet.users / 2
    # no issuance on 2026-01-16
    assert d("2026-01-16") not in renewal_days(res)
    # from that day root-only pins lock out every Android user, and no iOS user
    assert rate(res, "root", "2026-01-15") == 0
    assert rate(res, "root", "2026-01-16", "locked_users_android") == pytest.approx(half)
    assert rate(res, "root", "2026-01-16") == pytest.approx(0.5)
    assert series(res, "root", "locked_users_ios").max() == 0
    # a fix (root + intermediates) is built on 2026-01-17 and released on 2026-01-19, so no
    # lockout day is incurable
    fix = fixes(res, "root")
    assert list(fix.build_date) == [d("2026-01-17")] and list(fix.release_date) == [d("2026-01-19")]
    assert res.summary.set_index("strategy").loc["root", "incurable_lockout_days"] == 0
    assert res.incurable_user_days()["root"] == 0
    # the lockout falls as Android users install it: about 10 % on 2026-02-19, below 2 % on
    # 2026-04-30
    assert rate(res, "root", "2026-02-19") == pytest.approx(0.10, abs=0.01)
    assert rate(res, "root", "2026-04-30") < 0.02
    falling = series(res, "root")[d("2026-01-16") :].to_numpy()
    assert (np.diff(falling) <= 1e-12).all()
    # root + intermediates, all intermediates and no pinning are unaffected
    for safe in ("root + intermediates", "all intermediates", "no pinning"):
        assert never_locks(res, safe), safe
    # leaf-key pins break at the 2026-01-19 renewal and, their fix pinning the intermediates,
    # not at the 2026-03-20 one
    assert renewal_days(res) == [d("2026-01-19"), d("2026-03-20")]
    assert break_days(res, "leaf key") == [d("2026-01-19")]
    # modelling note: without the fix strategy no fix ships and every lockout day (105) is
    # incurable, the Android half locked to the end
    bare = variant("brave-2026-root-pin", {"incident_response.fix_strategy": None})
    s = bare.summary.set_index("strategy")
    assert s.loc["root", "fix_releases"] == 0
    assert s.loc["root", "incurable_lockout_days"] == 105
    assert rate(bare, "root", "2026-04-30") == pytest.approx(0.5)


@checks("barclays-2016-intermediate")
def test_barclays_intermediate_retirement_and_slow_fix() -> None:
    res = run("barclays-2016-intermediate")
    never_updaters = res.scenario.fleet.adoption.never_update_share
    for broken in ("intermediate", "leaf key"):
        # from 2016-11-24 every user of a version pinning the retired intermediate (or the old
        # leaf key) is locked out
        assert break_days(res, broken) == [d("2016-11-24")], broken
        assert rate(res, broken, "2016-11-23") == 0
        assert rate(res, broken, "2016-11-24") == pytest.approx(1.0)
        # the fix is built 2016-11-25 and released 2016-12-16; until then nobody recovers
        fix = fixes(res, broken)
        assert list(fix.build_date) == [d("2016-11-25")]
        assert list(fix.release_date) == [d("2016-12-16")]
        assert rate(res, broken, "2016-12-15") == pytest.approx(1.0)
        # about 20 % still locked a month after the fix, the never-updaters to the end
        assert rate(res, broken, "2017-01-16") == pytest.approx(0.20, abs=0.02)
        assert rate(res, broken, "2017-03-31") >= never_updaters
    # root pins and no pinning never break and get no fix
    for safe in ("root", "no pinning"):
        assert never_locks(res, safe), safe
        assert fixes(res, safe).empty


@checks("le-gen-y-root-inclusion")
def test_gen_y_inclusion_assumption() -> None:
    res = run("le-gen-y-root-inclusion")
    # the whole case is an assumption, and says so
    assert "ASSUMPTION" in res.scenario.description
    # with no issuance that day, from 2027-01-01 ISRG Root X1 pins lock out the 50 % of users
    # whose devices got Root YR, on every version, to the end
    assert d("2027-01-01") not in renewal_days(res)
    root = series(res, "root")
    assert root[: d("2026-12-31")].max() == 0
    assert np.allclose(root[d("2027-01-01") :], 0.5, rtol=1e-9, atol=0)
    # root + Gen Y root and no pinning never break
    for safe in ("root + Gen Y root", "no pinning"):
        assert never_locks(res, safe), safe
    # leaf-key pins break at every renewal (7), every 60 days, then every 42 from the first
    # 64-day certificate (2027-02-10)
    renewals = renewal_days(res)
    assert break_days(res, "leaf key") == renewals and len(renewals) == 7
    first_64 = d("2027-02-10")
    assert first_64 in renewals
    before = [t for t in [d("2026-06-15"), *renewals] if t <= first_64]
    after = [t for t in renewals if t >= first_64]
    assert set(gaps(before)) == {60} and set(gaps(after)) == {42}
