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
        "hosts": [{"name": "api.example.com", "ca": "letsencrypt", "key_policy": "rotate",
                   "renew_before_days": 30}],
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
    res = simulate(scenario_from_dict(_base([
        {"name": "leaf", "pin": "leaf_spki"},
        {"name": "leaf + DST", "pin": "leaf_spki", "backup": ["ca:identrust"]},
        {"name": "leaf + ISRG", "pin": "leaf_spki", "backup": ["ca:letsencrypt"]},
        {"name": "leaf + DigiCert", "pin": "leaf_spki",
         "backup": ["ca:digicert", "intermediates:digicert"]},
    ])))
    leaf = _rate(res, "leaf")
    assert leaf.max() > 0.1  # renewals lock out the users of older versions
    np.testing.assert_array_equal(_rate(res, "leaf + DST"), leaf)
    np.testing.assert_array_equal(_rate(res, "leaf + DigiCert"), leaf)
    assert _rate(res, "leaf + ISRG").max() == 0


def test_an_unknown_backup_ca_lists_the_valid_names():
    with pytest.raises(Exception, match=r"strategies\[0\]\.backup\[0\]: unknown CA 'dst'; valid: "
                                        r"a name under cas \(letsencrypt\) or a catalogue CA \(.*identrust"):
        scenario_from_dict(_base([{"name": "x", "pin": "root_spki", "backup": ["ca:dst"]}]))


def test_catalogue_r3_and_its_dst_cross_sign_share_one_key():
    assert {c.name for c in catalogue().sharing_key("R3")} == {"R3", "R3/DST"}
    assert catalogue().certificate("R3/DST").published_spki_pin == R3_PIN
