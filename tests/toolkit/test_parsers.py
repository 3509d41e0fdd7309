"""Importer details: inheritance, defaults and quirks each platform's parser has."""

from __future__ import annotations

import plistlib
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.toolkit import ConfigError, load_config, parse_config
from simlib.toolkit.loader import detect_format
from simlib.toolkit.okhttp import add_calls, okio_b64decode
from simlib.toolkit.policy import MAX_DEPTH, check_tree, show
from tests.toolkit.conftest import CONFIGS


def nsc(body: str) -> bytes:
    return f"<network-security-config>{body}</network-security-config>".encode()


def by_pattern(config, platform):
    return {p.pattern: p for p in config.for_platform(platform)}


def test_nsc_inheritance(pin):
    config = load_config(CONFIGS / "nsc_inheritance.xml", platform="android")
    policies = by_pattern(config, "android")
    assert policies["api.example.com"].pins == policies["example.com"].pins
    assert policies["api.example.com"].include_subdomains is False  # per <domain>, not inherited
    assert policies["static.example.com"].pins == ()
    assert [a.src for a in policies["api.example.com"].trust_anchors] == ["system"]
    assert {p.value for p in policies["example.com"].pins} == {pin["root"], pin["backup_root"]}


def test_nsc_expiration_and_lines():
    config = load_config(CONFIGS / "nsc_basic.xml")
    (policy,) = config.policies
    assert policy.expiration == date(2027, 6, 30) and policy.where == "line 5"
    assert [p.where for p in policy.pins] == ["line 7", "line 8"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<domain-config><pin-set/></domain-config>", "no domain elements"),
        (
            "<domain-config><domain>a.com</domain><pin-set/><pin-set/></domain-config>",
            "multiple pin-set",
        ),
        (
            "<base-config><domain-config><domain>a.com</domain></domain-config></base-config>",
            "nested domain-config not allowed in base-config",
        ),
        ("<base-config/><base-config/>", "only one base-config"),
        (
            "<domain-config><domain>a.com</domain><trust-anchors><certificates/></trust-anchors>"
            "</domain-config>",
            "missing src",
        ),
        (
            "<domain-config><domain>a.com</domain><pin-set><pin digest='SHA-256'></pin></pin-set>"
            "</domain-config>",
            "missing pin digest",
        ),
    ],
)
def test_nsc_structure_errors(body, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(nsc(body), "nsc.xml")


def test_nsc_wrong_root():
    with pytest.raises(ConfigError, match="expected <network-security-config>"):
        parse_config(b"<resources/>", "nsc.xml")


def test_debug_overrides_with_pin_set_only_breaks_debug_builds(pin):
    body = (
        f"<domain-config><domain>a.com</domain><pin-set><pin digest='SHA-256'>{pin['ca1']}"
        f"</pin></pin-set></domain-config><debug-overrides><pin-set/></debug-overrides>"
    )
    config = parse_config(nsc(body), "nsc.xml")
    assert "debug-overrides-invalid" in {f.rule for f in config.findings}
    assert not config.broken


def test_trustkit_android_rules(pin):
    body = (
        f"<domain-config><domain includeSubdomains='true'>example.com</domain>"
        f"<pin-set><pin digest='SHA-256'>{pin['ca1']}</pin>"
        f"<pin digest='SHA-256'>{pin['root']}</pin></pin-set>"
        f"<trustkit-config enforcePinning='true'/>"
        f"<domain-config><domain>old.example.com</domain><domain>new.example.com</domain>"
        f"</domain-config></domain-config>"
    )
    config = parse_config(nsc(body), "nsc.xml")
    tk = by_pattern(config, "trustkit-android")
    # Only the last <domain> of a domain-config counts; includeSubdomains and enforcement inherit.
    assert set(tk) == {"example.com", "new.example.com"}
    assert tk["new.example.com"].include_subdomains and tk["new.example.com"].enforce
    assert set(by_pattern(config, "android")) == {
        "example.com",
        "old.example.com",
        "new.example.com",
    }


def test_trustkit_android_digest_is_case_sensitive():
    config = load_config(CONFIGS / "nsc_inheritance.xml", platform="trustkit")
    assert config.platforms == ("trustkit-android",)
    assert config.broken_reason("trustkit-android")
    assert "config-invalid" in {f.rule for f in config.findings}


def test_ats_quirks(pin):
    doc = {
        "NSAppTransportSecurity": {
            "NSPinnedDomains": {
                "example.com": {
                    "NSIncludesSubdomains": "YES",
                    "NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": pin["ca1"]}, {"x": 1}],
                },
                "b.example.com": {"NSPinnedLeafIdentities": "oops"},
                "c.example.com": "not a dict",
            }
        }
    }
    config = parse_config(plistlib.dumps(doc), "Info.plist")
    rules = {f.rule for f in config.findings}
    assert {"bad-boolean", "ats-identity-ignored", "ats-not-array", "ats-entry-ignored"} <= rules
    policies = by_pattern(config, "ios")
    assert policies["example.com"].include_subdomains is False
    assert len(policies["example.com"].ca_pins) == 1
    assert policies["b.example.com"].leaf_pins == ()


def test_info_plist_with_trustkit(pin):
    doc = {
        "TSKConfiguration": {
            "TSKPinnedDomains": {
                "api.example.com": {"TSKPublicKeyHashes": [pin["ca1"], pin["root"]]}
            }
        }
    }
    config = parse_config(plistlib.dumps(doc, fmt=plistlib.FMT_BINARY), "Info.plist")
    assert config.platforms == ("trustkit-ios",)
    assert config.policies[0].enforce is True


def test_trustkit_ios_details(pin):
    data = (
        '{"TSKPinnedDomains": {"com": {"TSKIncludeSubdomains": true, "TSKEnforcePinning": '
        f'false, "TSKPublicKeyHashes": ["{pin["ca1"]}"], "TSKExpirationDate": "next year"}}}}}}'
    )
    config = parse_config(data.encode(), "tk.json")
    (policy,) = config.policies
    assert policy.expiration is None and not policy.enforce
    assert "bad-expiration" in {f.rule for f in config.findings}
    assert "public suffix" in config.broken_reason("trustkit-ios")
    assert policy.report_uris == ("https://overmind.datatheorem.com/trustkit/report",)


def test_okhttp_details(pin):
    text = (
        f"# comment\nEXAMPLE.com sha256/{pin['ca1']}\nexample.com "
        f"sha256/{pin['root'].rstrip('=').replace('+', '-').replace('/', '_')}\n"
        "example.com sha256/AAAA\n"
    )
    config = parse_config(text.encode(), "pins.txt")
    (policy,) = config.policies  # same canonical pattern: one policy, pins merged
    assert policy.pattern == "example.com" and len(policy.pins) == 3
    assert policy.pins[1].digest == okio_b64decode(pin["root"])  # URL-safe, unpadded accepted
    assert [f.rule for f in config.findings] == ["malformed-pin"]  # length is never checked
    assert not config.broken


def test_okhttp_kotlin_and_java_snippets(pin):
    text = (
        f"CertificatePinner pinner = new CertificatePinner.Builder()\n"
        f'    .add("api.example.com", "sha256/{pin["ca1"]}")\n'
        f'    .add("**.example.com",\n         "sha256/{pin["root"]}", "sha1/{pin["ca1_sha1"]}")\n'
        f"    .build();\n"
    )
    config = parse_config(text.encode(), "Pins.java")
    got = {p.pattern: ([x.algorithm for x in p.pins], p.where) for p in config.policies}
    assert got == {
        "api.example.com": (["sha256"], "line 2"),
        "**.example.com": (["sha256", "sha1"], "line 3"),
    }


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"<network-security-config/>", "nsc"),
        (b"<?xml version='1.0'?>\n<plist><dict/></plist>", "ats"),
        (b"bplist00...", "ats"),
        (b'\xef\xbb\xbf{"TSKPinnedDomains": {}}', "trustkit"),
        (b"example.com sha256/AAAA", "okhttp"),
    ],
)
def test_detect_format(data, fmt):
    assert detect_format(data, "x") == fmt


def test_platform_must_fit_the_format():
    with pytest.raises(ConfigError, match="does not apply"):
        load_config(CONFIGS / "okhttp-pins.txt", platform="ios")


# The expression the OkHttp reader used before the scanner (exponential on unclosed quotes).
_OLD_ADD = re.compile(r"\.add\s*\(((?:\s*\"[^\"]*\"\s*,?)+)\s*\)", re.DOTALL)
_TOKENS = [".add(", '"a.com"', '"sha256/x"', '""', ", ", ",", " ", "\n", ")", "x", "(", '"']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=14))
def test_okhttp_scanner_reads_what_the_old_expression_read(tokens):
    """Same calls, offsets and arguments wherever no string literal holds ``.add``."""
    text = "".join(tokens)
    old = [(m.start(), re.findall(r'"([^"]*)"', m.group(1))) for m in _OLD_ADD.finditer(text)]
    assert list(add_calls(text)) == old


def test_okhttp_line_numbers_count_every_newline_once():
    text = "\n".join(f'{"x" * i}.add("h{i}.com", "sha256/{"A" * 43}=")' for i in range(50))
    config = parse_config(text.encode(), "Pins.kt")
    assert [p.where for p in config.policies] == [f"line {i + 1}" for i in range(50)]


def test_show_names_containers_without_walking_them():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert show(deep) == "an array of 1 items"
    assert show({"a": deep}) == "a dictionary of 1 keys"
    assert show("\x1b[2J" + "x" * 500) == "'\\x1b[2J" + "x" * 51 + "…"
    assert show(b"\x00" * 10**6).startswith("b'\\x00")


def test_check_tree_counts_shared_objects_as_expanded():
    shared = ["x"] * 1000
    ok = {"a": [shared] * 150}  # 150 000 values
    check_tree(ok, "f", "JSON")
    with pytest.raises(ConfigError, match=r"f: b: JSON holds more than 200,000 values"):
        check_tree({"a": 1, "b": [ok, ok]}, "f", "JSON")


def test_check_tree_names_the_path_of_a_bad_key_or_string():
    with pytest.raises(ConfigError, match=r"f: a\[1\]: plist dictionary key 5 is not a string"):
        check_tree({"a": [0, {5: 1}]}, "f", "plist")
    with pytest.raises(ConfigError, match=r"f: a.b: JSON string holds a lone surrogate U\+D800"):
        check_tree({"a": {"b": "x\ud800"}}, "f", "JSON")
    nested: list = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    check_tree(nested, "f", "JSON")  # exactly MAX_DEPTH levels of containers
    with pytest.raises(ConfigError, match="nested more than 64 levels"):
        check_tree([nested], "f", "JSON")
