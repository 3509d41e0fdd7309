"""Malformed configs and chains: one clear ConfigError line, never another exception."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.errors import SimlibError
from simlib.toolkit import ConfigError, load_chain, load_config, parse_config
from tests.toolkit.conftest import CONFIGS

MALFORMED = CONFIGS / "malformed"

# file -> words the message must contain (and "line N" where the parser knows it)
CONFIG_CASES = {
    "broken.xml": ["line 7", "malformed XML", "mismatched tag"],
    "entity_bomb.xml": ["entity", "refused"],
    "external_entity.xml": ["entity", "refused"],
    "wrong_digest.xml": ["line 6", "unsupported pin digest algorithm 'SHA-1'"],
    "bad_base64.xml": ["line 6", "not valid base64"],
    "pin_set_in_base.xml": ["line 4", "pin-set element not allowed in base-config"],
    "duplicate_domain.xml": ["line 7", "api.example.com has already been specified"],
    "bad_expiration.xml": ["line 5", "invalid pin-set expiration '2026-13-01'"],
    "bad_base64.txt": ["line 1", "invalid pin hash"],
    "bad_prefix.txt": ["line 1", "pins must start with 'sha256/' or 'sha1/'"],
    "bad_pattern.txt": ["line 1", "unexpected pattern 'api.*.example.com'"],
    "bad_base64.json": ["TSKPublicKeyHashes[0]", "not valid base64"],
    "broken.json": ["line 3 column 1", "malformed JSON"],
    "no_domains.json": ["TSKPinnedDomains", "missing or empty"],
    "broken.plist": ["plist"],
    "truncated_binary.plist": ["not a valid plist"],
    "garbage.bin": ["binary data"],
    "empty.xml": ["empty file"],
}


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_malformed_config_is_one_line(name):
    path = MALFORMED / name
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path) + ": ")
    for word in CONFIG_CASES[name]:
        assert word in text, text
    assert isinstance(info.value, SimlibError)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("truncated.pem", ["truncated or malformed PEM"]),
        ("garbage.pem", ["invalid base64"]),
        ("empty.pem", ["empty file"]),
        ("garbage.bin", ["no certificate"]),
    ],
)
def test_malformed_chain_is_one_line(name, words):
    with pytest.raises(ConfigError) as info:
        load_chain(MALFORMED / name)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(MALFORMED / name))
    assert all(w in text for w in words), text


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "nope.xml")
    with pytest.raises(ConfigError, match="cannot read file"):
        load_chain(tmp_path / "nope.pem")


def test_chain_of_a_bare_public_key(tmp_path, test_pki):
    from cryptography.hazmat.primitives import serialization

    path = tmp_path / "key.pem"
    path.write_bytes(
        test_pki.leaf.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(ConfigError, match="bare public key"):
        load_chain(path)


def test_wrong_length_pin_is_a_finding_not_an_error(test_pki):
    """Valid base64 of the wrong length ships in real apps: NSC then fails to parse at run time."""
    xml = (
        b"<network-security-config><domain-config><domain>api.example.com</domain>"
        b'<pin-set><pin digest="SHA-256">AAAA</pin></pin-set></domain-config>'
        b"</network-security-config>"
    )
    config = parse_config(xml, "nsc.xml")
    assert config.broken_reason("android")
    assert [f.rule for f in config.findings] == ["malformed-pin"]
    assert "3 bytes" in config.findings[0].message


def test_not_strict_turns_bad_base64_into_a_finding():
    config = load_config(MALFORMED / "bad_base64.json", strict=False)
    assert "malformed-pin" in {f.rule for f in config.findings}
    assert config.broken_reason("trustkit-ios")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'{"TSKPinnedDomains": {"a.com": {"TSKReportUris": 5}}}', "TSKReportUris"),
        (b'{"TSKPinnedDomains": {"a.com": {"TSKIncludeSubdomains": "yes"}}}', "Boolean"),
        (b'{"TSKPinnedDomains": {"a.com": []}}', "dictionary"),
        (b'{"TSKPinnedDomains": {"a.com": {"TSKPublicKeyHashes": "abc"}}}', "list of strings"),
        (b"[1, 2]", "dictionary"),
    ],
)
def test_trustkit_wrong_types(data, words):
    with pytest.raises(ConfigError, match=words):
        parse_config(data, "tk.json")


def test_plist_without_pins_or_with_odd_types():
    import plistlib

    for doc in ({"NSAppTransportSecurity": 5}, {"CFBundleIdentifier": "x"}, {}):
        with pytest.raises(ConfigError, match="nothing is pinned"):
            parse_config(plistlib.dumps(doc), "Info.plist")
    with pytest.raises(ConfigError, match="must be a dictionary"):
        parse_config(plistlib.dumps({"NSAppTransportSecurity": {"NSPinnedDomains": [1]}}), "x")
    with pytest.raises(ConfigError, match="top level"):
        parse_config(plistlib.dumps([1]), "Info.plist")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_never_raise_anything_but_config_error(data):
    for fmt in (None, "nsc", "ats", "trustkit", "okhttp"):
        try:
            parse_config(data, "fuzz", format=fmt)
        except ConfigError as exc:
            assert "\n" not in str(exc)


@pytest.mark.parametrize(
    "prefix",
    [
        b"<network-security-config>",
        b'{"TSKPinnedDomains": ',
        b"<plist><dict><key>NSAppTransportSecurity</key>",
    ],
)
@settings(max_examples=60, deadline=None)
@given(tail=st.text(max_size=120).map(str.encode))
def test_structured_prefixes_never_raise_anything_but_config_error(prefix, tail):
    with contextlib.suppress(ConfigError):
        parse_config(prefix + tail, "fuzz")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_binary_plist_never_raises_anything_but_config_error(data):
    """Flipped bytes in a real binary plist (refs, sizes, trailer): ConfigError or a config."""
    good = bytearray((CONFIGS / "Info-binary.plist").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(8, len(good) - 1))
        good[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ConfigError):
        parse_config(bytes(good), "Info.plist")


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_any_json_value_under_a_domain_never_raises_anything_but_config_error(value):
    import json

    for entry in (value, {"TSKPublicKeyHashes": value}, {"TSKIncludeSubdomains": value}):
        doc = json.dumps({"TSKPinnedDomains": {"a.example.com": entry}}).encode()
        with contextlib.suppress(ConfigError):
            parse_config(doc, "tk.json")


# ------------------------------------------- a file Android cannot parse: what the device does

# XmlConfigSource throws on each of these (AOSP @0172a23b: parsePinSet's SimpleDateFormat
# "yyyy-MM-dd", parsePin, parseConfigEntry), and ensureInitialized wraps it in a RuntimeException.
ANDROID_REJECTS = {
    "expiration-slashes": ('<pin-set expiration="2038/1/19">', "invalid pin-set expiration"),
    "expiration-month-13": ('<pin-set expiration="2026-13-01">', "invalid pin-set expiration"),
    "pin-not-base64": ("<pin-set>", "not valid base64"),
    "pin-set-twice": ("<pin-set>", "multiple pin-set elements"),
}
GOOD = "toi/1iueiM5CLD46ijJ4t1ko9ZLacELDIhscd2MlVuw="


def _nsc(case: str) -> bytes:
    pin_set, _ = ANDROID_REJECTS[case]
    pin = "this is not base64!" if case == "pin-not-base64" else GOOD
    body = f'{pin_set}<pin digest="SHA-256">{pin}</pin></pin-set>'
    if case == "pin-set-twice":
        body += body
    return (
        "<network-security-config><domain-config><domain>api.example.com</domain>"
        f"{body}</domain-config></network-security-config>"
    ).encode()


@pytest.mark.parametrize("case", sorted(ANDROID_REJECTS))
def test_a_config_android_rejects_is_refused_saying_the_app_crashes(case, tmp_path):
    """Refused (nothing of the file applies on a device, so nothing of it can be audited), and
    the one line says what the platform does, unclipped: the whole file rejected, the app
    crashing."""
    from simlib.errors import MAX_LINE
    from simlib.toolkit.formats.nsc import REJECTED

    path = tmp_path / "res" / "xml" / "network_security_config.xml"  # ~110 characters
    path.parent.mkdir(parents=True)
    path.write_bytes(_nsc(case))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert ANDROID_REJECTS[case][1] in text and text.endswith(REJECTED), text
    assert "Network Security Config" in text and len(f"error: {text}") <= MAX_LINE


def test_the_cli_refuses_it_with_exit_2_and_one_line(chain_pem, tmp_path, capsys):
    from simlib.cli.main import main

    path = tmp_path / "nsc.xml"
    path.write_bytes(_nsc("expiration-slashes"))
    assert main(["audit", str(path), "--chain", str(chain_pem)]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1 and "Traceback" not in err
    assert "'2038/1/19'; expected yyyy-MM-dd; Android rejects the whole file" in err
    assert err.rstrip().endswith("and the app crashes")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<manifest/>", "root element"),  # likely not an NSC at all
        ((MALFORMED / "broken.xml").read_bytes(), "malformed XML"),  # the build refuses it
    ],
)
def test_no_device_claim_for_a_file_that_is_no_nsc(data, words):
    with pytest.raises(ConfigError, match=words) as info:
        parse_config(data, "x.xml")
    assert "app crashes" not in str(info.value)
