"""Hostile pin configs: ``simlib audit CONFIG`` ends in a normal audit or in one ``error:`` line
naming the file, never in a traceback, a hang or a blow-up; every parser stays linear.

Each case is a file an attacker or a careless user could hand to ``audit`` (deep nesting,
entities, shared-object bombs, truncation, wrong types at every key, huge numbers, NUL bytes,
BOMs, UTF-16, invalid UTF-8, surrogates, control characters, FIFOs and devices). Cases run
in-process; one runs the real executable to prove the exit code.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import plistlib
import re
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import pytest

from simlib.cli.main import main
from simlib.errors import escape_controls
from simlib.toolkit import ConfigError, parse_config
from tests.toolkit.conftest import CONFIGS

pytestmark = pytest.mark.hostile

# Two valid 32-byte pins that match nothing in the test chain.
P1 = base64.b64encode(b"\x01" * 32).decode()
P2 = base64.b64encode(b"\x02" * 32).decode()
HOST = "api.example.com"
CPU_LIMIT = 2.0  # seconds of CPU per case
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


# --------------------------------------------------------------------------- file builders


def nsc(body: str) -> bytes:
    return f"<network-security-config>{body}</network-security-config>".encode()


def pin_set(*pins: str) -> str:
    return "<pin-set>" + "".join(f'<pin digest="SHA-256">{p}</pin>' for p in pins) + "</pin-set>"


def domain_config(name: str = HOST, inner: str = "", pins: tuple[str, ...] = (P1, P2)) -> str:
    return f"<domain-config><domain>{name}</domain>{pin_set(*pins)}{inner}</domain-config>"


def nested_nsc(depth: int, *, trustkit: bool = False) -> bytes:
    """``depth`` domain-configs each inside the previous one."""
    tk = '<trustkit-config enforcePinning="true"/>' if trustkit else ""
    head = f"<domain-config><domain>{HOST}</domain>{pin_set(P1, P2)}{tk}"
    inner = "".join(f"<domain-config><domain>d{i}.example.com</domain>" for i in range(depth - 1))
    return nsc(head + inner + "</domain-config>" * depth)


def tk_json(entry: object, domain: str = HOST) -> bytes:
    return json.dumps({"TSKPinnedDomains": {domain: entry}}).encode()


def tk_entry(**over: object) -> dict:
    entry: dict = {"TSKPublicKeyHashes": [P1, P2], "TSKIncludeSubdomains": False}
    entry.update(over)
    return entry


def nested_json(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


def ats_plist(entry: object, domain: str = HOST, fmt: plistlib.PlistFormat = plistlib.FMT_XML):
    doc = {"NSAppTransportSecurity": {"NSPinnedDomains": {domain: entry}}}
    return plistlib.dumps(doc, fmt=fmt)


def ats_entry(**over: object) -> dict:
    entry: dict = {
        "NSIncludesSubdomains": False,
        "NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": P1}],
    }
    entry.update(over)
    return entry


def xml_plist(body: str, doctype: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<plist version="1.0">{body}</plist>'.encode()


APPLE_DTD = (
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">'
)


def ats_xml(key: str = HOST, value: str = "<dict/>") -> str:
    return (
        "<dict><key>NSAppTransportSecurity</key><dict><key>NSPinnedDomains</key>"
        f"<dict><key>{key}</key>{value}</dict></dict></dict>"
    )


class Bplist:
    """A binary plist written object by object, so references can be shared, cyclic, deep or
    point at keys that are not strings: things ``plistlib.dumps`` never writes."""

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    @staticmethod
    def _marker(kind: int, n: int) -> bytes:
        return bytes([kind | n]) if n < 15 else bytes([kind | 15, 0x13]) + n.to_bytes(8, "big")

    def _add(self, raw: bytes) -> int:
        self.objects.append(raw)
        return len(self.objects) - 1

    def reserve(self) -> int:
        return self._add(b"")

    def text(self, text: str) -> int:
        raw = text.encode("ascii")
        return self._add(self._marker(0x50, len(raw)) + raw)

    def utf16(self, raw: bytes) -> int:
        return self._add(self._marker(0x60, len(raw) // 2) + raw)

    def integer(self, value: int) -> int:
        return self._add(b"\x13" + value.to_bytes(8, "big", signed=True))

    def real(self, value: float) -> int:
        return self._add(b"\x23" + struct.pack(">d", value))

    def data(self, raw: bytes) -> int:
        return self._add(self._marker(0x40, len(raw)) + raw)

    def true(self) -> int:
        return self._add(b"\x09")

    def array(self, refs: list[int], at: int | None = None) -> int:
        raw = self._marker(0xA0, len(refs)) + b"".join(r.to_bytes(2, "big") for r in refs)
        if at is not None:
            self.objects[at] = raw
            return at
        return self._add(raw)

    def mapping(self, pairs: list[tuple[int, int]], at: int | None = None) -> int:
        keys = b"".join(k.to_bytes(2, "big") for k, _ in pairs)
        values = b"".join(v.to_bytes(2, "big") for _, v in pairs)
        raw = self._marker(0xD0, len(pairs)) + keys + values
        if at is not None:
            self.objects[at] = raw
            return at
        return self._add(raw)

    def ats(self, domain_key: int, entry: int) -> int:
        """``NSAppTransportSecurity.NSPinnedDomains[domain_key] = entry``; returns the top ref."""
        pinned = self.mapping([(domain_key, entry)])
        ats = self.mapping([(self.text("NSPinnedDomains"), pinned)])
        return self.mapping([(self.text("NSAppTransportSecurity"), ats)])

    def build(self, top: int, *, num_objects: int | None = None, table_at: int | None = None):
        body = bytearray(b"bplist00")
        offsets = []
        for raw in self.objects:
            offsets.append(len(body))
            body += raw
        table = len(body) if table_at is None else table_at
        body += b"".join(o.to_bytes(4, "big") for o in offsets)
        count = len(self.objects) if num_objects is None else num_objects
        body += bytes(6) + bytes([4, 2]) + struct.pack(">QQQ", count, top, table)
        return bytes(body)


def bplist_bomb(levels: int = 12, fan: int = 40, where: str = "NSIncludesSubdomains") -> bytes:
    """A kilobyte that stands for fan**levels values: each array repeats one reference."""
    b = Bplist()
    node = b.text("x")
    for _ in range(levels):
        node = b.array([node] * fan)
    if where == "top":
        ats = b.ats(b.text(HOST), b.mapping([]))
        return b.build(b.mapping([(b.text("Bomb"), node), (b.text("Pinned"), ats)]))
    if where == "identities":
        entry = b.mapping([(b.text("NSPinnedCAIdentities"), node)])
    else:
        entry = b.mapping([(b.text(where), node)])
    return b.build(b.ats(b.text(HOST), entry))


def bplist_deep(depth: int) -> bytes:
    b = Bplist()
    node = b.text(P1)
    for _ in range(depth):
        node = b.array([node])
    return b.build(b.ats(b.text(HOST), b.mapping([(b.text("NSPinnedCAIdentities"), node)])))


def bplist_cycle(kind: str) -> bytes:
    b = Bplist()
    slot = b.reserve()
    if kind == "array":
        b.array([slot], at=slot)
    else:
        b.mapping([(b.text("NSPinnedCAIdentities"), slot)], at=slot)
    return b.build(b.ats(b.text(HOST), slot))


def bplist_key(make: Callable[[Bplist], int]) -> bytes:
    """A binary plist whose NSPinnedDomains key is whatever ``make`` writes."""
    b = Bplist()
    entry = b.mapping([])
    return b.build(b.ats(make(b), entry))


def bplist_raw(tweak: str) -> bytes:
    b = Bplist()
    top = b.ats(b.text(HOST), b.mapping([]))
    good = b.build(top)
    if tweak == "ref-out-of-range":
        return Bplist.build(b, top + 50)
    if tweak == "num-objects-huge":
        return b.build(top, num_objects=2**62)
    if tweak == "table-past-end":
        return b.build(top, table_at=len(good) * 10)
    if tweak == "no-trailer":
        return good[:-32]
    if tweak == "cut-half":
        return good[: len(good) // 2]
    if tweak == "header-only":
        return b"bplist00"
    raise AssertionError(tweak)


# ------------------------------------------------------------------------------- the cases

OK = "ok"  # a normal audit (exit 0 or 1), nothing raw on the terminal
ANY = "any"  # either a normal audit or one error line: the format's own choice

Case = tuple[str, Callable[[], bytes], str, tuple[str, ...]]  # (file name, bytes, expect, argv)


def c(name: str, make: Callable[[], bytes], expect: str, *argv: str) -> Case:
    return (name, make, expect, argv)


NESTED = "nested more than 64"
XML_NESTED = "XML elements nested more than 64 deep"

CASES: dict[str, Case] = {
    # --- Android NSC: depth, entities, truncation, encodings, text, wrong values
    "nsc-nested-3": c("nsc.xml", lambda: nested_nsc(3), OK),
    "nsc-nested-60": c("nsc.xml", lambda: nested_nsc(60), OK),
    "nsc-nested-70": c("nsc.xml", lambda: nested_nsc(70), XML_NESTED),
    "nsc-nested-2000": c("nsc.xml", lambda: nested_nsc(2000), XML_NESTED),
    "nsc-nested-100000": c("nsc.xml", lambda: nested_nsc(100_000), XML_NESTED),
    "nsc-trustkit-nested-60": c("nsc.xml", lambda: nested_nsc(60, trustkit=True), OK),
    "nsc-trustkit-nested-2000": c("nsc.xml", lambda: nested_nsc(2000, trustkit=True), XML_NESTED),
    "nsc-trustkit-only-nested-2000": c(
        "nsc.xml", lambda: nested_nsc(2000, trustkit=True), XML_NESTED, "--platform", "trustkit"
    ),
    "nsc-deep-other-elements": c(
        "nsc.xml", lambda: nsc(domain_config(inner="<x>" * 5000 + "</x>" * 5000)), XML_NESTED
    ),
    "nsc-entity-bomb": c(
        "nsc.xml",
        lambda: (
            b'<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            + nsc(domain_config(name="&b;"))
        ),
        "entity declaration",
    ),
    "nsc-external-entity": c(
        "nsc.xml",
        lambda: (
            b'<?xml version="1.0"?><!DOCTYPE n [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + nsc(domain_config(name="&x;"))
        ),
        "entity",
    ),
    "nsc-parameter-entity": c(
        "nsc.xml",
        lambda: (
            b'<?xml version="1.0"?><!DOCTYPE n [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
            + nsc(domain_config())
        ),
        "entity",
    ),
    "nsc-undefined-entity-external-dtd": c(
        "nsc.xml",
        lambda: (
            b'<!DOCTYPE network-security-config SYSTEM "file:///etc/passwd">'
            + nsc(domain_config(name="a&undefined;.com"))
        ),
        "undefined XML entity &undefined",
    ),
    "nsc-undefined-entity": c(
        "nsc.xml", lambda: nsc(domain_config(name="&nope;")), "malformed XML"
    ),
    "nsc-external-dtd-unread": c(
        "nsc.xml",
        lambda: (
            b'<!DOCTYPE network-security-config SYSTEM "file:///etc/passwd">' + nsc(domain_config())
        ),
        OK,
    ),
    "nsc-truncated-quarter": c("nsc.xml", lambda: nsc(domain_config())[:40], "malformed XML"),
    "nsc-truncated-most": c("nsc.xml", lambda: nsc(domain_config())[:-5], "malformed XML"),
    "nsc-nul-byte": c("nsc.xml", lambda: nsc(domain_config(name="a\x00.com")), "malformed XML"),
    "nsc-raw-escape": c(
        "nsc.xml", lambda: nsc(domain_config(name="a\x1b[2J.com")), "malformed XML"
    ),
    "nsc-escape-char-ref": c(
        "nsc.xml", lambda: nsc(domain_config(name="a&#x1b;.com")), "malformed XML"
    ),
    "nsc-surrogate-char-ref": c(
        "nsc.xml", lambda: nsc(domain_config(name="a&#xD800;.com")), "malformed XML"
    ),
    "nsc-bidi-domain": c("nsc.xml", lambda: nsc(domain_config(name="moc.\u202eexample")), OK),
    "nsc-c1-domain": c("nsc.xml", lambda: nsc(domain_config(name="a\u009b31m.com")), OK),
    "nsc-invalid-utf8": c(
        "nsc.xml", lambda: nsc(domain_config()).replace(b"api", b"\xff\xfe"), ANY
    ),
    "nsc-utf8-bom": c("nsc.xml", lambda: b"\xef\xbb\xbf" + nsc(domain_config()), OK),
    "nsc-utf16-bom": c("nsc.xml", lambda: nsc(domain_config()).decode().encode("utf-16"), "UTF-16"),
    "nsc-utf16-no-bom": c(
        "nsc.xml", lambda: nsc(domain_config()).decode().encode("utf-16-le"), ANY
    ),
    "nsc-3mb-entity-text": c("nsc.xml", lambda: nsc(domain_config(name="&amp;" * 700_000)), OK),
    "nsc-5000-domains": c(
        "nsc.xml",
        lambda: nsc("".join(domain_config(f"d{i}.example.com") for i in range(5_000))),
        OK,
    ),
    "nsc-10000-attributes": c(
        "nsc.xml",
        lambda: nsc(domain_config().replace("<domain-config>", _many_attributes(10_000))),
        OK,
    ),
    "nsc-megabyte-pin": c("nsc.xml", lambda: nsc(domain_config(pins=("A" * 1_000_000,))), OK),
    "nsc-expiration-5000-digits": c(
        "nsc.xml",
        lambda: nsc(
            domain_config().replace("<pin-set>", f'<pin-set expiration="{"1" * 5000}-01-01">')
        ),
        "invalid pin-set expiration",
    ),
    "nsc-expiration-year-0": c(
        "nsc.xml",
        lambda: nsc(domain_config().replace("<pin-set>", '<pin-set expiration="0000-01-01">')),
        "invalid pin-set expiration",
    ),
    "nsc-expiration-9999-12-31": c(
        "nsc.xml",
        lambda: nsc(domain_config().replace("<pin-set>", '<pin-set expiration="9999-12-31">')),
        OK,
    ),
    "nsc-include-subdomains-odd": c(
        "nsc.xml",
        lambda: nsc(domain_config().replace("<domain>", '<domain includeSubdomains="\u202eyes">')),
        OK,
    ),
    "nsc-wrong-root": c("nsc.xml", lambda: b"<manifest/>", "root element"),
    "nsc-only-prolog": c("nsc.xml", lambda: b'<?xml version="1.0"?>', "malformed XML"),
    "nsc-pin-missing-digest": c(
        "nsc.xml", lambda: nsc(domain_config().replace(' digest="SHA-256"', "")), "digest"
    ),
    # --- TrustKit JSON: depth, numbers, surrogates, wrong types at every key
    "json-nested-60": c("tk.json", lambda: nested_json(60), "dictionary"),
    "json-nested-70": c("tk.json", lambda: nested_json(70), NESTED),
    "json-nested-1000": c("tk.json", lambda: nested_json(1000), NESTED),
    "json-nested-100000": c("tk.json", lambda: nested_json(100_000), NESTED),
    "json-objects-nested-100000": c(
        "tk.json", lambda: ('{"a":' * 100_000 + "1" + "}" * 100_000).encode(), NESTED
    ),
    "json-deep-inside-entry": c(
        "tk.json", lambda: tk_json(tk_entry(TSKReportUris=json.loads(nested_json(200)))), NESTED
    ),
    "json-5000-digit-int": c(
        "tk.json",
        lambda: tk_json(tk_entry()).replace(b"false", b"9" * 5000),
        "more than 4300 digits",
    ),
    "json-5000-digit-float": c(
        "tk.json", lambda: tk_json(tk_entry()).replace(b"false", b"0." + b"9" * 5000), "Boolean"
    ),
    "json-1e999": c("tk.json", lambda: tk_json(tk_entry()).replace(b"false", b"1e999"), "Boolean"),
    "json-nan": c("tk.json", lambda: tk_json(tk_entry()).replace(b"false", b"NaN"), "Boolean"),
    "json-surrogate-domain": c(
        "tk.json", lambda: tk_json(tk_entry(), "\ud800.example.com"), "lone surrogate"
    ),
    "json-surrogate-hash": c(
        "tk.json", lambda: tk_json(tk_entry(TSKPublicKeyHashes=[P1, "\udfff"])), "lone surrogate"
    ),
    "json-surrogate-report-uri": c(
        "tk.json", lambda: tk_json(tk_entry(TSKReportUris=["https://\udbff/"])), "lone surrogate"
    ),
    "json-surrogate-unused-key": c(
        "tk.json",
        lambda: json.dumps({"\ud800": 1, "TSKPinnedDomains": {}}).encode(),
        "lone surrogate",
    ),
    "json-nul-in-domain": c("tk.json", lambda: tk_json(tk_entry(), "api\u0000.example.com"), OK),
    "json-escape-in-domain": c(
        "tk.json", lambda: tk_json(tk_entry(), "\x1b[31mapi.example.com"), OK
    ),
    "json-bidi-in-domain": c("tk.json", lambda: tk_json(tk_entry(), "\u202emoc.elpmaxe"), OK),
    "json-c1-in-hash": c(
        "tk.json", lambda: tk_json(tk_entry(TSKPublicKeyHashes=["\u009b" + P1])), "not valid base64"
    ),
    "json-domains-list": c("tk.json", lambda: b'{"TSKPinnedDomains": [1, 2]}', "TSKPinnedDomains"),
    "json-domains-string": c("tk.json", lambda: b'{"TSKPinnedDomains": "x"}', "TSKPinnedDomains"),
    "json-domains-null": c("tk.json", lambda: b'{"TSKPinnedDomains": null}', "TSKPinnedDomains"),
    "json-entry-list": c("tk.json", lambda: tk_json([1]), "must be a dictionary"),
    "json-entry-null": c("tk.json", lambda: tk_json(None), "must be a dictionary"),
    "json-entry-number": c("tk.json", lambda: tk_json(3.5), "must be a dictionary"),
    "json-include-list": c(
        "tk.json", lambda: tk_json(tk_entry(TSKIncludeSubdomains=[True])), "Boolean"
    ),
    "json-include-dict": c(
        "tk.json", lambda: tk_json(tk_entry(TSKIncludeSubdomains={"a": 1})), "Boolean"
    ),
    "json-enforce-string": c(
        "tk.json", lambda: tk_json(tk_entry(TSKEnforcePinning="YES")), "Boolean"
    ),
    "json-enforce-huge-int": c("tk.json", lambda: tk_json(tk_entry(TSKEnforcePinning=10**300)), OK),
    "json-hashes-dict": c(
        "tk.json", lambda: tk_json(tk_entry(TSKPublicKeyHashes={"a": P1})), "list of strings"
    ),
    "json-hashes-numbers": c(
        "tk.json", lambda: tk_json(tk_entry(TSKPublicKeyHashes=[1, 2])), "list of strings"
    ),
    "json-hashes-nested": c(
        "tk.json", lambda: tk_json(tk_entry(TSKPublicKeyHashes=[[P1]])), "list of strings"
    ),
    "json-hashes-empty": c("tk.json", lambda: tk_json(tk_entry(TSKPublicKeyHashes=[])), OK),
    "json-expiration-number": c(
        "tk.json", lambda: tk_json(tk_entry(TSKExpirationDate=20260101)), OK
    ),
    "json-expiration-deep-list": c(
        "tk.json", lambda: tk_json(tk_entry(TSKExpirationDate=json.loads(nested_json(50)))), OK
    ),
    "json-expiration-bad-date": c(
        "tk.json", lambda: tk_json(tk_entry(TSKExpirationDate="2026-02-30")), "TSKExpirationDate"
    ),
    "json-report-uris-dict": c(
        "tk.json", lambda: tk_json(tk_entry(TSKReportUris={"a": 1})), "TSKReportUris"
    ),
    "json-disable-uri-string": c(
        "tk.json", lambda: tk_json(tk_entry(TSKDisableDefaultReportUri="no")), "Boolean"
    ),
    "json-exclude-list": c(
        "tk.json", lambda: tk_json(tk_entry(TSKExcludeSubdomainFromParentPolicy=[1])), "Boolean"
    ),
    "json-250000-values": c(
        "tk.json",
        lambda: tk_json(tk_entry(TSKReportUris=[""] * 250_000)),
        "more than 200,000 values",
    ),
    "json-truncated": c("tk.json", lambda: tk_json(tk_entry())[:-7], "malformed JSON"),
    "json-bom": c("tk.json", lambda: b"\xef\xbb\xbf" + tk_json(tk_entry()), OK),
    "json-utf16": c("tk.json", lambda: tk_json(tk_entry()).decode().encode("utf-16"), "UTF-16"),
    "json-invalid-utf8": c(
        "tk.json", lambda: tk_json(tk_entry()).replace(b"api", b"\xc3\x28"), "binary data"
    ),
    "json-top-string": c("tk.json", lambda: b'["x"]', "dictionary"),
    "json-empty-object": c("tk.json", lambda: b"{}", "TSKPinnedDomains"),
    "json-ios-platform-android": c(
        "tk.json", lambda: tk_json(tk_entry()), OK, "--platform", "android"
    ),
    # --- Info.plist, XML: depth, entities, numbers, wrong types
    "plist-nested-60": c(
        "Info.plist", lambda: xml_plist(ats_xml(value="<array>" * 55 + "</array>" * 55)), OK
    ),
    "plist-nested-100": c(
        "Info.plist",
        lambda: xml_plist(ats_xml(value="<array>" * 100 + "</array>" * 100)),
        XML_NESTED,
    ),
    "plist-nested-100000": c(
        "Info.plist",
        lambda: xml_plist(ats_xml(value="<array>" * 100_000 + "</array>" * 100_000)),
        XML_NESTED,
    ),
    "plist-undefined-entity": c(
        "Info.plist",
        lambda: xml_plist(ats_xml(key="a&foo;.com"), APPLE_DTD),
        "undefined XML entity",
    ),
    "plist-entity-declaration": c(
        "Info.plist",
        lambda: xml_plist(ats_xml(key="&e;"), '<!DOCTYPE plist [<!ENTITY e "api.example.com">]>'),
        "entity declaration",
    ),
    "plist-apple-dtd": c("Info.plist", lambda: xml_plist(ats_xml(), APPLE_DTD), OK),
    "plist-5000-digit-integer": c(
        "Info.plist", lambda: xml_plist(ats_xml(value=f"<integer>{'9' * 5000}</integer>")), "plist"
    ),
    "plist-bad-date": c(
        "Info.plist", lambda: xml_plist(ats_xml(value="<date>yesterday</date>")), "plist"
    ),
    "plist-bad-data": c("Info.plist", lambda: xml_plist(ats_xml(value="<data>@@@</data>")), OK),
    "plist-key-without-value": c(
        "Info.plist", lambda: xml_plist("<dict><key>a</key></dict>"), "plist"
    ),
    "plist-truncated": c("Info.plist", lambda: ats_plist(ats_entry())[:-30], "plist"),
    "plist-domains-array": c(
        "Info.plist",
        lambda: plistlib.dumps({"NSAppTransportSecurity": {"NSPinnedDomains": [HOST]}}),
        "must be a dictionary",
    ),
    "plist-entry-string": c("Info.plist", lambda: ats_plist("pinned"), OK),
    "plist-identities-dict": c(
        "Info.plist", lambda: ats_plist(ats_entry(NSPinnedCAIdentities={"a": 1})), OK
    ),
    "plist-identity-number": c(
        "Info.plist", lambda: ats_plist(ats_entry(NSPinnedLeafIdentities=[7])), OK
    ),
    "plist-include-array": c(
        "Info.plist", lambda: ats_plist(ats_entry(NSIncludesSubdomains=[True] * 50)), OK
    ),
    "plist-include-deep": c(
        "Info.plist",
        lambda: xml_plist(
            ats_xml(
                value="<dict><key>NSIncludesSubdomains</key>"
                + "<array>" * 50
                + "</array>" * 50
                + "</dict>"
            )
        ),
        OK,
    ),
    "plist-bidi-domain": c(
        "Info.plist", lambda: ats_plist(ats_entry(), "\u202eapi.example.com"), OK
    ),
    "plist-top-array": c("Info.plist", lambda: plistlib.dumps([1, 2]), "top level"),
    "plist-nothing-pinned": c(
        "Info.plist", lambda: plistlib.dumps({"CFBundleName": "x"}), "nothing is pinned"
    ),
    # --- Info.plist, binary: shared-object bombs, cycles, depth, keys that are not strings
    "bplist-bomb-40^12-top": c(
        "Info.plist", lambda: bplist_bomb(where="top"), "more than 200,000 values"
    ),
    "bplist-bomb-40^12-include": c("Info.plist", bplist_bomb, "more than 200,000 values"),
    "bplist-bomb-40^12-identities": c(
        "Info.plist", lambda: bplist_bomb(where="identities"), "more than 200,000 values"
    ),
    "bplist-bomb-2^60": c("Info.plist", lambda: bplist_bomb(60, 2), "more than 200,000 values"),
    "bplist-cycle-array": c("Info.plist", lambda: bplist_cycle("array"), "refers to itself"),
    "bplist-cycle-dict": c("Info.plist", lambda: bplist_cycle("dict"), "refers to itself"),
    "bplist-deep-60": c("Info.plist", lambda: bplist_deep(55), OK),
    "bplist-deep-70": c("Info.plist", lambda: bplist_deep(70), NESTED),
    "bplist-deep-300": c("Info.plist", lambda: bplist_deep(300), NESTED),
    "bplist-deep-900": c("Info.plist", lambda: bplist_deep(900), NESTED),
    "bplist-deep-5000": c("Info.plist", lambda: bplist_deep(5000), NESTED),
    "bplist-key-int": c(
        "Info.plist", lambda: bplist_key(lambda b: b.integer(7)), "is not a string"
    ),
    "bplist-key-data": c(
        "Info.plist", lambda: bplist_key(lambda b: b.data(b"api")), "is not a string"
    ),
    "bplist-key-real": c(
        "Info.plist", lambda: bplist_key(lambda b: b.real(1.5)), "is not a string"
    ),
    "bplist-key-bool": c("Info.plist", lambda: bplist_key(lambda b: b.true()), "is not a string"),
    "bplist-key-array": c(
        "Info.plist", lambda: bplist_key(lambda b: b.array([])), "not a valid plist"
    ),
    "bplist-key-lone-surrogate": c(
        "Info.plist", lambda: bplist_key(lambda b: b.utf16(b"\xd8\x00\x00a")), "not a valid plist"
    ),
    "bplist-key-utf16-bidi": c(
        "Info.plist", lambda: bplist_key(lambda b: b.utf16("\u202eapi".encode("utf-16-be"))), OK
    ),
    "bplist-ref-out-of-range": c(
        "Info.plist", lambda: bplist_raw("ref-out-of-range"), "not a valid plist"
    ),
    "bplist-num-objects-huge": c(
        "Info.plist", lambda: bplist_raw("num-objects-huge"), "not a valid plist"
    ),
    "bplist-table-past-end": c(
        "Info.plist", lambda: bplist_raw("table-past-end"), "not a valid plist"
    ),
    "bplist-no-trailer": c("Info.plist", lambda: bplist_raw("no-trailer"), "not a valid plist"),
    "bplist-cut-half": c("Info.plist", lambda: bplist_raw("cut-half"), "not a valid plist"),
    "bplist-header-only": c("Info.plist", lambda: bplist_raw("header-only"), "not a valid plist"),
    "bplist-trustkit-bomb": c(
        "Info.plist",
        lambda: _bplist_trustkit_bomb(),
        "more than 200,000 values",
    ),
    # --- OkHttp: backtracking, size, line counting, odd text
    "okhttp-unclosed-quotes-192-bytes": c("pins.kt", lambda: b'.add("a", ' + b'""  ' * 45, ANY),
    "okhttp-unclosed-quotes-64k": c("pins.kt", lambda: b".add(" + b'"", ' * 16_000, ANY),
    "okhttp-open-strings": c("pins.kt", lambda: b'.add("' * 20_000, ANY),
    "okhttp-open-parens": c("pins.kt", lambda: b".add(" * 50_000, ANY),
    "okhttp-spaces": c("pins.kt", lambda: b'.add("a"' + b" " * 1_000_000, ANY),
    "okhttp-swallowed-call": c(
        "pins.kt", lambda: f'// .add("\n.add("{HOST}", "sha256/{P1}", "sha256/{P2}")'.encode(), OK
    ),
    "okhttp-10000-calls": c(
        "pins.kt",
        lambda: "\n".join(
            f'.add("h{i}.example.com", "sha256/{P1}")' for i in range(10_000)
        ).encode(),
        OK,
    ),
    "okhttp-10000-pins-one-host": c(
        "pins.kt",
        lambda: (
            f'.add("{HOST}", ' + ", ".join(f'"sha256/{i:043d}="' for i in range(10_000)) + ")"
        ).encode(),
        OK,
    ),
    "okhttp-one-arg": c("pins.kt", lambda: f'.add("{HOST}")'.encode(), "needs a pattern"),
    "okhttp-variable-arg": c(
        "pins.kt", lambda: f'.add(HOST, "sha256/{P1}")'.encode(), "give the host it stands for"
    ),
    "okhttp-megabyte-label": c(
        "pins.txt", lambda: f"{'ü' * 1_000_000} sha256/{P1}".encode(), "not a host name"
    ),
    "okhttp-300000-labels": c(
        "pins.txt", lambda: f"{'ü.' * 300_000}com sha256/{P1}".encode(), "not a host name"
    ),
    "okhttp-megabyte-pin": c("pins.txt", lambda: f"{HOST} sha256/{'A' * 1_000_000}".encode(), OK),
    "okhttp-bad-pattern": c(
        "pins.txt", lambda: f"a.*.com sha256/{P1}".encode(), "unexpected pattern"
    ),
    "okhttp-escape-in-pattern": c(
        "pins.txt", lambda: f"\x1b[2Japi.example.com sha256/{P1}".encode(), OK
    ),
    "okhttp-bidi-in-pattern": c(
        "pins.txt", lambda: f"\u202eapi.example.com sha256/{P1}".encode(), OK
    ),
    "okhttp-nul-byte": c("pins.txt", lambda: f"{HOST}\x00 sha256/{P1}".encode(), "binary data"),
    "okhttp-invalid-utf8": c(
        "pins.txt", lambda: f"{HOST} sha256/{P1}\n".encode() + b"\xff", "binary data"
    ),
    "okhttp-utf16": c("pins.txt", lambda: f"{HOST} sha256/{P1}".encode("utf-16"), "UTF-16"),
    "okhttp-bom": c("pins.txt", lambda: f"\ufeff{HOST} sha256/{P1}".encode(), OK),
    "okhttp-only-comments": c("pins.txt", lambda: b"# a\n// b\n" * 10_000, "no pins found"),
    "okhttp-line-separators": c(
        "pins.txt", lambda: f"{HOST} sha256/{P1}\u2028{HOST} sha256/{P2}\x0c".encode(), OK
    ),
    "okhttp-5mb-one-token": c(
        "pins.txt", lambda: b"x" * 5_000_000, "expected 'pattern sha256/BASE64'"
    ),
    "okhttp-sha1-short": c("pins.txt", lambda: f"{HOST} sha1/AAAA".encode(), OK),
    # --- anything at all
    "empty": c("x.conf", lambda: b"", "empty file"),
    "whitespace": c("x.conf", lambda: b" \n\t\r\n" * 1000, "empty file"),
    "random-binary": c("x.bin", lambda: bytes(range(256)) * 64, "binary data"),
}


def _many_attributes(n: int) -> str:
    return "<domain-config " + " ".join(f'a{i}="x"' for i in range(n)) + ">"


def _bplist_trustkit_bomb() -> bytes:
    b = Bplist()
    node = b.text(P1)
    for _ in range(12):
        node = b.array([node] * 40)
    entry = b.mapping([(b.text("TSKPublicKeyHashes"), node)])
    domains = b.mapping([(b.text(HOST), entry)])
    tsk = b.mapping([(b.text("TSKPinnedDomains"), domains)])
    return b.build(b.mapping([(b.text("TSKConfiguration"), tsk)]))


def _run(capsys, *argv: str) -> tuple[int, str, str, float]:
    start = time.process_time()
    code = main([str(a) for a in argv])
    spent = time.process_time() - start
    out = capsys.readouterr()
    return code, out.out, out.err, spent


def _check_outcome(code: int, out: str, err: str, path: Path, expect: str) -> None:
    assert "Traceback" not in err
    if code == 2:
        assert expect != OK, f"refused a config that should audit: {err}"
        assert out == "" and err.count("\n") == 1 and err.startswith("error: "), err
        assert err.startswith(f"error: {escape_controls(str(path))}"), err
        assert not RAW_CONTROL.search(err.rstrip("\n")), ascii(err)
        if expect != ANY:
            assert expect in err, err
        return
    assert expect in (OK, ANY), f"expected an error with {expect!r}, got exit {code}: {out[:300]}"
    assert code in (0, 1) and out.startswith("audit "), (code, out[:300], err)
    # Names from the file are escaped on the terminal.
    assert not RAW_CONTROL.search(out), ascii(out[:300])


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_config(case, tmp_path, capsys, chain_pem):
    name, make, expect, argv = CASES[case]
    path = tmp_path / name
    path.write_bytes(make())
    code, out, err, spent = _run(
        capsys, "audit", path, "--chain", chain_pem, "--date", "2026-02-01", *argv
    )
    _check_outcome(code, out, err, path, expect)
    assert spent < CPU_LIMIT, f"{case}: {spent:.2f} s of CPU"


# ------------------------------------------------------------------- what CONFIG may point at


def _special(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        path = tmp_path / "config.fifo"
        os.mkfifo(path)
        return path
    if kind == "folder":
        return tmp_path
    if kind == "huge":
        path = tmp_path / "huge.xml"
        with path.open("wb") as f:  # sparse: 11 MB that take no disk
            f.truncate(11 * 1024 * 1024)
        return path
    if kind == "missing":
        return tmp_path / "absent.xml"
    if kind == "control-name":
        path = tmp_path / "a\x1b[2Jb\u202e.xml"
        path.write_bytes(b"<oops")
        return path
    return Path(kind)  # a device


SPECIAL = {
    "fifo": "not a regular file",
    "/dev/zero": "not a regular file",
    "/dev/null": "not a regular file",
    "/dev/urandom": "not a regular file",
    "folder": "is a folder",
    "huge": "larger than 10 MB",
    "missing": "No such file",
    "control-name": "malformed XML",
}


@pytest.mark.parametrize("kind", sorted(SPECIAL))
@pytest.mark.parametrize("slot", ["config", "chain", "anchor", "forecast"])
def test_config_and_chain_paths_are_read_bounded(kind, slot, tmp_path, capsys, chain_pem):
    if kind.startswith("/dev/") and not Path(kind).exists():
        pytest.skip(f"{kind} missing")
    path = _special(kind, tmp_path)
    good = CONFIGS / "nsc_basic.xml"
    argv = {
        "config": ["audit", path, "--chain", chain_pem],
        "chain": ["audit", good, "--chain", path],
        "anchor": ["audit", good, "--chain", chain_pem, "--anchor", path],
        "forecast": ["forecast", path, "--chain", chain_pem, "--fleet", path],
    }[slot]
    code, out, err, spent = _run(capsys, *argv)
    needle = SPECIAL[kind]
    if kind == "control-name" and slot in ("chain", "anchor"):
        needle = "no certificate"
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {escape_controls(str(path))}") and needle in err, err
    assert not RAW_CONTROL.search(err.rstrip("\n")), ascii(err)
    assert spent < CPU_LIMIT


def test_real_exit_code_for_a_fifo_config(tmp_path, chain_pem):
    """The installed command, not main(): exit 2, one line, no traceback, no hang."""
    fifo = _special("fifo", tmp_path)
    simlib = str(Path(sys.executable).with_name("simlib"))
    run = subprocess.run(
        [simlib, "audit", str(fifo), "--chain", str(chain_pem)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2 and run.stdout == "", run
    assert run.stderr.count("\n") == 1 and "not a regular file" in run.stderr, run.stderr


def test_real_exit_code_for_a_bomb(tmp_path, chain_pem):
    path = tmp_path / "Info.plist"
    path.write_bytes(bplist_bomb())
    simlib = str(Path(sys.executable).with_name("simlib"))
    run = subprocess.run(
        [simlib, "audit", str(path), "--chain", str(chain_pem)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2 and "more than 200,000 values" in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1


def test_special_files_are_what_the_test_thinks(tmp_path):
    assert stat.S_ISFIFO(os.stat(_special("fifo", tmp_path)).st_mode)
    assert os.stat(_special("huge", tmp_path)).st_size > 10 * 1024 * 1024


# ----------------------------------------------------------------------- linear-time parsers


def _nsc_domains(n: int) -> bytes:
    return nsc("".join(domain_config(f"d{i}.example.com") for i in range(n)))


def _nsc_text(n: int) -> bytes:
    return nsc(domain_config(name="&amp;" * (40 * n)))


def _trustkit_android(n: int) -> bytes:
    tk = '<trustkit-config enforcePinning="true"/>'
    return nsc("".join(domain_config(f"d{i}.example.com", inner=tk) for i in range(n)))


def _ats(n: int, fmt: plistlib.PlistFormat) -> bytes:
    domains = {
        f"d{i}.example.com": ats_entry(NSPinnedLeafIdentities=[{"SPKI-SHA256-BASE64": P2}])
        for i in range(n)
    }
    return plistlib.dumps({"NSAppTransportSecurity": {"NSPinnedDomains": domains}}, fmt=fmt)


def _trustkit(n: int) -> bytes:
    return json.dumps(
        {"TSKPinnedDomains": {f"d{i}.example.com": tk_entry() for i in range(n)}}
    ).encode()


def _okhttp_calls(n: int) -> bytes:
    return "\n".join(f'.add("d{i}.example.com", "sha256/{P1}")' for i in range(n)).encode()


def _okhttp_lines(n: int) -> bytes:
    return "\n".join(f"d{i}.example.com sha256/{P1}  # note" for i in range(n)).encode()


GROWTH: dict[str, tuple[Callable[[int], bytes], str | None]] = {
    "okhttp-calls": (_okhttp_calls, None),
    "okhttp-lines": (_okhttp_lines, None),
    "nsc-domains": (_nsc_domains, "android"),
    "nsc-text": (_nsc_text, "android"),
    "trustkit-android": (_trustkit_android, "trustkit"),
    "plist-xml": (lambda n: _ats(n, plistlib.FMT_XML), None),
    "plist-binary": (lambda n: _ats(n, plistlib.FMT_BINARY), None),
    "trustkit-json": (_trustkit, None),
}


def _cpu(work: Callable[[], object], repeat: int) -> float:
    """Best CPU time of ``repeat`` runs (CPU, not wall: other processes share the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def growth(work: Callable[[bytes], object], make: Callable[[int], bytes], min_base: float):
    """``(n, base, large)``: CPU time of ``work`` on ``make(n)`` and on ``make(10 n)``.

    ``n`` is scaled from a run on 100 items, then doubled until the base (best of 2) takes
    ``min_base`` seconds. When the ratio looks too high both are timed again (best of all
    runs), so one hiccup on a busy machine cannot fail the test.

    The collector is off throughout (one collection first): its passes depend on the whole heap
    of the test session, not on the parser, and a collection before every timing cost more
    than the timings.
    """
    gc.collect()
    gc.disable()
    try:
        return _growth(work, make, min_base)
    finally:
        gc.enable()


def _growth(work: Callable[[bytes], object], make: Callable[[int], bytes], min_base: float):
    n = 100
    work(make(n))  # warm up: imports and first-call caches are not the parser's cost
    first = _cpu(partial(work, make(n)), 1)
    n = min(100_000, max(n, int(n * 1.5 * min_base / max(first, 1e-4))))  # aim past min_base
    while True:
        small = make(n)
        base = _cpu(partial(work, small), 2)
        if base >= min_base or n >= 100_000:
            break
        n *= 2
    data = make(10 * n)
    large = _cpu(partial(work, data), 1)
    if large / base >= 25:
        base = min(base, _cpu(partial(work, small), 2))
        large = min(large, _cpu(partial(work, data), 2))
    return n, base, large


@pytest.mark.parametrize("parser", sorted(GROWTH))
def test_parsers_are_linear(parser):
    """A 10x larger input costs about 10x (< 25x allowed), timed against the base in this run."""
    make, platform = GROWTH[parser]
    n, base, large = growth(lambda d: parse_config(d, "grow", platform=platform), make, 0.02)
    assert large / base < 25, f"{parser}: {n} items {base:.3f} s, {10 * n} items {large:.3f} s"


def test_the_linearity_check_catches_quadratic_work():
    """The same measurement fails on the old OkHttp line counting (from 0 at every call)."""

    def quadratic(data: bytes) -> None:
        text = data.decode()
        for i in range(0, len(text), 40):
            text.count("\n", 0, i)

    # a 1 ms base is enough here: quadratic work makes the 10x input cost ~100x (>= 0.1 s)
    n, base, large = growth(quadratic, _okhttp_calls, 0.001)
    assert large / base > 25, f"{n} items {base:.4f} s, {10 * n} items {large:.4f} s"


def test_old_okhttp_regex_backtracks_where_the_scanner_does_not():
    """The old expression on 50 bytes of unclosed quotes against the scanner on 192 bytes."""
    from simlib.toolkit.okhttp import add_calls

    old = re.compile(r"\.add\s*\(((?:\s*\"[^\"]*\"\s*,?)+)\s*\)", re.DOTALL)

    def cpu(fn: Callable[[], object]) -> float:
        start = time.process_time()
        fn()
        return time.process_time() - start

    old_cost = cpu(lambda: old.search('.add("a", ' + '""  ' * 10))  # 50 bytes
    new_cost = cpu(lambda: list(add_calls('.add("a", ' + '""  ' * 45)))  # 192 bytes
    assert new_cost * 50 < old_cost, (old_cost, new_cost)


def test_errors_are_config_errors_in_the_api():
    """The same inputs through the API: only ConfigError, never another exception."""
    for case in ("bplist-deep-900", "json-nested-100000", "nsc-nested-2000", "bplist-key-int"):
        name, make, _, _ = CASES[case]
        with pytest.raises(ConfigError) as info:
            parse_config(make(), name)
        assert "\n" not in str(info.value)


def test_path_building_checks_a_bounded_number_of_signatures(monkeypatch, test_pki):
    """Forty certificates named like the leaf's issuer, none of them its issuer: at most
    MAX_CANDIDATES signature checks per step, not one per certificate in the file."""
    from simlib.pki import derive_private_key, make_intermediate, validity
    from simlib.toolkit import chain as chain_module

    root_key = derive_private_key(b"toolkit/root", "ec-p256")
    nb, na = validity(date(2024, 6, 1), 1095)
    decoys = [
        make_intermediate(
            derive_private_key(f"decoy/{i}".encode(), "ec-p256"),
            "Toolkit CA 1",
            issuer_cert=test_pki.root,
            issuer_key=root_key,
            not_before=nb,
            not_after=na,
            serial=100 + i,
            organization="Toolkit",
        )
        for i in range(40)
    ]
    calls = []
    real = chain_module._issued_by
    monkeypatch.setattr(
        chain_module, "_issued_by", lambda cert, issuer: calls.append(1) or real(cert, issuer)
    )
    path = chain_module.build_path([test_pki.leaf, *decoys])
    assert [c.role for c in path] == ["leaf"]
    assert len(calls) <= chain_module.MAX_CANDIDATES + 2, len(calls)
    calls.clear()
    path = chain_module.build_path([test_pki.leaf, test_pki.intermediate, *decoys])
    assert [c.role for c in path] == ["leaf", "intermediate"]  # the real issuer is still found
