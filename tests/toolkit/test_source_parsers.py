"""Configs written as app source (Swift, Objective-C, JS/TS, Kotlin), Expo's app.json, and
Android's lenient Base64: each read as its platform reads it."""

from __future__ import annotations

import base64
import json
import plistlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlib.toolkit import ConfigError, audit, parse_config
from simlib.toolkit.android import android_b64decode
from tests.toolkit.conftest import TODAY
from tests.toolkit.pki import HOST


def statuses(config, test_pki):
    report = audit(config, test_pki.chain, host=HOST, today=TODAY, anchors=[test_pki.root])
    return {v.platform: v.status for v in report.verdicts}


# --------------------------------------------------------------- Android's lenient Base64


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("AAAA", b"\0\0\0"),
        ("AA", b"\0"),  # padding is optional
        ("AAA", b"\0\0"),
        ("AA==", b"\0"),
        ("AAA=", b"\0\0"),
        ("A A\nA\tA", b"\0\0\0"),  # whitespace anywhere is skipped
        ("AA!AA", b"\0\0\0"),  # so is any byte outside the alphabet
        ("AA==\n ", b"\0"),  # skipped bytes may follow the padding
        ("A", None),  # one character is not a byte
        ("AA=", None),  # one '=' where two are due
        ("AA=A", None),
        ("AAA=A", None),  # data after the padding
        ("=AAA", None),
        ("-_AA", b"\0"),  # URL-safe characters are outside DEFAULT's alphabet: skipped
    ],
)
def test_android_base64_decoder(text, decoded):
    assert android_b64decode(text) == decoded


@given(data=st.binary(max_size=40), cut=st.integers(0, 80), junk=st.sampled_from(" \n\r\t"))
def test_android_decodes_canonical_unpadded_and_wrapped_base64(data, cut, junk):
    canonical = base64.b64encode(data).decode()
    assert android_b64decode(canonical) == data
    assert android_b64decode(canonical.rstrip("=")) == data
    wrapped = canonical[:cut] + junk + canonical[cut:]
    assert android_b64decode(wrapped) == data


def nsc(pin: str, other: str, *, trustkit: bool = False) -> bytes:
    tk = '<trustkit-config enforcePinning="true"/>' if trustkit else ""
    return (
        f"<network-security-config><domain-config><domain>{HOST}</domain><pin-set>"
        f'<pin digest="SHA-256">{pin}</pin><pin digest="SHA-256">{other}</pin></pin-set>{tk}'
        "</domain-config></network-security-config>"
    ).encode()


def test_nsc_pin_wrapped_and_unpadded_is_accepted_as_android_does(test_pki, pin):
    wrapped = pin["ca1"].rstrip("=")
    wrapped = wrapped[:20] + "\n        " + wrapped[20:]
    config = parse_config(nsc(wrapped, pin["backup_root"]), "nsc.xml")
    (policy,) = config.policies
    assert policy.pins[0].digest == base64.b64decode(pin["ca1"]) and policy.pins[0].valid
    (note,) = [f for f in config.findings if f.rule == "lenient-base64"]
    assert note.severity == "info" and note.platforms == ("android",) and note.where == "line 1"
    assert "Android accepts it" in note.message and "other platforms" in note.message
    assert statuses(config, test_pki) == {"android": "pass"}


def test_trustkit_android_accepts_the_same_pin_but_never_matches_it(pin, test_pki):
    """TrustKit-Android's PublicKeyPin decodes with the same android.util.Base64 (so the file
    loads) but keeps the text and compares it with the certificate's canonical encoding."""
    unpadded = pin["ca1"].rstrip("=")
    config = parse_config(nsc(unpadded, pin["backup_root"], trustkit=True), "nsc.xml")
    assert config.platforms == ("android", "trustkit-android") and config.broken == ()
    (tk,) = config.for_platform("trustkit-android")
    assert not tk.pins[0].valid and tk.pins[1].valid
    (bad,) = [f for f in config.findings if f.rule == "malformed-pin"]
    assert bad.platforms == ("trustkit-android",) and "never matches" in bad.message
    assert statuses(config, test_pki) == {"android": "pass", "trustkit-android": "fail"}
    canonical = parse_config(nsc(pin["ca1"], pin["backup_root"], trustkit=True), "nsc.xml")
    assert statuses(canonical, test_pki) == {"android": "pass", "trustkit-android": "pass"}


def test_canonical_pins_raise_no_lenient_finding(pin):
    config = parse_config(nsc(pin["ca1"], pin["backup_root"]), "nsc.xml")
    assert not [f for f in config.findings if f.rule == "lenient-base64"]


# ------------------------------------------------------------------ TrustKit in source


SWIFT = """import TrustKit

let backupKey = "{backup}"
let trustKitConfig = [
    kTSKSwizzleNetworkDelegates: false,
    kTSKPinnedDomains: [
        "{host}": [
            kTSKEnforcePinning: true,
            kTSKIncludeSubdomains: true,  // covers any depth on TrustKit
            kTSKPublicKeyHashes: [
                "{ca}",
                backupKey,
            ],
        ],
    ]
] as [String: Any]
TrustKit.initSharedInstance(withConfiguration: trustKitConfig)
"""

OBJC = """NSDictionary *trustKitConfig =
  @{{
    kTSKSwizzleNetworkDelegates: @NO,
    kTSKPinnedDomains : @{{
        @"{host}" : @{{
            kTSKEnforcePinning : @YES,
            kTSKPublicKeyHashes : @[ @"{ca}", @"{backup}", ],
        }},
    }}
  }};
[TrustKit initSharedInstanceWithConfiguration:trustKitConfig];
"""


@pytest.mark.parametrize(
    ("name", "template"), [("AppDelegate.swift", SWIFT), ("AppDelegate.m", OBJC)]
)
def test_trustkit_from_source(name, template, pin, test_pki):
    text = template.format(host=HOST, ca=pin["ca1"], backup=pin["backup_root"])
    config = parse_config(text.encode(), name)
    assert config.format == "trustkit-source" and config.platforms == ("trustkit-ios",)
    (policy,) = config.policies
    assert policy.pattern == HOST and policy.enforce
    assert policy.include_subdomains is (template is SWIFT)
    assert [p.value for p in policy.pins] == [pin["ca1"], pin["backup_root"]]
    assert policy.where.startswith("line ")
    assert statuses(config, test_pki) == {"trustkit-ios": "pass"}


def test_trustkit_source_keeps_trustkit_rules(pin):
    text = SWIFT.format(host=HOST, ca=pin["ca1"], backup=pin["ca1"])  # one distinct pin
    config = parse_config(text.encode(), "A.swift")
    assert config.broken_reason("trustkit-ios") == f"fewer than 2 pins for {HOST!r}"


def test_trustkit_source_refuses_a_value_it_cannot_know(pin):
    text = SWIFT.format(host=HOST, ca=pin["ca1"], backup=pin["backup_root"])
    call = text.replace("backupKey,", "Secrets.key(),")
    with pytest.raises(
        ConfigError,
        match=r"line 12: TrustKit dictionary \(Swift/Objective-C\): Secrets\.key\(…\) is not",
    ):
        parse_config(call.encode(), "A.swift")
    unknown = text.replace(f'let backupKey = "{pin["backup_root"]}"', "")
    with pytest.raises(ConfigError, match=r"line 12: .*: backupKey is not a literal or a constant"):
        parse_config(unknown.encode(), "A.swift")


def test_a_swift_file_without_pins_is_not_an_okhttp_list():
    with pytest.raises(ConfigError) as info:
        parse_config(b'import UIKit\nlet url = "https://api.example.com"\n', "View.swift")
    message = str(info.value)
    assert "not a pin config any format recognises" in message
    for name in ("nsc", "ats", "expo", "trustkit", "trustkit-source", "react-native", "okhttp"):
        assert name in message
    assert "sha256/BASE64" not in message


def test_trustkit_in_info_plist(pin, test_pki):
    plist = {
        "CFBundleName": "App",
        "TSKConfiguration": {
            "TSKPinnedDomains": {
                HOST: {"TSKPublicKeyHashes": [pin["ca1"], pin["backup_root"]]},
            }
        },
    }
    config = parse_config(plistlib.dumps(plist), "Info.plist")
    assert config.format == "ats" and config.platforms == ("trustkit-ios",)
    (policy,) = config.policies
    assert policy.where == f'TSKConfiguration.TSKPinnedDomains["{HOST}"]' and policy.enforce
    assert statuses(config, test_pki) == {"trustkit-ios": "pass"}


# ------------------------------------------------------------------------- Expo


@pytest.mark.parametrize("wrapped", [True, False])
def test_expo_app_json(wrapped, pin, test_pki):
    ios = {
        "bundleIdentifier": "com.example",
        "infoPlist": {
            "NSAppTransportSecurity": {
                "NSPinnedDomains": {
                    HOST: {
                        "NSIncludesSubdomains": True,
                        "NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": pin["ca1"]}],
                    }
                }
            }
        },
    }
    doc = {"expo": {"name": "app", "ios": ios}} if wrapped else {"name": "app", "ios": ios}
    config = parse_config(json.dumps(doc).encode(), "app.json")
    assert config.format == "expo" and config.platforms == ("ios",)
    (policy,) = config.policies
    prefix = "expo." if wrapped else ""
    assert policy.where == f'{prefix}ios.infoPlist.NSAppTransportSecurity.NSPinnedDomains["{HOST}"]'
    assert policy.include_subdomains
    assert statuses(config, test_pki) == {"ios": "pass"}
    report = audit(config, test_pki.chain, host=HOST, today=TODAY)
    assert report.to_dict()["format"] == "expo"


def test_expo_without_pins_is_refused():
    doc = {"expo": {"ios": {"infoPlist": {"UIBackgroundModes": ["fetch"]}}}}
    with pytest.raises(ConfigError, match=r"no expo\.ios\.infoPlist\.NSAppTransportSecurity"):
        parse_config(json.dumps(doc).encode(), "app.json")


# ----------------------------------------------- react-native-ssl-public-key-pinning


RN = """import {{ initializeSslPinning }} from 'react-native-ssl-public-key-pinning';

const BACKUP = '{backup}';
export async function setup() {{
  await initializeSslPinning({{
    '{host}': {{
      includeSubdomains: {include},
      publicKeyHashes: ['{ca}', BACKUP],
    }},
  }});
}}
"""


def test_react_native_pins_ios_with_trustkit_and_android_with_okhttp(pin, test_pki):
    text = RN.format(host=HOST, ca=pin["ca1"], backup=pin["backup_root"], include="true")
    config = parse_config(text.encode(), "pinning.ts")
    assert config.format == "react-native"
    assert config.platforms == ("trustkit-ios", "okhttp")
    tk, ok = config.for_platform("trustkit-ios"), config.for_platform("okhttp")
    assert [p.pattern for p in tk] == [HOST] and tk[0].include_subdomains and tk[0].enforce
    assert tk[0].report_uris == ()  # the module sets kTSKDisableDefaultReportUri
    assert [p.pattern for p in ok] == [f"**.{HOST}"]
    assert statuses(config, test_pki) == {"trustkit-ios": "pass", "okhttp": "pass"}


def test_react_native_agrees_with_the_libraries_it_configures(pin, test_pki):
    """The same pins as a TrustKit dictionary and an OkHttp list: the same verdicts, on the
    host and on a subdomain two labels down."""
    for include, pattern in (("false", HOST), ("true", f"**.{HOST}")):
        text = RN.format(host=HOST, ca=pin["ca1"], backup=pin["backup_root"], include=include)
        rn = parse_config(text.encode(), "pinning.js")
        entry = {
            "TSKPublicKeyHashes": [pin["ca1"], pin["backup_root"]],
            "TSKIncludeSubdomains": include == "true",
            "TSKDisableDefaultReportUri": True,
        }
        tk = parse_config(json.dumps({"TSKPinnedDomains": {HOST: entry}}).encode(), "tk.json")
        lines = f"{pattern} sha256/{pin['ca1']}\n{pattern} sha256/{pin['backup_root']}\n"
        ok = parse_config(lines.encode(), "pins.txt")
        for host in (HOST, f"a.b.{HOST}"):

            def verdicts(config, host=host):
                report = audit(
                    config, test_pki.chain, host=host, today=TODAY, anchors=[test_pki.root]
                )
                return {v.platform: (v.status, v.connects) for v in report.verdicts}

            assert verdicts(rn) == verdicts(tk) | verdicts(ok), (include, host)


def test_react_native_with_one_pin_goes_unpinned_on_ios(pin, test_pki):
    text = RN.format(host=HOST, ca=pin["ca1"], backup=pin["ca1"], include="false")
    config = parse_config(text.encode(), "pinning.ts")
    assert config.for_platform("trustkit-ios") == ()
    (finding,) = [f for f in config.findings if f.rule == "pinning-not-enabled"]
    assert finding.platforms == ("trustkit-ios",) and "connections go unpinned" in finding.message
    assert statuses(config, test_pki) == {"trustkit-ios": "not-pinned", "okhttp": "pass"}


def test_react_native_hash_okhttp_cannot_decode_rejects_on_android(pin, test_pki):
    text = RN.format(host=HOST, ca="not base64!", backup=pin["backup_root"], include="false")
    config = parse_config(text.encode(), "pinning.ts", strict=False)
    assert config.for_platform("okhttp") == ()
    assert any(
        f.rule == "pinning-not-enabled" and f.platforms == ("okhttp",) for f in config.findings
    )
    assert statuses(config, test_pki)["okhttp"] == "not-pinned"


def test_react_native_prefixed_hash_never_matches_on_android(pin, test_pki):
    """The module prepends "sha256/" itself: "sha256/sha256/…" decodes (Okio's alphabet has
    '/') to the wrong length, so OkHttp builds the pinner and the pin silently never matches."""
    text = RN.format(
        host=HOST, ca="sha256/" + pin["ca1"], backup=pin["backup_root"], include="false"
    )
    config = parse_config(text.encode(), "pinning.ts")
    (policy,) = config.for_platform("okhttp")
    assert not policy.pins[0].valid and policy.pins[1].valid
    assert any(f.rule == "malformed-pin" and "okhttp" in f.platforms for f in config.findings)


def test_react_native_options_from_a_constant(pin):
    text = (
        f"const PINS = {{ '{HOST}': {{ publicKeyHashes: ['{pin['ca1']}', '{pin['backup_root']}'] }} }};\n"
        "initializeSslPinning(PINS).then(() => {});\n"
    )
    config = parse_config(text.encode(), "pinning.js")
    assert [p.pattern for p in config.policies] == [HOST, HOST]


def test_react_native_refuses_options_it_cannot_read():
    with pytest.raises(ConfigError, match=r"loadPins\(…\) is not a literal"):
        parse_config(b"initializeSslPinning(loadPins());", "pinning.js")


def test_react_native_run_time_values_are_refused_by_name():
    text = (
        "await initializeSslPinning({\n  [domain]: {\n"
        "    publicKeyHashes: publicKeyHashes.trim().split('\\n'),\n  },\n});\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"line 2: react-native-ssl-public-key-pinning: the key \[domain\] is not a literal",
    ):
        parse_config(text.encode(), "App.tsx")
    keyed = text.replace("[domain]", f"'{HOST}'")
    with pytest.raises(
        ConfigError, match=r"publicKeyHashes\.trim\(…\)\.split\(…\) is not a literal"
    ):
        parse_config(keyed.encode(), "App.tsx")


def test_source_formats_need_a_source_file_name(pin):
    """A README quoting a call or a dictionary is not taken for the config itself."""
    text = RN.format(host=HOST, ca=pin["ca1"], backup=pin["backup_root"], include="true")
    assert parse_config(text.encode(), "pinning.jsx").format == "react-native"
    with pytest.raises(ConfigError, match="not a pin config any format recognises"):
        parse_config(text.encode(), "NOTES.md")
