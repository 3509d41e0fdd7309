"""The one rule for what a host name is (leaf: imports only :mod:`simlib.errors`).

Every host name a user gives — a ``--host``, a certificate's SAN, a scenario's host — is checked
here: IDNA (UTS-46) to punycode A-labels, labels of 1-63 letters, digits and inner ``-``, at most
253 characters, and no control, bidi, zero-width or space characters (named by code point, never
echoed raw). :mod:`simlib.model` (scenario hosts) and :mod:`simlib.toolkit` (pin configs, chains,
live hosts) both call :func:`check_hostname`; each adds only its own limits on top.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any

from simlib.errors import ConfigError, clip

#: RFC 1035 / RFC 5890 limits, counted on the ASCII (A-label) form.
MAX_HOSTNAME = 253
MAX_LABEL = 63
_LDH = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode categories no host name may hold: controls, format (bidi, zero-width), surrogates,
# private use, separators and spaces.
_REFUSED = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space",
}


def _visible(text: str) -> str:
    """Invisible characters (soft hyphen, no-break space, private use) as ``\\uXXXX``."""
    return "".join(
        f"\\u{ord(ch):04x}"
        if ch != " " and (ch in _BIDI or unicodedata.category(ch) in _REFUSED)
        else ch
        for ch in text
    )


def _to_ascii(text: str) -> str:
    """IDNA ToASCII: UTS-46 (IDNA 2008) with the ``idna`` package, else the stdlib's IDNA 2003."""
    try:
        import idna
    except ImportError:  # pragma: no cover - idna ships with requests, which jupyter needs
        return text.encode("idna").decode("ascii")
    return idna.encode(text, uts46=True).decode("ascii")


def _punycode_ok(label: str) -> bool:
    try:
        import idna
    except ImportError:  # pragma: no cover
        try:
            label.encode("ascii").decode("idna")
        except UnicodeError:
            return False
        return True
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def check_hostname(
    name: Any,
    *,
    source: str = "--host",
    where: str = "",
    wildcard: bool = False,
    ip: bool = True,
) -> str:
    """``name`` as the one canonical host name every command uses, else a one-line ConfigError.

    Returns lower-case ASCII, an internationalised name as punycode A-labels (IDNA), or an IP
    address (``ip``). Refused: anything but a string; control, bidi, zero-width and space
    characters (named by code point, never echoed raw); an empty label; a label over 63 or a
    name over 253 characters; characters IDNA forbids; a label with a leading or trailing
    ``-``; invalid punycode; ``*.`` unless ``wildcard`` (then as the whole first label only).
    One trailing dot (an absolute name) is kept: platforms differ on it.
    """

    def fail(why: str) -> ConfigError:
        return ConfigError(
            source, where, f"'{_visible(clip(name, 60))}' is not a valid host name: {why}"
        )

    if not isinstance(name, str):
        raise ConfigError(source, where, f"a host name must be text, not {type(name).__name__}")
    if not name:
        raise fail("it is empty")
    for ch in name:
        kind = "a bidi control" if ch in _BIDI else _REFUSED.get(unicodedata.category(ch))
        if kind:
            raise fail(f"it contains U+{ord(ch):04X} ({kind})")
    if len(name) > 4 * MAX_HOSTNAME:  # bound the IDNA work; no valid name is this long
        raise fail(f"{len(name)} characters; at most {MAX_HOSTNAME}")
    text = name
    if ip:
        bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        if "%" in bare:  # ipaddress accepts any text as an IPv6 zone id
            raise fail("an IPv6 zone id ('%…') is not a host")
        try:
            return str(ipaddress.ip_address(bare))
        except ValueError:
            pass
        if "/" in text:
            raise fail("give HOST, not a URL")
        if text.count(":") == 1:
            raise fail("give the port with --port, not as HOST:PORT")
    absolute = text.endswith(".") and text != "."
    text = text[:-1] if absolute else text
    prefix = ""
    if text.startswith("*."):
        if not wildcard:
            raise fail("a wildcard ('*.') is not a host name here: give the name of one host")
        prefix, text = "*.", text[2:]
    if not text.isascii():
        try:
            text = _to_ascii(text)
        except UnicodeError as exc:  # idna.IDNAError is a UnicodeError
            raise fail(f"not a valid internationalised name ({clip(exc, 80)})") from None
    labels = text.lower().split(".")
    for i, label in enumerate(labels, start=1):
        if not label:
            raise fail(f"label {i} is empty (two dots in a row, or a leading dot)")
        if len(label) > MAX_LABEL:
            raise fail(f"label {i} is {len(label)} characters; at most {MAX_LABEL}")
        if not _LDH.fullmatch(label):
            raise fail(
                f"label {i} ('{clip(label, 40)}') may hold only letters, digits and '-' "
                "(not first or last)"
            )
        if label.startswith("xn--") and not _punycode_ok(label):
            raise fail(f"label {i} ('{clip(label, 40)}') is not valid punycode")
    ascii_name = ".".join(labels)
    if len(prefix) + len(ascii_name) > MAX_HOSTNAME:
        raise fail(f"{len(prefix) + len(ascii_name)} characters as ASCII; at most {MAX_HOSTNAME}")
    return prefix + ascii_name + ("." if absolute else "")
