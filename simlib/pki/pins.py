"""SPKI and certificate pin computation, and parsing of pins written by clients.

An SPKI pin is base64(SHA-256(DER SubjectPublicKeyInfo)) as in RFC 7469 §2.4,
OkHttp, Android NSC, Apple ATS and TrustKit; a certificate pin hashes the whole
DER certificate instead (what Wultra pins), so it changes on every re-issue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import typing

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from simlib.errors import PinError

__all__ = [
    "cert_pin",
    "okhttp_pin",
    "parse_pin",
    "spki_der",
    "spki_pin",
    "spki_sha1_pin",
]

PinSource = PublicKeyTypes | PrivateKeyTypes | x509.Certificate

_PUBLIC_KEY_TYPES = typing.get_args(PublicKeyTypes)
_PRIVATE_KEY_TYPES = typing.get_args(PrivateKeyTypes)

_HPKP_RE = re.compile(r'pin-sha256\s*=\s*"([^"]*)"', re.IGNORECASE)


def _public_key(obj: PinSource) -> PublicKeyTypes:
    """The public key of a certificate, private key or public key."""
    if isinstance(obj, x509.Certificate):
        return obj.public_key()
    if isinstance(obj, _PRIVATE_KEY_TYPES):
        return obj.public_key()
    if isinstance(obj, _PUBLIC_KEY_TYPES):
        return obj
    raise TypeError(
        f"expected a public key, private key or x509.Certificate, not {type(obj).__name__}"
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def spki_der(public_key: PinSource) -> bytes:
    """DER-encoded SubjectPublicKeyInfo of a key (or of a certificate's key)."""
    return _public_key(public_key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_pin(obj: PinSource) -> str:
    """Base64 SHA-256 of the DER SPKI: the value OkHttp, NSC, ATS and HPKP pin."""
    return _b64(hashlib.sha256(spki_der(obj)).digest())


def spki_sha1_pin(obj: PinSource) -> str:
    """Base64 SHA-1 of the DER SPKI (value of a legacy OkHttp ``sha1/`` pin)."""
    return _b64(hashlib.sha1(spki_der(obj)).digest())


def cert_pin(cert: x509.Certificate) -> str:
    """Base64 SHA-256 of the DER certificate (a certificate, not key, fingerprint)."""
    if not isinstance(cert, x509.Certificate):
        raise TypeError(f"expected an x509.Certificate, not {type(cert).__name__}")
    return _b64(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


def okhttp_pin(obj: PinSource) -> str:
    """SPKI pin in OkHttp ``CertificatePinner`` form: ``sha256/<base64>``."""
    return "sha256/" + spki_pin(obj)


def parse_pin(text: str) -> str:
    """Return the bare base64 SHA-256 value of a pin written in any common form.

    Accepts ``sha256/<b64>`` (OkHttp), ``pin-sha256="<b64>"`` (HPKP) or a bare
    base64 value (NSC, ATS, TrustKit). The result is re-encoded canonically so it
    compares equal to :func:`spki_pin` output.

    Raises:
        PinError: the text is not standard base64 of exactly 32 bytes (a ``SimlibError`` and
            a ``ValueError``).
        TypeError: ``text`` is not a string (a programming error).
    """
    if not isinstance(text, str):
        raise TypeError(f"pin must be a str, not {type(text).__name__}")
    value = text.strip()
    shown = value if len(value) <= 60 else value[:57] + "..."
    if match := _HPKP_RE.fullmatch(value):
        value = match.group(1).strip()
    elif value.startswith("sha256/"):
        value = value.removeprefix("sha256/")
    elif value.lower().startswith("sha1/"):
        # A SHA-1 pin is 20 bytes; name the real problem instead of a length error.
        raise PinError(f"pin {shown!r} is a SHA-1 pin; expected a 32-byte SHA-256 pin")
    if not value:
        raise PinError(f"pin {shown!r} is empty; expected base64 of a 32-byte SHA-256 hash")
    try:
        digest = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise PinError(
            f"pin {shown!r} is not valid standard base64; expected base64 of a 32-byte SHA-256 hash"
        ) from None
    if len(digest) != 32:
        raise PinError(
            f"pin {shown!r} decodes to {len(digest)} bytes; a SHA-256 pin must be exactly 32 bytes"
        )
    return _b64(digest)
