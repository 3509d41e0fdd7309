"""Android Network Security Config XML (``res/xml/network_security_config.xml``).

One file, two readers: the Android OS (``android``, :mod:`simlib.toolkit.android`) and, when
it holds ``<trustkit-config>`` elements, TrustKit-Android (``trustkit-android``,
:mod:`simlib.toolkit.trustkit`), each with its own defaults and host matching.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from simlib.toolkit import hostnames
from simlib.toolkit.formats.base import (
    ConfigFormat,
    EmitInput,
    Parsed,
    PlatformRule,
    Sniff,
    Writer,
    choose_platforms,
    single,
)
from simlib.toolkit.formats.text import xml_comment
from simlib.toolkit.policy import ConfigError

#: What a device does with a file AOSP's parser throws on: XmlConfigSource.ensureInitialized wraps
#: every ParserException in a RuntimeException the first time the config is read (at start-up or
#: the first connection), so no part of the file applies and the app crashes. Short: the CLI's
#: error line is bounded (simlib.errors.MAX_LINE) and the path and the parser's reason come first.
REJECTED = (
    'Android rejects the whole file ("Failed to parse XML configuration") and the app crashes'
)


def detect(sniff: Sniff) -> int:
    head = sniff.head
    if not head.startswith("<") or "<plist" in head[:2000] or sniff.suffix == ".plist":
        return 0
    return 90 if "<network-security-config" in head else 50


def parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    from simlib.toolkit.android import parse_nsc
    from simlib.toolkit.trustkit import parse_trustkit_android
    from simlib.toolkit.xmltree import parse_xml

    source = sniff.source
    root = parse_xml(sniff.data, source)
    try:
        nsc = parse_nsc(root, source)
    except ConfigError as exc:
        if root.tag != "network-security-config":  # likely not an NSC at all: no claim
            raise
        # Refused as Android refuses it, saying what that does to the app.
        raise ConfigError(exc.source, exc.where, f"{exc.message}; {REJECTED}") from None
    has_tk = b"<trustkit-config" in sniff.data
    found = ("android", "trustkit-android") if has_tk else ("android",)
    out = Parsed(choose_platforms(FORMAT, platform, found, source))
    if "android" in out.platforms:
        out.policies += nsc.policies
        out.findings += nsc.findings
        out.base, out.debug_anchors = nsc.base, nsc.debug_anchors
    if "trustkit-android" in out.platforms:
        tk, notes, reasons = parse_trustkit_android(root, source)
        out.policies += tk
        out.findings += notes
        out.broken += [("trustkit-android", r) for r in reasons]
    return out


def write(spec: EmitInput) -> str:
    exp = f' expiration="{spec.expires.isoformat()}"' if spec.expires else ""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<network-security-config>",
        "    <domain-config>",
        f'        <domain includeSubdomains="{str(spec.include_subdomains).lower()}">'
        f"{escape(spec.host)}</domain>",
        f"        <pin-set{exp}>",
        *(
            f'            <pin digest="SHA-256">{escape(v)}</pin> <!-- {xml_comment(c)} -->'
            for v, c in spec.pins
        ),
        "        </pin-set>",
        "    </domain-config>",
        "</network-security-config>",
    ]
    return "\n".join(lines) + "\n"


FORMAT = ConfigFormat(
    name="nsc",
    label="Network Security Config",
    title="Android Network Security Config XML (and TrustKit-Android's <trustkit-config>)",
    detect=detect,
    parse=parse,
    platform_choices={
        None: None,
        "android": ("android",),
        "trustkit": ("trustkit-android",),
        "trustkit-android": ("trustkit-android",),
    },
    rules=(
        PlatformRule(
            "android",
            single(hostnames.nsc_select),
            REJECTED,
            wrong_length_breaks=True,
            client=("android", "nsc"),
        ),
        PlatformRule(
            "trustkit-android",
            single(hostnames.trustkit_android_select),
            "TrustKit throws at initialisation",
            wrong_length_breaks=True,
            client=("android", "nsc"),  # TrustKit-Android pins through the NSC rules
        ),
    ),
    writer=Writer("android", "network_security_config.xml", write, platforms=("android",)),
)
