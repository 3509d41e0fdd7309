"""Real X.509 objects behind a calendar's integer identities.

Every key is derived deterministically from the scenario seed and the identity's tag, and every
certificate is built with ``cryptography`` (deterministic signatures), so the same scenario always
yields byte-identical certificates and pins. Objects are made lazily and cached on this object;
A calendar owns one (``CertificateCalendar.pki``; ``RealPki.for_calendar`` returns it).

A CA certificate with a real file (a scenario CA named like a catalogue CA, and a root or
intermediate named like one of its certificates with a file in ``data/certs/``) is that file:
real subject, validity and SPKI pin. Nobody has its private key, so whatever is generated under
it (leaves, intermediates without a file, cross-signs by it) carries its real subject as issuer
but is signed by a stand-in EC P-256 key derived like any other (``stand_in_public_keys``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from simlib._dates import add_years
from simlib.model import Scenario
from simlib.model.base import MIN_DATE
from simlib.pki.certs import make_cross_sign, make_intermediate, make_leaf, make_root, validity
from simlib.pki.keys import derive_private_key
from simlib.pki.pins import cert_pin, spki_pin
from simlib.server.identities import Registry
from simlib.server.schedule import CAKeys, Issuance
from simlib.world.realcerts import read_real_cert

_UTC = dt.UTC


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), _UTC)


def _end_of(day: dt.date) -> dt.datetime:
    """The last second of ``day``: a one-day validity's notAfter (the one rule, ``validity``)."""
    return validity(day, 1)[1]


class CalendarView(Protocol):
    """What the real certificates read of a calendar (:class:`~simlib.server.calendar.
    CalendarView`, which owns its :class:`RealPki` as ``pki``): a protocol, so the two
    modules do not import each other."""

    scenario: Scenario
    registry: Registry
    cas: Mapping[str, CAKeys]
    issuances: Sequence[Issuance]

    @property
    def pki(self) -> RealPki: ...


class RealPki:
    """Lazily built keys and certificates for one calendar."""

    def __init__(self, calendar: CalendarView) -> None:
        self.calendar = calendar
        self.scenario = calendar.scenario
        self._keys: dict[int, object] = {}
        self._certs: dict[tuple, x509.Certificate] = {}
        # A CA key's pin is asked once per issuance it signs (issuance table, prerequisites).
        self._pins: dict[int, str] = {}

    @classmethod
    def for_calendar(cls, calendar: CalendarView) -> RealPki:
        """The calendar's own (:attr:`CalendarView.pki`)."""
        return calendar.pki

    # ---------------------------------------------------------------------------- keys
    def private_key(self, ident: int):
        key = self._keys.get(ident)
        if key is None:
            item = self.calendar.registry[ident]
            if item.kind != "key" or item.material is None:
                raise ValueError(f"identity {ident} ({item.label}) has no private key")
            # A real CA key's stand-in signing key is EC P-256 whatever the real algorithm.
            algorithm = "ec-p256" if item.real else item.algorithm or "ec-p256"
            key = derive_private_key(item.material, algorithm)
            self._keys[ident] = key
        return key

    def spki_pin(self, ident: int) -> str:
        pin = self._pins.get(ident)
        if pin is None:
            item = self.calendar.registry[ident]
            pin = item.pin
            if pin is None:
                pin = spki_pin(self.private_key(ident).public_key())
            self._pins[ident] = pin
        return pin

    def pin(self, ident: int) -> str:
        """The pin of any identity: SPKI pin for keys, certificate pin for leaf certificates."""
        item = self.calendar.registry[ident]
        if item.kind == "cert":
            return cert_pin(self.certificate_of(ident))
        return self.spki_pin(ident)

    # ------------------------------------------------------------------- CA certificates
    @cached_property
    def _ca_window(self) -> tuple[dt.datetime, dt.datetime]:
        """CA certificates are valid from 5 years before start to 40 years after it.

        29 February moves to 28 February in common years; X.509 times start in 1950
        (scenario dates are validated to 1950-01-01 … 2200-12-31, see ``simlib.model.base``).
        """
        start = self.scenario.start
        first = max(add_years(start, -5), MIN_DATE)
        return _at(first), _at(add_years(start, 40))

    def real_cert(self, ident: int) -> x509.Certificate | None:
        """The real certificate behind a CA key identity (None for a generated one)."""
        path = self.calendar.registry[ident].real
        return None if path is None else read_real_cert(Path(path)).certificate

    def signer(self, ident: int, cert: x509.Certificate) -> tuple[x509.Certificate, object]:
        """(issuer certificate, private key) to sign with under the CA key ``ident``.

        For a real CA certificate: a proxy with the real subject and Subject Key Identifier but
        the stand-in public key, so generated children name the real issuer (and its key id)
        and verify with the stand-in key."""
        key = self.private_key(ident)
        if self.calendar.registry[ident].real is None:
            return cert, key
        proxy = self._certs.get(("proxy", ident))
        if proxy is None:
            builder = (
                x509.CertificateBuilder()
                .subject_name(cert.subject)
                .issuer_name(cert.subject)
                .public_key(key.public_key())  # type: ignore[attr-defined]
                .serial_number(_serial("proxy", str(ident)))
                .not_valid_before(cert.not_valid_before_utc)
                .not_valid_after(cert.not_valid_after_utc)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            )
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
                builder = builder.add_extension(ski, critical=False)
            except x509.ExtensionNotFound:
                pass
            proxy = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
            self._certs[("proxy", ident)] = proxy
        return proxy, key

    def stand_in_public_keys(self) -> dict[str, object]:
        """Real CA SPKI pin -> public key of the stand-in that signs generated objects under it."""
        return {
            item.pin: self.private_key(item.id).public_key()
            for item in self.calendar.registry.items
            if item.real and item.pin
        }

    def _real_named(self, ca: str, name: str) -> x509.Certificate | None:
        """The real certificate of that name in that CA (a shared key has one file per name)."""
        path = self.calendar.cas[ca].files.get(name)
        return None if path is None else read_real_cert(Path(path)).certificate

    def root_cert(self, ca: str) -> x509.Certificate:
        key = ("root", ca)
        spec = self.calendar.cas[ca].spec
        real = self._real_named(ca, spec.root or ca)
        if real is not None:
            return real
        if key not in self._certs:
            spec = self.calendar.cas[ca].spec
            nb, na = self._ca_window
            if spec.root_not_after:
                na = _end_of(spec.root_not_after)
            priv = self.private_key(self.calendar.cas[ca].root_key)
            self._certs[key] = make_root(
                priv,
                spec.root or ca,
                not_before=nb,
                not_after=na,
                serial=_serial("root", ca),
                organization=ca,
            )
        return self._certs[key]

    def intermediate_cert(self, ca: str, name: str) -> x509.Certificate:
        key = ("int", ca, name)
        real = self._real_named(ca, name)
        if real is not None:
            return real
        if key not in self._certs:
            keys = self.calendar.cas[ca]
            spec = next(i for i in keys.spec.intermediates if i.name == name)
            nb, na = self._ca_window
            if spec.not_after:
                na = _end_of(spec.not_after)
            issuer_cert, issuer_key = self.signer(keys.root_key, self.root_cert(ca))
            self._certs[key] = make_intermediate(
                self.private_key(keys.int_keys[name]).public_key(),
                name,
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                not_before=nb,
                not_after=na,
                serial=_serial("int", ca, name),
                organization=ca,
            )
        return self._certs[key]

    def cross_cert(self, ca: str) -> x509.Certificate | None:
        """The CA's root cross-signed by another CA, when the scenario says so."""
        cross = self.calendar.cas[ca].spec.cross_signed_by
        if cross is None:
            return None
        key = ("cross", ca)
        if key not in self._certs:
            nb, na = self._ca_window
            if cross.until:
                na = _end_of(cross.until)
            issuer_cert, issuer_key = self.signer(
                self.calendar.cas[cross.ca].root_key, self.root_cert(cross.ca)
            )
            self._certs[key] = make_cross_sign(
                self.root_cert(ca),
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                not_before=nb,
                not_after=na,
                serial=_serial("cross", ca),
            )
        return self._certs[key]

    # ------------------------------------------------------------------ leaf certificates
    def leaf_cert(self, issuance: Issuance) -> x509.Certificate:
        key = ("leaf", issuance.index)
        if key not in self._certs:
            nb, na = validity(self.scenario.date(issuance.day), issuance.lifetime_days)
            keys = self.calendar.cas[issuance.ca]
            issuer_cert, issuer_key = self.signer(
                keys.int_keys[issuance.intermediate],
                self.intermediate_cert(issuance.ca, issuance.intermediate),
            )
            self._certs[key] = make_leaf(
                self.private_key(issuance.leaf_key).public_key(),
                [issuance.host],
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                not_before=nb,
                not_after=na,
                serial=issuance.serial,
            )
        return self._certs[key]

    def certificate_of(self, ident: int) -> x509.Certificate:
        item = self.calendar.registry[ident]
        if item.issuance is None:
            raise ValueError(f"identity {ident} ({item.label}) is not a leaf certificate")
        return self.leaf_cert(self.calendar.issuances[item.issuance])

    def served_chain(self, issuance: Issuance) -> list[x509.Certificate]:
        """What the server sends: leaf, intermediate and (if configured) the cross-signed root."""
        chain = [
            self.leaf_cert(issuance),
            self.intermediate_cert(issuance.ca, issuance.intermediate),
        ]
        cross = self.cross_cert(issuance.ca)
        if cross is not None:
            chain.append(cross)
        return chain


def _serial(*parts: str) -> int:
    import hashlib

    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1 or 1
