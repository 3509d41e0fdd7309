"""A TrustKit configuration written in Swift or Objective-C source.

``let trustKitConfig = [kTSKPinnedDomains: ["host": [kTSKEnforcePinning: true,
kTSKPublicKeyHashes: ["…", "…"]]]] as [String: Any]`` or ``@{ kTSKPinnedDomains : @{ @"host" :
@{ kTSKPublicKeyHashes : @[@"…"] } } }``: the dictionary after the first ``kTSKPinnedDomains``
key is read by the bounded literal scanner (:mod:`.literals`), then by the same TrustKit rules
as a JSON or Info.plist dictionary. Keys are TrustKit's constants (``kTSK…``) or their string
values (``TSK…``); same-file string constants are resolved, anything else is refused by name.
"""

from __future__ import annotations

from simlib.toolkit.formats.base import (
    ConfigFormat,
    Parsed,
    Sniff,
    choose_platforms,
    decode_text,
)
from simlib.toolkit.formats.literals import Reader, find_unresolved, is_punct, tokenize
from simlib.toolkit.policy import ConfigError, check_tree

_KEYS = frozenset({"kTSKPinnedDomains", "TSKPinnedDomains"})
# Source files (and a pasted snippet): a README quoting a dictionary is no config.
_SUFFIXES = frozenset({"", ".swift", ".m", ".mm", ".h", ".txt"})


def detect(sniff: Sniff) -> int:
    if sniff.head.startswith(("<", "{", "[")):
        return 0
    text = sniff.text or ""
    if "\x00" in text:
        return 0
    return 92 if "TSKPinnedDomains" in text and sniff.suffix in _SUFFIXES else 0


def read_domains(text: str, source: str) -> tuple[object, int]:
    """The value of the first ``kTSKPinnedDomains`` key and its line."""
    toks = tokenize(text, source)
    reader = Reader(toks, source)
    for i, tok in enumerate(toks):
        if tok.text in _KEYS and tok.kind in ("name", "str") and is_punct(toks, i + 1, ":"):
            value, _ = reader.value(i + 2)
            missing = find_unresolved(value)
            if missing is not None:
                raise ConfigError(
                    source,
                    f"line {missing.line}",
                    f"{missing} is not a literal or a constant of this file; "
                    "write the value in the dictionary",
                )
            return value, tok.line
    raise ConfigError(source, "", "no kTSKPinnedDomains dictionary in this source file")


def parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    from simlib.toolkit.trustkit import parse_trustkit_dict

    source = sniff.source
    domains, line = read_domains(decode_text(sniff), source)
    doc = {"TSKPinnedDomains": domains}
    check_tree(doc, source, "TrustKit dictionary")
    out = Parsed(choose_platforms(FORMAT, platform, (), source))
    tk, notes, reasons = parse_trustkit_dict(doc, source, "trustkit-ios", f"line {line}: ")
    out.policies += tk
    out.findings += notes
    out.broken += [("trustkit-ios", r) for r in reasons]
    return out


FORMAT = ConfigFormat(
    name="trustkit-source",
    label="TrustKit dictionary (Swift/Objective-C)",
    title="TrustKit dictionary in Swift or Objective-C source (kTSKPinnedDomains)",
    detect=detect,
    parse=parse,
    platform_choices={
        None: ("trustkit-ios",),
        "ios": ("trustkit-ios",),
        "trustkit": ("trustkit-ios",),
        "trustkit-ios": ("trustkit-ios",),
    },
)
