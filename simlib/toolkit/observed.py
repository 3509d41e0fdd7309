"""An observed chain read as a forecast's host: which catalogue CA issued it, which profile and
key type, whether a pin's key is a CA root, and whether the chain may seed a forecast at all.

A chain whose served intermediate carries the key of a catalogue intermediate (its SPKI pin,
from the real file or the published notes) becomes a shorthand host, ``ca: <catalogue name>``
with ``key_type``, ``profile`` and ``tool``: the scenario's resolve step
(:mod:`simlib.model.realworld`) then expands it with the CA's roadmap (the dated active sets as
``intermediate_change`` events), the profile's validity schedule, intermediates published ahead
of use and the tool's dated defaults — the same expansion a scenario writing ``ca: letsencrypt``
gets. Any other chain stays a generic observed CA with one intermediate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from simlib.errors import clip
from simlib.toolkit.policy import ConfigError

if TYPE_CHECKING:
    from cryptography import x509

    from simlib.toolkit.chain import PathCert


@dataclass(frozen=True)
class CatalogueMatch:
    """The catalogue CA behind a served intermediate."""

    ca: str  # catalogue CA name
    intermediate: str  # catalogue name of the served intermediate
    key_type: str  # rsa | ecdsa (of the leaf)
    profile: str | None  # None: the CA has no profiles in the resolve step
    profile_note: str  # how the profile was chosen (shown to the user)


def key_type(cert: x509.Certificate) -> str:
    """``ecdsa`` or ``rsa`` (:func:`simlib.pki.keys.key_type`; a catalogue CA issues no other,
    so any other key is forecast as RSA)."""
    from simlib.pki.keys import key_type as kind

    return "ecdsa" if kind(cert) == "ecdsa" else "rsa"


def _pins(cert: Any) -> set[str]:
    return {p for p in (cert.spki_pin, cert.published_spki_pin) if p}


def catalogue_roots() -> frozenset[str]:
    """SPKI pins of every catalogue root key, whichever certificate carries it (a cross-sign
    of ISRG Root X1 by DST carries X1's key: pinning it pins the root)."""
    from simlib import world

    cat = world.catalogue()
    root_keys = {c.key for c in cat.certificates.values() if c.role == "root"}
    return frozenset(p for c in cat.certificates.values() if c.key in root_keys for p in _pins(c))


def level_of(cert: PathCert, roots: frozenset[str]) -> str:
    """The chain position a pin on ``cert`` pins: by its key, not its place in the path."""
    if cert.role == "leaf":
        return "leaf"
    return "root" if cert.role == "root" or cert.sha256 in roots else "intermediate"


def _guess_profile(ca: str, lifetime: int, issued: date) -> tuple[str | None, str]:
    """The catalogue profile whose validity cap on the issue day is closest to the leaf's
    lifetime (ties: the CA's default profile)."""
    from simlib.world.caps import PROFILES, cap_on, default_profile

    profiles = PROFILES.get(ca)
    default = default_profile(ca)
    if not profiles or default is None:
        return None, ""
    caps = {p: cap_on(s, issued) for p, s in profiles.items()}
    caps = {p: c for p, c in caps.items() if c is not None}
    if not caps:
        return default, f"profile {default} (the CA's default)"
    best = min(caps, key=lambda p: (abs(caps[p] - lifetime), p != default))
    how = "matches" if caps[best] == lifetime else f"closest to ({caps[best]} days)"
    return best, f"profile {best} guessed: the {lifetime}-day leaf {how} its cap on {issued}"


def lifetime_days(leaf: x509.Certificate) -> int:
    span = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    return max(1, round(span.total_seconds() / 86400))


def catalogue_pins() -> frozenset[str]:
    """Every SPKI pin the catalogue knows (from files or the published notes): the keys a
    resolved scenario carries as themselves."""
    from simlib import world

    return frozenset(p for c in world.catalogue().certificates.values() for p in _pins(c))


def _common_name(name: x509.Name) -> str | None:
    from cryptography.x509.oid import NameOID

    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def match_catalogue(path: list[PathCert]) -> CatalogueMatch | None:
    """The catalogue CA whose intermediate key the chain's issuing certificate carries; for a
    catalogue intermediate with no known key (a stand-in: ACM's ``Amazon RSA 2048 M01``), the
    one whose subject and issuer common names it carries."""
    from simlib import world

    if len(path) < 2:
        return None
    cat = world.catalogue()
    served = path[1]
    names = (_common_name(served.cert.subject), _common_name(served.cert.issuer))
    by_key = by_name = None
    for cert in cat.certificates.values():
        if cert.role == "root":
            continue
        subject = cat.certificate(cert.subject) if cert.role == "cross" else cert
        if subject.role != "intermediate":
            continue  # a served root cross-sign is not what issues leaves
        if served.sha256 in _pins(cert):
            by_key = subject
            break
        if by_name is None and not _pins(subject) and names == (subject.name, cert.issuer):
            by_name = subject
    found = by_key or by_name
    if found is None:
        return None
    leaf = path[0].cert
    profile, note = _guess_profile(found.ca, lifetime_days(leaf), leaf.not_valid_before_utc.date())
    if found is by_name:
        note = f"matched by name (the catalogue has no key for it); {note}".rstrip("; ")
    return CatalogueMatch(found.ca, found.name, key_type(leaf), profile, note)


def _algorithm(cert: x509.Certificate) -> str:
    """The scenario's key algorithm for a real certificate's key (:func:`simlib.pki.keys.
    key_algorithm`; a size or curve a scenario cannot name becomes the nearest default)."""
    from simlib.pki.keys import key_algorithm

    return key_algorithm(cert) or ("ec-p256" if key_type(cert) == "ecdsa" else "rsa-2048")


def resolve_observed(
    base: dict[str, Any],
    served: list[tuple[str | None, x509.Certificate | None]],
    today: date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``(cas, hosts, events)`` of ``base`` with the catalogue shorthand expanded (the resolve
    step a scenario file's ``ca: letsencrypt`` goes through), and each catalogue host's current
    certificate issued by the intermediate that really issued it.

    ``served``: per host, the catalogue name and certificate of its served intermediate (None
    for a generic CA). Before the start no ``intermediate_change`` applies (the roadmap's first
    is on the start day and overrides intermediates' own dates from then on), so the served
    intermediates get ``active_until: start`` and the others ``active_from: start``: the leaf
    issued before the start comes from the served one (R3 for a leaf observed after the switch
    to R10/R11), renewals follow the roadmap. A served intermediate the roadmap no longer lists
    for the horizon is added to the CA."""
    from simlib.model.realworld import resolve_hosts, resolve_pinned_cas

    try:
        data = dict(resolve_pinned_cas(resolve_hosts(base)))
    except ValueError as exc:
        raise ConfigError("forecast", "hosts", clip(exc, 200)) from None
    cas = [dict(c) for c in data["cas"]]
    hosts, events = list(data["hosts"]), list(data.get("events") or [])
    before: dict[str, dict[str, x509.Certificate]] = {}  # CA -> served intermediates
    for (name, cert), entry in zip(served, hosts, strict=True):
        issued = entry.get("first_issued")
        if name is not None and cert is not None and isinstance(issued, date) and issued < today:
            before.setdefault(entry["ca"], {})[name] = cert
    for spec in cas:
        mine = before.get(spec["name"])
        if not mine:
            continue
        inters = [dict(i) for i in spec.get("intermediates", [])]
        names = {i["name"] for i in inters}
        inters += [
            {"name": n, "key": _algorithm(c), "not_after": c.not_valid_after_utc.date()}
            for n, c in mine.items()
            if n not in names
        ]
        for i in inters:
            if i["name"] in mine:
                i["active_until"] = today
            else:
                i["active_from"] = max(i.get("active_from") or today, today)
        spec["intermediates"] = inters
    return cas, hosts, events
