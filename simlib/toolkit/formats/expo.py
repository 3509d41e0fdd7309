"""Expo ``app.json`` / ``app.config.json``: ``expo.ios.infoPlist`` is merged into the app's
Info.plist at build time, so its ``NSAppTransportSecurity.NSPinnedDomains`` (and a TrustKit
``TSKConfiguration``) follow the Info.plist rules (:mod:`.ats`). The ``expo`` wrapper is
optional, as in ``app.config.json``."""

from __future__ import annotations

from simlib.toolkit.formats import ats
from simlib.toolkit.formats.base import ConfigFormat, Parsed, Sniff
from simlib.toolkit.formats.trustkit import read_json
from simlib.toolkit.policy import ConfigError


def detect(sniff: Sniff) -> int:
    if not sniff.head.startswith("{"):
        return 0
    return 95 if '"infoPlist"' in (sniff.text or "") else 0


def parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    source = sniff.source
    doc = read_json(sniff.data, source)
    prefix = ""
    if isinstance(doc, dict) and isinstance(doc.get("expo"), dict):
        doc, prefix = doc["expo"], "expo."
    ios = doc.get("ios") if isinstance(doc, dict) else None
    plist = ios.get("infoPlist") if isinstance(ios, dict) else None
    if not isinstance(plist, dict):
        raise ConfigError(
            source,
            "",
            f"no {prefix}ios.infoPlist dictionary in this Expo config: nothing is pinned",
        )
    return ats.parse_info_plist(FORMAT, plist, source, platform, f"{prefix}ios.infoPlist.")


FORMAT = ConfigFormat(
    name="expo",
    label="Expo app config",
    title="Expo app.json / app.config.json (ios.infoPlist.NSAppTransportSecurity)",
    detect=detect,
    parse=parse,
    platform_choices=ats.FORMAT.platform_choices,
)
