"""What one config format is to the toolkit: detection, parsing, platform rules, writing.

Each format module (``formats/nsc.py``, ``ats.py``, …) builds one :class:`ConfigFormat`;
``formats/__init__.py`` lists them in ``REGISTRY``, the only table of format and toolkit
platform names the loader, the audit's platform rules, ``emit`` and the CLI read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from simlib.toolkit.policy import ConfigError, Finding, PinPolicy, TrustAnchor


@dataclass(frozen=True)
class Sniff:
    """A file as detection sees it: its bytes, UTF-8 text (None if not text) and name."""

    data: bytes
    source: str
    text: str | None

    @property
    def head(self) -> str:
        """The text's first 4 KB after leading whitespace ("" for binary data)."""
        return (self.text or "").lstrip()[:4096]

    @property
    def suffix(self) -> str:
        return Path(self.source).suffix.lower()


@dataclass
class Parsed:
    """What a format's parser found; the loader adds pin checks and builds the PinConfig."""

    platforms: tuple[str, ...]
    policies: list[PinPolicy] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    broken: list[tuple[str, str]] = field(default_factory=list)
    base: PinPolicy | None = None
    debug_anchors: tuple[TrustAnchor, ...] = ()


#: ``parse(sniff, platform, host)``: ``platform`` is the ``--platform`` choice (or None);
#: ``host`` names the host a pattern written as an unresolvable expression stands for.
ParseFn = Callable[[Sniff, str | None, str | None], Parsed]


@dataclass(frozen=True)
class PlatformRule:
    """How one toolkit platform (a client that reads configs) applies them."""

    name: str
    #: The policies the platform applies to a host name (hostnames.py ports).
    select: Callable[[Iterable[PinPolicy], str], list[PinPolicy]]
    #: What a pin of the wrong length does there (said with the malformed-pin finding).
    bad_pin_effect: str
    #: A wrong-length pin makes the platform reject the whole file at start-up.
    wrong_length_breaks: bool
    #: How far ``include subdomains`` reaches: any depth, or exactly one extra label.
    subdomain_depth: Literal["any", "one"] = "any"
    #: The simulated ``(platform, client)`` whose pin matching this platform's is
    #: (:data:`simlib.vocabulary.PLATFORM_TABLE`), which ``forecast`` simulates it as; None:
    #: no simulated client matches like it, so it cannot be forecast.
    client: tuple[str, str] | None = None


@dataclass(frozen=True)
class EmitInput:
    """What a writer needs: the host, its pins split by Apple's lists, the options."""

    host: str
    leaf_pins: list[tuple[str, str]]
    ca_pins: list[tuple[str, str]]
    include_subdomains: bool = False
    expires: date | None = None

    @property
    def pins(self) -> list[tuple[str, str]]:
        return [*self.leaf_pins, *self.ca_pins]


@dataclass(frozen=True)
class Writer:
    """A format ``simlib emit`` can write."""

    target: str  # the ``--for`` name (``android``, ``ios``, …)
    file_name: str
    write: Callable[[EmitInput], str]
    #: ``--platform`` values its round-trip audit runs under (None: the format's default).
    audit_platforms: tuple[str | None, ...] = (None,)
    #: Platforms whose subdomain rule the written file follows.
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigFormat:
    """One config format: one module, one entry of ``REGISTRY``."""

    name: str
    title: str
    #: 0: not this format; otherwise a score, the highest score wins.
    detect: Callable[[Sniff], int]
    parse: ParseFn
    #: ``--platform`` choice → platforms whose rules apply (None key: the default; a None
    #: value: whatever the file itself targets).
    platform_choices: Mapping[str | None, tuple[str, ...] | None]
    #: Platforms this format introduces (their matching rule and bad-pin effect).
    rules: tuple[PlatformRule, ...] = ()
    writer: Writer | None = None
    #: A few words naming the format in a refusal ("OkHttp CertificatePinner: line 3: …").
    label: str = ""


def choose_platforms(
    fmt: ConfigFormat, platform: str | None, found: tuple[str, ...], source: str
) -> tuple[str, ...]:
    """The platforms whose rules apply: the ``--platform`` choice or what the file targets."""
    table = fmt.platform_choices
    if platform not in table:
        choices = ", ".join(p for p in table if p)
        raise ConfigError(
            source,
            "",
            f"platform {platform!r} does not apply to a {fmt.name} config (choose {choices})",
        )
    return table[platform] or found


def single(select: Callable[[Iterable[PinPolicy], str], PinPolicy | None]):
    """A matcher that picks one policy (or none) as a list, as :class:`PlatformRule` wants."""

    def pick(policies: Iterable[PinPolicy], hostname: str) -> list[PinPolicy]:
        found = select(policies, hostname)
        return [found] if found is not None else []

    return pick


def decode_text(sniff: Sniff) -> str:
    if sniff.text is None:
        raise ConfigError(sniff.source, "", "not UTF-8 text")
    return sniff.text
