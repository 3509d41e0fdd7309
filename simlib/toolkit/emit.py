"""Write the pin config a chosen strategy implies, for each platform.

Given a strategy (which level of the host's chain to pin), the chain and backup pins, produce
Android NSC XML, an ``Info.plist`` fragment (XML plist), an OkHttp ``CertificatePinner`` Kotlin
snippet and a TrustKit dictionary (JSON). Expiration goes where the platform has it (NSC,
TrustKit); OkHttp and ATS have none, which the output says.
"""

from __future__ import annotations

import json
import plistlib
from datetime import date
from xml.sax.saxutils import escape

from cryptography import x509

from simlib.errors import SimlibError, escape_controls
from simlib.pki import parse_pin, spki_pin
from simlib.toolkit.chain import PathCert, build_path
from simlib.toolkit.hostnames import check_hostname
from simlib.vocabulary import SPKI_LEVELS

STRATEGIES = SPKI_LEVELS  # the pin levels a config can hold (simlib.vocabulary)
FORMATS = ("android", "ios", "okhttp", "trustkit")


class EmitError(SimlibError, ValueError):
    """The strategy cannot be written for this chain or format (one line)."""


# Comments carry certificate subjects, which strangers choose: each output language gets its
# own escaping, and control/bidi characters become visible escapes everywhere (XML 1.0 cannot
# hold C0 controls at all, and a newline would end a Kotlin line comment).


def _comment(text: str) -> str:
    """Text for inside an XML comment: escaped controls, no ``--``, markup escaped."""
    text = escape_controls(text)
    while "--" in text:  # "--" may not appear inside an XML comment ("---" needs two passes)
        text = text.replace("--", "- -")
    return escape(text)


def _kotlin_comment(text: str) -> str:
    """Text for a Kotlin ``//`` comment: one line, no controls or bidi characters."""
    return escape_controls(text)


def _kotlin_string(text: str) -> str:
    """A Kotlin string literal's content: quotes, backslashes, ``$`` templates and anything
    outside printable ASCII escaped."""
    out = []
    for ch in text:
        if ch in '"\\$':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\u{u:04x}" for u in _utf16(ch))
    return "".join(out)


def _utf16(ch: str) -> list[int]:
    b = ch.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(b[i : i + 2], "big") for i in range(0, len(b), 2)]


def _pinned(strategy: str, path: list[PathCert]) -> PathCert:
    if strategy == "leaf_spki":
        return path[0]
    if len(path) < 2:
        raise EmitError(f"{strategy} needs a CA certificate, but the chain has only the leaf")
    if strategy == "intermediate_spki":
        return path[1]
    if path[-1].role != "root":
        raise EmitError("root_spki needs the root: add it to the chain or pass it as an anchor")
    return path[-1]


def pin_set(
    strategy: str, chain: list[x509.Certificate], backups: tuple = (), anchors: tuple = ()
) -> list[tuple[str, str]]:
    """``(base64 SPKI SHA-256, comment)`` pairs: the pinned key first, then the backups."""
    if strategy not in STRATEGIES:
        raise EmitError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    if not chain:
        raise EmitError("the chain is empty")
    target = _pinned(strategy, build_path(list(chain), anchors))
    pins = [(target.sha256, f"{target.role}: {target.subject}")]
    for i, backup in enumerate(backups):
        try:
            value = backup if isinstance(backup, str) else spki_pin(backup)
            value = parse_pin(value)
        except (ValueError, TypeError) as exc:
            raise EmitError(f"backup [{i}]: {exc}") from None
        if value not in (p for p, _ in pins):
            pins.append((value, "backup"))
    return pins


def nsc_xml(
    host: str,
    pins: list[tuple[str, str]],
    *,
    include_subdomains: bool = False,
    expires: date | None = None,
) -> str:
    exp = f' expiration="{expires.isoformat()}"' if expires else ""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<network-security-config>",
        "    <domain-config>",
        f'        <domain includeSubdomains="{str(include_subdomains).lower()}">'
        f"{escape(host)}</domain>",
        f"        <pin-set{exp}>",
        *(
            f'            <pin digest="SHA-256">{escape(v)}</pin> <!-- {_comment(c)} -->'
            for v, c in pins
        ),
        "        </pin-set>",
        "    </domain-config>",
        "</network-security-config>",
    ]
    return "\n".join(lines) + "\n"


def ats_plist(
    host: str, pins: list[tuple[str, str]], *, leaf: bool, include_subdomains: bool = False
) -> str:
    """A plist holding only ``NSAppTransportSecurity``: merge it into the app's Info.plist."""
    return ats_plist_lists(
        host, pins if leaf else [], [] if leaf else pins, include_subdomains=include_subdomains
    )


def ats_plist_lists(
    host: str,
    leaf_pins: list[tuple[str, str]],
    ca_pins: list[tuple[str, str]],
    *,
    include_subdomains: bool = False,
) -> str:
    """ATS pins with both lists: a connection needs a match in *each* non-empty list."""
    entry: dict = {}
    if leaf_pins:
        entry["NSPinnedLeafIdentities"] = [{"SPKI-SHA256-BASE64": v} for v, _ in leaf_pins]
    if ca_pins:
        entry["NSPinnedCAIdentities"] = [{"SPKI-SHA256-BASE64": v} for v, _ in ca_pins]
    pins = [*leaf_pins, *ca_pins]
    if include_subdomains:
        entry["NSIncludesSubdomains"] = True  # one extra label only, unlike Android
    doc = {"NSAppTransportSecurity": {"NSPinnedDomains": {host: entry}}}
    text = plistlib.dumps(doc, sort_keys=False).decode()
    note = _comment(
        "ATS identity pinning has no expiry: ship an update before these keys "
        "change. " + "; ".join(f"{v} = {c}" for v, c in pins)
    )
    head, _, rest = text.partition("<plist")
    return f"{head}<!-- {note} -->\n<plist{rest}"


def okhttp_kotlin(
    host: str, pins: list[tuple[str, str]], *, include_subdomains: bool = False
) -> str:
    pattern = _kotlin_string(f"**.{host}" if include_subdomains else host)
    lines = [
        "// OkHttp has no pin expiry: pins stay until an app update replaces them.",
        "val certificatePinner = CertificatePinner.Builder()",
    ]
    lines += [
        f'    .add("{pattern}", "sha256/{_kotlin_string(v)}") // {_kotlin_comment(c)}'
        for v, c in pins
    ]
    lines += ["    .build()"]
    return "\n".join(lines) + "\n"


def trustkit_json(
    host: str,
    pins: list[tuple[str, str]],
    *,
    include_subdomains: bool = False,
    expires: date | None = None,
) -> str:
    if len(pins) < 2:
        raise EmitError(
            "TrustKit needs at least 2 pins when enforcing (it throws at "
            "initialisation otherwise): pass a backup pin"
        )
    entry: dict = {
        "TSKPublicKeyHashes": [v for v, _ in pins],
        "TSKIncludeSubdomains": include_subdomains,
        "TSKEnforcePinning": True,
    }
    if expires:
        entry["TSKExpirationDate"] = expires.isoformat()
    return (
        json.dumps(
            {"TSKSwizzleNetworkDelegates": False, "TSKPinnedDomains": {host: entry}}, indent=2
        )
        + "\n"
    )


def emit(
    strategy: str,
    chain: list[x509.Certificate],
    *,
    host: str,
    backups: tuple = (),
    expires: date | None = None,
    formats: tuple[str, ...] = FORMATS,
    include_subdomains: bool = False,
    anchors: tuple = (),
) -> dict[str, str]:
    """Config text per format (``android``, ``ios``, ``okhttp``, ``trustkit``).

    ``backups`` are base64 SPKI pins (``sha256/`` prefix allowed), certificates or keys.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise EmitError(f"unknown format(s) {unknown}; expected {', '.join(FORMATS)}")
    # Refuse rather than escape: a name that is not a host name pins nothing anywhere.
    host = check_hostname(host, source="host")
    pins = pin_set(strategy, chain, tuple(backups), tuple(anchors))
    out = {}
    for fmt in formats:
        if fmt == "android":
            out[fmt] = nsc_xml(host, pins, include_subdomains=include_subdomains, expires=expires)
        elif fmt == "ios":
            out[fmt] = ats_plist(
                host, pins, leaf=strategy == "leaf_spki", include_subdomains=include_subdomains
            )
        elif fmt == "okhttp":
            out[fmt] = okhttp_kotlin(host, pins, include_subdomains=include_subdomains)
        else:
            out[fmt] = trustkit_json(
                host, pins, include_subdomains=include_subdomains, expires=expires
            )
    return out
