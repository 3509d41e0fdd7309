"""Real CA hierarchies (``data/world/ca-catalogue.yaml``) built on the files in ``data/certs/``.

A certificate with a file is the real certificate: its dates, key type and SPKI pin come from
the file. A certificate without one (``file: null``) is marked :attr:`CACertificate.stand_in`;
the simulator generates it. Certificates that carry the same ``key`` (a cross-sign, X3 re-using
Authority X1's key) share their SPKI pin. A CA's ``practice`` (cadence or takeover rule, pool
size, validity and key types of its intermediates, root succession) is what
:mod:`simlib.world.extrapolation` extends the published active sets with; certificates it
invents have ``origin == "extrapolated"``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from simlib.errors import ScenarioError
from simlib.world.active_sets import KEY_TYPES, ActiveSet, activity, parse_sets, pick
from simlib.world.data import certs_dir, parse_date, read_yaml, sourced, world_dir
from simlib.world.realcerts import read_real_cert

__all__ = [
    "CA",
    "ActiveSet",
    "CACertificate",
    "Catalogue",
    "PracticeFact",
    "active_intermediates",
    "ca",
    "catalogue",
    "certificate",
    "load_catalogue",
]

FILE = "ca-catalogue.yaml"
ROLES = ("root", "intermediate", "cross")


@dataclass(frozen=True)
class CACertificate:
    name: str
    ca: str
    role: str  # root | intermediate | cross
    subject: str
    key: str  # certificates with the same key share the SPKI pin
    key_type: str  # rsa | ecdsa
    issuer: str  # the subject that signed it
    not_before: datetime | None
    not_after: datetime | None
    active_from: date | None  # first day it issued leaves (any profile)
    active_until: date | None  # last day it issued leaves
    active_confidence: str | None
    announced: date | None
    trusted_until: date | None
    file: str | None  # relative to data/certs/; None: generated stand-in
    spki_pin: str | None  # from the file; None for a stand-in
    published_spki_pin: str | None  # from the reference notes
    source: str
    confidence: str
    note: str = ""
    origin: str = "catalogue"  # or "extrapolated": invented past the published data
    key_algorithm: str | None = None  # a stand-in's algorithm when known (rsa-2048, ec-p384)

    @property
    def assumed(self) -> bool:
        """Invented by extrapolation, not published by the CA: an assumption."""
        return self.origin == "extrapolated"

    @property
    def stand_in(self) -> bool:
        return self.file is None

    @property
    def path(self) -> Path | None:
        return None if self.file is None else certs_dir() / self.file


@dataclass(frozen=True)
class PracticeFact:
    """One documented habit of a CA (``practice`` in the catalogue), with its source."""

    name: str
    value: str
    source: str
    confidence: str
    note: str = ""


PRACTICE = (
    "batch_every_months",
    "takeover_before_expiry_days",
    "intermediate_validity_years",
    "rsa_per_batch",
    "ecdsa_per_batch",
    "active_per_key_type",
    "announce_after_days",
    "activate_after_days",
    "rsa_key",
    "ecdsa_key",
    "selection",
    "root_succession",
    "root_validity_years",
    "root_successor_before_expiry_years",
    "cross_sign_years",
    "new_intermediates",
    "validity_schedule",
    "horizon",
)


@dataclass(frozen=True)
class CA:
    name: str
    display_name: str
    selection: str
    roots: tuple[str, ...]
    intermediates: tuple[str, ...]
    cross_signs: tuple[str, ...]
    active_sets: tuple[ActiveSet, ...]
    source: str
    confidence: str
    practice: tuple[PracticeFact, ...] = ()

    def fact(self, name: str) -> PracticeFact | None:
        return next((f for f in self.practice if f.name == name), None)


@dataclass(frozen=True)
class Catalogue:
    cas: Mapping[str, CA]
    certificates: Mapping[str, CACertificate]

    def ca(self, name: str) -> CA:
        if name not in self.cas:
            raise ScenarioError(FILE, "ca", f"unknown CA {name!r}; valid: {', '.join(self.cas)}")
        return self.cas[name]

    def certificate(self, name: str) -> CACertificate:
        if name not in self.certificates:
            raise ScenarioError(
                FILE,
                "certificate",
                f"unknown CA certificate {name!r}; valid: {', '.join(self.certificates)}",
            )
        return self.certificates[name]

    def sharing_key(self, name: str) -> tuple[CACertificate, ...]:
        """Every certificate carrying the same key as ``name`` (itself included)."""
        key = self.certificate(name).key
        return tuple(c for c in self.certificates.values() if c.key == key)


def _day_start(value: date) -> datetime:
    return datetime.combine(value, time(0, 0, 0), UTC)


def _opt_date(entry: Mapping[str, Any], field: str, where: str) -> date | None:
    value = entry.get(field)
    return None if value is None else parse_date(value, FILE, f"{where}.{field}", field)


def _certificate(
    ca_name: str,
    entry: Any,
    where: str,
    base: Path,
    activity: Mapping[str, tuple[date, date | None, str]],
) -> CACertificate:
    if not isinstance(entry, Mapping):
        raise ScenarioError(FILE, where, "expected a mapping")
    source, confidence = sourced(entry, FILE, where)
    name = str(entry.get("name") or "")
    if not name:
        raise ScenarioError(FILE, f"{where}.name", "is empty")
    role, key_type = entry.get("role"), entry.get("key_type")
    if role not in ROLES:
        raise ScenarioError(FILE, f"{where}.role", f"{role!r} is not one of {', '.join(ROLES)}")
    if key_type not in KEY_TYPES:
        raise ScenarioError(FILE, f"{where}.key_type", f"{key_type!r} is not rsa or ecdsa")
    subject = str(entry.get("subject") or name)
    issuer = str(entry.get("issuer") or "")
    if role == "root" and issuer != subject:
        raise ScenarioError(FILE, f"{where}.issuer", "a root is issued by itself")
    published = entry.get("published_spki")
    not_before = _opt_date(entry, "not_before", where)
    not_after = _opt_date(entry, "not_after", where)
    nb = None if not_before is None else _day_start(not_before)
    na = None if not_after is None else _day_start(not_after) + timedelta(days=1, seconds=-1)
    file, pin = entry.get("file"), None
    if file is not None:
        if not_before is not None or not_after is not None:
            raise ScenarioError(FILE, where, "dates come from the file; drop not_before/not_after")
        try:
            real = read_real_cert((base / str(file)).resolve())
        except (OSError, ValueError) as exc:
            raise ScenarioError(FILE, f"{where}.file", f"cannot read {file}: {exc}") from exc
        if real.key_type != key_type:
            raise ScenarioError(
                FILE, f"{where}.key_type", f"{key_type} but {file} holds a {real.key_type} key"
            )
        if published is not None and published != real.spki_pin:
            raise ScenarioError(
                FILE,
                f"{where}.published_spki",
                f"{published} differs from the file's pin {real.spki_pin}",
            )
        nb, na, pin = real.not_before, real.not_after, real.spki_pin
    first, last, active_conf = activity.get(name, (None, None, None))
    if first is not None and last is None and na is not None:
        last = na.date()  # still in the active set: it issues until it expires
    return CACertificate(
        name=name,
        ca=ca_name,
        role=str(role),
        subject=subject,
        key=str(entry.get("key") or subject),
        key_type=str(key_type),
        issuer=issuer,
        not_before=nb,
        not_after=na,
        active_from=first,
        active_until=last,
        active_confidence=active_conf,
        announced=_opt_date(entry, "announced", where),
        trusted_until=_opt_date(entry, "trusted_until", where),
        file=None if file is None else str(file),
        spki_pin=pin,
        published_spki_pin=None if published is None else str(published),
        source=source,
        confidence=confidence,
        note=str(entry.get("note") or ""),
    )


def _practice(raw: Any, where: str) -> tuple[PracticeFact, ...]:
    out = []
    for i, entry in enumerate(raw or []):
        w = f"{where}[{i}]"
        if not isinstance(entry, Mapping):
            raise ScenarioError(FILE, w, "expected a mapping")
        source, confidence = sourced(entry, FILE, w)
        name = str(entry.get("name") or "")
        if name not in PRACTICE:
            raise ScenarioError(FILE, f"{w}.name", f"{name!r} is not one of {', '.join(PRACTICE)}")
        if entry.get("value") is None:
            raise ScenarioError(FILE, f"{w}.value", "is empty")
        out.append(
            PracticeFact(
                name, str(entry["value"]), source, confidence, str(entry.get("note") or "")
            )
        )
    return tuple(out)


def _check_links(certs: Mapping[str, CACertificate]) -> None:
    subjects = {c.subject for c in certs.values()}
    pins: dict[str, str] = {}
    for c in certs.values():
        where = f"certificate {c.name!r}"
        if c.issuer not in subjects:
            raise ScenarioError(FILE, where, f"issuer {c.issuer!r} is not in the catalogue")
        if c.key not in subjects:
            raise ScenarioError(FILE, where, f"key {c.key!r} is not in the catalogue")
        pin = c.spki_pin or c.published_spki_pin
        if pin is not None and pins.setdefault(c.key, pin) != pin:
            raise ScenarioError(FILE, where, f"certificates with key {c.key!r} disagree on its pin")
        if c.active_from and c.active_until and c.active_from > c.active_until:
            raise ScenarioError(FILE, where, "active_from is after active_until")


@functools.cache
def _load(path: Path, base: Path) -> Catalogue:
    data = read_yaml(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("cas"), Mapping):
        raise ScenarioError(FILE, "cas", "expected a mapping of CAs")
    cas: dict[str, CA] = {}
    certs: dict[str, CACertificate] = {}
    for ca_name, body in data["cas"].items():
        where = f"cas.{ca_name}"
        if not isinstance(body, Mapping):
            raise ScenarioError(FILE, where, "expected a mapping")
        source, confidence = sourced(body, FILE, where)
        raw_certs = body.get("certificates") or []
        names = {str(e.get("name")) for e in raw_certs if isinstance(e, Mapping)}
        sets = parse_sets(FILE, body.get("active_sets"), f"{where}.active_sets", names)
        active = activity(sets)
        mine = []
        for i, entry in enumerate(raw_certs):
            cert = _certificate(str(ca_name), entry, f"{where}.certificates[{i}]", base, active)
            if cert.name in certs:
                raise ScenarioError(
                    FILE,
                    f"{where}.certificates[{i}].name",
                    f"duplicate certificate name {cert.name!r}",
                )
            certs[cert.name] = cert
            mine.append(cert)
        cas[str(ca_name)] = CA(
            name=str(ca_name),
            display_name=str(body.get("display_name") or ca_name),
            selection=str(body.get("selection") or "fixed"),
            roots=tuple(c.name for c in mine if c.role == "root"),
            intermediates=tuple(c.name for c in mine if c.role == "intermediate"),
            cross_signs=tuple(c.name for c in mine if c.role == "cross"),
            active_sets=sets,
            source=source,
            confidence=confidence,
            practice=_practice(body.get("practice"), f"{where}.practice"),
        )
    _check_links(certs)
    return Catalogue(cas, certs)


def load_catalogue(directory: Path | None = None, certs: Path | None = None) -> Catalogue:
    """The catalogue from a folder (default ``data/world``), cached per process and folder."""
    path = ((directory or world_dir()) / FILE).resolve()
    return _load(path, (certs or certs_dir()).resolve())


@functools.cache
def catalogue() -> Catalogue:
    """The project's catalogue (cached per process: resolving its folder is the cost of a
    lookup, and the host shorthand asks for it once per certificate)."""
    return load_catalogue()


def ca(name: str) -> CA:
    """A CA by catalogue name (``letsencrypt``, ``amazon``, ...); the error lists valid names."""
    return catalogue().ca(name)


def certificate(name: str) -> CACertificate:
    """A CA certificate by name (``R10``, ``ISRG Root X1``, ``R3/DST``, ...)."""
    return catalogue().certificate(name)


def active_intermediates(
    ca_name: str, day: date, key_type: str, profile: str = "classic"
) -> tuple[str, ...]:
    """Intermediates issuing leaves of ``key_type`` on ``day`` (a profile without a set on that
    day falls back to ``classic``); empty before the CA's first set."""
    if key_type not in KEY_TYPES:
        raise ScenarioError(FILE, "key_type", f"{key_type!r} is not rsa or ecdsa")
    return pick(ca(ca_name).active_sets, day, key_type, profile)
