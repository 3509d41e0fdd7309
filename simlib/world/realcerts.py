"""Reading a real CA certificate file from ``data/certs/``: dates, key type and SPKI pin.

The pin is base64(SHA-256(DER SubjectPublicKeyInfo)), what
``openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary``
prints.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.utils import CryptographyDeprecationWarning

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


def _key_type(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    return type(key).__name__


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
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return RealCert(
        path=path,
        certificate=cert,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=_key_type(cert),
        spki_pin=base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii"),
    )
