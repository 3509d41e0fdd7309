"""Audit a pin config against a certificate chain, under each platform's own rules.

Order of checks as on the devices: the platform picks the policy for the host (its own matching
rule, from the format registry: :func:`simlib.toolkit.formats.select`), skips expired or
bypassed pins (fail open), then checks the built path — any certificate against any pin (NSC,
OkHttp, TrustKit), or Apple's leaf list against the leaf and CA list against the rest, both
required when both are present.

The path is completed from the roots the client trusts before it is judged (see
:func:`simlib.toolkit.chain.complete_path`): a server rarely sends its root, yet every platform
checks root pins against the anchor from its own store.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime

from cryptography import x509

from simlib.toolkit.chain import PathCert, check_observed, complete_path, stale_reason
from simlib.toolkit.formats import REGISTRY, select
from simlib.toolkit.keylints import lint_config, lint_document
from simlib.toolkit.lints import lint_policy, matching_pins, pin_table
from simlib.toolkit.policy import ConfigError, Finding, PinConfig, PinPolicy
from simlib.toolkit.report import AuditReport, Match, Verdict


def _match_list(pins: list, certs: list[PathCert], kind: str) -> list[Match]:
    """Every (certificate, pin) match, certificates in path order, pins in config order."""
    table = pin_table(pins)
    return [
        Match(c.index, c.role, c.subject, pins[i].label, kind)
        for c in certs
        for i in matching_pins(table, c)
    ]


def _describe(policies: list[PinPolicy]) -> tuple[str, ...]:
    return tuple(f"{p.pattern} ({p.where})" if p.where else p.pattern for p in policies)


def _not_pinned(config: PinConfig, platform: str, policies: list[PinPolicy]) -> str:
    if platform == "android" and policies:
        return f"domain-config {policies[0].pattern} ({policies[0].where}) matches and has no pins"
    if platform == "android":
        return "no domain-config matches; base-config applies and cannot pin"
    if policies and policies[0].exclude:
        return f"{policies[0].pattern} is excluded from its parent policy"
    return "no policy matches this host"


def verdict(
    config: PinConfig, platform: str, host: str, path: list[PathCert], today: date
) -> tuple[Verdict, list[PinPolicy]]:
    """The platform's decision for one connection, and the policies it applied."""
    policies = select(platform, config.for_platform(platform), host)
    names = _describe(policies)
    broken = config.broken_reason(platform)
    if broken:
        return Verdict(
            platform,
            "invalid-config",
            False,
            names,
            detail=f"the platform rejects the config: {broken}",
        ), policies
    if platform == "ios":
        return _ats_verdict(policies, names, path), policies
    pins = [p for pol in policies for p in pol.pins]
    if not policies or policies[0].exclude or not pins:
        return Verdict(
            platform, "not-pinned", True, names, detail=_not_pinned(config, platform, policies)
        ), policies
    policy = policies[0]
    if policy.expiration is not None and platform != "okhttp" and today >= policy.expiration:
        return Verdict(
            platform,
            "expired",
            True,
            names,
            detail=f"pins expired on {policy.expiration}: not checked",
        ), policies
    bypass = [a for a in policy.trust_anchors if a.override_pins and a.src == "system"]
    if bypass:
        return Verdict(
            platform,
            "bypassed",
            True,
            names,
            detail="system CAs have overridePins=true: pins never checked",
        ), policies
    found = _match_list(pins, path, "pins")
    if found:
        return Verdict(platform, "pass", True, names, tuple(found)), policies
    why = f"none of {len(pins)} pins matches the {len(path)} certificates of the path"
    if not policy.enforce:
        return Verdict(
            platform,
            "report-only",
            True,
            names,
            detail=f"{why}; reported, not enforced",
        ), policies
    return Verdict(platform, "fail", False, names, detail=why), policies


def _ats_verdict(
    policies: list[PinPolicy], names: tuple[str, ...], path: list[PathCert]
) -> Verdict:
    leaf = [p for pol in policies for p in pol.leaf_pins or ()]
    ca = [p for pol in policies for p in pol.ca_pins or ()]
    has_leaf = any(p.leaf_pins is not None for p in policies)
    has_ca = any(p.ca_pins is not None for p in policies)
    if not has_leaf and not has_ca:
        return Verdict("ios", "not-pinned", True, names, detail="no NSPinnedDomains entry matches")
    leaf_hits = _match_list(leaf, path[:1], "leaf") if has_leaf else []
    ca_hits = _match_list(ca, path[1:], "ca") if has_ca else []
    missing = [
        name
        for name, present, hits in (("leaf", has_leaf, leaf_hits), ("CA", has_ca, ca_hits))
        if present and not hits
    ]
    if missing:
        why = " and ".join(missing)
        return Verdict(
            "ios",
            "fail",
            False,
            names,
            tuple(leaf_hits + ca_hits),
            detail=f"no {why} identity matches"
            + (" (leaf and CA lists must both match)" if has_leaf and has_ca else ""),
        )
    return Verdict("ios", "pass", True, names, tuple(leaf_hits + ca_hits))


_STATUS_FINDING = {
    "fail": ("pin-mismatch", "error", "no pin matches the chain: the connection is blocked"),
    "report-only": (
        "pin-mismatch-report-only",
        "warning",
        "no pin matches the chain; not enforced, so it is only reported",
    ),
    "invalid-config": ("config-invalid", "error", "the platform rejects this config"),
    "not-pinned": ("host-not-pinned", "warning", "the host is not pinned"),
    "bypassed": ("pins-bypassed", "warning", "the pins are never checked"),
}


def _dedupe(findings: list[Finding]) -> tuple[Finding, ...]:
    """One finding per (rule, message, location), listing every platform it applies to."""
    merged: dict[tuple[str, str, str, str], Finding] = {}
    for f in findings:
        key = (f.rule, f.message, f.source, f.where)
        old = merged.get(key)
        plats = tuple(dict.fromkeys((*old.platforms, *f.platforms))) if old else f.platforms
        merged[key] = Finding(f.rule, f.severity, f.message, f.source, f.where, plats)
    return tuple(merged.values())


def audit(
    config: PinConfig,
    chain: list[x509.Certificate],
    *,
    host: str,
    today: date | None = None,
    expiring_days: int = 30,
    anchors: Sequence[x509.Certificate] = (),
    ca_file: str | os.PathLike[str] | None = None,
    catalogue: bool = True,
    document: bytes | None = None,
) -> AuditReport:
    """Audit ``config`` for ``host`` against the served ``chain`` (leaf first).

    The path is completed, as the platforms do, from the roots the client trusts: ``anchors``,
    the certificates of ``ca_file`` (a PEM bundle) and, with ``catalogue``, the real roots simlib
    ships; each unserved certificate records where it came from. ``today`` (default: the
    current UTC date) is the day judged: the leaf's validity and name are checked against it and
    ``host`` (:func:`simlib.toolkit.chain.check_observed`), and a chain whose leaf is both out of
    date and issued to another host is refused (a ConfigError). ``document``, the config file's
    bytes, enables the lints of keys the platforms ignore.
    """
    today = today or datetime.now(UTC).date()
    observed = check_observed(chain, host, today)
    stale = stale_reason(observed)
    if stale:
        raise ConfigError(
            host,
            "",
            f"the chain cannot stand for this host on {today}: {stale}; audit the host's "
            "current chain, or the date this one was served (--date)",
        )
    path = complete_path(list(chain), anchors, ca_file=ca_file, catalogue=catalogue)
    verdicts, findings = [], list(config.findings) + observed
    for platform in config.platforms:
        result, policies = verdict(config, platform, host, path, today)
        verdicts.append(result)
        # A start-up failure is already reported by the parser, with its reason and place.
        told = any(f.severity == "error" and platform in f.platforms for f in config.findings)
        if result.status in _STATUS_FINDING and not (result.status == "invalid-config" and told):
            rule, severity, text = _STATUS_FINDING[result.status]
            where = policies[0] if policies else None
            findings.append(
                Finding(
                    rule,
                    severity,
                    f"{host}: {text} ({result.detail})",  # type: ignore[arg-type]
                    config.source,
                    where.where if where else "",
                    (platform,),
                )
            )
        usable = [p for p in policies if not p.exclude]
        if usable and result.status not in ("invalid-config", "not-pinned"):
            findings += lint_policy(platform, usable, path, today, expiring_days)
    findings += lint_config(config)
    if document is not None:
        findings += lint_document(document, config)
    if path[-1].role != "root":
        findings.append(
            Finding(
                "incomplete-path",
                "info",
                "the path ends without a root: none of the roots trusted here (simlib's "
                "catalogue, --anchor, --ca-file) issued its last certificate, so root pins "
                "cannot be checked; pass that root with --anchor or --ca-file",
                "",
                "",
            )
        )
    fmt = REGISTRY.get(config.format)
    label = (fmt.label or fmt.title) if fmt is not None else ""
    return AuditReport(
        host,
        config.source,
        config.format,
        today,
        tuple(path),
        tuple(verdicts),
        _dedupe(findings),
        label,
    )
