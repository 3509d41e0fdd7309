"""TrustKit configs: the iOS dictionary (as JSON or under ``TSKConfiguration`` in a plist) and
TrustKit-Android's NSC XML with ``<trustkit-config>``.

Defaults differ by port and are applied per platform:

* iOS (datatheorem/TrustKit ``parse_configuration.m``): ``TSKEnforcePinning`` YES,
  ``TSKIncludeSubdomains`` NO; enforcing needs >= 2 distinct pins, otherwise 1; a pin that is not
  32 bytes or too few pins throw at initialisation; ``TSKExpirationDate`` is ``yyyy-MM-dd`` UTC
  and an unparsable date is silently dropped (nil), so the pins never expire.
* Android (datatheorem/TrustKit-Android ``DomainPinningPolicy``): ``enforcePinning`` false; the
  same >= 2 rule only when enforcing; a ``domain-config`` inherits includeSubdomains, pins,
  expiration and trustkit-config from its parent; only its last ``<domain>`` counts; digest must
  be exactly ``SHA-256``.
"""

from __future__ import annotations

from typing import Any

from simlib.toolkit.android import _DATE_RE, parse_date, parse_pin_element
from simlib.toolkit.hostnames import is_public_suffix
from simlib.toolkit.policy import ConfigError, Finding, Pin, PinPolicy, make_pin, show
from simlib.toolkit.xmltree import Node

_TOO_FEW = "fewer than {n} distinct pins (no backup pin); TrustKit throws at initialisation"


def _key(d: dict[str, Any], name: str) -> Any:
    """TrustKit keys as written in Swift (``kTSKFoo``) or as their string values (``TSKFoo``)."""
    for k in (name, "k" + name, "kSK" + name.removeprefix("TSK")):
        if k in d:
            return d[k]
    return None


def _bool(value: Any, source: str, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):  # NSNumber boolValue
        return value != 0
    raise ConfigError(source, where, f"expected a Boolean, got {show(value)}")


def parse_trustkit_dict(
    data: Any, source: str, platform: str, prefix: str = ""
) -> tuple[list[PinPolicy], list[Finding], list[str]]:
    """Policies, findings and start-up failures (reasons) for one TrustKit dictionary."""
    if isinstance(data, dict) and _key(data, "TSKConfiguration") is not None:
        data, prefix = _key(data, "TSKConfiguration"), prefix + "TSKConfiguration."
    if not isinstance(data, dict):
        raise ConfigError(source, prefix.rstrip("."), "TrustKit configuration must be a dictionary")
    domains = _key(data, "TSKPinnedDomains")
    where0 = prefix + "TSKPinnedDomains"
    if not isinstance(domains, dict) or not domains:
        raise ConfigError(source, where0, "missing or empty TSKPinnedDomains dictionary")
    enforce_default = platform == "trustkit-ios"
    policies, notes, broken = [], [], []
    for name, entry in domains.items():
        where = f'{where0}["{name}"]'
        if not isinstance(entry, dict):
            raise ConfigError(source, where, "domain policy must be a dictionary")
        if _bool(_key(entry, "TSKExcludeSubdomainFromParentPolicy"), source, where):
            policies.append(PinPolicy(name, platform, exclude=True, source=source, where=where))
            continue
        include = bool(_bool(_key(entry, "TSKIncludeSubdomains"), source, where))
        enforce = _bool(_key(entry, "TSKEnforcePinning"), source, where)
        enforce = enforce_default if enforce is None else enforce
        hashes = _key(entry, "TSKPublicKeyHashes") or []
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise ConfigError(source, where + ".TSKPublicKeyHashes", "expected a list of strings")
        pins = tuple(
            make_pin(h, "sha256", f"{where}.TSKPublicKeyHashes[{i}]") for i, h in enumerate(hashes)
        )
        expiration = None
        raw_exp = _key(entry, "TSKExpirationDate")
        if raw_exp is not None:
            if isinstance(raw_exp, str) and _DATE_RE.fullmatch(raw_exp.strip()):
                expiration = parse_date(raw_exp, source, where, "TSKExpirationDate")
            else:
                notes.append(
                    Finding(
                        "bad-expiration",
                        "warning",
                        f"TSKExpirationDate {show(raw_exp)}"
                        " is not yyyy-MM-dd; TrustKit drops it, so the pins never "
                        "expire",
                        source,
                        where,
                        (platform,),
                    )
                )
        uris = _key(entry, "TSKReportUris") or []
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise ConfigError(source, where + ".TSKReportUris", "expected a list of strings")
        if not _bool(_key(entry, "TSKDisableDefaultReportUri"), source, where):
            uris = [*uris, "https://overmind.datatheorem.com/trustkit/report"]
        if include and is_public_suffix(name):
            broken.append(f"includeSubdomains on the public suffix {name!r}")
        distinct = {p.digest for p in pins if p.valid}
        need = 2 if enforce else 1
        if any(p.digest is not None and not p.valid for p in pins):
            broken.append(f"invalid pin for {name!r} (not 32 bytes)")
        elif len(distinct) < need:
            notes.append(
                Finding(
                    "config-invalid",
                    "error",
                    f"{name}: " + _TOO_FEW.format(n=need),
                    source,
                    where,
                    (platform,),
                )
            )
            broken.append(f"fewer than {need} pins for {name!r}")
        policies.append(
            PinPolicy(
                name,
                platform,
                include,
                pins,
                expiration=expiration,
                enforce=enforce,
                source=source,
                where=where,
                report_uris=tuple(map(str, uris)),
            )
        )
    return policies, notes, broken


def _entries(node: Node, parent: dict[str, Any] | None, out: list[dict[str, Any]]) -> None:
    """TrustKitConfigurationParser.readDomainConfig: a builder per domain-config, with parent."""
    own: dict[str, Any] = {"parent": parent, "where": node.where}
    out.append(own)
    for child in node.children:
        if child.tag == "domain":
            own["hostname"] = child.text.strip()  # setHostname: the last <domain> wins
            own["hostname_where"] = child.where
            raw = child.attrs.get("includeSubdomains")
            if raw is not None:
                own["include"] = raw.strip().lower() == "true"  # Boolean.parseBoolean
        elif child.tag == "pin-set":
            own["pins"] = tuple(
                parse_pin_element(p, "", exact_digest=True, lenient=True, by_text=True)
                for p in child.children
                if p.tag == "pin"
            )
            raw = child.attrs.get("expiration")
            own["expiration"] = parse_date(raw, "", child.where, "expiration") if raw else None
        elif child.tag == "trustkit-config":
            raw = child.attrs.get("enforcePinning")
            own["enforce"] = raw is not None and raw.strip().lower() == "true"
            raw = child.attrs.get("disableDefaultReportUri")
            own["no_default_uri"] = raw is not None and raw.strip().lower() == "true"
            own["uris"] = tuple(u.text.strip() for u in child.children if u.tag == "report-uri")
        elif child.tag == "domain-config":
            _entries(child, own, out)


def _inherit(entry: dict[str, Any], key: str) -> Any:
    while entry is not None:
        if key in entry:
            return entry[key]
        entry = entry["parent"]
    return None


def parse_trustkit_android(
    root: Node, source: str
) -> tuple[list[PinPolicy], list[Finding], list[str]]:
    """TrustKit-Android policies from an NSC document with ``<trustkit-config>`` elements."""
    raw: list[dict[str, Any]] = []
    notes: list[Finding] = []
    broken: list[str] = []

    def walk(node: Node) -> None:
        for child in node.children:
            if child.tag == "domain-config":
                _entries(child, None, raw)
            elif child.tag != "debug-overrides":
                walk(child)

    try:
        walk(root)
    except ConfigError as exc:  # e.g. digest="sha-256": NSC accepts it, TrustKit-Android throws
        where = exc.where
        notes.append(
            Finding(
                "config-invalid",
                "error",
                f"TrustKit-Android rejects the config: {exc.message}",
                source,
                where,
                ("trustkit-android",),
            )
        )
        return [], notes, [exc.message]
    policies = []
    for entry in raw:
        pins: tuple[Pin, ...] | None = _inherit(entry, "pins")
        if pins is None or "hostname" not in entry:
            continue  # "not for pinning but something else; skip it"
        enforce = bool(_inherit(entry, "enforce"))
        name = entry["hostname"]
        # PublicKeyPin: a Set of pins equal by text, each decoding to 32 bytes
        distinct = {p.value for p in pins if p.digest is not None and not p.wrong_length}
        if enforce and len(distinct) < 2:
            notes.append(
                Finding(
                    "config-invalid",
                    "error",
                    f"{name}: " + _TOO_FEW.format(n=2),
                    source,
                    entry["hostname_where"],
                    ("trustkit-android",),
                )
            )
            broken.append(f"fewer than 2 pins for {name!r}")
        uris = tuple(_inherit(entry, "uris") or ())
        if not _inherit(entry, "no_default_uri"):
            uris += ("https://overmind.datatheorem.com/trustkit/report",)
        policies.append(
            PinPolicy(
                name,
                "trustkit-android",
                bool(_inherit(entry, "include")),
                pins,
                expiration=_inherit(entry, "expiration"),
                enforce=enforce,
                source=source,
                where=entry["hostname_where"],
                report_uris=uris,
            )
        )
    return policies, notes, broken
