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
        today=TODAY,
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
        today=TODAY,
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


# ------------------------------------------------------------------- issue 15 emit fixes


def test_a_single_pin_is_written_with_the_audits_warning(test_pki):
    out = emit("intermediate_spki", test_pki.chain, host=HOST, formats=("android", "okhttp"))
    assert [w.rule for w in out.warnings] == ["no-backup-pin"]
    assert (
        out.warnings[0].targets == ("android", "okhttp") and "--backup" in out.warnings[0].message
    )
    both = emit("intermediate_spki", test_pki.chain, host=HOST, backups=[test_pki.backup_root])
    assert both.warnings == ()


def test_subdomain_reach_differs_and_is_said(test_pki, pin):
    out = emit(
        "intermediate_spki",
        test_pki.chain,
        host=HOST,
        backups=[pin["backup_root"]],
        include_subdomains=True,
    )
    (warning,) = out.warnings
    assert warning.rule == "subdomain-reach" and warning.targets[0] == "ios"
    assert f"not a.b.{HOST}" in warning.message and "android, okhttp, trustkit" in warning.message
    # what the warning says is what the platforms do with the written files
    deep = f"a.b.{HOST}"
    for fmt, platforms in PLATFORMS.items():
        for platform in platforms:
            config = parse_config(out[fmt].encode(), FILES[fmt], platform=platform)
            report = audit(config, test_pki.chain, host=deep, today=TODAY)
            status = {v.status for v in report.verdicts}
            assert status == ({"not-pinned"} if fmt == "ios" else {"pass"}), (fmt, platform)
    without = emit("intermediate_spki", test_pki.chain, host=HOST, backups=[pin["backup_root"]])
    assert without.warnings == ()
    only_deep = emit(
        "intermediate_spki",
        test_pki.chain,
        host=HOST,
        backups=[pin["backup_root"]],
        include_subdomains=True,
        formats=("android",),
    )
    assert only_deep.warnings == ()


def test_expires_must_be_after_today(test_pki, pin):
    with pytest.raises(EmitError, match=r"expires 2026-02-01 is not after today \(2026-02-01\)"):
        emit(
            "intermediate_spki",
            test_pki.chain,
            host=HOST,
            backups=[pin["backup_root"]],
            expires=TODAY,
            today=TODAY,
        )


def test_catalogue_backups(test_pki):
    from simlib.world.catalogue import catalogue

    cat = catalogue()
    roots = [cat.certificates[n].spki_pin for n in cat.cas["letsencrypt"].roots]
    out = emit(
        "intermediate_spki",
        test_pki.chain,
        host=HOST,
        backups=["ca:letsencrypt"],
        formats=("android",),
        today=TODAY,
    )
    for value in roots:
        assert f'<pin digest="SHA-256">{value}</pin>' in out["android"]
    assert "backup ca:letsencrypt: ISRG Root X1" in out["android"]
    inter = emit(
        "intermediate_spki",
        test_pki.chain,
        host=HOST,
        backups=["intermediates:letsencrypt"],
        formats=("okhttp",),
        today=TODAY,
    )
    assert "backup intermediates:letsencrypt:" in inter["okhttp"]
    assert inter["okhttp"].count(".add(") > 2 and inter.warnings == ()
    with pytest.raises(EmitError, match="unknown CA 'nope'; valid: letsencrypt"):
        emit("leaf_spki", test_pki.chain, host=HOST, backups=["ca:nope"])


def test_certificates_as_backups(test_pki, pin):
    out = emit(
        "intermediate_spki",
        test_pki.chain,
        host=HOST,
        backups=[(test_pki.backup_root,)],
        formats=("trustkit",),
    )
    assert json.loads(out["trustkit"])["TSKPinnedDomains"][HOST]["TSKPublicKeyHashes"] == [
        pin["ca1"],
        pin["backup_root"],
    ]


def test_cli_emit_passes_warnings_on_and_json_carries_them(capsys, chain_pem, tmp_path):
    from simlib.cli.main import main

    argv = [
        "emit",
        "--strategy",
        "intermediate_spki",
        "--for",
        "android",
        "--chain",
        str(chain_pem),
    ]
    assert main([*argv, "--date", "2026-02-01"]) == 0
    out = capsys.readouterr()
    assert out.err.startswith("warning: no-backup-pin: only 1 pin") and out.err.count("\n") == 1
    assert main([*argv, "--json", "--out", str(tmp_path / "o"), "--date", "2026-02-01"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [w["rule"] for w in doc["warnings"]] == ["no-backup-pin"]
    assert doc["files"][0]["file"] == "network_security_config.xml"
    assert doc["written"] == [str(tmp_path / "o" / "network_security_config.xml")]


def test_cli_expires_in_the_past_is_its_own_error(capsys, chain_pem, tmp_path):
    from simlib.cli.main import main

    code = main(
        [
            "emit",
            "--strategy",
            "intermediate_spki",
            "--chain",
            str(chain_pem),
            "--expires",
            "2026-01-01",
            "--date",
            "2026-02-01",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "audit" not in err
    assert err.startswith("error: --expires 2026-01-01 is not after today (2026-02-01)")
    assert not (tmp_path / "o").exists()


def test_cli_backup_from_a_pem_file_and_the_catalogue(capsys, chain_pem, tmp_path, test_pki, pin):
    from cryptography.hazmat.primitives import serialization

    from simlib.cli.main import main

    pem = tmp_path / "backup.pem"
    pem.write_bytes(test_pki.backup_root.public_bytes(serialization.Encoding.PEM))
    argv = [
        "emit",
        "--strategy",
        "intermediate_spki",
        "--for",
        "trustkit",
        "--chain",
        str(chain_pem),
    ]
    assert main([*argv, "--backup", str(pem), "--date", "2026-02-01"]) == 0
    out = capsys.readouterr()
    assert pin["backup_root"] in out.out and out.err == ""
    assert main([*argv, "--backup", "ca:amazon", "--date", "2026-02-01"]) == 0
    from simlib.world.catalogue import certificate

    assert certificate("Amazon Root CA 1").spki_pin in capsys.readouterr().out


def test_write_pin_lists_is_every_writer(pin):
    from simlib.toolkit.emit import (
        ats_plist_lists,
        nsc_xml,
        okhttp_kotlin,
        trustkit_json,
        write_pin_lists,
    )

    leaf, ca = [(pin["leaf"], "leaf")], [(pin["ca1"], "ca"), (pin["backup_root"], "b")]
    files, refused = write_pin_lists(HOST, leaf, ca, expires=date(2027, 1, 1))
    both = leaf + ca
    assert files == {
        "android": nsc_xml(HOST, both, expires=date(2027, 1, 1)),
        "ios": ats_plist_lists(HOST, leaf, ca),
        "okhttp": okhttp_kotlin(HOST, both),
        "trustkit": trustkit_json(HOST, both, expires=date(2027, 1, 1)),
    }
    assert refused == {}
    _, refused = write_pin_lists(HOST, leaf, [])
    assert list(refused) == ["trustkit"] and "at least 2 pins" in refused["trustkit"]


# ------------------------------------------- the pinned certificate is on the completed path


def test_root_spki_reads_the_root_from_a_ca_file(test_pki, pin, tmp_path):
    """As audit completes the path: the root of --ca-file, no --anchor needed."""
    from cryptography.hazmat.primitives import serialization

    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(test_pki.root.public_bytes(serialization.Encoding.PEM))
    out = emit(
        "root_spki",
        test_pki.chain,
        host=HOST,
        backups=[pin["backup_root"]],
        formats=("android",),
        today=TODAY,
        ca_file=bundle,
    )
    assert f">{pin['root']}</pin>" in out["android"]
    report = audit(
        parse_config(out["android"].encode(), "n.xml"),
        test_pki.chain,
        host=HOST,
        today=TODAY,
        ca_file=bundle,
    )
    assert report.passed and report.path[-1].origin == f"ca-file {bundle}"


def test_root_spki_reads_a_root_simlib_ships():
    """A real chain (Let's Encrypt R12, not its root): ISRG Root X1 comes from the catalogue."""
    from simlib.pki import spki_pin
    from simlib.world.data import certs_dir
    from simlib.world.realcerts import read_real_cert

    le = certs_dir() / "letsencrypt"
    r12 = read_real_cert(le / "2024_r12.pem").certificate
    x1 = read_real_cert(le / "isrgrootx1.pem").certificate
    out = emit("root_spki", [r12], host=HOST, backups=[spki_pin(r12)], formats=("android",))
    assert f">{spki_pin(x1)}</pin>" in out["android"]
    assert "root: CN=ISRG Root X1" in out["android"]


def test_root_spki_without_any_trusted_root_says_where_roots_come_from(test_pki):
    with pytest.raises(EmitError, match=r"simlib's catalogue, --anchor, --ca-file"):
        emit("root_spki", test_pki.chain, host=HOST)
