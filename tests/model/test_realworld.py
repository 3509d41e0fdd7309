"""The host shorthand (``ca: <catalogue name>``, ``profile``, ``tool``, ``key_type``): what it
resolves to, that resolving is idempotent, the dated tool change (closed form), and errors."""

from __future__ import annotations

import datetime as dt

import pytest

from simlib.errors import ScenarioError
from simlib.model import load_scenario, scenario_from_dict
from simlib.server.calendar import CertificateCalendar
from tests.conftest import DATA

BANK = DATA / "scenarios" / "bank.yaml"
#: bank.yaml ends on 2028-06-30, past the last published set: the 2027 batch is extrapolated
EXTRAPOLATED = ("letsencrypt extrapolated RSA 2027a", "letsencrypt extrapolated RSA 2027b")


def _scenario(host: dict, start: str = "2025-01-01", end: str = "2025-12-31") -> dict:
    return {
        "name": "shorthand",
        "start": start,
        "end": end,
        "fleet": {
            "users": 1000,
            "release_every_days": 30,
            "adoption": {"components": [{"weight": 1, "mean_lag_days": 10}]},
        },
        "hosts": [{"name": "api.example.com", **host}],
        "strategies": [{"name": "root", "pin": "root_spki"}],
    }


class TestBank:
    def test_resolves_from_the_catalogue(self):
        sc = load_scenario(BANK)
        (ca,) = sc.cas
        assert (ca.name, ca.root, ca.selection) == ("letsencrypt", "ISRG Root X1", "random")
        # R14 (the emergency backup) is announced but never issues: pinnable, never active; past
        # Let's Encrypt's published roadmap the 2027 batch is extrapolated (an assumption)
        assert [i.name for i in ca.intermediates] == [
            "R12",
            "R13",
            "YR1",
            "YR2",
            *EXTRAPOLATED,
            "R14",
        ]
        assert ca.intermediates[-1].announced == dt.date(2024, 3, 19)
        assert ca.intermediates[0].not_after == dt.date(2027, 3, 12)
        assert ca.validity_days == 90
        assert [(s.from_, s.days) for s in ca.validity_schedule] == [
            (dt.date(2027, 2, 10), 64),
            (dt.date(2028, 2, 16), 45),
        ]
        changes = [(e.date, tuple(e.active)) for e in sc.events]
        assert changes == [
            (dt.date(2026, 1, 1), ("R12", "R13")),
            (dt.date(2026, 5, 28), ("YR1", "YR2")),
            (dt.date(2028, 5, 27), EXTRAPOLATED),
        ]
        (host,) = sc.hosts
        assert (host.ca, host.key, host.key_policy) == ("letsencrypt", "rsa-2048", "rotate")
        assert host.renew_at_fraction == pytest.approx(0.6667)
        assert host.policy_schedule == []

    def test_resolving_again_changes_nothing(self):
        sc = load_scenario(BANK)
        assert scenario_from_dict(sc.to_dict()) == sc

    def test_calendar_follows_the_roadmap(self):
        sc = load_scenario(BANK)
        cal = CertificateCalendar(sc)
        for it in cal.issuances:
            on = sc.date(max(it.day, 0))
            expected = (
                {"R12", "R13"}
                if on < dt.date(2026, 5, 28)
                else {"YR1", "YR2"}
                if on < dt.date(2028, 5, 27)
                else set(EXTRAPOLATED)
            )
            assert it.intermediate in expected
            cap = 90 if on < dt.date(2027, 2, 10) else 64 if on < dt.date(2028, 2, 16) else 45
            assert it.lifetime_days == cap


class TestCertManager118:
    """cert-manager reuses the key until 1.18.0 (2025-06-10), then rotates at every renewal.

    Closed form: lifetime 90 days, renewal after ⌊0.6667 · 90⌋ = 60 days, so issuances on days
    0, 60, 120, 180, 240, 300, 360; 2025-06-10 is day 160, so issuances 0-2 share one key and
    3-6 each get a new one. ECDSA leaves come from E5/E6, then E7/E8 from 2025-08-20, under
    ISRG Root X2.
    """

    def test_dated_key_policy(self):
        sc = scenario_from_dict(
            _scenario({"ca": "letsencrypt", "tool": "cert-manager", "key_type": "ecdsa"})
        )
        (host,) = sc.hosts
        assert host.key_policy == "reuse"
        assert [(s.from_, s.key_policy) for s in host.policy_schedule] == [
            (dt.date(2025, 6, 10), "rotate")
        ]
        assert sc.cas[0].root == "ISRG Root X2"
        cal = CertificateCalendar(sc)
        items = cal.by_host["api.example.com"]
        assert [it.day for it in items] == [0, 60, 120, 180, 240, 300, 360]
        keys = [it.leaf_key for it in items]
        assert keys[0] == keys[1] == keys[2]
        assert len(set(keys[2:])) == 5
        for it in items:
            early = sc.date(it.day) < dt.date(2025, 8, 20)
            assert it.intermediate in ({"E5", "E6"} if early else {"E7", "E8"})

    def test_explicit_schedule_changes_renewal(self):
        """From 2025-04-11 (day 100): renew 20 days before expiry and keep the key. Before, the
        default ⌊2/3 · 90⌋ = 60 days and a new key each issuance: issuances on days 0, 60, then
        120 (the first on/after day 100: same key as day 60, renewal 90 − 20 = 70 days later),
        190, 260, 330, all on that key."""
        data = _scenario({"ca": "letsencrypt", "key_type": "ecdsa"})
        data["hosts"][0]["policy_schedule"] = [
            {"from": "2025-04-11", "renew_before_days": 20, "key_policy": "reuse"}
        ]
        sc = scenario_from_dict(data)
        items = CertificateCalendar(sc).by_host["api.example.com"]
        assert [it.day for it in items] == [0, 60, 120, 190, 260, 330]
        keys = [it.leaf_key for it in items]
        assert keys[0] != keys[1] and len(set(keys[1:])) == 1


@pytest.mark.parametrize(
    ("host", "field", "valid"),
    [
        ({"ca": "lets-encrypt", "tool": "certbot"}, "hosts[0].ca", "letsencrypt, identrust"),
        ({"ca": "letsencrypt", "profile": "long"}, "hosts[0].profile", "classic, tlsserver"),
        ({"ca": "letsencrypt", "tool": "acme.sh"}, "hosts[0].tool", "certbot, cert-manager"),
        ({"ca": "letsencrypt", "key_type": "dsa"}, "hosts[0].key_type", "rsa, ecdsa"),
        ({"ca": "amazon", "key_type": "ecdsa"}, "hosts[0]", "no ecdsa"),
    ],
)
def test_errors_name_the_field_and_valid_values(host, field, valid):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({**_scenario(host), "cas": []}, source="s.yaml")
    text = str(info.value)
    assert "\n" not in text
    assert f"s.yaml: {field}" in text and valid in text


def test_a_certificate_issued_before_start_comes_from_the_set_active_on_its_issue_day():
    """Let's Encrypt issued from R10/R11 (random) from 2024-06-06 until R12/R13 took over on
    2025-08-20 (R14 is a backup that never issues). A host first issued 2025-02-01 with start
    2025-03-01 serves, on the first day, a certificate from R10 or R11 whatever the seed — the
    set in force on its issue day, which lies before start and so before any event."""
    import warnings

    from simlib.model import scenario_from_dict
    from simlib.server.calendar import CertificateCalendar

    served = set()
    for seed in range(12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sc = scenario_from_dict(
                {
                    "name": "pre-start",
                    "start": "2025-03-01",
                    "end": "2025-06-30",
                    "seed": seed,
                    "fleet": {
                        "users": 100,
                        "release_every_days": 30,
                        "adoption": {"components": [{"weight": 1, "mean_lag_days": 5}]},
                    },
                    "hosts": [
                        {"name": "api.test", "ca": "letsencrypt", "first_issued": "2025-02-01"}
                    ],
                    "strategies": [{"name": "none", "pin": "none"}],
                }
            )
        cal = CertificateCalendar(sc)
        first = cal.serving("api.test", 0)
        assert first.day == sc.day("2025-02-01")
        served.add(first.intermediate)
    assert served == {"R10", "R11"}
