"""emit -> parse -> audit round trip, for every strategy, format and platform."""

from __future__ import annotations

import json
import plistlib
from datetime import date

import pytest

from simlib.toolkit import audit, emit, parse_config
from simlib.toolkit.emit import EmitError
from tests.toolkit.conftest import TODAY
from tests.toolkit.pki import HOST

FILES = {
    "android": "network_security_config.xml",
    "ios": "Info.plist",
    "okhttp": "pins.kt",
    "trustkit": "trustkit.json",
}
# format -> platforms its file is read under
PLATFORMS = {"android": [None], "ios": [None], "okhttp": [None], "trustkit": ["ios", "android"]}


@pytest.mark.parametrize("strategy", ["leaf_spki", "intermediate_spki", "root_spki"])
@pytest.mark.parametrize("include_subdomains", [False, True])
def test_round_trip_passes_everywhere(test_pki, pin, strategy, include_subdomains):
    out = emit(
        strategy,
        test_pki.chain,
        host=HOST,
        backups=[pin["backup_root"]],
        expires=date(2027, 1, 1),
        include_subdomains=include_subdomains,
        anchors=[test_pki.root],
    )
    assert set(out) == set(FILES)
    for fmt, text in out.items():
        for platform in PLATFORMS[fmt]:
            config = parse_config(text.encode(), FILES[fmt], platform=platform)
            hosts = [HOST] + (["v1." + HOST] if include_subdomains else [])
            for host in hosts:
                report = audit(
                    config, test_pki.chain, host=host, today=TODAY, anchors=[test_pki.root]
                )
                assert report.passed, (fmt, platform, host, report.to_table())
                assert report.exit_code("error") == 0, report.to_table()


def test_emitted_content(test_pki, pin):
    out = emit(
        "intermediate_spki",
        test_pki.chain,
        host=HOST,
        backups=["sha256/" + pin["root"]],
        expires=date(2027, 1, 1),
    )
    assert 'expiration="2027-01-01"' in out["android"]
    assert f'<pin digest="SHA-256">{pin["ca1"]}</pin>' in out["android"]
    ats = plistlib.loads(out["ios"].encode())["NSAppTransportSecurity"]["NSPinnedDomains"][HOST]
    assert ats == {
        "NSPinnedCAIdentities": [
            {"SPKI-SHA256-BASE64": pin["ca1"]},
            {"SPKI-SHA256-BASE64": pin["root"]},
        ]
    }
    assert "no expiry" in out["ios"] and "no pin expiry" in out["okhttp"]
    assert f'.add("{HOST}", "sha256/{pin["ca1"]}")' in out["okhttp"]
    tk = json.loads(out["trustkit"])["TSKPinnedDomains"][HOST]
    assert tk["TSKExpirationDate"] == "2027-01-01" and tk["TSKEnforcePinning"] is True
    assert tk["TSKPublicKeyHashes"] == [pin["ca1"], pin["root"]]


def test_leaf_strategy_uses_the_leaf_identity_list(test_pki, pin):
    out = emit(
        "leaf_spki", test_pki.chain, host=HOST, backups=[test_pki.next_leaf_key], formats=("ios",)
    )
    entry = plistlib.loads(out["ios"].encode())["NSAppTransportSecurity"]["NSPinnedDomains"][HOST]
    assert [i["SPKI-SHA256-BASE64"] for i in entry["NSPinnedLeafIdentities"]] == [
        pin["leaf"],
        pin["next_leaf"],
    ]


def test_subdomain_patterns(test_pki, pin):
    out = emit(
        "root_spki",
        test_pki.chain,
        host="example.com",
        backups=[pin["backup_root"]],
        include_subdomains=True,
        anchors=[test_pki.root],
        formats=("okhttp", "android"),
    )
    assert '.add("**.example.com"' in out["okhttp"]
    assert '<domain includeSubdomains="true">example.com</domain>' in out["android"]


def test_emit_errors(test_pki):
    with pytest.raises(EmitError, match="at least 2 pins"):
        emit("leaf_spki", test_pki.chain, host=HOST, formats=("trustkit",))
    with pytest.raises(EmitError, match="needs the root"):
        emit("root_spki", test_pki.chain, host=HOST)
    with pytest.raises(EmitError, match="unknown strategy"):
        emit("everything", test_pki.chain, host=HOST)
    with pytest.raises(EmitError, match="unknown format"):
        emit("leaf_spki", test_pki.chain, host=HOST, formats=("windows",))
    with pytest.raises(EmitError, match=r"backup \[0\]"):
        emit("leaf_spki", test_pki.chain, host=HOST, backups=["not-a-pin"])
    with pytest.raises(EmitError, match="only the leaf"):
        emit("intermediate_spki", test_pki.chain[:1], host=HOST)


@pytest.mark.parametrize("fmt", ["android", "ios", "okhttp", "trustkit"])
@pytest.mark.parametrize(
    "host", ["api\x1b[2J.example.com", "api\u202e.example.com", 'api.example.com"\n.add("x']
)
def test_emit_refuses_a_bad_host_in_every_format(test_pki, pin, fmt, host):
    """Refused, never escaped into a host that pins nothing (ios was a plistlib traceback)."""
    from simlib.toolkit import ConfigError

    with pytest.raises(ConfigError, match="not a valid host name") as err:
        emit("leaf_spki", test_pki.chain, host=host, backups=[pin["backup_root"]], formats=(fmt,))
    assert str(err.value).isprintable()


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("api.example.com", "api.example.com"),
        ('a"b', 'a\\"b'),
        ("a\\b", "a\\\\b"),
        ("${x}", "\\${x}"),
        ("a\nb", "a\\u000ab"),
        ("\u202e", "\\u202e"),
        ("\U0001f600", "\\ud83d\\ude00"),  # UTF-16 surrogate pair, as Kotlin spells it
    ],
)
def test_kotlin_string_escaping(text, literal):
    from simlib.toolkit.emit import _kotlin_string

    assert _kotlin_string(text) == literal


@pytest.mark.parametrize("subject", ["a---b", "a -->", "x\x00y\x1b", "<!-- -->", "a\u2028b"])
def test_xml_comment_text_is_always_well_formed(subject):
    import xml.etree.ElementTree as ET

    from simlib.toolkit.emit import _comment, nsc_xml

    assert "--" not in _comment(subject)
    text = nsc_xml(HOST, [("A" * 43 + "=", subject)])
    root = ET.fromstring(text.split("\n", 1)[1])
    assert [e.text for e in root.iter("domain")] == [HOST]
