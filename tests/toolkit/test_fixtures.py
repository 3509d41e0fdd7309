"""Every fixture config: its verdict per platform and its findings, against the test chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from simlib.toolkit import audit, load_config
from tests.toolkit.conftest import CONFIGS, TODAY
from tests.toolkit.make_fixtures import texts, write

API = "api.example.com"

# (file, load kwargs, host, {platform: status}, {finding rules})
CASES = [
    ("nsc_basic.xml", {}, API, {"android": "pass"}, set()),
    ("nsc_basic.xml", {}, "www.example.com", {"android": "not-pinned"}, {"host-not-pinned"}),
    # Nested domain-config inherits the parent's root pin; base-config comes last in the file.
    ("nsc_inheritance.xml", {}, API, {"android": "pass"}, {"root-pin"}),
    ("nsc_inheritance.xml", {}, "a.b.example.com", {"android": "pass"}, {"root-pin"}),
    # A sibling domain-config without pins is more specific: the host is silently unpinned.
    (
        "nsc_inheritance.xml",
        {},
        "cdn.static.example.com",
        {"android": "not-pinned"},
        {"host-not-pinned"},
    ),
    (
        "nsc_expired.xml",
        {},
        API,
        {"android": "expired"},
        {"pin-set-expired", "no-backup-pin", "leaf-only"},
    ),
    # base-config trusts user CAs in release builds, bypassing pins: two findings, two places.
    (
        "nsc_debug_overrides.xml",
        {},
        API,
        {"android": "pass"},
        {"override-pins", "debug-overrides", "user-ca-trusted"},
    ),
    # Same XML, two enforcers: the OS blocks, TrustKit-Android (enforcePinning default false) reports.
    (
        "nsc_trustkit.xml",
        {},
        API,
        {"android": "fail", "trustkit-android": "report-only"},
        {"pin-mismatch", "pin-mismatch-report-only", "not-enforced"},
    ),
    ("nsc_trustkit.xml", {"platform": "android"}, API, {"android": "fail"}, {"pin-mismatch"}),
    (
        "nsc_trustkit_one_pin.xml",
        {},
        API,
        {"android": "pass", "trustkit-android": "invalid-config"},
        {"config-invalid", "no-backup-pin"},
    ),
    # NSIncludesSubdomains covers exactly one extra label.
    ("Info.plist", {}, API, {"ios": "pass"}, set()),
    ("Info.plist", {}, "example.com", {"ios": "pass"}, set()),
    ("Info.plist", {}, "a.b.example.com", {"ios": "not-pinned"}, {"host-not-pinned"}),
    # Binary plist; leaf list (wrong key) AND CA list (right key) must both match.
    ("Info-binary.plist", {}, API, {"ios": "fail"}, {"pin-mismatch"}),
    (
        "ats_unsatisfiable.plist",
        {},
        API,
        {"ios": "fail"},
        {"pin-mismatch", "ats-unsatisfiable", "no-backup-pin", "leaf-only"},
    ),
    (
        "ats_unsatisfiable.plist",
        {},
        "empty.example.com",
        {"ios": "fail"},
        {"pin-mismatch", "ats-unsatisfiable"},
    ),
    ("trustkit.json", {}, API, {"trustkit-ios": "pass"}, set()),
    (
        "trustkit.json",
        {},
        "legacy.example.com",
        {"trustkit-ios": "not-pinned"},
        {"host-not-pinned"},
    ),
    ("trustkit.json", {"platform": "android"}, API, {"trustkit-android": "pass"}, {"not-enforced"}),
    # TrustKit defaults: iOS enforces, Android only reports.
    ("trustkit_defaults.json", {}, API, {"trustkit-ios": "fail"}, {"pin-mismatch"}),
    (
        "trustkit_defaults.json",
        {"platform": "android"},
        API,
        {"trustkit-android": "report-only"},
        {"pin-mismatch-report-only", "not-enforced"},
    ),
    # One pin: TrustKit iOS throws at start-up (enforcing needs 2); Android allows it.
    ("trustkit_one_pin.json", {}, API, {"trustkit-ios": "invalid-config"}, {"config-invalid"}),
    (
        "trustkit_one_pin.json",
        {"platform": "android"},
        API,
        {"trustkit-android": "pass"},
        {"no-backup-pin", "not-enforced"},
    ),
    ("okhttp-pins.txt", {}, API, {"okhttp": "pass"}, {"sha1-pin"}),
    ("okhttp-pins.txt", {}, "example.com", {"okhttp": "pass"}, {"sha1-pin"}),  # ** matches zero
    (
        "okhttp-pins.txt",
        {},
        "example.org",
        {"okhttp": "not-pinned"},
        {"host-not-pinned", "sha1-pin"},
    ),
    ("CertificatePinner.kt", {}, API, {"okhttp": "pass"}, {"leaf-only"}),
    ("CertificatePinner.kt", {}, "example.com", {"okhttp": "not-pinned"}, {"host-not-pinned"}),
    ("CertificatePinner.kt", {}, "a.b.example.com", {"okhttp": "not-pinned"}, {"host-not-pinned"}),
    ("okhttp_sha1.txt", {}, API, {"okhttp": "pass"}, {"no-backup-pin", "sha1-pin"}),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "host", "statuses", "rules"),
    CASES,
    ids=[f"{c[0]}-{c[2]}-{c[1].get('platform', '')}" for c in CASES],
)
def test_fixture_verdicts_and_findings(test_pki, name, kwargs, host, statuses, rules):
    config = load_config(CONFIGS / name, **kwargs)
    report = audit(config, test_pki.chain, host=host, today=TODAY, anchors=[test_pki.root])
    assert {v.platform: v.status for v in report.verdicts} == statuses
    got = {f.rule for f in report.findings}
    # The test leaf names api. and www.example.com; other hosts test matching rules, and the
    # audit says the chain is not theirs (chain.check_observed).
    assert ("host-not-in-leaf" in got) == (host not in (API, "www.example.com"))
    assert got - {"host-not-in-leaf"} == rules, report.to_table()


def test_root_pin_needs_the_anchor(test_pki):
    """The server does not send its root: without the trusted root, a root pin cannot match."""
    config = load_config(CONFIGS / "nsc_inheritance.xml")
    report = audit(config, test_pki.chain, host=API, today=TODAY)
    assert report.verdicts[0].status == "fail"
    assert "incomplete-path" in {f.rule for f in report.findings}


def test_matches_name_the_certificate_and_pin(test_pki, pin):
    report = audit(load_config(CONFIGS / "okhttp-pins.txt"), test_pki.chain, host=API, today=TODAY)
    got = {(m.index, m.role, m.pin) for m in report.verdicts[0].matches}
    assert got == {
        (0, "leaf", "sha1/" + pin["leaf_sha1"]),
        (1, "intermediate", "sha256/" + pin["ca1"]),
    }


def test_binary_plist_fixture_is_binary():
    assert (CONFIGS / "Info-binary.plist").read_bytes().startswith(b"bplist00")


def test_committed_fixtures_match_the_test_pki(tmp_path: Path):
    """The files hold the real pins of tests/toolkit/pki.py (regenerate with make_fixtures)."""
    write(tmp_path)
    for name in texts():
        assert (tmp_path / name).read_bytes() == (CONFIGS / name).read_bytes(), name
