"""OkHttp ``CertificatePinner`` pin lists: ``pattern sha256/BASE64`` lines, or Kotlin/Java
``.add("pattern", "sha256/…", …)`` calls pasted from source.

Rules from ``CertificatePinner.Pin`` (square/okhttp): a pattern is exact, ``*.`` + domain or
``**.`` + domain with no other ``*``; it is lower-cased (and IDN-converted); pins must start with
``sha256/`` or ``sha1/`` and be base64 (Okio's decoder: standard or URL-safe alphabet, padding
optional) — otherwise the builder throws. Hash length is not checked, so a wrong-length pin
silently never matches.
"""

from __future__ import annotations

import base64
import re

from simlib.toolkit.hostnames import okhttp_canonical
from simlib.toolkit.policy import DIGEST_SIZES, ConfigError, Finding, Pin, PinPolicy

_ADD_RE = re.compile(r"\.add\s*\(((?:\s*\"[^\"]*\"\s*,?)+)\s*\)", re.DOTALL)
_STR_RE = re.compile(r"\"([^\"]*)\"")
_OKIO_SKIP = str.maketrans("", "", " \t\r\n")


def okio_b64decode(text: str) -> bytes | None:
    """Okio ``String.decodeBase64()``: None where OkHttp would throw "Invalid pin hash"."""
    s = text.translate(_OKIO_SKIP).rstrip("=").replace("-", "+").replace("_", "/")
    if not re.fullmatch(r"[A-Za-z0-9+/]*", s) or len(s) % 4 == 1:
        return None
    return base64.b64decode(s + "=" * (-len(s) % 4))


def _check_pattern(pattern: str, source: str, where: str) -> str:
    ok = (
        (pattern.startswith("*.") and "*" not in pattern[1:])
        or (pattern.startswith("**.") and "*" not in pattern[2:])
        or "*" not in pattern
    )
    if not ok or not pattern.strip("*.").strip():
        raise ConfigError(
            source,
            where,
            f"unexpected pattern {pattern!r}; OkHttp accepts "
            "host, *.host (one label) or **.host (any labels)",
        )
    return okhttp_canonical(pattern)


def _pin(text: str, source: str, where: str) -> Pin:
    for algorithm in ("sha256", "sha1"):
        if text.startswith(algorithm + "/"):
            value = text[len(algorithm) + 1 :]
            digest = okio_b64decode(value)
            if digest is None:
                raise ConfigError(source, where, f"invalid pin hash {text!r} (not base64)")
            want = DIGEST_SIZES[algorithm]
            problem = (
                f"decodes to {len(digest)} bytes; a {algorithm.upper()} pin is {want} bytes"
                if len(digest) != want
                else None
            )
            return Pin(algorithm, value, digest, where, problem)  # type: ignore[arg-type]
    raise ConfigError(source, where, f"pins must start with 'sha256/' or 'sha1/': {text!r}")


def _line(text: str, offset: int) -> str:
    return f"line {text.count(chr(10), 0, offset) + 1}"


def parse_okhttp(text: str, source: str) -> tuple[list[PinPolicy], list[Finding]]:
    """One policy per pattern (pins of repeated patterns are merged, as OkHttp unions them)."""
    entries: list[tuple[str, str, str]] = []  # (pattern, pin text, where)
    calls = list(_ADD_RE.finditer(text))
    if calls:
        for call in calls:
            where = _line(text, call.start())
            args = _STR_RE.findall(call.group(1))
            if len(args) < 2:
                raise ConfigError(source, where, ".add() needs a pattern and at least one pin")
            entries += [(args[0], pin, where) for pin in args[1:]]
    else:
        for number, raw in enumerate(text.splitlines(), 1):
            line = re.split(r"\s(?:#|//)|^(?:#|//)", raw, maxsplit=1)[0].strip()
            if not line:
                continue
            tokens = line.replace(",", " ").split()
            where = f"line {number}"
            if len(tokens) < 2:
                raise ConfigError(source, where, f"expected 'pattern sha256/BASE64', got {line!r}")
            entries += [(tokens[0].rstrip(":"), pin, where) for pin in tokens[1:]]
    if not entries:
        raise ConfigError(
            source,
            "",
            "no pins found (expected 'pattern sha256/BASE64' lines or "
            '.add("pattern", "sha256/...") calls)',
        )
    grouped: dict[str, list[Pin]] = {}
    first_where: dict[str, str] = {}
    for pattern, pin_text, where in entries:
        canonical = _check_pattern(pattern, source, where)
        grouped.setdefault(canonical, []).append(_pin(pin_text.strip(), source, where))
        first_where.setdefault(canonical, where)
    policies, notes = [], []
    for pattern, pins in grouped.items():
        policies.append(
            PinPolicy(
                pattern,
                "okhttp",
                pattern.startswith("*"),
                tuple(pins),
                enforce=True,
                source=source,
                where=first_where[pattern],
            )
        )
        for pin in pins:
            if pin.algorithm == "sha1":
                notes.append(
                    Finding(
                        "sha1-pin",
                        "info",
                        f"{pin.label} is a legacy SHA-1 SPKI pin "
                        "(OkHttp <= 3.1.2 style); prefer sha256/",
                        source,
                        pin.where,
                        ("okhttp",),
                    )
                )
    return policies, notes
