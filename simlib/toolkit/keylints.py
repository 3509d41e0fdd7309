"""Lints of what a config says but the platform does not do: trust it widens, keys it ignores.

Two kinds. :func:`lint_config` reads the imported trust anchors (NSC ``<certificates>``): user
CAs trusted outside ``<debug-overrides>``, and custom ``@raw`` anchors. :func:`lint_document`
reads the file itself for keys the platform parser skips, because an importer keeps only what
the platform reads:

* Android ``XmlConfigSource.parseConfigEntry`` reads one attribute of ``<domain-config>`` and
  ``<base-config>`` (``cleartextTrafficPermitted``) and skips unknown child elements with
  ``XmlUtils.skipCurrentTag``; TrustKit-Android reads ``enforcePinning`` only on
  ``<trustkit-config>``. So ``<domain-config enforcePinning="true">`` enforces nothing.
* TrustKit ``parseTrustKitConfiguration`` looks keys up by name: at the top level
  ``TSKSwizzleNetworkDelegates``, ``TSKPinnedDomains`` and (macOS)
  ``TSKIgnorePinningForUserDefinedTrustAnchors``; per domain the ``TSK…`` domain keys. A
  ``TSKEnforcePinning`` at the top level is never read: each domain keeps its default (YES).
"""

from __future__ import annotations

import json
from typing import Any

from simlib.toolkit.policy import ConfigError, Finding, PinConfig, TrustAnchor

# XmlConfigSource (AOSP) and TrustKit-Android's TrustKitConfigurationParser.
_NSC_ENTRY_ATTRS = {"cleartextTrafficPermitted"}
_NSC_CHILDREN = {
    "network-security-config": {"base-config", "domain-config", "debug-overrides"},
    "domain-config": {"domain", "trust-anchors", "pin-set", "domain-config", "trustkit-config"},
    "base-config": {"trust-anchors"},
    "debug-overrides": {"trust-anchors"},
}
_TK_GLOBAL = {
    "TSKSwizzleNetworkDelegates",
    "TSKPinnedDomains",
    "TSKIgnorePinningForUserDefinedTrustAnchors",
}
_TK_DOMAIN = {
    "TSKPublicKeyHashes",
    "TSKEnforcePinning",
    "TSKIncludeSubdomains",
    "TSKExcludeSubdomainFromParentPolicy",
    "TSKReportUris",
    "TSKDisableDefaultReportUri",
    "TSKExpirationDate",
}
_TK_DEPRECATED = {"TSKPublicKeyAlgorithms"}  # read no more since TrustKit 1.6.0


def _tk_name(key: str) -> str:
    """A key's ``TSK…`` string: Swift/ObjC constant names (``kTSKFoo``) and the typo'd
    ``kSKExcludeSubdomainFromParentPolicy`` value are accepted as TrustKit spells them."""
    if key.startswith("kTSK"):
        return key[1:]
    if key.startswith("kSK"):
        return "T" + key[1:]
    return key


def _anchor_finding(anchor: TrustAnchor, scope: str, config: PinConfig, others: set[str]):
    if anchor.src == "user":
        bypass = (
            "with overridePins=true, chains anchored at them skip the pin check"
            if anchor.override_pins
            else "pins still apply (overridePins=false), but any proxy CA the user installs "
            "can intercept the hosts it covers that are not pinned"
        )
        return Finding(
            "user-ca-trusted",
            "warning",
            f"{scope} trusts user-installed CAs in release builds: {bypass}; keep "
            '<certificates src="user"/> in <debug-overrides>',
            config.source,
            anchor.where,
            ("android",),
        )
    if anchor.src.startswith("@"):
        alone = "" if "system" in others else "; system CAs are not trusted there at all"
        if anchor.override_pins:
            effect = (
                "and overridePins=true skips the pin check for chains anchored at it: whoever "
                "holds that CA's key is never checked against the pins"
            )
        else:
            effect = (
                "pins still apply (overridePins=false): chains anchored at it must match a pin "
                "too, so pin that CA or a key below it"
            )
        return Finding(
            "raw-trust-anchor",
            "warning" if anchor.override_pins else "info",
            f"{scope} trusts the bundled CA {anchor.src}{alone}; {effect}",
            config.source,
            anchor.where,
            ("android",),
        )
    return None


def lint_config(config: PinConfig) -> list[Finding]:
    """Trust-anchor findings of an NSC import (release build: debug anchors are left out)."""
    if "android" not in config.platforms:
        return []
    out: list[Finding] = []
    seen: set[str] = set()
    policies = [p for p in (config.base, *config.for_platform("android")) if p is not None]
    for policy in policies:
        scope = "base-config" if policy is config.base else f"domain-config {policy.pattern}"
        srcs = {a.src for a in policy.trust_anchors}
        for anchor in policy.trust_anchors:
            if anchor.debug or (anchor.where and anchor.where in seen):
                continue  # an inherited anchor is reported once, where it is written
            found = _anchor_finding(anchor, scope, config, srcs - {anchor.src})
            if found is not None:
                seen.add(anchor.where)
                out.append(found)
    return out


def _ignored(config: PinConfig, where: str, message: str, severity: str = "warning") -> Finding:
    return Finding("ignored-key", severity, message, config.source, where, config.platforms)  # type: ignore[arg-type]


def _nsc_keys(data: bytes, config: PinConfig) -> list[Finding]:
    from simlib.toolkit.xmltree import parse_xml

    root = parse_xml(data, config.source)
    out = []
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.children))
        if node.tag in ("domain-config", "base-config"):
            for name in sorted(set(node.attrs) - _NSC_ENTRY_ATTRS):
                if name.startswith("xmlns") or ":" in name:
                    continue  # namespace declarations and tools: attributes
                hint = (
                    ": enforcement is set on <trustkit-config enforcePinning=…> (TrustKit-"
                    "Android); the Android OS always enforces NSC pins"
                    if name == "enforcePinning"
                    else ""
                )
                out.append(
                    _ignored(
                        config,
                        node.where,
                        f"<{node.tag} {name}=…> has no effect: Android reads no such attribute"
                        + hint,
                    )
                )
        allowed = _NSC_CHILDREN.get(node.tag)
        for child in node.children if allowed is not None else ():
            if child.tag not in allowed:
                out.append(
                    _ignored(
                        config,
                        child.where,
                        f"<{child.tag}> inside <{node.tag}> has no effect: Android skips "
                        "elements it does not know",
                    )
                )
    return out


def _tk_keys(doc: Any, config: PinConfig, prefix: str) -> list[Finding]:
    if not isinstance(doc, dict):
        return []
    out = []
    for key in doc:
        name = _tk_name(key)
        if name in _TK_GLOBAL:
            continue
        if name == "TSKEnforcePinning":
            why = (
                "TrustKit reads it per domain only, so every domain keeps its default "
                "(enforce: YES on iOS); set it in each TSKPinnedDomains entry"
            )
        elif name in _TK_DOMAIN:
            why = "it is a per-domain key; TrustKit ignores it at the top level"
        else:
            why = "TrustKit reads no such top-level key"
        out.append(_ignored(config, prefix + key, f"{key} at the top level has no effect: {why}"))
    domains = next((doc[k] for k in doc if _tk_name(k) == "TSKPinnedDomains"), None)
    for host, entry in (domains or {}).items() if isinstance(domains, dict) else ():
        if not isinstance(entry, dict):
            continue
        for key in entry:
            name = _tk_name(key)
            where = f'{prefix}TSKPinnedDomains["{host}"].{key}'
            if name in _TK_DEPRECATED:
                out.append(
                    _ignored(
                        config,
                        where,
                        f"{key} has no effect since TrustKit 1.6.0 (every key type is accepted)",
                        "info",
                    )
                )
            elif name not in _TK_DOMAIN:
                why = (
                    "it is a global key (top level of the configuration)"
                    if name in _TK_GLOBAL
                    else "TrustKit reads no such domain key"
                )
                out.append(_ignored(config, where, f"{key} in {host} has no effect: {why}"))
    return out


_OPEN = {"[", "{", "@{", "@[", "("}
_CLOSE = {"]", "}", ")"}


def _source_dict(data: bytes, source: str) -> object:
    """The dictionary literal around the first ``kTSKPinnedDomains`` key of Swift/ObjC source.

    The importer reads only the pinned-domains value; the keys beside it are what is linted.
    """
    from simlib.toolkit.formats.literals import Reader, tokenize

    toks = tokenize(data.decode("utf-8-sig"), source)
    at = next(
        (
            i
            for i, t in enumerate(toks)
            if t.text in ("kTSKPinnedDomains", "TSKPinnedDomains") and t.kind in ("name", "str")
        ),
        None,
    )
    depth = 0
    for j in range(at - 1 if at is not None else -1, -1, -1):
        text = toks[j].text if toks[j].kind == "punct" else ""
        if text in _CLOSE:
            depth += 1
        elif text in _OPEN:
            if depth == 0:
                value, _ = Reader(toks, source).value(j)
                return value
            depth -= 1
    return None


def _at_line(finding: Finding, data: bytes) -> Finding:
    """A source-file finding placed at the line of its key (the last key of its path)."""
    key = finding.where.rsplit(".", 1)[-1]
    for number, line in enumerate(data.decode("utf-8-sig", "replace").splitlines(), start=1):
        if key and key in line:
            return Finding(
                finding.rule,
                finding.severity,
                finding.message,
                finding.source,
                f"line {number}",
                finding.platforms,
            )
    return finding


def lint_document(data: bytes, config: PinConfig) -> list[Finding]:
    """``ignored-key`` findings for the config file's bytes (the ones ``config`` came from)."""
    try:
        if config.format == "nsc":
            return _nsc_keys(data, config)
        if config.format == "trustkit":
            doc = json.loads(data.decode("utf-8-sig"))
            if isinstance(doc, dict):
                inner = next((k for k in doc if _tk_name(k) == "TSKConfiguration"), None)
                if inner is not None:
                    return _tk_keys(doc[inner], config, f"{inner}.")
            return _tk_keys(doc, config, "")
        if config.format == "ats":
            from simlib.toolkit.ios import load_plist

            plist = load_plist(data, config.source)
            inner = plist.get("TSKConfiguration")
            return _tk_keys(inner, config, "TSKConfiguration.") if inner is not None else []
        if config.format == "trustkit-source":
            found = _tk_keys(_source_dict(data, config.source), config, "")
            return [_at_line(f, data) for f in found]
    except (ConfigError, ValueError, UnicodeDecodeError, IndexError):
        return []  # the importer read these bytes; a document it refused has no keys to judge
    return []
