"""Pins on a catalogue CA no host uses (``backup: [ca:identrust]``) and one key under two issuers
(R3 under ISRG Root X1 and cross-signed by DST Root CA X3), against closed forms.

A leaf key rotates at every renewal, so ``leaf_spki`` pins lock users out after each renewal until
they update. A backup on the host's own CA (ISRG Root X1 is in every validated path) rescues every
version; a backup on DST Root CA X3 never matches a chain ending at ISRG Root X1, so its lockout
equals the no-backup case, day by day. (Android's rule, any pin matching any certificate of the
path; iOS with a CA list also requires a CA match, so there a foreign CA backup locks everyone.)
"""

from __future__ import annotations

import numpy as np
import pytest

from simlib.api import simulate
from simlib.model import scenario_from_dict
from simlib.server.calendar import CertificateCalendar
from simlib.server.certificates import RealPki
from simlib.world import catalogue

DST_PIN = "Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys="
R3_PIN = "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0="


def _base(strategies: list[dict], **extra) -> dict:
    return {
        "name": "pinned-cas",
        "start": "2022-01-01",
        "end": "2022-12-31",
        "fleet": {
            "users": 100000,
            "release_every_days": 14,
            "adoption": {"components": [{"weight": 1, "mean_lag_days": 10}]},
            "platforms": {"android": {"share": 1.0}, "ios": {"share": 0.0}},
        },
        "hosts": [
            {
                "name": "api.example.com",
                "ca": "letsencrypt",
                "key_policy": "rotate",
                "renew_before_days": 30,
            }
        ],
        "strategies": strategies,
        **extra,
    }


def _rate(res, name):
    ts = res.timeseries
    return ts[ts.strategy == name]["lockout_rate"].to_numpy()


def test_a_catalogue_ca_named_only_by_a_backup_is_added_with_its_real_root():
    sc = scenario_from_dict(_base([{"name": "x", "pin": "root_spki", "backup": ["ca:identrust"]}]))
    assert [c.name for c in sc.cas] == ["letsencrypt", "identrust"]
    assert sc.cas[1].root == "DST Root CA X3"
    cal = CertificateCalendar(sc)
    assert RealPki.for_calendar(cal).spki_pin(cal.cas["identrust"].root_key) == DST_PIN
    assert scenario_from_dict(sc.to_dict()) == sc  # resolving again changes nothing


def test_a_backup_on_another_ca_never_matches_the_hosts_chain():
    res = simulate(
        scenario_from_dict(
            _base(
                [
                    {"name": "leaf", "pin": "leaf_spki"},
                    {"name": "leaf + DST", "pin": "leaf_spki", "backup": ["ca:identrust"]},
                    {"name": "leaf + ISRG", "pin": "leaf_spki", "backup": ["ca:letsencrypt"]},
                    {
                        "name": "leaf + DigiCert",
                        "pin": "leaf_spki",
                        "backup": ["ca:digicert", "intermediates:digicert"],
                    },
                ]
            )
        )
    )
    leaf = _rate(res, "leaf")
    assert leaf.max() > 0.1  # renewals lock out the users of older versions
    np.testing.assert_array_equal(_rate(res, "leaf + DST"), leaf)
    np.testing.assert_array_equal(_rate(res, "leaf + DigiCert"), leaf)
    assert _rate(res, "leaf + ISRG").max() == 0


def test_an_unknown_backup_ca_lists_the_valid_names():
    with pytest.raises(
        Exception,
        match=r"strategies\[0\]\.backup\[0\]: unknown CA 'dst'; valid: "
        r"a name under cas \(letsencrypt\) or a catalogue CA \(.*identrust",
    ):
        scenario_from_dict(_base([{"name": "x", "pin": "root_spki", "backup": ["ca:dst"]}]))


def test_catalogue_r3_and_its_dst_cross_sign_share_one_key():
    assert {c.name for c in catalogue().sharing_key("R3")} == {"R3", "R3/DST"}
    assert catalogue().certificate("R3/DST").published_spki_pin == R3_PIN


def _switch(strategies: list[dict], when: str = "immediate") -> dict:
    """R3 cross-signed by DST Root CA X3 until day 120, then R3 under ISRG Root X1 (same key)."""
    return _base(
        strategies,
        cas=[
            {
                "name": "identrust",
                "root": "DST Root CA X3",
                "key": "rsa-2048",
                "intermediates": [{"name": "R3/DST", "key": "rsa-2048"}],
            },
            {
                "name": "letsencrypt",
                "root": "ISRG Root X1",
                "key": "rsa-4096",
                "intermediates": [{"name": "R3", "key": "rsa-2048"}],
            },
        ],
        hosts=[
            {
                "name": "api.example.com",
                "ca": "identrust",
                "key_policy": "reuse",
                "validity_days": 90,
                "renew_before_days": 30,
            }
        ],
        events=[{"type": "ca_migration", "date": "2021-05-04", "to": "letsencrypt", "when": when}],
        start="2021-01-01",
        end="2021-12-31",
    )


def test_r3_under_dst_and_under_x1_is_one_key_identity():
    sc = scenario_from_dict(_switch([{"name": "int", "pin": "intermediate_spki"}]))
    cal = CertificateCalendar(sc)
    r3_dst, r3 = cal.cas["identrust"].int_keys["R3/DST"], cal.cas["letsencrypt"].int_keys["R3"]
    assert r3_dst == r3
    real = RealPki.for_calendar(cal)
    assert real.spki_pin(r3) == R3_PIN
    # one key, two real certificates: each name keeps its own file (issuer DST vs ISRG Root X1)
    issuers = {
        real.intermediate_cert(c, n).issuer.rfc4514_string()
        for c, n in (("identrust", "R3/DST"), ("letsencrypt", "R3"))
    }
    assert len(issuers) == 2
    assert cal.cas["identrust"].root_key != cal.cas["letsencrypt"].root_key


def test_an_intermediate_pin_survives_the_issuer_switch_a_root_pin_does_not():
    """Day 123 (2021-05-04) the host's chain switches from R3/DST to R3 under ISRG Root X1, same
    key, reissued at once. R3 pins built under DST keep matching; DST root pins of versions built
    before the switch lock their users out from day 123 on; certificate pins break at the reissue
    like at any renewal."""
    res = simulate(
        scenario_from_dict(
            _switch(
                [
                    {"name": "int", "pin": "intermediate_spki"},
                    {"name": "root", "pin": "root_spki"},
                    {"name": "cert", "pin": "leaf_cert"},
                ]
            )
        )
    )
    switch = 123
    assert _rate(res, "int").max() == 0
    root = _rate(res, "root")
    assert root[:switch].max() == 0
    assert root[switch] > 0.9  # every user is on a version built before the switch
    assert _rate(res, "cert")[switch] > 0.9
