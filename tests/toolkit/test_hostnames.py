"""Host matching per platform, case by case from each platform's source."""

from __future__ import annotations

import pytest

from simlib.toolkit.hostnames import (
    ats_select,
    nsc_select,
    okhttp_matches,
    registry_length,
    trustkit_android_select,
    trustkit_ios_select,
)
from simlib.toolkit.policy import PinPolicy


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
