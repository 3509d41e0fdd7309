"""The seven rules docs/model.md states for points an independent reimplementation found open.

One closed-form test per point, each derived by hand from the rule as docs/model.md words it
(the derivation is in each docstring), so that a change of behaviour fails here first:

1. the rotation count after a ``policy_schedule`` step (Server side, "Keys");
2. the ATS list a literal ``spki:`` pin joins (Pinning strategies, "Literal pins");
3. an expired own root with a served cross-sign (Clients, "Order of the checks");
4. an expired intermediate that is itself an anchor (same rule);
5. the hosts a fix strategy pins (Incident response, "A fix that learns");
6. a stolen key older than the first certificate (Attacks, "Stolen key, day by day");
7. a profile used before its start date (Server side, "Dates before a schedule").

Unless a test says otherwise the fleet has one release (``release_every_days`` beyond the
horizon): every user runs version 0, built on day 0, so a verdict is a 0/1 step per platform and
the expected shares need no adoption curve. The host renews every 60 days (validity 90, renewal
30 days before expiry): issuances on days 0, 60, 120, …, certificate i valid through 60i + 89.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from simlib.api import simulate
from simlib.errors import ScenarioWarning
from simlib.model import scenario_from_dict
from simlib.server.calendar import CertificateCalendar
from simlib.server.certificates import RealPki
from tests.conftest import G, make

T = 365
t = np.arange(T)
ONE_RELEASE = {"fleet.release_every_days": 400}
BOTH = {"fleet.platforms": {"android": {"share": 0.5}, "ios": {"share": 0.5}}}


def column(res, strategy: str, name: str) -> np.ndarray:
    ts = res.timeseries
    return ts[ts.strategy == strategy][name].to_numpy()


def locked_share(res, strategy: str, platform: str, share: float) -> np.ndarray:
    """Share of the platform's users locked on each day."""
    active = column(res, strategy, "active_users")
    return column(res, strategy, f"locked_users_{platform}") / (share * active)


def steps(*spans: tuple[int, int]) -> np.ndarray:
    """1 on the days of each inclusive span (first, last), 0 elsewhere."""
    out = np.zeros(T)
    for first, last in spans:
        out[first : last + 1] = 1.0
    return out


# ----------------------------------------------------------------------------- 1. rotation
def test_the_rotation_count_carries_over_a_policy_step():
    """``reuse`` until a step on 2025-02-01 (day 31) to ``rotate_every: 3``; renewal every
    20 days (validity 30, renew 10 before), so issuances on days 0, 20, 40, …

    The key counts its own uses, whatever the policy: key 1 serves days 0 and 20 (u = 2) under
    ``reuse``; day 40 is on/after the step, N = 3 and u = 2 < 3, so key 1 serves a third time;
    day 60 has u = 3 ≥ 3: key 2, which serves 60, 80, 100; key 3 from 120; … Key changes on
    60·j (j ≥ 1). (A count restarting at the step would keep key 1 on 40, 60, 80 and change
    on 100, 160, ….) A second host whose key already served 3 times when the step comes
    (step on day 50) changes at the first issuance on/after it, day 60.

    With the BASE fleet (releases every 14 days, built 3 days earlier), a ``leaf_spki``
    version k (built b_k) is locked on day t ⇔ b_k < R(t) = 60·⌊t/60⌋ and R(t) > 0, so the
    lockout rate is Σ_k x_k(t)·[0 < R(t) and b_k < R(t)], x_k the share on exactly version k.
    """
    host = {
        "name": "api.test",
        "ca": "ca1",
        "validity_days": 30,
        "renew_before_days": 10,
        "key_policy": "reuse",
        "policy_schedule": [{"from": "2025-02-01", "key_policy": {"rotate_every": 3}}],
    }
    late = {**host, "name": "late.test", "policy_schedule": [{**host["policy_schedule"][0]}]}
    late["policy_schedule"][0]["from"] = "2025-02-20"
    sc = make(
        hosts=[host, late], strategies=[{"name": "leaf", "pin": "leaf_spki", "hosts": ["api.test"]}]
    )
    cal = CertificateCalendar(sc)
    for name in ("api.test", "late.test"):
        items = cal.by_host[name]
        assert [it.day for it in items] == list(range(0, T, 20))
        changes = [it.day for prev, it in pairwise(items) if it.leaf_key != prev.leaf_key]
        assert changes == list(range(60, T, 60)), name

    r = np.arange(0, T, 14)
    b = np.where(r == 0, 0, r - 3)
    S = G(sc, t[None, :] - r[:, None])
    S[0] = 1.0
    x = S.copy()
    x[:-1] -= S[1:]
    R = 60 * (t // 60)
    expected = (x * ((R[None, :] > 0) & (b[:, None] < R[None, :]))).sum(axis=0)
    got = column(simulate(sc), "leaf", "lockout_rate")
    np.testing.assert_allclose(got, expected, atol=1e-12)


# ------------------------------------------------------------------------- 2. literal pins
def test_a_literal_pin_joins_the_ca_list_if_it_is_a_ca_key_else_the_strategys_own():
    """``leaf_spki`` (key rotated on day 60) with one literal ``spki:`` backup each; Android
    ("any") and iOS (ATS) half the users each; version 0 pins leaf key 1.

    * ``spki:`` ca1's root (a scenario CA key, in every built chain) → CA list. Android: the
      root matches any chain, never locked. ATS: leaf list {key 1} AND CA list {root 1}:
      locked from day 60, when key 1 leaves.
    * ``spki:`` ca2's root (a scenario CA key no chain contains) → CA list. Android: as leaf
      alone, locked from 60. ATS: the CA list never matches: locked from day 0.
    * an offline key (no scenario CA key) → the strategy's own list (leaf): as leaf alone on
      both, locked from day 60 (were it in the CA list, ATS would lock from day 0).
    * the SPKI of the host's own leaf key 2 (served days 60–119): it *is* that key, in the leaf
      list: version 0 pins keys 1 and 2, so it works until key 3 arrives — locked from 120 on
      both (an offline key would lock from 60).
    * ``intermediate_spki`` + an offline key → CA list: the intermediate matches, never locked.
    """
    sc0 = make({**ONE_RELEASE, **BOTH})
    cal = CertificateCalendar(sc0)
    real = RealPki.for_calendar(cal)
    root1 = real.spki_pin(cal.cas["ca1"].root_key)
    root2 = real.spki_pin(cal.cas["ca2"].root_key)
    leaf2 = real.spki_pin(cal.by_host["api.test"][1].leaf_key)
    offline = "A" * 43 + "="
    backups = {"root1": root1, "root2": root2, "offline": offline, "leaf2": leaf2}
    strategies = [
        {"name": name, "pin": "leaf_spki", "backup": [f"spki:{pin}"]}
        for name, pin in backups.items()
    ]
    strategies.append({"name": "int", "pin": "intermediate_spki", "backup": [f"spki:{offline}"]})
    res = simulate(make({**ONE_RELEASE, **BOTH}, strategies=strategies))
    from_60, from_0, never = steps((60, T - 1)), steps((0, T - 1)), steps()
    expected = {
        "root1": (never, from_60),
        "root2": (from_60, from_0),
        "offline": (from_60, from_60),
        "leaf2": (steps((120, T - 1)), steps((120, T - 1))),
        "int": (never, never),
    }
    for name, (android, ios) in expected.items():
        np.testing.assert_allclose(locked_share(res, name, "android", 0.5), android, atol=1e-12)
        np.testing.assert_allclose(locked_share(res, name, "ios", 0.5), ios, atol=1e-12)


# ------------------------------------------------------- 3. expired own root, cross-signed
CROSS = {
    **ONE_RELEASE,
    "cas[0].root_not_after": "2025-03-31",  # day 89: expired from day 90
    "cas[0].cross_signed_by": {"ca": "ca2", "until": "2025-09-30"},  # day 272
    "hosts[0].key_policy": "reuse",  # leaf pins never break: only the CA path matters
}


def test_an_expired_own_root_moves_apple_to_the_cross_signing_root():
    """ca1's root expires 2025-03-31 (day 89); ca1 is cross-signed by ca2 until 2025-09-30
    (day 272). Strategies: unpinned, and ``leaf_spki`` + ``ca:ca2`` (ATS: leaf list AND CA list
    {root 2}; the leaf key never changes).

    * Android ignores anchor expiry: root 1 stays the anchor, chain (I1, R1) all year: never
      locked, whichever strategy (the leaf matches "any").
    * iOS checks it: days 0–89 chain (I1, R1) — the CA list {R2} fails: locked; days 90–272 the
      built chain is (I1, R1 via the cross-certificate, R2): R2 matches, unlocked; from day 273
      the cross-certificate has expired too: no valid path, every iOS user locked, pinned or not.
    * a legacy client (OpenSSL 1.0.x) follows the served cross-certificate to R2 whatever R1's
      state: valid through day 272, refused from 273 although R1 is a trusted anchor on Android.
    """
    res = simulate(
        make(
            {**CROSS, **BOTH},
            strategies=[
                {"name": "none", "pin": "none"},
                {"name": "leaf+ca2", "pin": "leaf_spki", "backup": ["ca:ca2"]},
            ],
        )
    )
    never = steps()
    np.testing.assert_allclose(locked_share(res, "none", "android", 0.5), never, atol=1e-12)
    np.testing.assert_allclose(locked_share(res, "leaf+ca2", "android", 0.5), never, atol=1e-12)
    np.testing.assert_allclose(
        locked_share(res, "none", "ios", 0.5), steps((273, T - 1)), atol=1e-12
    )
    np.testing.assert_allclose(
        locked_share(res, "leaf+ca2", "ios", 0.5), steps((0, 89), (273, T - 1)), atol=1e-12
    )
    legacy = simulate(
        make(
            {**CROSS, "fleet.platforms": {"android": {"share": 1.0, "path_building": "legacy"}}},
            strategies=[{"name": "none", "pin": "none"}],
        )
    )
    np.testing.assert_allclose(
        column(legacy, "none", "lockout_rate"), steps((273, T - 1)), atol=1e-12
    )


# --------------------------------------------------- 4. expired intermediate as an anchor
def test_an_expired_intermediate_anchor_validates_only_where_anchor_expiry_is_ignored():
    """ca1 has I1 (not_after 2025-06-15, day 165) and I2; ``fixed`` selection issues from I1
    while it is active (days 0, 60, 120) and from I2 from day 180; the day-120 certificate is
    served on days 120–179, through I1 expired on days 166–179. From 2025-02-01 (day 31) every
    device trusts I1 as an anchor.

    * Android: on 31–179 the chain is (I1) — also on 166–179, anchor expiry being ignored —
      so unpinned users are never locked, a root pin fails on 31–179 (R1 is cut out of the
      chain) and an intermediate pin never fails until I2 serves (day 180: v0 pins I1).
    * iOS: the expired anchor is refused on 166–179 and every other path runs through the
      expired I1: no valid chain, everyone locked there; otherwise as on Android.
    """
    sc = make(
        {
            **ONE_RELEASE,
            **BOTH,
            "cas[0].intermediates": [{"name": "I1", "not_after": "2025-06-15"}, {"name": "I2"}],
        },
        events=[{"type": "trust_store_change", "date": "2025-02-01", "add": ["ca1/I1"]}],
        strategies=[
            {"name": "none", "pin": "none"},
            {"name": "root", "pin": "root_spki"},
            {"name": "int", "pin": "intermediate_spki"},
        ],
    )
    assert [(it.day, it.intermediate) for it in CertificateCalendar(sc).by_host["api.test"]][
        :4
    ] == [(0, "I1"), (60, "I1"), (120, "I1"), (180, "I2")]
    res = simulate(sc)
    expected = {
        ("none", "android"): steps(),
        ("none", "ios"): steps((166, 179)),
        ("root", "android"): steps((31, 179)),
        ("root", "ios"): steps((31, 179)),
        ("int", "android"): steps((180, T - 1)),
        ("int", "ios"): steps((166, T - 1)),
    }
    for (name, platform), want in expected.items():
        np.testing.assert_allclose(locked_share(res, name, platform, 0.5), want, atol=1e-12)


# ------------------------------------------------------------------- 5. fix strategy hosts
@pytest.mark.parametrize(
    ("fix_hosts", "fix_protects"), [(None, True), (["api.test"], False)], ids=["all", "api"]
)
def test_a_fix_pins_the_hosts_its_fix_strategy_names(fix_hosts, fix_protects):
    """Two hosts: api.test re-keys on day 60, cdn.test reuses its key. The strategy pins the
    leaf key of api.test only; the fix strategy pins roots, on the hosts it names (``hosts``
    omitted: every host). ``rogue_ca`` targets the weakest host, so only pins on both hosts
    protect.

    Day 60: version 0 is locked (detected; the newest release fails); fix built on 61,
    released on 63, adopted by lag: share on the fix G(t − 63) for t ≥ 63. Version 0 stays
    locked (it pins api.test's key 1). So lockout = 1 on 60–62, 1 − G(t − 63) from 63,
    0 before 60. Before 60, cdn.test is unpinned: exposed 1. From 63, fix users are protected
    iff the fix pins cdn.test too: protected G(t − 63), exposed 0 (fix on every host); or
    protected 0, exposed G(t − 63) (fix on api.test only). One fix: nothing later locks a fix.
    """
    hosts = [
        {"name": n, "ca": "ca1", "validity_days": 90, "renew_before_days": 30, "key_policy": p}
        for n, p in (("api.test", "rotate"), ("cdn.test", "reuse"))
    ]
    fix = {"name": "fix", "pin": "root_spki"}
    if fix_hosts is not None:
        fix["hosts"] = fix_hosts
    sc = make(
        ONE_RELEASE,
        hosts=hosts,
        strategies=[{"name": "leaf api", "pin": "leaf_spki", "hosts": ["api.test"]}],
        attacks=["rogue_ca"],
        incident_response={
            "threshold": 0.001,
            "detect_days": 1,
            "review_days": 2,
            "fix_strategy": fix,
        },
    )
    res = simulate(sc)
    assert res.summary.set_index("strategy").loc["leaf api", "fix_releases"] == 1
    on_fix = np.where(t >= 63, G(sc, t - 63), 0.0)
    locked = np.where(t < 60, 0.0, 1.0 - on_fix)
    np.testing.assert_allclose(column(res, "leaf api", "lockout_rate"), locked, atol=1e-12)
    protected = on_fix if fix_protects else np.zeros(T)
    exposed = np.where(t < 60, 1.0, 0.0) + (0.0 if fix_protects else on_fix)
    np.testing.assert_allclose(column(res, "leaf api", "protected_rogue_ca"), protected, atol=1e-12)
    np.testing.assert_allclose(column(res, "leaf api", "exposed_rogue_ca"), exposed, atol=1e-12)


# --------------------------------------------------------------------- 6. stolen old keys
@pytest.mark.parametrize(("first_issued", "first_day"), [(None, 0), ("2024-12-01", -31)])
def test_a_stolen_key_older_than_the_first_certificate_is_the_first_ones(first_issued, first_day):
    """``stolen_leaf_key`` with ``key_age_days: 100``; the first issuance is on day f (0, or
    −31 with ``first_issued: 2024-12-01``), then f + 60, f + 120, …; certificate i valid
    through f + 60i + 89.

    On day t the attacker holds the certificate served on t − 100, or the first one when
    t − 100 < f. That first certificate is valid through f + 89: exposed (unpinned) on
    0…f + 89. From t − 100 ≥ f on, the certificate held (issued f + 60i ≤ t − 100) expired
    on f + 60i + 89 < t: protected. So an unpinned app is exposed exactly on days 0…f + 89 and
    protected after; a ``leaf_spki`` app pins key 1, which accepts the stolen first key, and is
    exposed until it is locked by the day-(f + 60) rotation, on 0…f + 59.
    (Were the attack impossible before the first certificate, both would be protected.)
    """
    over = dict(ONE_RELEASE)
    if first_issued is not None:
        over["hosts[0].first_issued"] = first_issued
    sc = make(
        over,
        strategies=[{"name": "none", "pin": "none"}, {"name": "leaf", "pin": "leaf_spki"}],
        attacks=[{"name": "stolen_leaf_key", "key_age_days": 100}],
    )
    assert [it.day for it in CertificateCalendar(sc).by_host["api.test"]][:2] == [
        first_day,
        first_day + 60,
    ]
    res = simulate(sc)
    f = first_day
    exposed = steps((0, f + 89))
    np.testing.assert_allclose(column(res, "none", "exposed_stolen_leaf_key"), exposed, atol=1e-12)
    np.testing.assert_allclose(
        column(res, "none", "protected_stolen_leaf_key"), 1.0 - exposed, atol=1e-12
    )
    np.testing.assert_allclose(
        column(res, "leaf", "exposed_stolen_leaf_key"), steps((0, f + 59)), atol=1e-12
    )
    np.testing.assert_allclose(column(res, "leaf", "protected_stolen_leaf_key"), 0.0, atol=1e-12)


# ------------------------------------------------------------ 7. profile before its start
def _shorthand(start: str, end: str, **host) -> CertificateCalendar:
    sc = scenario_from_dict(
        {
            "name": "profile",
            "start": start,
            "end": end,
            "fleet": {
                "users": 100,
                "release_every_days": 400,
                "adoption": {"components": [{"weight": 1, "mean_lag_days": 5}]},
                "platforms": {"android": 1.0},
            },
            "hosts": [{"name": "api.test", "ca": "letsencrypt", **host}],
            "strategies": [{"name": "none", "pin": "none"}],
        }
    )
    return CertificateCalendar(sc)


def test_a_profile_before_its_first_step_has_its_first_lifetime():
    """validity-caps.csv: ``letsencrypt-shortlived`` starts 2026-01-15 at 6 days,
    ``letsencrypt-tlsserver`` 2025-01-09 at 90. Before that step the profile is assumed
    available with its first lifetime: shortlived from 2025-06-01 issues 6-day certificates,
    renewed after ⌊6·2/3⌋ = 4 days: issuances on days 0, 4, 8, …, 44 over 45 days;
    tlsserver over 2024 issues 90-day certificates every ⌊90·2/3⌋ = 60 days: 0, 60, 120, 180.
    """
    with pytest.warns(ScenarioWarning, match="shortlived is documented from 2026-01-15"):
        cal = _shorthand("2025-06-01", "2025-07-15", profile="shortlived")
    assert [(it.day, it.lifetime_days) for it in cal.issuances] == [(d, 6) for d in range(0, 45, 4)]
    with pytest.warns(ScenarioWarning, match="tlsserver is documented from 2025-01-09"):
        cal = _shorthand("2024-06-01", "2024-12-31", profile="tlsserver")
    assert [(it.day, it.lifetime_days) for it in cal.issuances] == [
        (d, 90) for d in range(0, 214, 60)
    ]


def test_issuances_before_start_get_the_profile_lifetime_of_their_issue_day():
    """The shorthand resolves a profile from the first issue day: ``classic`` is 90 days until
    2027-02-09 and 64 from 2027-02-10. With start 2027-03-01 and first_issued 2027-01-01
    (day −59) the first certificate gets 90 days (in force on its issue day), renewed after
    ⌊90·2/3⌋ = 60 days, on day 1 (2027-03-02, after the step): 64 days from then on, renewed
    every ⌊64·2/3⌋ = 42 days: issuances on −59, 1, 43, 85.
    """
    cal = _shorthand("2027-03-01", "2027-06-30", profile="classic", first_issued="2027-01-01")
    assert [(it.day, it.lifetime_days) for it in cal.issuances] == [
        (-59, 90),
        *((d, 64) for d in range(1, 122, 42)),
    ]
