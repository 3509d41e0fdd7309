"""Apple ``Info.plist`` (XML or binary): ATS ``NSPinnedDomains`` (``ios``) and a TrustKit
dictionary under ``TSKConfiguration`` (``trustkit-ios``: TrustKit's
``initSharedInstanceWithConfiguration:[[NSBundle mainBundle] infoDictionary][…]``)."""

from __future__ import annotations

from typing import Any

from simlib.toolkit import hostnames
from simlib.toolkit.formats.base import (
    ConfigFormat,
    EmitInput,
    Parsed,
    PlatformRule,
    Sniff,
    Writer,
    choose_platforms,
)
from simlib.toolkit.formats.text import xml_comment
from simlib.toolkit.policy import ConfigError


def detect(sniff: Sniff) -> int:
    if sniff.data.startswith(b"bplist"):
        return 95
    head = sniff.head
    if head.startswith("<") and ("<plist" in head[:2000] or sniff.suffix == ".plist"):
        return 90
    return 0


def parse_info_plist(
    fmt: ConfigFormat, plist: dict[str, Any], source: str, platform: str | None, prefix: str = ""
) -> Parsed:
    """ATS pins and TrustKit's ``TSKConfiguration`` of one Info.plist dictionary."""
    from simlib.toolkit.ios import parse_ats
    from simlib.toolkit.trustkit import parse_trustkit_dict

    ats, notes = parse_ats(plist, source, prefix)
    has_tk = "TSKConfiguration" in plist
    ats_dict = plist.get("NSAppTransportSecurity")
    if (
        not ats
        and not has_tk
        and not (isinstance(ats_dict, dict) and "NSPinnedDomains" in ats_dict)
    ):
        raise ConfigError(
            source,
            "",
            f"no {prefix}NSAppTransportSecurity.NSPinnedDomains (or {prefix}TSKConfiguration) "
            "in this plist: nothing is pinned",
        )
    found = (("ios",) if ats or not has_tk else ()) + (("trustkit-ios",) if has_tk else ())
    out = Parsed(choose_platforms(fmt, platform, found, source))
    if "ios" in out.platforms:
        out.policies += ats
        out.findings += notes
    if "trustkit-ios" in out.platforms:
        tk, tk_notes, reasons = parse_trustkit_dict(plist, source, "trustkit-ios", prefix)
        out.policies += tk
        out.findings += tk_notes
        out.broken += [("trustkit-ios", r) for r in reasons]
    return out


def parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    from simlib.toolkit.ios import load_plist

    return parse_info_plist(FORMAT, load_plist(sniff.data, sniff.source), sniff.source, platform)


def write(spec: EmitInput) -> str:
    """A plist holding only ``NSAppTransportSecurity``: merge it into the app's Info.plist.

    A connection needs a match in *each* non-empty list (leaf and CA).
    """
    import plistlib

    entry: dict = {}
    if spec.leaf_pins:
        entry["NSPinnedLeafIdentities"] = [{"SPKI-SHA256-BASE64": v} for v, _ in spec.leaf_pins]
    if spec.ca_pins:
        entry["NSPinnedCAIdentities"] = [{"SPKI-SHA256-BASE64": v} for v, _ in spec.ca_pins]
    if spec.include_subdomains:
        entry["NSIncludesSubdomains"] = True  # one extra label only (RULE.subdomain_depth)
    doc = {"NSAppTransportSecurity": {"NSPinnedDomains": {spec.host: entry}}}
    text = plistlib.dumps(doc, sort_keys=False).decode()
    note = xml_comment(
        "ATS identity pinning has no expiry: ship an update before these keys "
        "change. " + "; ".join(f"{v} = {c}" for v, c in spec.pins)
    )
    head, _, rest = text.partition("<plist")
    return f"{head}<!-- {note} -->\n<plist{rest}"


RULE = PlatformRule(
    "ios",
    hostnames.ats_select,
    "it can never match",
    wrong_length_breaks=False,
    subdomain_depth="one",  # NSIncludesSubdomains: exactly one extra label (SecPolicy.c)
    client=("ios", "ats"),  # Apple's two lists, both required when both are filled
)

FORMAT = ConfigFormat(
    name="ats",
    label="Info.plist",
    title="Info.plist: ATS NSPinnedDomains and TrustKit TSKConfiguration (XML or binary)",
    detect=detect,
    parse=parse,
    platform_choices={
        None: None,
        "ios": ("ios",),
        "trustkit": ("trustkit-ios",),
        "trustkit-ios": ("trustkit-ios",),
    },
    rules=(RULE,),
    writer=Writer("ios", "Info-pins.plist", write, platforms=("ios",)),
)
