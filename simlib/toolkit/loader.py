"""``load_config``: detect a pin config's format from its content and import it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from simlib._files import InputFileError, read_limited
from simlib.toolkit.policy import (
    MAX_DEPTH,
    ConfigError,
    Finding,
    PinConfig,
    PinPolicy,
    check_tree,
    pin_findings,
)

FORMATS = ("nsc", "ats", "trustkit", "okhttp")
_PLATFORMS_BY_FORMAT = {
    "nsc": {
        None: None,
        "android": ("android",),
        "trustkit": ("trustkit-android",),
        "trustkit-android": ("trustkit-android",),
    },
    "trustkit": {
        None: ("trustkit-ios",),
        "ios": ("trustkit-ios",),
        "trustkit-ios": ("trustkit-ios",),
        "android": ("trustkit-android",),
        "trustkit-android": ("trustkit-android",),
    },
    "ats": {
        None: None,
        "ios": ("ios",),
        "trustkit": ("trustkit-ios",),
        "trustkit-ios": ("trustkit-ios",),
    },
    "okhttp": {None: ("okhttp",), "okhttp": ("okhttp",), "android": ("okhttp",)},
}
# What a pin of the wrong length does on each platform (the audit reports it with the finding).
_EFFECT = {
    "android": "Android fails to parse the config, so every connection of the app fails",
    "ios": "it can never match",
    "okhttp": "it can never match",
    "trustkit-ios": "TrustKit throws at initialisation",
    "trustkit-android": "TrustKit throws at initialisation",
}


def detect_format(data: bytes, source: str) -> str:
    """``nsc``, ``ats`` (any plist), ``trustkit`` (JSON) or ``okhttp`` (text)."""
    if not data.strip():
        raise ConfigError(source, "", "empty file")
    if data.startswith(b"bplist"):
        return "ats"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(source, "", "UTF-16 text; save the config as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(
            source,
            "",
            "binary data that is not a binary plist; expected an "
            "NSC XML, Info.plist, TrustKit JSON or OkHttp pin list",
        ) from None
    head = text.lstrip()
    if head.startswith("<"):
        return "ats" if "<plist" in head[:2000] or Path(source).suffix == ".plist" else "nsc"
    if head.startswith(("{", "[")):
        return "trustkit"
    if "\x00" in text:
        raise ConfigError(source, "", "binary data; expected a text config")
    return "okhttp"


def _platforms(
    fmt: str, platform: str | None, found: tuple[str, ...], source: str
) -> tuple[str, ...]:
    table = _PLATFORMS_BY_FORMAT[fmt]
    if platform not in table:
        choices = ", ".join(p for p in table if p)
        raise ConfigError(
            source, "", f"platform {platform!r} does not apply to a {fmt} config (choose {choices})"
        )
    return table[platform] or found


def parse_config(
    data: bytes,
    source: str,
    *,
    format: str | None = None,
    platform: str | None = None,
    strict: bool = True,
) -> PinConfig:
    """Import config bytes; ``source`` names the file in messages."""
    fmt = format or detect_format(data, source)
    if fmt not in FORMATS:
        raise ConfigError(source, "", f"unknown format {fmt!r}; expected one of {FORMATS}")
    findings: list[Finding] = []
    broken: list[tuple[str, str]] = []
    base = None
    debug_anchors: tuple = ()
    policies: list[PinPolicy] = []
    if fmt == "nsc":
        from simlib.toolkit.android import parse_nsc
        from simlib.toolkit.trustkit import parse_trustkit_android
        from simlib.toolkit.xmltree import parse_xml

        root = parse_xml(data, source)
        nsc = parse_nsc(root, source)
        has_tk = "<trustkit-config" in data.decode("utf-8", "replace")
        found = ("android", "trustkit-android") if has_tk else ("android",)
        platforms = _platforms(fmt, platform, found, source)
        if "android" in platforms:
            policies += nsc.policies
            findings += nsc.findings
            base, debug_anchors = nsc.base, nsc.debug_anchors
        if "trustkit-android" in platforms:
            tk, notes, reasons = parse_trustkit_android(root, source)
            policies += tk
            findings += notes
            broken += [("trustkit-android", r) for r in reasons]
    elif fmt == "ats":
        from simlib.toolkit.ios import load_plist, parse_ats
        from simlib.toolkit.trustkit import parse_trustkit_dict

        plist = load_plist(data, source)
        ats, notes = parse_ats(plist, source)
        has_tk = "TSKConfiguration" in plist
        found = (("ios",) if ats or not has_tk else ()) + (("trustkit-ios",) if has_tk else ())
        ats_dict = plist.get("NSAppTransportSecurity")
        if (
            not ats
            and not has_tk
            and not (isinstance(ats_dict, dict) and "NSPinnedDomains" in ats_dict)
        ):
            raise ConfigError(
                source,
                "",
                "no NSAppTransportSecurity.NSPinnedDomains (or "
                "TSKConfiguration) in this plist: nothing is pinned",
            )
        platforms = _platforms(fmt, platform, found, source)
        if "ios" in platforms:
            policies += ats
            findings += notes
        if "trustkit-ios" in platforms:
            tk, notes, reasons = parse_trustkit_dict(plist, source, "trustkit-ios")
            policies += tk
            findings += notes
            broken += [("trustkit-ios", r) for r in reasons]
    elif fmt == "trustkit":
        from simlib.toolkit.trustkit import parse_trustkit_dict

        doc = _read_json(data, source)
        platforms = _platforms(fmt, platform, (), source)
        tk, notes, reasons = parse_trustkit_dict(doc, source, platforms[0])
        policies += tk
        findings += notes
        broken += [(platforms[0], r) for r in reasons]
    else:
        from simlib.toolkit.okhttp import parse_okhttp

        platforms = _platforms(fmt, platform, (), source)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError(source, "", "not UTF-8 text") from None
        policies, notes = parse_okhttp(text, source)
        findings += notes
    seen: set[tuple[str, str, str]] = set()
    for policy in policies:
        fresh = tuple(p for p in policy.all_pins if (policy.platform, p.where, p.value) not in seen)
        seen.update((policy.platform, p.where, p.value) for p in fresh)
        bad = pin_findings(
            source, fresh, (policy.platform,), _EFFECT[policy.platform], strict=strict
        )
        findings += bad
        if bad and policy.platform in ("android", "trustkit-ios", "trustkit-android"):
            broken.append((policy.platform, "a pin that is not a 32-byte SHA-256 hash"))
    return PinConfig(
        fmt,
        source,
        tuple(platforms),
        tuple(policies),
        base,
        tuple(findings),
        tuple(dict.fromkeys(broken)),
        debug_anchors,
    )  # type: ignore[arg-type]


def _read_json(data: bytes, source: str) -> object:
    """A TrustKit JSON document, checked by :func:`check_tree`; every failure a ConfigError."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            source, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(source, "", "not UTF-8 text") from None
    except RecursionError:  # the C scanner recurses once per nested array/object
        raise ConfigError(
            source, "", f"JSON nested more than {MAX_DEPTH} levels deep; a pin config nests a few"
        ) from None
    except ValueError as exc:
        # An integer past Python's digit limit; its own message suggests a sys call.
        limit = sys.get_int_max_str_digits()
        why = f"a number of more than {limit} digits" if "digits" in str(exc) else str(exc)
        raise ConfigError(source, "", f"JSON cannot be read: {why}") from None
    check_tree(doc, source, "JSON")
    return doc


def load_config(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    platform: str | None = None,
    strict: bool = True,
) -> PinConfig:
    """Read and import a config file (format detected from content unless given).

    Only a regular file of at most 10 MB is read: a FIFO, a device or a folder is refused at
    once, without blocking or reading (``simlib._files.read_limited``).
    """
    shown = os.fspath(path)
    try:
        data = read_limited(path)
    except InputFileError as exc:
        raise ConfigError(shown, "", f"cannot read file: {exc}") from None
    return parse_config(data, shown, format=format, platform=platform, strict=strict)
