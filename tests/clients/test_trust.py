"""Client kinds, path building and platform matching rules."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.clients.trust import TrustModel, client_kinds
from simlib.server.calendar import CertificateCalendar
from tests.conftest import make


def rate(res, name):
    ts = res.timeseries
    return ts[ts.strategy == name]["lockout_rate"].to_numpy()


class TestMatching:
    def test_ats_requires_leaf_and_ca_lists_to_match(self):
        """NSPinnedLeafIdentities AND NSPinnedCAIdentities: a leaf pin plus another CA's root
        as 'backup' locks every iOS (ATS) user; TrustKit and Android accept either pin."""
        strategies = [{"name": "leaf+ca2", "pin": "leaf_spki", "backup": ["ca:ca2"]}]
        ats = simulate(make({"fleet.platforms": {"ios": 1.0}}, strategies=strategies))
        assert rate(ats, "leaf+ca2").min() == pytest.approx(1.0)
        tk = simulate(
            make(
                {"fleet.platforms": {"ios": {"share": 1.0, "client": "trustkit"}}},
                strategies=strategies,
            )
        )
        android = simulate(make(strategies=strategies))
        np.testing.assert_allclose(rate(tk, "leaf+ca2"), rate(android, "leaf+ca2"), atol=1e-12)
        assert rate(android, "leaf+ca2")[:60].max() == 0.0

    def test_ats_ca_list_matches_any_non_leaf(self):
        strategies = [
            {"name": "root", "pin": "root_spki"},
            {"name": "int", "pin": "intermediate_spki"},
        ]
        ats = simulate(make({"fleet.platforms": {"ios": 1.0}}, strategies=strategies))
        assert rate(ats, "root").max() == 0.0 and rate(ats, "int").max() == 0.0

    def test_client_kinds_split_by_trust_store_changes(self):
        sc = make(
            {"fleet.platforms": {"android": 0.6, "ios": 0.4}},
            events=[
                {
                    "type": "trust_store_change",
                    "date": "2025-03-01",
                    "platforms": ["android"],
                    "share": 0.25,
                    "add": ["ca1/I1"],
                },
                {
                    "type": "trust_store_change",
                    "date": "2025-04-01",
                    "share": 0.5,
                    "remove": ["ca2"],
                },
            ],
        )
        kinds = {k.name: k.share for k in client_kinds(sc)}
        assert sum(kinds.values()) == pytest.approx(1.0)
        assert kinds["android+tsc0+tsc1"] == pytest.approx(0.6 * 0.25 * 0.5)
        assert kinds["ios+tsc1"] == pytest.approx(0.4 * 0.5)
        assert len(kinds) == 6


class TestPathBuilding:
    def test_intermediate_anchor_cuts_root_out_of_the_chain(self):
        """Brave, 2026-01-16: the trust store gains the intermediate, path building stops there
        and a root pin no longer matches — for the share of devices that got the update."""
        sc = make(
            events=[
                {
                    "type": "trust_store_change",
                    "date": "2025-06-01",
                    "share": 0.4,
                    "add": ["ca1/I1"],
                }
            ],
            strategies=[
                {"name": "root", "pin": "root_spki"},
                {"name": "root+int", "pin": "root_spki", "backup": ["intermediates:ca1"]},
            ],
        )
        res = simulate(sc)
        day = sc.day(sc.start.replace(month=6, day=1))
        r = rate(res, "root")
        assert r[:day].max() == 0.0
        np.testing.assert_allclose(r[day:], 0.4, atol=1e-12)
        assert rate(res, "root+int").max() == 0.0

    def test_removed_root_continues_through_cross_sign(self):
        """A root removed from the store is still reachable through a served cross-certificate
        from another CA; the built chain then ends at that CA's root."""
        sc = make(
            {"cas[0].cross_signed_by": {"ca": "ca2", "until": "2025-09-30"}},
            events=[{"type": "trust_store_change", "date": "2025-03-01", "remove": ["ca1"]}],
            strategies=[
                {"name": "root1", "pin": "root_spki"},
                {"name": "root2", "pin": "root_spki", "backup": ["ca:ca2"]},
            ],
        )
        res = simulate(sc)
        r1, r2 = rate(res, "root1"), rate(res, "root2")
        mar1, oct1 = sc.day(sc.start.replace(month=3)), sc.day(sc.start.replace(month=10))
        assert r1[:mar1].max() == 0.0
        # after the removal the path is leaf → I1 → ca1 root (cross) → ca2 root: ca1's key is
        # still in the chain, so the root pin keeps matching
        assert r1[mar1:oct1].max() == 0.0
        # once the cross-certificate expires nothing validates: everyone is locked
        assert r1[oct1:].min() == pytest.approx(1.0)
        assert r2[oct1:].min() == pytest.approx(1.0)

    def test_anchor_expiry_checked_on_ios_only(self):
        cal = CertificateCalendar(
            make(
                {
                    "cas[0].root_not_after": "2025-05-31",
                    "fleet.platforms": {"android": 0.5, "ios": 0.5},
                }
            )
        )
        trust = TrustModel(cal)
        kinds = {k.platform: k for k in client_kinds(cal.scenario)}
        day = cal.scenario.day(cal.scenario.start.replace(month=6, day=1))
        _, ok_android = trust.path(kinds["android"], "ca1", "I1", 0, day)
        _, ok_ios = trust.path(kinds["ios"], "ca1", "I1", 0, day)
        _, ok_ios_before = trust.path(kinds["ios"], "ca1", "I1", 0, day - 1)
        assert ok_android and not ok_ios and ok_ios_before

    def test_distrust_refuses_certificates_issued_after_the_date(self):
        """A distrusted CA's certificates issued on or after the date fail validation for every
        strategy; the host migrates to the replacement at its next renewal."""
        sc = make(
            events=[{"type": "ca_distrust", "date": "2025-04-01", "ca": "ca1"}],
            strategies=[{"name": "none", "pin": "none"}],
        )
        res = simulate(sc)
        r = rate(res, "none")
        # renewals on days 60 (before the date: still trusted) and 120 (after: untrusted)
        assert r[:120].max() == 0.0
        assert r[120:].min() == pytest.approx(1.0)
        migrated = simulate(
            make(
                events=[
                    {"type": "ca_distrust", "date": "2025-04-01", "ca": "ca1", "replacement": "ca2"}
                ],
                strategies=[
                    {"name": "none", "pin": "none"},
                    {"name": "root", "pin": "root_spki"},
                    {"name": "root+ca2", "pin": "root_spki", "backup": ["ca:ca2"]},
                ],
            )
        )
        assert rate(migrated, "none").max() == 0.0
        assert rate(migrated, "root")[120] == pytest.approx(1.0)  # pinned ca1's root
        assert rate(migrated, "root+ca2").max() == 0.0
        assert list(migrated.calendar.to_frame()["ca"])[:3] == ["ca1", "ca1", "ca2"]
