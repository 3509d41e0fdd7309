"""Generated stand-ins past a CA's published roadmap: their names, labels and roots.

:mod:`simlib.world.extrapolation` decides *when* a CA needs a new intermediate batch; this module
makes the certificates: deterministic names (``<ca> extrapolated RSA 2027a``, ``<ca> extrapolated
root RSA 2035`` and its cross-sign ``<root>/<old root>``), the assumption label every one carries,
and each key type's root lineage (a new generation ``root_successor_before_expiry_years`` before
the current root expires, cross-signed by it for ``cross_sign_years``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from simlib.errors import ScenarioError
from simlib.world.catalogue import CA, FILE, CACertificate

__all__ = [
    "ORIGIN",
    "Invent",
    "RootLineage",
    "add_months",
    "assumption_label",
    "stand_in_name",
    "stand_in_root_name",
]

ORIGIN = "extrapolated"
_LABEL = {"rsa": "RSA", "ecdsa": "ECDSA"}
_NAME = re.compile(r"^(?P<ca>[a-z0-9-]+) extrapolated (?P<kt>RSA|ECDSA) (?P<year>\d{4})[a-z]$")
_ROOT = re.compile(
    r"^(?P<ca>[a-z0-9-]+) extrapolated root (?P<kt>RSA|ECDSA) (?P<year>\d{4})(?:/(?P<by>.+))?$"
)
#: the most root generations per key type one extension invents
MAX_ROOTS = 8


def stand_in_name(ca_name: str, key_type: str, year: int, index: int) -> str:
    """``letsencrypt extrapolated RSA 2027a``: the ``index``-th (0-based) of a batch."""
    return f"{ca_name} extrapolated {_LABEL[key_type]} {year}{chr(ord('a') + index)}"


def stand_in_root_name(ca_name: str, key_type: str, year: int) -> str:
    """``amazon extrapolated root RSA 2028``: the root generation created in ``year``."""
    return f"{ca_name} extrapolated root {_LABEL[key_type]} {year}"


def assumption_label(name: str) -> str | None:
    """Why ``name`` is an assumption if it is an extrapolated certificate, else ``None``."""
    tail = f"past the CA's published roadmap ({FILE} practice) — an assumption"
    m = _NAME.match(name)
    if m is not None:
        return (
            f"extrapolated: {m['ca']} {m['kt']} intermediate assumed for the {m['year']} "
            f"batch, {tail}"
        )
    m = _ROOT.match(name)
    if m is None:
        return None
    what = f"cross-sign by {m['by']} of the" if m["by"] else "the"
    return (
        f"extrapolated: {what} {m['ca']} {m['kt']} root generation assumed for {m['year']}, {tail}"
    )


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0, 0), UTC)


def _limit(root: CACertificate) -> datetime | None:
    return root.not_after or (_end_of(root.trusted_until) if root.trusted_until else None)


def _root_algorithm(root: CACertificate) -> str | None:
    if root.key_algorithm is not None or root.path is None:
        return root.key_algorithm
    from simlib.pki.keys import key_algorithm
    from simlib.world.realcerts import read_real_cert

    return key_algorithm(read_real_cert(root.path.resolve()).certificate)


@dataclass
class Invent:
    """The certificates one extension invents, in creation order."""

    cau: CA
    made: list[CACertificate] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"{FILE} practice of {self.cau.name} (extrapolated)"

    def cert(
        self,
        name: str,
        role: str,
        kt: str,
        issuer: str,
        created: date,
        expires: date,
        algorithm: str | None,
        announced: date | None = None,
        subject: str | None = None,
    ) -> CACertificate:
        cert = CACertificate(
            name=name,
            ca=self.cau.name,
            role=role,
            subject=subject or name,
            key=subject or name,
            key_type=kt,
            issuer=issuer,
            not_before=_start_of(created),
            not_after=_end_of(expires),
            active_from=None,
            active_until=None,
            active_confidence="unconfirmed",
            announced=announced,
            trusted_until=None,
            file=None,
            spki_pin=None,
            published_spki_pin=None,
            source=self.source,
            confidence="unconfirmed",
            note=assumption_label(name) or "",
            origin=ORIGIN,
            key_algorithm=algorithm,
        )
        self.made.append(cert)
        return cert


@dataclass
class RootLineage:
    """Each key type's root lineage: the published root, then generated successors."""

    invent: Invent
    lineage: dict[str, list[CACertificate]]
    lead: int | None  # root_successor_before_expiry_years
    years: int | None  # root_validity_years
    cross_years: int | None

    def signer(self, kt: str, created: date, expires: date) -> CACertificate:
        line = self.lineage[kt]
        while self.lead is not None and self.years is not None and len(line) <= MAX_ROOTS:
            limit = _limit(line[-1])
            if limit is None:
                break
            born = add_months(limit.date() + timedelta(days=1), -12 * self.lead)
            if born > created:
                break
            self._succeed(kt, line[-1], born, limit.date())
        root = [r for r in line if r.not_before is None or r.not_before.date() <= created][-1]
        limit = _limit(root)
        if limit is not None and _end_of(expires) > limit:
            raise ScenarioError(
                FILE,
                f"cas.{self.invent.cau.name}.practice.root_successor_before_expiry_years",
                f"an intermediate of the {created.year} batch would outlive {root.name} "
                f"({limit.date()}); no next root generation is modelled before {created}",
            )
        return root

    def _succeed(self, kt: str, old: CACertificate, born: date, old_end: date) -> None:
        assert self.years is not None
        name = stand_in_root_name(self.invent.cau.name, kt, born.year)
        expires = add_months(born, 12 * self.years) - timedelta(days=1)
        root = self.invent.cert(name, "root", kt, name, born, expires, _root_algorithm(old))
        self.lineage[kt].append(root)
        if self.cross_years:
            until = min(add_months(born, 12 * self.cross_years) - timedelta(days=1), old_end)
            self.invent.cert(
                f"{name}/{old.name}",
                "cross",
                kt,
                old.subject,
                born,
                until,
                root.key_algorithm,
                subject=name,
            )
