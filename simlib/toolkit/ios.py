"""Apple ``Info.plist`` importer: ``NSAppTransportSecurity`` → ``NSPinnedDomains`` (ATS identity
pinning, iOS 14+), and a TrustKit dictionary under ``TSKConfiguration`` if present.

Ported from ``parseNSPinnedDomains`` (apple-oss-distributions/Security ``SecPolicy.c``): an
entry whose value is not a dictionary is ignored; ``NSIncludesSubdomains`` counts only if it is
the Boolean true; an identity list key that is present makes the host pinned even when the list
is empty or not an array (then nothing can match); identities without a string
``SPKI-SHA256-BASE64`` are skipped. ATS has no expiry and no report-only mode.
"""

from __future__ import annotations

import plistlib
import xml.parsers.expat
from typing import Any

from simlib.toolkit.policy import (
    MAX_DEPTH,
    ConfigError,
    Finding,
    Pin,
    PinPolicy,
    check_tree,
    make_pin,
    show,
)
from simlib.toolkit.xmltree import parse_xml

_ATS = "NSAppTransportSecurity"
_KEY = "SPKI-SHA256-BASE64"


def load_plist(data: bytes, source: str) -> dict[str, Any]:
    """XML or binary plist; XML is first vetted by defusedxml (no entities, no bombs, bounded
    depth), and the parsed value by :func:`check_tree` (depth, expanded size, string keys)."""
    if not data.strip():
        raise ConfigError(source, "", "empty file")
    binary = data.startswith(b"bplist")
    if not binary:
        parse_xml(data, source)
    try:
        value = plistlib.loads(data)
    except RecursionError:  # plistlib's binary reader recurses once per nested container
        raise ConfigError(
            source,
            "",
            f"binary plist nested more than {MAX_DEPTH} levels deep; a pin config nests a few",
        ) from None
    except xml.parsers.expat.ExpatError as exc:
        raise ConfigError(source, f"line {exc.lineno}", f"malformed plist XML: {exc}") from None
    except (
        plistlib.InvalidFileException,
        AttributeError,  # plistlib's <date> reader on text that is not a date
        ValueError,
        TypeError,
        OverflowError,
        IndexError,
        KeyError,
        UnicodeError,
    ) as exc:
        raise ConfigError(source, "", f"not a valid plist: {exc or type(exc).__name__}") from None
    check_tree(value, source, "binary plist" if binary else "plist")
    if not isinstance(value, dict):
        raise ConfigError(source, "", "the plist's top level is not a dictionary")
    return value


def _identities(value: Any, where: str, notes: list[Finding], source: str) -> tuple[Pin, ...]:
    if not isinstance(value, list):
        notes.append(
            Finding(
                "ats-not-array",
                "error",
                "identity list is not an array: iOS "
                "treats the host as pinned to nothing, so every connection fails",
                source,
                where,
                ("ios",),
            )
        )
        return ()
    pins = []
    for i, item in enumerate(value):
        b64 = item.get(_KEY) if isinstance(item, dict) else None
        if not isinstance(b64, str):
            notes.append(
                Finding(
                    "ats-identity-ignored",
                    "warning",
                    f"identity has no string {_KEY}; iOS skips it",
                    source,
                    f"{where}[{i}]",
                    ("ios",),
                )
            )
            continue
        pins.append(make_pin(b64, "sha256", f"{where}[{i}]"))
    return tuple(pins)


def parse_ats(
    plist: dict[str, Any], source: str, prefix: str = ""
) -> tuple[list[PinPolicy], list[Finding]]:
    """One ``match="ats"`` policy per ``NSPinnedDomains`` entry; ``prefix`` leads key paths
    (``expo.ios.infoPlist.`` for an Expo app.json)."""
    ats = plist.get(_ATS)
    domains = ats.get("NSPinnedDomains") if isinstance(ats, dict) else None
    if domains is None:
        return [], []
    prefix = f"{prefix}{_ATS}.NSPinnedDomains"
    if not isinstance(domains, dict):
        raise ConfigError(source, prefix, "NSPinnedDomains must be a dictionary")
    policies, notes = [], []
    for name, entry in domains.items():
        where = f'{prefix}["{name}"]'
        if not isinstance(entry, dict):
            notes.append(
                Finding(
                    "ats-entry-ignored",
                    "warning",
                    "entry is not a dictionary; iOS ignores it",
                    source,
                    where,
                    ("ios",),
                )
            )
            continue
        include = entry.get("NSIncludesSubdomains")
        if include is not None and not isinstance(include, bool):
            notes.append(
                Finding(
                    "bad-boolean",
                    "warning",
                    f"NSIncludesSubdomains {show(include)} is not a Boolean; iOS treats it as NO",
                    source,
                    where,
                    ("ios",),
                )
            )
        leaf = ca = None
        if "NSPinnedLeafIdentities" in entry:
            leaf = _identities(
                entry["NSPinnedLeafIdentities"], where + ".NSPinnedLeafIdentities", notes, source
            )
        if "NSPinnedCAIdentities" in entry:
            ca = _identities(
                entry["NSPinnedCAIdentities"], where + ".NSPinnedCAIdentities", notes, source
            )
        if leaf is None and ca is None:
            notes.append(
                Finding(
                    "ats-no-identities",
                    "warning",
                    "entry has neither "
                    "NSPinnedLeafIdentities nor NSPinnedCAIdentities: the host is "
                    "not pinned",
                    source,
                    where,
                    ("ios",),
                )
            )
        policies.append(
            PinPolicy(
                name,
                "ios",
                include is True,
                match="ats",
                leaf_pins=leaf,
                ca_pins=ca,
                source=source,
                where=where,
            )
        )
    return policies, notes
