"""A shipped config read as a forecast strategy: its pins for one host, on one platform.

The platform's own decision on the start day comes first (:func:`simlib.toolkit.audit.verdict`:
policy selection, expiry, overridePins, report-only, Apple's both-lists rule), so the forecast
and ``audit`` never disagree about today. A config that connects and pins becomes a strategy
whose pin sets reproduce it:

* the primary level is ``leaf_spki`` when a pin matches the leaf, else the most durable level
  matched (root > intermediate), a level read from the matched key, not its place in the path
  (a served cross-sign of a catalogue root is a root pin: :func:`observed.level_of`);
* every other matched certificate is a backup naming the scenario's own identity of that key:
  its real SPKI when the catalogue knows the key (the resolved scenario carries it), else
  ``intermediates:<ca>`` / ``ca:<ca>`` (a generic CA, or a catalogue stand-in);
* every unmatched SHA-256 pin is a literal ``spki:`` backup (a key the scenario carries lands in
  its list; any other key never matches, as a key the host does not serve never matches).

Under Apple ATS (client ``ats``) the engine keeps leaf and CA identities in separate lists and
requires both when both are filled, so a leaf + CA ``Info.plist`` breaks when the leaf key
changes, as on a device; under every other client any match accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from simlib.toolkit.audit import verdict
from simlib.toolkit.chain import PathCert
from simlib.toolkit.observed import level_of
from simlib.toolkit.policy import PinConfig
from simlib.vocabulary import PIN_LEVEL_TABLE, SPKI_LEVELS

#: the toolkit's platform (a config's rules) → the scenario's (platform, client): how the
#: engine matches pins (simlib.vocabulary: ``any``, or Apple's two lists for ``ats``)
CLIENTS: dict[str, tuple[str, str]] = {
    "android": ("android", "nsc"),
    "okhttp": ("android", "okhttp"),
    "ios": ("ios", "ats"),
    "trustkit-ios": ("ios", "trustkit"),
    "trustkit-android": ("android", "nsc"),  # TrustKit-Android pins through the NSC rules
}
#: chain position -> the SPKI pin level that pins it (simlib.vocabulary), least durable first
LEVELS = {PIN_LEVEL_TABLE[n].position: n for n in SPKI_LEVELS}
_RANK = {position: i for i, position in enumerate(LEVELS)}
#: start-day statuses under which the config never locks anyone out
OPEN = ("not-pinned", "bypassed", "expired", "report-only")


def client_of(platform: str) -> tuple[str, str]:
    """The scenario's ``(platform, client)`` for a toolkit platform."""
    return CLIENTS.get(platform, ("ios", "ats") if "ios" in platform else ("android", "nsc"))


@dataclass(frozen=True)
class HostRef:
    """How one observed host appears in the scenario."""

    name: str  # the scenario's host name
    ca: str  # the scenario's CA name (catalogue or generic)
    catalogue: bool  # the CA is a catalogue CA (its real keys are in the scenario)


def strategy_entry(
    name: str,
    config: PinConfig,
    platform: str,
    host: str,
    path: list[PathCert],
    ref: HostRef,
    start: date,
    roots: frozenset[str],
    known: frozenset[str] = frozenset(),
) -> tuple[str, dict[str, Any] | None]:
    """``(status, strategy)`` for ``config`` on ``platform`` connecting to ``host``.

    ``status`` is the platform's start-day decision (``pass``, ``fail``, ``invalid-config`` or
    one of :data:`OPEN`); the strategy is ``None`` unless the config pins and connects.
    ``roots``: SPKI pins of catalogue root keys; ``known``: every catalogue pin (a key the
    resolved scenario carries as itself; other CA keys are named by reference).
    """
    v, policies = verdict(config, platform, host, path, start)
    if v.status != "pass":
        return v.status, None
    hit = sorted({m.index for m in v.matches})
    labels = {m.pin for m in v.matches}
    levels = {i: level_of(path[i], roots) for i in hit}
    primary_index = (
        0 if 0 in hit else max(hit, key=lambda i: (_RANK[levels[i]], -i))
    )  # the leaf list first: under ATS it is the list a renewal breaks
    primary = levels[primary_index]
    backups: list[str] = []
    for i in hit:
        if i == primary_index:
            continue
        cert = path[i]
        if cert.role == "leaf":
            continue
        if ref.catalogue and cert.sha256 in known:  # the scenario carries this very key
            backups.append(f"spki:{cert.sha256}")
        else:
            backups.append(f"{'ca' if levels[i] == 'root' else 'intermediates'}:{ref.ca}")
    pins = [p for pol in policies if not pol.exclude for p in pol.all_pins]
    backups += [
        f"spki:{p.value}"
        for p in pins
        if p.label not in labels and p.valid and p.algorithm == "sha256"
    ]
    entry: dict[str, Any] = {
        "name": name,
        "pin": LEVELS[primary],
        "backup": list(dict.fromkeys(backups)),
        "hosts": [ref.name],
    }
    expiries = [pol.expiration for pol in policies if pol.expiration]
    if expiries and platform != "okhttp" and min(expiries) > start:
        entry["expires_after_days"] = (min(expiries) - start).days
    if policies and not policies[0].enforce:
        entry["enforce"] = False
    entry["_levels"] = "+".join(
        sorted({levels[i] for i in hit}, key=lambda lv: _RANK[lv], reverse=True)
    )
    return "pass", entry
