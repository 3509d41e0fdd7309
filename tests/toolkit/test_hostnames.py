"""Host matching per platform, case by case from each platform's source."""

from __future__ import annotations

import pytest

from simlib.toolkit.hostnames import (
    ats_select,
    check_hostname,
    nsc_select,
    okhttp_matches,
    registry_length,
    trustkit_android_select,
    trustkit_ios_select,
)
from simlib.toolkit.policy import ConfigError, PinPolicy


def pol(pattern: str, include: bool = False, platform: str = "android") -> PinPolicy:
    return PinPolicy(pattern, platform, include)


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("example.com", "example.com", True),
        ("example.com", "www.example.com", False),
        ("example.com", "EXAMPLE.com", True),  # hosts are canonicalised (lower case)
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "wwwexample.com", False),
        ("**.example.com", "example.com", True),  # zero labels
        ("**.example.com", "www.example.com", True),
        ("**.example.com", "a.b.c.example.com", True),
        ("**.example.com", "badexample.com", False),
        ("**.example.com", "com", False),
    ],
)
def test_okhttp(pattern, host, expected):
    assert okhttp_matches(pattern, host) is expected


def test_nsc_most_specific_and_any_depth():
    parent, child, exact = pol("example.com", True), pol("api.example.com", True), pol("x.com")
    policies = [parent, child, exact]
    assert nsc_select(policies, "a.b.example.com") is parent
    assert nsc_select(policies, "v1.api.example.com") is child
    assert nsc_select(policies, "API.Example.com.") is child  # lower-cased, trailing dot dropped
    assert nsc_select(policies, "example.com") is parent
    assert nsc_select(policies, "www.x.com") is None  # x.com does not include subdomains
    assert nsc_select(policies, "badexample.com") is None


def test_nsc_exact_beats_include_subdomains():
    parent, exact = pol("example.com", True), pol("api.example.com", False)
    assert nsc_select([parent, exact], "api.example.com") is exact
    assert nsc_select([parent, exact], "v1.api.example.com") is parent


def test_ats_one_extra_label_and_union():
    parent, exact = pol("example.com", True, "ios"), pol("api.example.com", False, "ios")
    assert ats_select([parent, exact], "api.example.com") == [parent, exact]  # both contribute
    assert ats_select([parent, exact], "a.b.example.com") == []
    assert ats_select([parent], "API.EXAMPLE.COM.") == [parent]
    assert ats_select([pol("example.com", False, "ios")], "www.example.com") == []


def test_trustkit_android_is_case_sensitive_any_depth():
    parent = pol("example.com", True, "trustkit-android")
    assert trustkit_android_select([parent], "a.b.example.com") is parent
    assert trustkit_android_select([parent], "API.EXAMPLE.COM") is None


def test_trustkit_ios_longest_match_same_suffix():
    parent = pol("example.com", True, "trustkit-ios")
    child = pol("api.example.com", True, "trustkit-ios")
    assert trustkit_ios_select([parent, child], "v1.api.example.com") is child
    assert trustkit_ios_select([child, parent], "v1.api.example.com") is child
    assert trustkit_ios_select([parent], "deep.a.b.example.com") is parent
    assert trustkit_ios_select([parent], "badexample.com") is None
    assert trustkit_ios_select([parent], "example.org") is None
    uk = pol("example.co.uk", True, "trustkit-ios")
    assert trustkit_ios_select([uk], "api.example.co.uk") is uk


def test_registry_length():
    assert registry_length("example.com") == 3
    assert registry_length("example.co.uk") == 5
    assert registry_length("co.uk") == 0
    assert registry_length("com") == 0


# ------------------------------------------------------------------ one host-name validator


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("api.example.com", "api.example.com"),
        ("API.Example.COM", "api.example.com"),
        ("api.example.com.", "api.example.com."),  # absolute: kept, platforms differ on it
        ("b\u00fccher.example", "xn--bcher-kva.example"),  # IDNA (UTS-46) to A-labels
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("\uff41pi.example.com", "api.example.com"),  # full-width letters map (UTS-46)
        ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("a" * 63 + ".example.com", "a" * 63 + ".example.com"),
        (".".join(["a" * 63] * 3) + "." + "b" * 61, ".".join(["a" * 63] * 3) + "." + "b" * 61),
    ],
)
def test_check_hostname_canonical(name, canonical):
    assert check_hostname(name) == canonical


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("", "it is empty"),
        ("a" * 64 + ".com", "label 1 is 64 characters"),
        (".".join(["a" * 63] * 4), "255 characters as ASCII; at most 253"),
        ("x\x9by.com", "U+009B (a control character)"),
        ("x\u202ey.com", "U+202E (a bidi control)"),
        ("x\u200ey.com", "U+200E (a bidi control)"),
        ("x\u2069y.com", "U+2069 (a bidi control)"),
        ("x\u061cy.com", "U+061C (a bidi control)"),
        ("x\u00ady.com", "U+00AD (an invisible format character)"),
        ("x\u2028y.com", "U+2028 (a line separator)"),
        ("x\u00a0y.com", "U+00A0 (a space)"),
        ("x\ud800y.com", "U+D800 (a lone surrogate)"),
        ("x\ue000y.com", "U+E000 (a private-use character)"),
        ("a..com", "label 2 is empty"),
        (".", "label 1 is empty"),
        ("*.example.com", "wildcard"),
        ("a.*.example.com", "label 2"),
        ("-a.com", "label 1"),
        ("a-.com", "label 1"),
        ("a_b.com", "label 1"),
        ("xn--zz.com", "not valid punycode"),
        ("fe80::1%eth0", "IPv6 zone id"),
        ("[fe80::1%<b>x]", "IPv6 zone id"),
        ("\u0661\u0662\u0663.com", "internationalised"),  # IDNA 2008 bidi rule
        ("a" * 2000, "at most 253"),
    ],
)
def test_check_hostname_refuses(name, needle):
    with pytest.raises(ConfigError) as err:
        check_hostname(name)
    text = str(err.value)
    assert needle in text and text.startswith("--host: ")
    assert all(ch.isprintable() for ch in text), text  # the bad name is shown escaped


def test_check_hostname_wildcard_and_source():
    assert check_hostname("*.Example.com", wildcard=True) == "*.example.com"
    with pytest.raises(ConfigError, match=r"^chain\.pem: certificate \[0\]: 'x\\x1b'"):
        check_hostname("x\x1b", source="chain.pem", where="certificate [0]")
    with pytest.raises(ConfigError, match="must be text"):
        check_hostname(None)
    with pytest.raises(ConfigError, match="label 1"):  # SANs: an IP is no DNS name
        check_hostname("::1", ip=False)
