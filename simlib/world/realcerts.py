"""Reading a real CA certificate file from ``data/certs/``: dates, key type and SPKI pin.

The pin and the key type are :mod:`simlib.pki`'s one rule for each (``spki_pin``:
base64(SHA-256(DER SubjectPublicKeyInfo)), what
``openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary``
prints; ``key_type``).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from simlib.pki.keys import key_type
from simlib.pki.pins import spki_pin

__all__ = ["RealCert", "read_real_cert"]


@dataclass(frozen=True)
class RealCert:
    path: Path
    certificate: x509.Certificate
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    key_type: str  # "rsa" | "ecdsa" | other algorithm name
    spki_pin: str


@functools.cache
def read_real_cert(path: Path) -> RealCert:
    """The one certificate in a PEM file; ValueError with the path if it is not exactly one."""
    data = path.read_bytes()
    with warnings.catch_warnings():
        # Starfield Services Root G2 has serial number 0, which cryptography warns about.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        certs = x509.load_pem_x509_certificates(data)
    if len(certs) != 1:
        raise ValueError(f"{path}: expected one certificate, found {len(certs)}")
    cert = certs[0]
    return RealCert(
        path=path,
        certificate=cert,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type(cert),
        spki_pin=spki_pin(cert),
    )
