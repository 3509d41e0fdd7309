"""OkHttp ``CertificatePinner`` pin lists: ``pattern sha256/BASE64`` lines, or Kotlin/Java
``.add("pattern", "sha256/…", …)`` calls pasted from source.

Rules from ``CertificatePinner.Pin`` (square/okhttp): a pattern is exact, ``*.`` + domain or
``**.`` + domain with no other ``*``; it is lower-cased (and IDN-converted); pins must start with
``sha256/`` or ``sha1/`` and be base64 (Okio's decoder: standard or URL-safe alphabet, padding
optional) — otherwise the builder throws. Hash length is not checked, so a wrong-length pin
silently never matches.

Pasted source is read by a scanner, not by one regular expression: a repeated group of quoted
strings with optional spaces on both sides backtracks exponentially on a few hundred bytes of
unclosed quotes. The scanner looks at every character a bounded number of times and counts line
numbers forward from the previous call, so reading is linear in the file size.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

from simlib.toolkit.hostnames import okhttp_canonical
from simlib.toolkit.policy import DIGEST_SIZES, ConfigError, Finding, Pin, PinPolicy, show

# Each is a single run with nothing after it to backtrack into: matching is linear.
_SPACE = re.compile(r"\s*")
_SEPARATOR = re.compile(r"\s*(?:,\s*)?")
_OKIO_SKIP = str.maketrans("", "", " \t\r\n")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*")


def okio_b64decode(text: str) -> bytes | None:
    """Okio ``String.decodeBase64()``: None where OkHttp would throw "Invalid pin hash"."""
    s = text.translate(_OKIO_SKIP).rstrip("=").replace("-", "+").replace("_", "/")
    if not _BASE64.fullmatch(s) or len(s) % 4 == 1:
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
            f"unexpected pattern {show(pattern)}; OkHttp accepts "
            "host, *.host (one label) or **.host (any labels)",
        )
    # toCanonicalHost() rejects a label over 63 characters (an IDN label only grows in ASCII)
    # and a name over 253: the builder throws. Checked first, as IDNA on a megabyte is slow.
    name = pattern.strip().removeprefix("**.").removeprefix("*.")
    if len(name) > 253 or any(len(label) > 63 for label in name.split(".")):
        raise ConfigError(
            source,
            where,
            f"pattern {show(pattern)} is not a host name (a label is longer than 63 characters "
            "or the name longer than 253); OkHttp throws",
        )
    return okhttp_canonical(pattern)


def _pin(text: str, source: str, where: str) -> Pin:
    for algorithm in ("sha256", "sha1"):
        if text.startswith(algorithm + "/"):
            value = text[len(algorithm) + 1 :]
            digest = okio_b64decode(value)
            if digest is None:
                raise ConfigError(source, where, f"invalid pin hash {show(text)} (not base64)")
            want = DIGEST_SIZES[algorithm]
            problem = (
                f"decodes to {len(digest)} bytes; a {algorithm.upper()} pin is {want} bytes"
                if len(digest) != want
                else None
            )
            return Pin(algorithm, value, digest, where, problem)  # type: ignore[arg-type]
    raise ConfigError(source, where, f"pins must start with 'sha256/' or 'sha1/': {show(text)}")


def add_calls(text: str) -> Iterator[tuple[int, list[str]]]:
    """``(offset, string arguments)`` of each ``.add("…", "…", …)`` call whose arguments are all
    string literals (``"…"``, no escapes: hosts and pins hold no quotes), in file order.

    After a call that does not parse, the search resumes inside its last string literal, not
    one character on: text the scanner has passed is never scanned again (but a ``.add(`` that
    a stray quote swallowed is still found), so the work stays linear.
    """
    pos = 0
    while (start := text.find(".add", pos)) != -1:
        i = _SPACE.match(text, start + 4).end()
        pos = start + 1
        if not text.startswith("(", i):
            continue
        i = _SPACE.match(text, i + 1).end()
        args: list[str] = []
        while text.startswith('"', i):
            close = text.find('"', i + 1)
            if close == -1:
                break
            args.append(text[i + 1 : close])
            pos = i + 1
            i = _SEPARATOR.match(text, close + 1).end()
        else:
            if args and text.startswith(")", i):
                yield start, args
                pos = i + 1


def _lines(text: str, offsets: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[str, list[str]]]:
    """``("line N", args)``: newlines counted forward from the previous call, not from 0."""
    line, last = 1, 0
    for offset, args in offsets:
        line += text.count("\n", last, offset)
        last = offset
        yield f"line {line}", args


def parse_okhttp(text: str, source: str) -> tuple[list[PinPolicy], list[Finding]]:
    """One policy per pattern (pins of repeated patterns are merged, as OkHttp unions them)."""
    return build_policies(literal_entries(text, source), source)


def literal_entries(text: str, source: str) -> list[tuple[str, str, str]]:
    """``(pattern, pin text, where)`` of literal ``.add(...)`` calls, else of pin-list lines."""
    entries: list[tuple[str, str, str]] = []  # (pattern, pin text, where)
    calls = list(_lines(text, add_calls(text)))
    if calls:
        for where, args in calls:
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
                raise ConfigError(
                    source, where, f"expected 'pattern sha256/BASE64', got {show(line)}"
                )
            entries += [(tokens[0].rstrip(":"), pin, where) for pin in tokens[1:]]
    return entries


def build_policies(
    entries: list[tuple[str, str, str]], source: str
) -> tuple[list[PinPolicy], list[Finding]]:
    """OkHttp's ``CertificatePinner`` from ``(pattern, pin text, where)`` entries: patterns and
    pins checked as the builder checks them (it throws where a ConfigError is raised)."""
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
