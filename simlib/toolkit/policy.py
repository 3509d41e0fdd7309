"""Pin policies imported from app configs: one :class:`PinPolicy` per host pattern and platform.

Every importer (one per format of :mod:`simlib.toolkit.formats`) turns a file into a
:class:`PinConfig`. A policy records the platform whose rules apply to it, because the same XML
file means different things to the Android OS and to TrustKit-Android (enforcement defaults,
subdomain inheritance), and the same TrustKit dictionary differs between iOS and Android.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from simlib.errors import ConfigError, clip

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")

DIGEST_SIZES = {"sha256": 32, "sha1": 20}

# Bounds on an imported document (the file itself is at most simlib._files.MAX_INPUT_BYTES).
# Real configs nest a handful of levels and hold at most a few thousand values; a binary plist
# can point many slots at one object, so values are counted as expanded, not as stored.
MAX_DEPTH = 64
MAX_VALUES = 200_000


def show(value: object, limit: int = 60) -> str:
    """A config value for a message: short, one line, never recursive (no ``repr`` of containers).

    A container is named by its size only: ``repr`` of a deep or shared (binary plist) structure
    would recurse or expand without bound.
    """
    if isinstance(value, dict):
        return f"a dictionary of {len(value)} keys"
    if isinstance(value, (list, tuple)):
        return f"an array of {len(value)} items"
    if isinstance(value, (str, bytes)):
        value = value[: limit + 1]  # bound repr's cost before escaping
    return clip(repr(value), limit)


def _bad_text(text: str) -> str | None:
    """Why ``text`` cannot be printed or compared as a name (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate U+{ord(text[exc.start]):04X} (not valid Unicode text)"
    return None


def _trail_text(trail: tuple | None) -> str:
    """``a.b[2].c`` from a trail of ``(parent trail, key or index)`` links (at most MAX_DEPTH)."""
    parts: list[str] = []
    while trail is not None:
        trail, step = trail
        parts.append(f"[{step}]" if isinstance(step, int) else "." + clip(step, 40))
    return clip("".join(reversed(parts)).lstrip("."), 100)


def check_tree(value: object, source: str, what: str) -> None:
    """Refuse a parsed JSON/plist document that no real config looks like, before it is read.

    A binary plist may point many slots at one object (and even at itself), so a 1 KB file can
    stand for 40^12 values: sizes are counted as expanded, but each distinct object is walked
    once and its (expanded size, height) remembered, so the check is linear in the file and
    never recursive. Refused: more than :data:`MAX_VALUES` expanded values, nesting deeper than
    :data:`MAX_DEPTH`, a cycle, a dictionary key that is not a string, a string holding a lone
    surrogate (it cannot be printed). ``what`` names the format in messages.
    """

    def fail(trail: tuple | None, message: str) -> ConfigError:
        return ConfigError(source, _trail_text(trail), f"{what} {message}")

    too_deep = f"nested more than {MAX_DEPTH} levels deep; a pin config nests a few"
    too_big = (
        f"holds more than {MAX_VALUES:,} values (counting every reference to a shared object); "
        "a pin config holds a few hundred"
    )
    texts: set[int] = set()  # ids of strings already checked
    done: dict[int, tuple[int, int]] = {}  # id -> (expanded values, height) of a container
    open_ids: set[int] = set()
    # One frame per open container: [container, trail, children, values so far, height so far].
    # Trails are (parent trail, key) links, written out only for a message.
    frames: list[list] = []

    def enter(item: object, trail: tuple | None) -> tuple[int, int] | None:
        """(values, height) of ``item`` if known now, else None after opening a frame for it."""
        if isinstance(item, str):
            if id(item) not in texts:
                texts.add(id(item))
                problem = _bad_text(item)
                if problem:
                    raise fail(trail, f"string holds {problem}")
            return 1, 0
        if not isinstance(item, (dict, list)):
            return 1, 0
        key = id(item)
        if key in open_ids:
            raise fail(trail, "refers to itself (a cycle of shared objects)")
        if key in done:
            if len(frames) + done[key][1] > MAX_DEPTH:
                raise fail(trail, too_deep)
            return done[key]
        if len(frames) >= MAX_DEPTH:
            raise fail(trail, too_deep)
        open_ids.add(key)
        children = iter(item.items()) if isinstance(item, dict) else enumerate(item)
        frames.append([item, trail, children, 1, 1])
        return None

    def add(frame: list, values: int, height: int) -> None:
        frame[3] += values
        frame[4] = max(frame[4], height + 1)
        if frame[3] > MAX_VALUES:
            raise fail(frame[1], too_big)

    enter(value, None)
    while frames:
        frame = frames[-1]
        step = next(frame[2], None)
        if step is None:  # every child counted: the container is done
            frames.pop()
            open_ids.discard(id(frame[0]))
            done[id(frame[0])] = (frame[3], frame[4])
            if frames:
                add(frames[-1], frame[3], frame[4])
            continue
        name, child = step
        if isinstance(frame[0], dict):
            if not isinstance(name, str):
                raise fail(frame[1], f"dictionary key {show(name)} is not a string")
            if id(name) not in texts:
                texts.add(id(name))
                problem = _bad_text(name)
                if problem:
                    raise fail(frame[1], f"key holds {problem}")
        known = enter(child, (frame[1], name))
        if known is not None:
            add(frame, *known)


@dataclass(frozen=True)
class Pin:
    """One pinned SPKI hash as written in a config.

    ``digest`` is None when ``value`` is not base64; ``problem`` names what is wrong when the
    value cannot match any key (bad base64, wrong length for the algorithm, a form the platform
    accepts but never matches); ``effect`` overrides the platform's effect of a bad pin.
    """

    algorithm: Literal["sha256", "sha1"]
    value: str
    digest: bytes | None
    where: str = ""
    problem: str | None = None
    effect: str | None = None

    @property
    def wrong_length(self) -> bool:
        """Decodes, but not to the algorithm's digest size (what makes some platforms throw)."""
        return self.digest is not None and len(self.digest) != DIGEST_SIZES[self.algorithm]

    @property
    def valid(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        """OkHttp-style ``sha256/<b64>`` text, used in reports."""
        return f"{self.algorithm}/{self.value}"


def make_pin(value: str, algorithm: Literal["sha256", "sha1"] = "sha256", where: str = "") -> Pin:
    """Decode and check a base64 pin; never raises (problems are recorded on the Pin)."""
    text = value.strip()
    try:
        digest = base64.b64decode(text, validate=True) if text else None
    except (binascii.Error, ValueError):
        digest = None
    if digest is None:
        return Pin(algorithm, text, None, where, "not valid base64" if text else "empty pin")
    want = DIGEST_SIZES[algorithm]
    problem = None
    if len(digest) != want:
        problem = f"decodes to {len(digest)} bytes; a {algorithm.upper()} pin is {want} bytes"
    return Pin(algorithm, text, digest, where, problem)


@dataclass(frozen=True)
class TrustAnchor:
    """An NSC ``<certificates src=… overridePins=…>`` entry (``debug`` = from debug-overrides)."""

    src: str
    override_pins: bool
    where: str = ""
    debug: bool = False


@dataclass(frozen=True)
class PinPolicy:
    """The pins one platform applies to hosts matching ``pattern``.

    ``match`` is ``any`` (any certificate of the built chain matches any pin: NSC, OkHttp,
    TrustKit) or ``ats`` (Apple: ``leaf_pins`` match the leaf only, ``ca_pins`` any non-leaf;
    both checks apply when both lists are present, and a present-but-empty list matches nothing).
    """

    pattern: str
    platform: str
    include_subdomains: bool = False
    pins: tuple[Pin, ...] = ()
    match: Literal["any", "ats"] = "any"
    leaf_pins: tuple[Pin, ...] | None = None
    ca_pins: tuple[Pin, ...] | None = None
    expiration: date | None = None
    enforce: bool = True
    source: str = ""
    where: str = ""
    trust_anchors: tuple[TrustAnchor, ...] = ()
    exclude: bool = False  # TrustKit kTSKExcludeSubdomainFromParentPolicy: explicitly unpinned
    report_uris: tuple[str, ...] = ()

    @property
    def all_pins(self) -> tuple[Pin, ...]:
        if self.match == "ats":
            return (*(self.leaf_pins or ()), *(self.ca_pins or ()))
        return self.pins

    @property
    def location(self) -> str:
        return ": ".join(p for p in (self.source, self.where) if p)


@dataclass(frozen=True)
class Finding:
    """A lint finding; ``platforms`` empty means it applies to the config as a whole."""

    rule: str
    severity: Severity
    message: str
    source: str = ""
    where: str = ""
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class PinConfig:
    """Everything imported from one file.

    ``broken`` lists ``(platform, reason)`` for platforms that reject the whole file at start-up
    (NSC parse failure, TrustKit initialisation exception, OkHttp builder exception): on those
    platforms no pinned connection can be made at all.
    """

    format: str  # the name of the format that read it (simlib.toolkit.formats.REGISTRY)
    source: str
    platforms: tuple[str, ...]
    policies: tuple[PinPolicy, ...]
    base: PinPolicy | None = None
    findings: tuple[Finding, ...] = ()
    broken: tuple[tuple[str, str], ...] = ()
    debug_anchors: tuple[TrustAnchor, ...] = field(default=())

    def for_platform(self, platform: str) -> tuple[PinPolicy, ...]:
        return tuple(p for p in self.policies if p.platform == platform)

    def broken_reason(self, platform: str) -> str | None:
        return next((why for plat, why in self.broken if plat == platform), None)


def pin_findings(
    source: str, pins: tuple[Pin, ...], platforms: tuple[str, ...], effect: str, *, strict: bool
) -> list[Finding]:
    """Malformed-pin findings; with ``strict`` an undecodable pin is a ConfigError instead.

    Not-base64 text is hopeless input (the user pasted something else); a pin that decodes to
    the wrong length is a real, shippable mistake the audit should report with its effect.
    """
    out = []
    for pin in pins:
        if pin.valid:
            continue
        if strict and pin.digest is None:
            raise ConfigError(source, pin.where, f"pin {pin.value[:60]!r}: {pin.problem}")
        out.append(
            Finding(
                "malformed-pin",
                "error",
                f"pin {pin.value[:60]!r}: {pin.problem}; {pin.effect or effect}",
                source,
                pin.where,
                platforms,
            )
        )
    return out
