"""TrustKit's configuration dictionary as JSON (``trustkit.json``): TrustKit iOS
(``trustkit-ios``) by default, or TrustKit-Android's rules (``--platform android``)."""

from __future__ import annotations

import json
import sys

from simlib.errors import EmitError
from simlib.toolkit import hostnames
from simlib.toolkit.formats.base import (
    ConfigFormat,
    EmitInput,
    Parsed,
    PlatformRule,
    Sniff,
    Writer,
    choose_platforms,
    single,
)
from simlib.toolkit.policy import MAX_DEPTH, ConfigError, check_tree


def read_json(data: bytes, source: str) -> object:
    """A JSON document, checked by :func:`check_tree`; every failure a ConfigError."""
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


def detect(sniff: Sniff) -> int:
    head = sniff.head
    if not head.startswith(("{", "[")):
        return 0
    return 90 if "TSKPinnedDomains" in (sniff.text or "") else 60


def parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    from simlib.toolkit.trustkit import parse_trustkit_dict

    doc = read_json(sniff.data, sniff.source)
    out = Parsed(choose_platforms(FORMAT, platform, (), sniff.source))
    tk, notes, reasons = parse_trustkit_dict(doc, sniff.source, out.platforms[0])
    out.policies += tk
    out.findings += notes
    out.broken += [(out.platforms[0], r) for r in reasons]
    return out


def write(spec: EmitInput) -> str:
    if len(spec.pins) < 2:
        raise EmitError(
            "TrustKit needs at least 2 pins when enforcing (it throws at "
            "initialisation otherwise): pass a backup pin"
        )
    entry: dict = {
        "TSKPublicKeyHashes": [v for v, _ in spec.pins],
        "TSKIncludeSubdomains": spec.include_subdomains,
        "TSKEnforcePinning": True,
    }
    if spec.expires:
        entry["TSKExpirationDate"] = spec.expires.isoformat()
    doc = {"TSKSwizzleNetworkDelegates": False, "TSKPinnedDomains": {spec.host: entry}}
    return json.dumps(doc, indent=2) + "\n"


RULE = PlatformRule(
    "trustkit-ios",
    single(hostnames.trustkit_ios_select),
    "TrustKit throws at initialisation",
    wrong_length_breaks=True,
    client=("ios", "trustkit"),
)

FORMAT = ConfigFormat(
    name="trustkit",
    label="TrustKit JSON",
    title="TrustKit configuration dictionary as JSON",
    detect=detect,
    parse=parse,
    platform_choices={
        None: ("trustkit-ios",),
        "ios": ("trustkit-ios",),
        "trustkit-ios": ("trustkit-ios",),
        "android": ("trustkit-android",),
        "trustkit-android": ("trustkit-android",),
    },
    rules=(RULE,),
    writer=Writer(
        "trustkit",
        "trustkit.json",
        write,
        audit_platforms=("ios", "android"),
        platforms=("trustkit-ios", "trustkit-android"),
    ),
)
