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

:func:`calendar_row` reads the simulated series back into the config's row of the risk calendar.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from simlib.toolkit.audit import audit, verdict
from simlib.toolkit.chain import PathCert
from simlib.toolkit.observed import level_of
from simlib.toolkit.policy import ConfigError, PinConfig
from simlib.vocabulary import PIN_LEVEL_TABLE, SPKI_LEVELS

if TYPE_CHECKING:
    import pandas as pd
    from cryptography import x509

#: chain position -> the SPKI pin level that pins it (simlib.vocabulary), least durable first
LEVELS = {PIN_LEVEL_TABLE[n].position: n for n in SPKI_LEVELS}
_RANK = {position: i for i, position in enumerate(LEVELS)}
#: start-day statuses under which the config never locks anyone out
OPEN = ("not-pinned", "bypassed", "expired", "report-only")
#: Audit findings a forecast passes on: a dud backup or none at all changes what a break costs.
WARN_RULES = ("placeholder-pin", "no-backup-pin")
#: a lockout rate above this is users locked out (the engine's sums are exact to ~1e-12)
EPSILON = 1e-9


def client_of(platform: str) -> tuple[str, str]:
    """The scenario's ``(platform, client)`` for a toolkit platform: its format's
    :class:`~simlib.toolkit.formats.base.PlatformRule` says whose pin matching it has (how the
    engine matches pins: ``any``, or Apple's two lists for ``ats``)."""
    from simlib.toolkit.formats import platform_rules

    client = platform_rules()[platform].client
    if client is None:
        raise ConfigError(
            "forecast",
            "platform",
            f"no simulated client matches pins as {platform} does, so it cannot be forecast",
        )
    return client


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


def calendar_row(
    stub: dict[str, Any], series: dict[str, pd.DataFrame], today: date
) -> dict[str, Any]:
    """The risk calendar's row for one (config, host, platform): its strategy's simulated
    daily series read back (first day users are locked out, that share, the peak), or, for a
    config that does not pin and connect on the start day, its start-day decision as such."""
    import pandas as pd

    item, strat, status = stub["item"], stub["strategy"], stub["status"]
    row = {
        "config": item.config.source,
        "host": stub["host"],
        "platform": stub["platform"],
        "release_date": item.release_date,
        "status": status,
    }
    if strat is None:
        blocked = status not in OPEN
        day = pd.Timestamp(item.release_date or today) if blocked else pd.NaT
        share = 1.0 if blocked else 0.0
        pin = {"fail": "no match", "invalid-config": "invalid config"}.get(status, status)
        return {
            **row,
            "pin": pin,
            "levels": "",
            "first_break": day,
            "locked_share": share,
            "peak_locked_share": share,
            "peak_date": day,
        }
    s = series[strat["name"]]
    locked = s[s["lockout_rate"] > EPSILON]
    first = locked.iloc[0] if len(locked) else None
    peak = s.loc[s["lockout_rate"].idxmax()] if len(s) else None
    return {
        **row,
        "pin": strat["pin"],
        "levels": strat["_levels"],
        "first_break": first["date"] if first is not None else pd.NaT,
        "locked_share": float(first["lockout_rate"]) if first is not None else 0.0,
        "peak_locked_share": float(peak["lockout_rate"]) if first is not None else 0.0,
        "peak_date": peak["date"] if first is not None else pd.NaT,
    }


def audit_warnings(
    configs: list[PinConfig],
    pairs: list[tuple[str, list[x509.Certificate]]],
    today: date,
    anchors: tuple | list,
    ca_file: str | os.PathLike[str] | None,
) -> list[str]:
    """``CONFIG: RULE: message [platforms]`` for each :data:`WARN_RULES` finding that
    ``simlib audit`` reports on a shipped config for an observed host (once each)."""
    out: list[str] = []
    for config in configs:
        for host, chain in pairs:
            report = audit(config, chain, host=host, today=today, anchors=anchors, ca_file=ca_file)
            for f in report.findings:
                if f.rule in WARN_RULES:
                    plats = f" [{', '.join(f.platforms)}]" if f.platforms else ""
                    out.append(f"{config.source}: {f.rule}: {host}: {f.message}{plats}")
    return list(dict.fromkeys(out))
