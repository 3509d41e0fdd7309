"""Hostile source files for the literal scanner (Swift, Objective-C, JS/TS, Kotlin/Java) and
the new formats: one ConfigError line or a normal import, within a CPU bound, and every
scanner linear in its input (measured as in test_hostile_configs)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from simlib.toolkit import ConfigError, parse_config
from simlib.toolkit.formats.literals import MAX_NEST, Reader, tokenize
from tests.toolkit.test_hostile_configs import P1, P2, growth

pytestmark = pytest.mark.hostile
HOST = "api.example.com"
CPU_LIMIT = 2.0


def swift(n: int) -> bytes:
    body = ",\n".join(
        f'"d{i}.example.com": [kTSKPublicKeyHashes: ["{P1}", "{P2}"]]' for i in range(n)
    )
    return f"let c = [kTSKPinnedDomains: [{body}]] as [String: Any]".encode()


def objc(n: int) -> bytes:
    body = ", ".join(
        f'@"d{i}.example.com": @{{kTSKPublicKeyHashes: @[@"{P1}", @"{P2}"]}}' for i in range(n)
    )
    return f"NSDictionary *c = @{{kTSKPinnedDomains: @{{{body}}}}};".encode()


def react_native(n: int) -> bytes:
    body = ", ".join(
        f"'d{i}.example.com': {{ publicKeyHashes: ['{P1}', '{P2}'] }}" for i in range(n)
    )
    return f"initializeSslPinning({{{body}}});".encode()


def expo(n: int) -> bytes:
    domains = {
        f"d{i}.example.com": {"NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": P1}]}
        for i in range(n)
    }
    ats = {"NSAppTransportSecurity": {"NSPinnedDomains": domains}}
    return json.dumps({"expo": {"ios": {"infoPlist": ats}}}).encode()


def kotlin_constants(n: int) -> bytes:
    consts = "\n".join(f'const val H{i} = "d{i}.example.com"' for i in range(n))
    calls = "\n".join(f'    .add(H{i}, "sha256/{P1}")' for i in range(n))
    return f"{consts}\nval p = CertificatePinner.Builder()\n{calls}\n    .build()".encode()


def kotlin_nested_adds(n: int) -> bytes:
    """``.add(x.add(x.add(…)))``: every call skips the rest; the search must not restart."""
    return (
        "CertificatePinner " + "x.add(" * n + ")" * n + f'.add("{HOST}", "sha256/{P1}")'
    ).encode()


def nsc_wrapped(n: int) -> bytes:
    wrapped = P1.rstrip("=")[:20] + "\n  " + P1.rstrip("=")[20:]
    body = "".join(
        f"<domain-config><domain>d{i}.example.com</domain><pin-set>"
        f'<pin digest="SHA-256">{wrapped}</pin></pin-set></domain-config>'
        for i in range(n)
    )
    return f"<network-security-config>{body}</network-security-config>".encode()


GROWTH: dict[str, tuple[Callable[[int], bytes], str]] = {
    "swift": (swift, "A.swift"),
    "objc": (objc, "A.m"),
    "react-native": (react_native, "pins.ts"),
    "expo": (expo, "app.json"),
    "kotlin-constants": (kotlin_constants, "Pins.kt"),
    "kotlin-nested-adds": (kotlin_nested_adds, "Pins.kt"),
    "nsc-lenient-base64": (nsc_wrapped, "nsc.xml"),
}


@pytest.mark.parametrize("case", sorted(GROWTH))
def test_source_scanners_are_linear(case):
    make, name = GROWTH[case]

    def work(data: bytes) -> object:
        try:
            return parse_config(data, name, strict=False)
        except ConfigError as exc:  # a refusal is fine; its cost is measured all the same
            return exc

    n, base, large = growth(work, make, 0.02)
    assert large / base < 25, f"{case}: {n} items {base:.3f} s, {10 * n} items {large:.3f} s"


@pytest.mark.parametrize("piece", ['"', "'", "`", "/*", '"""', "\\", "@"])
def test_the_tokenizer_is_linear_on_unclosed_strings_and_comments(piece):
    def make(n: int) -> bytes:
        return (piece + "a").encode() * n

    n, base, large = growth(lambda d: tokenize(d.decode(), "x"), make, 0.01)
    assert large / base < 25, (piece, n, base, large)


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    try:
        fn()
    except ConfigError as exc:
        assert "\n" not in str(exc)
    return time.process_time() - start


HOSTILE = {
    # nesting past the bound: refused by depth, not by Python's recursion limit
    "swift-deep": ("A.swift", "let c = [kTSKPinnedDomains: " + "[" * 100_000, "nested more than"),
    "swift-many-unclosed-comments": ("A.swift", "kTSKPinnedDomains: /*" * 50_000, "ends inside"),
    "objc-deep": ("A.m", "x = @{kTSKPinnedDomains: " + '@{@"a": ' * 5000, "nested more than"),
    "js-deep": ("p.js", "initializeSslPinning(" + "{a: " * 5000, "nested more than"),
    # constants that expand exponentially: bounded by the file's size
    "js-constant-bomb": (
        "p.js",
        "".join(f"const T{i} = [T{i + 1}, T{i + 1}, T{i + 1}, T{i + 1}];\n" for i in range(30))
        + "const T30 = ['x'];\ninitializeSslPinning({'a.com': {publicKeyHashes: T0}});",
        "constants expand",
    ),
    "js-self-reference": (
        "p.js",
        "const A = {'a.com': {publicKeyHashes: A}};\ninitializeSslPinning(A);",
        "is not a literal",
    ),
    "swift-unclosed-string": (
        "A.swift",
        'x = [kTSKPinnedDomains: ["a' + "b" * 500_000,
        "unclosed",
    ),
    "swift-truncated": ("A.swift", "x = [kTSKPinnedDomains: [", "ends inside"),
    "kotlin-many-adds": ("P.kt", ".add(" * 100_000, "expected 'pattern sha256/BASE64'"),
    "kotlin-many-half-calls": ("P.kt", '.add("a", ' * 50_000, "pins must start with"),
    "kotlin-nested-calls": ("P.kt", "CertificatePinner " + ".add(x.add(" * 50_000, "pins must"),
    "kotlin-too-big": ("P.kt", "CertificatePinner .add(" + " " * 2_000_000, "give the file that"),
    "kotlin-huge-template": (
        "P.kt",
        f'CertificatePinner .add("{HOST}", "sha256/' + "$X" * 200_000 + '")',
        "not a string literal",
    ),
    "rn-import-only": (
        "p.ts",
        "import { initializeSslPinning } from 'x';",
        "no initializeSslPinning",
    ),
    "rn-not-an-object": ("p.ts", "initializeSslPinning('a.com');", "takes an object"),
    "expo-no-ios": ("app.json", '{"expo": {"infoPlist": 1}}', "no expo.ios.infoPlist"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_sources_are_one_line_errors(case):
    name, text, expect = HOSTILE[case]
    data = text.encode()
    with pytest.raises(ConfigError) as info:
        parse_config(data, name)
    assert expect in str(info.value) and "\n" not in str(info.value)
    assert _cpu(lambda: parse_config(data, name)) < CPU_LIMIT, case


def test_depth_bound_is_the_documented_one():
    inside = "[" * MAX_NEST + "1" + "]" * MAX_NEST
    toks = tokenize(inside, "x")
    assert Reader(toks, "x").value(0)[0] is not None
    deeper = "[" * (MAX_NEST + 2) + "1" + "]" * (MAX_NEST + 2)
    with pytest.raises(ConfigError, match="nested more than"):
        Reader(tokenize(deeper, "x"), "x").value(0)
