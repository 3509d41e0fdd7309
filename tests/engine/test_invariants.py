"""Hypothesis invariants of the engine over random scenarios."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.api import simulate
from tests.conftest import make

ATTACKS = ["rogue_ca", "same_ca_misissuance", "user_installed_ca", "stolen_leaf_key"]
LEVELS = ["leaf_cert", "leaf_spki", "intermediate_spki", "root_spki"]
BACKUPS = ["next_key", "ca:ca2", "intermediates:ca1", "intermediates:ca2", "ca:ca1"]


@st.composite
def scenarios(draw, ios_client=None):
    validity = draw(st.integers(10, 200))
    overrides = {
        "end": "2025-09-30",
        "seed": draw(st.integers(0, 10**6)),
        "fleet.release_every_days": draw(st.integers(3, 30)),
        "fleet.build_lead_days": draw(st.integers(0, 10)),
        "fleet.adoption.never_update_share": draw(st.floats(0, 0.3)),
        "hosts[0].validity_days": validity,
        "hosts[0].renew_before_days": draw(st.integers(1, validity - 1)),
        "hosts[0].key_policy": draw(st.sampled_from(["reuse", "rotate", {"rotate_every": 2}])),
        "hosts[0].pregenerate_next_key": True,
        "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}],
        "cas[0].selection": draw(st.sampled_from(["fixed", "random", "round_robin"])),
        "fleet.platforms": {
            "android": 0.5,
            "ios": {
                "share": 0.5,
                "client": ios_client or draw(st.sampled_from(["ats", "trustkit"])),
            },
        },
    }
    if draw(st.booleans()):
        overrides["fleet.new_installs"] = {"per_day": draw(st.floats(0, 50))}
    events = []
    if draw(st.booleans()):
        events.append(
            {
                "type": "ca_migration",
                "date": "2025-05-01",
                "to": "ca2",
                "when": draw(st.sampled_from(["immediate", "next_renewal"])),
            }
        )
    if draw(st.booleans()):
        events.append(
            {
                "type": "trust_store_change",
                "date": "2025-04-01",
                "share": draw(st.floats(0.1, 1.0)),
                "add": ["ca1/I1"],
            }
        )
    level = draw(st.sampled_from(LEVELS))
    backups = draw(st.lists(st.sampled_from(BACKUPS), unique=True, max_size=3))
    expires = draw(st.one_of(st.none(), st.integers(1, 300)))
    return overrides, events, level, backups, expires


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_shares_in_unit_interval_and_sum_to_one(args):
    overrides, events, level, backups, expires = args
    sc = make(
        overrides,
        events=events,
        attacks=ATTACKS,
        strategies=[
            {"name": "s", "pin": level, "backup": backups, "expires_after_days": expires},
            {"name": "none", "pin": "none"},
        ],
    )
    ts = simulate(sc).timeseries
    assert ts["lockout_rate"].between(-1e-12, 1 + 1e-12).all()
    for a in ATTACKS:
        assert ts[f"protected_{a}"].between(-1e-12, 1 + 1e-12).all()
        assert ts[f"exposed_{a}"].between(-1e-12, 1 + 1e-12).all()
        np.testing.assert_allclose(
            ts["lockout_rate"] + ts[f"protected_{a}"] + ts[f"exposed_{a}"], 1.0, atol=1e-9
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(ios_client="trustkit"), st.sampled_from(BACKUPS))
def test_adding_a_backup_pin_never_increases_lockout(args, extra):
    """Holds wherever any certificate of the chain may match (Android, OkHttp, TrustKit). Apple
    ATS is the documented exception: a first CA pin next to leaf pins adds an AND condition
    (tests/test_clients.py)."""
    overrides, events, level, backups, expires = args
    more = sorted({*backups, extra})
    sc = make(
        overrides,
        events=events,
        strategies=[
            {"name": "a", "pin": level, "backup": backups, "expires_after_days": expires},
            {"name": "b", "pin": level, "backup": more, "expires_after_days": expires},
        ],
    )
    ts = simulate(sc).timeseries
    a = ts[ts.strategy == "a"]["lockout_rate"].to_numpy()
    b = ts[ts.strategy == "b"]["lockout_rate"].to_numpy()
    assert (b <= a + 1e-12).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 10**6), st.integers(2, 10**4))
def test_scaling_users_scales_counts_not_rates(args, users, factor):
    overrides, events, level, backups, expires = args
    strategies = [{"name": "s", "pin": level, "backup": backups, "expires_after_days": expires}]
    small = simulate(
        make({**overrides, "fleet.users": users}, events=events, strategies=strategies)
    )
    big = simulate(
        make(
            {
                **overrides,
                "fleet.users": users * factor,
                **(
                    {
                        "fleet.new_installs": {
                            "per_day": overrides["fleet.new_installs"]["per_day"] * factor
                        }
                    }
                    if "fleet.new_installs" in overrides
                    else {}
                ),
            },
            events=events,
            strategies=strategies,
        )
    )
    np.testing.assert_allclose(
        big.timeseries["lockout_rate"], small.timeseries["lockout_rate"], rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        big.timeseries["locked_users"],
        factor * small.timeseries["locked_users"],
        rtol=1e-9,
        atol=1e-6,
    )
