"""Legacy path building (OpenSSL 1.0.x): follow the served chain to its end, against closed forms.

ca1 (root + I1) is cross-signed by ca2 (the DST Root CA X3 stand-in) and the cross-certificate is
served. BASE dates: 2025-06-01 is day 151, 2025-10-01 day 273.
"""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.clients.trust import TrustModel, client_kinds
from simlib.errors import ScenarioError
from simlib.server.calendar import CertificateCalendar
from tests.conftest import make

T, JUN1, OCT1 = 365, 151, 273
CROSS = {"cas[0].cross_signed_by": {"ca": "ca2", "until": "2025-09-30"}}
DST_EXPIRES = {**CROSS, "cas[1].root_not_after": "2025-05-31"}
STRATEGIES = [{"name": "none", "pin": "none"}, {"name": "root", "pin": "root_spki"}]


def rate(res, name):
    ts = res.timeseries
    return ts[ts.strategy == name]["lockout_rate"].to_numpy()


def test_cross_signing_root_expiry_breaks_legacy_clients_only():
    """DST expires on 05-31 while the cross-certificate is valid to 09-30. First-anchor clients
    stop at ca1's root and never notice; legacy clients (60 % of users) reach ca2's root and
    fail from 06-01 under every strategy, no pinning included — although ca1's root is trusted."""
    sc = make(
        {
            **DST_EXPIRES,
            "fleet.platforms": {"android": {"share": 0.6, "path_building": "legacy"}, "ios": 0.4},
        },
        strategies=STRATEGIES,
    )
    res = simulate(sc)
    t = np.arange(T)
    for name in ("none", "root"):
        np.testing.assert_allclose(rate(res, name), np.where(t < JUN1, 0.0, 0.6), atol=1e-12)
    plain = simulate(
        make(
            {**DST_EXPIRES, "fleet.platforms": {"android": 0.6, "ios": 0.4}}, strategies=STRATEGIES
        )
    )
    assert rate(plain, "none").max() == 0.0  # Android ignores anchor expiry; iOS stops at ca1


def test_expired_cross_certificate_fails_although_a_shorter_path_exists():
    """No root expires; the served cross-certificate expires on 09-30. From 10-01 legacy
    clients fail (the chain ends at the expired cross-sign), first-anchor clients do not."""
    legacy = {"fleet.platforms": {"android": {"share": 1.0, "path_building": "legacy"}}}
    res = simulate(make({**CROSS, **legacy}, strategies=STRATEGIES))
    t = np.arange(T)
    np.testing.assert_array_equal(rate(res, "none"), np.where(t < OCT1, 0.0, 1.0))
    assert rate(simulate(make(CROSS, strategies=STRATEGIES)), "none").max() == 0.0


def test_legacy_device_group_from_a_trust_store_change():
    """30 % of Android devices build legacy paths from 03-01: only they fail after DST expires."""
    events = [
        {
            "type": "trust_store_change",
            "date": "2025-03-01",
            "share": 0.3,
            "path_building": "legacy",
        }
    ]
    res = simulate(make(DST_EXPIRES, strategies=STRATEGIES, events=events))
    t = np.arange(T)
    np.testing.assert_allclose(rate(res, "none"), np.where(t < JUN1, 0.0, 0.3), atol=1e-12)


def test_legacy_chain_contents_and_intermediate_anchor():
    """The legacy chain runs I1 → ca1 (cross) → ca2; an intermediate trusted as an anchor does
    not cut it short (no partial chains), while first-anchor path building stops there."""
    events = [{"type": "trust_store_change", "date": "2025-03-01", "add": ["ca1/I1"]}]
    for platforms, expect in (
        ({"android": {"share": 1.0, "path_building": "legacy"}}, "legacy"),
        ({"android": 1.0}, "first"),
    ):
        cal = CertificateCalendar(make({**CROSS, "fleet.platforms": platforms}, events=events))
        trust = TrustModel(cal)
        (kind,) = client_kinds(cal.scenario)
        keys, other = cal.cas["ca1"], cal.cas["ca2"]
        path, ok = trust.path(kind, "ca1", "I1", 0, 100)
        assert ok
        if expect == "legacy":
            assert path == (keys.int_keys["I1"], keys.root_key, other.root_key)
        else:
            assert path == (keys.int_keys["I1"],)


def test_path_building_is_checked():
    with pytest.raises(ScenarioError, match="path_building"):
        make({"fleet.platforms": {"android": {"share": 1.0, "path_building": "openssl"}}})
    make(events=[{"type": "trust_store_change", "date": "2025-03-01", "path_building": "legacy"}])
