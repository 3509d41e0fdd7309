"""The lints real files need: placeholder pins, widened trust, keys the platforms ignore.

Each rule on the smallest config that shows it, and the same config without the problem.
"""

from __future__ import annotations

import base64
import json
import plistlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.toolkit import audit, parse_config
from simlib.toolkit.chain import PathCert, build_path
from simlib.toolkit.keylints import lint_document
from simlib.toolkit.lints import DOCUMENTATION_PINS, dud_pins, placeholder
from simlib.toolkit.policy import make_pin
from tests.toolkit.conftest import TODAY
from tests.toolkit.pki import HOST


def _nsc(body: str, pins: str = "", top: str = "", inner: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
{top}
    <domain-config{body}>
        <domain>{HOST}</domain>{inner}
        <pin-set>{pins}</pin-set>
    </domain-config>
</network-security-config>
""".encode()


def _pins(*values: str) -> str:
    return "".join(f'<pin digest="SHA-256">{v}</pin>' for v in values)


def _run(data: bytes, test_pki, name: str = "nsc.xml", **kw):
    config = parse_config(data, name, **kw)
    return audit(config, test_pki.chain, host=HOST, today=TODAY, document=data)


def _rules(report) -> set[str]:
    return {f.rule for f in report.findings}


# --------------------------------------------------------------------- placeholders

PLACEHOLDERS = [
    "A" * 43 + "=",
    "B" * 43 + "=",
    "/" * 43 + "=",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq=",
    base64.b64encode(bytes(range(8)) * 4).decode(),  # 8 distinct byte values
    base64.b64encode(b"\x00\xff" * 16).decode(),
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholder_pins_are_recognised(value):
    pin = make_pin(value)
    assert pin.valid and placeholder(pin), value


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32).filter(lambda b: len(set(b)) > 20))
def test_a_real_looking_hash_is_no_placeholder(digest):
    """A SHA-256 has about 30 distinct byte values; the rule flags 16 or fewer (p = 2e-15)."""
    value = base64.b64encode(digest).decode()
    if len(set(value.rstrip("="))) > 2:
        assert placeholder(make_pin(value)) is None


def test_a_dud_backup_is_no_backup(test_pki, pin):
    report = _run(_nsc("", _pins(pin["ca1"], "A" * 43 + "=")), test_pki)
    assert {"placeholder-pin", "no-backup-pin"} <= _rules(report)
    dud = next(f for f in report.findings if f.rule == "placeholder-pin")
    assert dud.where == "line 6" and dud.severity == "warning"
    assert "placeholder pin(s) do not count" in next(
        f.message for f in report.findings if f.rule == "no-backup-pin"
    )
    real = _run(_nsc("", _pins(pin["ca1"], pin["backup_root"])), test_pki)
    assert not {"placeholder-pin", "no-backup-pin"} & _rules(real)


def test_documentation_pins_count_as_absent_unless_they_match(test_pki, pin):
    doc_pin = "7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y="
    assert doc_pin in DOCUMENTATION_PINS
    report = _run(_nsc("", _pins(pin["ca1"], doc_pin)), test_pki)
    found = next(f for f in report.findings if f.rule == "placeholder-pin")
    assert "Android network security config guide" in found.message
    assert "no-backup-pin" in _rules(report)
    # A documentation pin that matches the path is somebody's real key: judged as such.
    leaf = build_path(test_pki.chain)[0]
    path = [leaf, PathCert(1, test_pki.intermediate, "intermediate", doc_pin, "", True)]
    assert dud_pins([make_pin(doc_pin)], path) == {}
    assert dud_pins([make_pin(doc_pin)], [leaf]) == {
        0: "the example pin of " + DOCUMENTATION_PINS[doc_pin]
    }


def test_two_duds_and_one_real_pin_is_one_pin(test_pki, pin):
    report = _run(_nsc("", _pins(pin["ca1"], "A" * 43 + "=", "B" * 43 + "=")), test_pki)
    assert [f.rule for f in report.findings].count("placeholder-pin") == 2
    assert "no-backup-pin" in _rules(report) and "backup-in-chain" not in _rules(report)


# ----------------------------------------------------------------- widened trust


def test_user_cas_trusted_in_release_builds(test_pki, pin):
    anchors = (
        '<trust-anchors><certificates src="system"/><certificates src="user"/></trust-anchors>'
    )
    pins = _pins(pin["ca1"], pin["backup_root"])
    report = _run(_nsc("", pins, f"<base-config>{anchors}</base-config>"), test_pki)
    found = [f for f in report.findings if f.rule == "user-ca-trusted"]
    assert len(found) == 1 and found[0].severity == "warning" and "base-config" in found[0].message
    # In a domain-config, reported at its own line.
    report = _run(_nsc("", pins, inner=anchors), test_pki)
    assert "domain-config api.example.com" in next(
        f.message for f in report.findings if f.rule == "user-ca-trusted"
    )
    # Under debug-overrides it is what the guide recommends: no finding.
    debug = f"<debug-overrides>{anchors}</debug-overrides>"
    assert "user-ca-trusted" not in _rules(_run(_nsc("", pins, debug), test_pki))


@pytest.mark.parametrize(("override", "severity"), [("false", "info"), ("true", "warning")])
def test_raw_trust_anchor(test_pki, pin, override, severity):
    anchors = (
        f'<trust-anchors><certificates src="@raw/my_ca" overridePins="{override}"/></trust-anchors>'
    )
    report = _run(_nsc("", _pins(pin["ca1"], pin["backup_root"]), inner=anchors), test_pki)
    found = next(f for f in report.findings if f.rule == "raw-trust-anchor")
    assert found.severity == severity
    assert "system CAs are not trusted there" in found.message
    if override == "true":
        assert "skips the pin check" in found.message
    else:
        assert "pins still apply" in found.message


# ------------------------------------------------------------------ ignored keys


def test_enforce_pinning_attribute_on_domain_config(test_pki, pin):
    pins = _pins(pin["ca1"], pin["backup_root"])
    report = _run(_nsc(' enforcePinning="true"', pins), test_pki)
    found = next(f for f in report.findings if f.rule == "ignored-key")
    assert "enforcePinning" in found.message and "<trustkit-config" in found.message
    assert found.where == "line 4"
    clean = _run(_nsc(' cleartextTrafficPermitted="false"', pins), test_pki)
    assert "ignored-key" not in _rules(clean)


def test_unknown_nsc_element_is_skipped(test_pki, pin):
    pins = _pins(pin["ca1"], pin["backup_root"])
    data = _nsc("", pins).replace(b"<pin-set>", b"<pins/><pin-set>")
    found = [f for f in _run(data, test_pki).findings if f.rule == "ignored-key"]
    assert len(found) == 1 and "<pins>" in found[0].message


def _trustkit(top: dict, domain: dict) -> bytes:
    return json.dumps({"TSKPinnedDomains": {HOST: domain}, **top}).encode()


def test_trustkit_top_level_enforce_pinning_is_ignored(test_pki, pin):
    domain = {"TSKPublicKeyHashes": [pin["ca1"], pin["backup_root"]]}
    data = _trustkit({"TSKEnforcePinning": False, "TSKSwizzleNetworkDelegates": True}, domain)
    report = _run(data, test_pki, "trustkit.json")
    found = [f for f in report.findings if f.rule == "ignored-key"]
    assert len(found) == 1 and found[0].where == "TSKEnforcePinning"
    assert "per domain" in found[0].message
    assert report.verdicts[0].status == "pass"  # still enforced; a mismatch would block


def test_trustkit_unknown_and_deprecated_domain_keys(test_pki, pin):
    domain = {
        "TSKPublicKeyHashes": [pin["ca1"], pin["backup_root"]],
        "kTSKIncludeSubdomains": True,  # the constant's name: accepted
        "TSKIncludeSubdomain": True,  # a typo: ignored
        "TSKPublicKeyAlgorithms": ["TSKAlgorithmRsa2048"],
    }
    found = {
        f.where: f.severity
        for f in _run(_trustkit({}, domain), test_pki, "trustkit.json").findings
        if f.rule == "ignored-key"
    }
    assert found == {
        f'TSKPinnedDomains["{HOST}"].TSKIncludeSubdomain': "warning",
        f'TSKPinnedDomains["{HOST}"].TSKPublicKeyAlgorithms': "info",
    }


def test_trustkit_keys_in_an_info_plist(test_pki, pin):
    tk = {
        "TSKSwizzleNetworkDelegates": True,
        "TSKEnforcePinning": True,
        "TSKPinnedDomains": {HOST: {"TSKPublicKeyHashes": [pin["ca1"], pin["backup_root"]]}},
    }
    data = plistlib.dumps({"TSKConfiguration": tk})
    found = [f for f in _run(data, test_pki, "Info.plist").findings if f.rule == "ignored-key"]
    assert [f.where for f in found] == ["TSKConfiguration.TSKEnforcePinning"]


def test_lint_document_without_a_document_or_on_other_formats(test_pki, pin):
    config = parse_config(f"{HOST} sha256/{pin['ca1']}\n".encode(), "pins.txt")
    assert lint_document(b"whatever", config) == []
    report = audit(config, test_pki.chain, host=HOST, today=TODAY)
    assert "ignored-key" not in _rules(report)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "Pinning.swift",
            "let config = [\n    kTSKSwizzleNetworkDelegates: false,\n    kTSKEnforcePinning: true,\n"
            '    kTSKPinnedDomains: ["{host}": [kTSKPublicKeyHashes: ["{a}", "{b}"]]]\n'
            "] as [String: Any]\n",
        ),
        (
            "AppDelegate.m",
            "NSDictionary *config = @{\n    kTSKSwizzleNetworkDelegates: @NO,\n"
            "    kTSKEnforcePinning: @YES,\n"
            '    kTSKPinnedDomains: @{@"{host}": @{kTSKPublicKeyHashes: @[@"{a}", @"{b}"]}}\n};\n',
        ),
    ],
)
def test_trustkit_source_top_level_enforce_pinning(test_pki, pin, name, text):
    data = (
        text.replace("{host}", HOST).replace("{a}", pin["ca1"]).replace("{b}", pin["backup_root"])
    )
    found = [f for f in _run(data.encode(), test_pki, name).findings if f.rule == "ignored-key"]
    assert [(f.where, "per domain" in f.message) for f in found] == [("line 3", True)]
