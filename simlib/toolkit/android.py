"""Android Network Security Config (``res/xml/network_security_config.xml``) importer.

Ported from AOSP ``XmlConfigSource.parseConfigEntry`` and ``NetworkSecurityConfig.Builder``:
``<pin-set>`` only inside ``<domain-config>``, one per config; nested domain-configs inherit
pin-set and trust anchors from their parent, top-level ones from ``<base-config>`` (wherever it
appears in the file); ``includeSubdomains`` belongs to each ``<domain>`` and is not inherited;
``digest`` must be SHA-256 (case-insensitive); ``expiration`` is ``yyyy-MM-dd``; after it pinning
is off. ``<debug-overrides>`` is parsed only in debuggable builds, where its anchors default to
``overridePins="true"``.

A pin is decoded as ``XmlConfigSource.parsePin`` does, ``Base64.decode(pin, Base64.DEFAULT)``
(android.util.Base64): padding optional, and every byte outside the alphabet (whitespace, line
breaks, any other character) skipped before the padding; :func:`android_b64decode` is that
decoder's state machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from simlib.toolkit.policy import (
    DIGEST_SIZES,
    ConfigError,
    Finding,
    Pin,
    PinPolicy,
    TrustAnchor,
    make_pin,
    show,
)
from simlib.toolkit.xmltree import Node

_DATE_RE = re.compile(r"(\d{1,4})-(\d{1,2})-(\d{1,2})")
_SOURCES = ("system", "user", "wfa")
# The platform default (NetworkSecurityConfig.getDefaultBuilder, targetSdk >= 24): system CAs.
_PLATFORM_ANCHORS = (TrustAnchor("system", False, "platform default"),)


@dataclass
class _Entry:
    """One base-config / domain-config while parsing (values None = inherit)."""

    node: Node
    parent: _Entry | None = None
    pins: tuple[Pin, ...] | None = None
    expiration: date | None = None
    anchors: tuple[TrustAnchor, ...] | None = None
    domains: list[tuple[str, bool, str]] = field(default_factory=list)

    def pin_entry(self) -> _Entry | None:
        entry: _Entry | None = self
        while entry is not None and entry.pins is None:
            entry = entry.parent
        return entry

    def effective_anchors(self) -> tuple[TrustAnchor, ...]:
        entry: _Entry | None = self
        while entry is not None and entry.anchors is None:
            entry = entry.parent
        return (
            entry.anchors if entry is not None and entry.anchors is not None else _PLATFORM_ANCHORS
        )


def parse_bool(node: Node, name: str, default: bool, notes: list[Finding], source: str) -> bool:
    """``getAttributeBooleanValue``: only true/false are booleans; anything else is the default."""
    raw = node.attrs.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    notes.append(
        Finding(
            "bad-boolean",
            "warning",
            f"{name}={show(raw)} is not true/false; Android uses the default ({str(default).lower()})",
            source,
            node.where,
        )
    )
    return default


def parse_date(text: str, source: str, where: str, what: str) -> date:
    """``SimpleDateFormat("yyyy-MM-dd")`` with ``setLenient(false)``."""
    m = _DATE_RE.fullmatch(text.strip())
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        pass
    raise ConfigError(source, where, f"invalid {what} {show(text)}; expected yyyy-MM-dd")


_B64 = {
    c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_EQUALS = ord("=")


def android_b64decode(text: str) -> bytes | None:
    """``android.util.Base64.decode(text, DEFAULT)``; None where it throws "bad base-64".

    The AOSP ``Base64.Decoder.process`` state machine: states 0-3 read a 4-character group
    (bytes outside the standard alphabet are skipped), ``=`` in state 2 or 3 ends the data
    (state 4 wants one more ``=``, state 5 nothing but skipped bytes); at the end a lone extra
    character (state 1) or a single ``=`` where two were due (state 4) is an error. Leftover
    bits of a short group are dropped, as on Android.
    """
    out = bytearray()
    state = value = 0
    for byte in text.encode("utf-8", "surrogatepass"):  # String.getBytes(): UTF-8 on Android
        d = _B64.get(byte, -2 if byte == _EQUALS else -1)
        if state <= 1:
            if d >= 0:
                value, state = (value << 6) | d, state + 1
            elif d == -2:
                return None
        elif state in (2, 3):
            if d >= 0:
                value = (value << 6) | d
                if state == 3:
                    out += value.to_bytes(3, "big")
                    state = value = 0
                else:
                    state = 3
            elif d == -2:
                out += (
                    (value >> 4).to_bytes(1, "big")
                    if state == 2
                    else (value >> 2).to_bytes(2, "big")
                )
                state = 4 if state == 2 else 5
        elif state == 4:
            if d == -2:
                state = 5
            elif d >= 0:
                return None
        elif d != -1:  # state 5: only skipped bytes may follow the padding
            return None
    if state in (1, 4):
        return None
    if state == 2:
        out += (value >> 4).to_bytes(1, "big")
    elif state == 3:
        out += (value >> 2).to_bytes(2, "big")
    return bytes(out)


def android_pin(
    text: str, where: str, source: str, notes: list[Finding] | None, *, by_text: bool = False
) -> Pin:
    """A NSC pin as Android decodes it; an info finding when Android is laxer than others.

    ``by_text``: TrustKit-Android's ``PublicKeyPin``, which decodes the same way only to check
    the length, keeps the *text* and compares it with the certificate's canonical encoding
    (``Base64.encodeToString(hash, DEFAULT).trim()``): a pin in any other form is accepted but
    never matches.
    """
    strict = make_pin(text, "sha256", where)
    if strict.digest is not None or not text.strip():
        return strict
    digest = android_b64decode(text.strip())
    if digest is None or len(digest) != DIGEST_SIZES["sha256"]:
        # Android rejects the file either way ("bad base-64" or the digest length): the text
        # is no pin at all, reported as such.
        return strict
    if by_text:
        return Pin(
            "sha256",
            text.strip(),
            digest,
            where,
            "not canonical base64 (padded, one line)",
            "TrustKit-Android accepts it but compares pins as text with the certificate's "
            "canonical encoding, so it never matches",
        )
    if notes is not None:
        notes.append(
            Finding(
                "lenient-base64",
                "info",
                f"pin {show(text.strip())} is not canonical base64 (unpadded, wrapped or with "
                "characters outside the alphabet): Android accepts it, as android.util.Base64 "
                "DEFAULT skips those characters and padding is optional; other platforms' "
                "rules for the same text differ (TrustKit-Android never matches it, iOS "
                "TrustKit and ATS do not decode it)",
                source,
                where,
                ("android",),
            )
        )
    return Pin("sha256", text.strip(), digest, where)


def parse_pin_element(
    node: Node,
    source: str,
    *,
    exact_digest: bool = False,
    lenient: bool = False,
    notes: list[Finding] | None = None,
    by_text: bool = False,
) -> Pin:
    """A ``<pin>``; ``lenient``: decoded as ``android.util.Base64`` decodes it (the OS matches
    the bytes; ``by_text``: TrustKit-Android matches the text, see :func:`android_pin`)."""
    digest = node.attrs.get("digest")
    ok = digest == "SHA-256" if exact_digest else (digest or "").upper() == "SHA-256"
    if not ok:
        raise ConfigError(
            source,
            node.where,
            f'unsupported pin digest algorithm {show(digest)}; only digest="SHA-256" is supported',
        )
    if node.children:
        raise ConfigError(source, node.where, "pin contains additional elements")
    if not node.text.strip():
        raise ConfigError(source, node.where, "missing pin digest")
    if lenient:
        return android_pin(node.text, node.where, source, notes, by_text=by_text)
    return make_pin(node.text, "sha256", node.where)


def _fail(source: str, node: Node, message: str) -> ConfigError:
    return ConfigError(source, node.where, message)


def _parse_anchors(node: Node, source: str, debug: bool) -> tuple[TrustAnchor, ...]:
    out = []
    for cert in (c for c in node.children if c.tag == "certificates"):
        src = cert.attrs.get("src")
        if src is None:
            raise _fail(source, cert, "certificates element missing src attribute")
        if src not in _SOURCES and not src.startswith("@"):
            raise _fail(
                source,
                cert,
                f"unknown certificates src {show(src)}; should be one of system|user|@resourceVal",
            )
        override = (cert.attrs.get("overridePins") or str(debug)).strip().lower() == "true"
        out.append(TrustAnchor(src, override, cert.where, debug))
    return tuple(out)


def _parse_entry(
    node: Node,
    kind: str,
    parent: _Entry | None,
    seen: set[str],
    source: str,
    out: list[_Entry],
    notes: list[Finding],
) -> _Entry:
    entry = _Entry(node, parent)
    out.append(entry)
    for child in node.children:
        if child.tag == "domain":
            if kind != "domain-config":
                raise _fail(source, child, f"domain element not allowed in {kind}")
            if child.children:
                raise _fail(source, child, "domain contains additional elements")
            name = child.text.strip().lower()
            if not name:
                raise _fail(source, child, "domain name missing")
            if name in seen:  # most-specific matching needs each domain once
                raise _fail(source, child, f"{name} has already been specified")
            seen.add(name)
            include = parse_bool(child, "includeSubdomains", False, notes, source)
            entry.domains.append((name, include, child.where))
        elif child.tag == "trust-anchors":
            if entry.anchors is not None:
                raise _fail(source, child, "multiple trust-anchors elements not allowed")
            entry.anchors = _parse_anchors(child, source, debug=kind == "debug-overrides")
        elif child.tag == "pin-set":
            if kind != "domain-config":
                raise _fail(source, child, f"pin-set element not allowed in {kind}")
            if entry.pins is not None:
                raise _fail(source, child, "multiple pin-set elements not allowed")
            raw = child.attrs.get("expiration")
            entry.expiration = (
                parse_date(raw, source, child.where, "pin-set expiration") if raw else None
            )
            entry.pins = tuple(
                parse_pin_element(p, source, lenient=True, notes=notes)
                for p in child.children
                if p.tag == "pin"
            )
        elif child.tag == "domain-config":
            if kind != "domain-config":
                raise _fail(source, child, f"nested domain-config not allowed in {kind}")
            _parse_entry(child, kind, entry, seen, source, out, notes)
    if kind == "domain-config" and not entry.domains:
        raise _fail(source, node, "no domain elements in domain-config")
    return entry


@dataclass(frozen=True)
class NscParse:
    policies: tuple[PinPolicy, ...]
    base: PinPolicy
    debug_anchors: tuple[TrustAnchor, ...]
    findings: tuple[Finding, ...]


def parse_nsc(root: Node, source: str) -> NscParse:
    """Policies the Android OS (API 24+) builds from an NSC document, release build."""
    if root.tag != "network-security-config":
        raise _fail(
            source, root, f"root element is <{root.tag}>, expected <network-security-config>"
        )
    notes: list[Finding] = []
    entries: list[_Entry] = []
    seen: set[str] = set()
    base: _Entry | None = None
    debug: _Entry | None = None
    for child in root.children:
        if child.tag == "base-config":
            if base is not None:
                raise _fail(source, child, "only one base-config allowed")
            base = _parse_entry(child, "base-config", None, set(), source, [], notes)
        elif child.tag == "domain-config":
            _parse_entry(child, "domain-config", None, seen, source, entries, notes)
        elif child.tag == "debug-overrides":
            if debug is not None:
                raise _fail(source, child, "only one debug-overrides allowed")
            try:
                debug = _parse_entry(child, "debug-overrides", None, set(), source, [], notes)
            except ConfigError as exc:
                # Release builds skip the element; only debuggable builds choke on it.
                notes.append(
                    Finding(
                        "debug-overrides-invalid",
                        "warning",
                        f"debuggable builds fail to parse this config: {exc.message}",
                        source,
                        exc.where,
                        ("android",),
                    )
                )
                debug = _Entry(child)
    for entry in entries:
        if entry.parent is None:  # top-level domain-configs inherit from base-config
            entry.parent = base
    policies = []
    for entry in entries:
        pin_from = entry.pin_entry()
        for name, include, where in entry.domains:
            policies.append(
                PinPolicy(
                    pattern=name,
                    platform="android",
                    include_subdomains=include,
                    pins=pin_from.pins if pin_from and pin_from.pins else (),
                    expiration=pin_from.expiration if pin_from else None,
                    source=source,
                    where=where,
                    trust_anchors=entry.effective_anchors(),
                )
            )
    base_policy = PinPolicy(
        pattern="*",
        platform="android",
        source=source,
        where=base.node.where if base else "platform default",
        trust_anchors=base.effective_anchors() if base else _PLATFORM_ANCHORS,
    )
    debug_anchors = (debug.anchors or ()) if debug else ()
    if debug is not None:
        bypass = ", ".join(f"src={a.src}" for a in debug_anchors if a.override_pins)
        notes.append(
            Finding(
                "debug-overrides",
                "info",
                "debug-overrides present: release builds ignore it; in debuggable builds "
                + (
                    f"chains anchored at {bypass} skip the pin check (overridePins defaults to true)"
                    if bypass
                    else "its anchors are trusted but do not bypass pins"
                ),
                source,
                debug.node.where,
                ("android",),
            )
        )
    return NscParse(tuple(policies), base_policy, tuple(debug_anchors), tuple(notes))
