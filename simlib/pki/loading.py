"""Loading real certificate and public-key files (PEM or DER): one-line errors, linear time."""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    PublicKeyTypes,
)

from simlib._files import read_limited
from simlib.errors import InputFileError, PkiInputError
from simlib.pki.pins import cert_pin, spki_pin, spki_sha1_pin

__all__ = ["LoadedItem", "PkiInputError", "describe", "load_certificates"]


@dataclass(frozen=True)
class LoadedItem:
    """One certificate or bare public key read from a file.

    ``source`` is ``"<path>[<index>]"`` with a 0-based index within the file.
    """

    source: str
    certificate: x509.Certificate | None
    public_key: PublicKeyTypes


_PEM_BEGIN_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----")
_PEM_END_RE = re.compile(rb"-----END ([A-Z0-9 ]{1,64})-----")
_CERT_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE"})
# PKCS#1 "RSA PUBLIC KEY" is accepted too; it is still just a public key.
_KEY_LABELS = frozenset({b"PUBLIC KEY", b"RSA PUBLIC KEY"})


def _pem_blocks(path: str, data: bytes) -> list[tuple[bytes, int, list[bytes]]]:
    """(label, line number, body lines) of every PEM block, in one pass over the lines.

    Armour lines must stand on their own line (as OpenSSL writes them); text between blocks is
    ignored. A BEGIN inside an open block, an END without its BEGIN or a block still open at the
    end of the file is a truncated or malformed file. Linear in the file size.
    """
    blocks: list[tuple[bytes, int, list[bytes]]] = []
    label: bytes | None = None
    start = 0
    body: list[bytes] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        line = raw.strip()
        begin = _PEM_BEGIN_RE.fullmatch(line)
        end = _PEM_END_RE.fullmatch(line)
        if label is None:
            if begin:
                label, start, body = begin.group(1), number, []
            elif end:
                raise PkiInputError(
                    path, f"malformed PEM: line {number}: END {end.group(1).decode()} without BEGIN"
                )
            continue
        if begin:
            raise PkiInputError(
                path,
                f"truncated or malformed PEM: {label.decode()} block (line {start}) has no "
                f"matching END line before line {number}",
            )
        if end:
            if end.group(1) != label:
                raise PkiInputError(
                    path,
                    f"malformed PEM: line {number}: END {end.group(1).decode()} closes "
                    f"{label.decode()} (line {start})",
                )
            blocks.append((label, start, body))
            label = None
            continue
        body.append(line)
    if label is not None:
        raise PkiInputError(
            path,
            f"truncated or malformed PEM: {label.decode()} block (line {start}) has no matching END line",
        )
    return blocks


def _load_pem(path: str, data: bytes) -> list[LoadedItem]:
    items: list[LoadedItem] = []
    for label, line, body in _pem_blocks(path, data):
        # Other blocks (private keys, CSRs, parameters) are skipped, never parsed:
        # a combined cert+key file should still yield its certificate's pins.
        if label not in _CERT_LABELS | _KEY_LABELS:
            continue
        where = f"{label.decode('ascii')} block [{len(items)}] (line {line})"
        try:
            der = base64.b64decode(b"".join(body), validate=True)
        except binascii.Error:
            raise PkiInputError(path, f"{where}: invalid base64") from None
        item = _parse_der(f"{path}[{len(items)}]", der, certificate=label in _CERT_LABELS)
        if item is None:
            kind = "certificate" if label in _CERT_LABELS else "public key"
            raise PkiInputError(path, f"{where}: not a valid or supported DER {kind}")
        items.append(item)
    return items


# What cryptography raises for DER that OpenSSL may accept: a duplicate extension and an
# unknown general-name type are not ValueErrors.
_REFUSED = (
    ValueError,
    TypeError,
    UnsupportedAlgorithm,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def _parse_der(source: str, der: bytes, *, certificate: bool) -> LoadedItem | None:
    """Parse one DER certificate or SubjectPublicKeyInfo; None if it is neither."""
    try:
        if certificate:
            cert = x509.load_der_x509_certificate(der)
            # Names, validity and extensions parse lazily; touch every field describe() and the
            # audit read, so a malformed one fails here as a PkiInputError, not later.
            _ = cert.extensions
            _ = (cert.subject.rfc4514_string(), cert.issuer.rfc4514_string())
            _ = (cert.not_valid_before_utc, cert.not_valid_after_utc)
            return LoadedItem(source, cert, cert.public_key())
        return LoadedItem(source, None, serialization.load_der_public_key(der))
    except _REFUSED:
        # cryptography's messages are multi-clause ASN.1 dumps; callers say what failed.
        return None


def _load_der(path: str, data: bytes) -> list[LoadedItem]:
    source = f"{path}[0]"
    item = _parse_der(source, data, certificate=True) or _parse_der(source, data, certificate=False)
    return [item] if item else []


def load_certificates(path: str | os.PathLike[str]) -> list[LoadedItem]:
    """Read certificates and bare public keys from a PEM bundle or one DER object.

    PEM files may hold several ``CERTIFICATE`` and ``PUBLIC KEY`` blocks (other
    block types are ignored); a non-PEM file must be one DER certificate or one
    DER SubjectPublicKeyInfo.

    Only regular files of at most 10 MB are read (a FIFO or ``/dev/zero`` is refused at once).

    Raises:
        PkiInputError: the file is missing, unreadable, too large, empty, truncated or
            holds no certificate or public key.
    """
    shown = os.fspath(path)
    try:
        data = read_limited(path)
    except InputFileError as exc:
        raise PkiInputError(shown, f"cannot read file: {exc.reason}") from None
    if not data.strip():
        raise PkiInputError(shown, "empty file")
    # Any PEM armour means PEM; otherwise the whole file must be one DER object.
    is_pem = b"-----BEGIN " in data
    items = _load_pem(shown, data) if is_pem else _load_der(shown, data)
    if not items:
        raise PkiInputError(shown, "no certificate or public key found")
    return items


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def describe(item: LoadedItem) -> dict[str, Any]:
    """Pins and identity of a loaded item, for display by ``simlib pins FILE``.

    Keys: ``source``, ``subject``, ``issuer`` (RFC 4514 strings), ``not_before``,
    ``not_after`` (tz-aware UTC datetimes), ``spki_sha256``, ``spki_sha1``,
    ``cert_sha256`` (base64) and ``is_ca`` (bool). Certificate-only fields are
    None for a bare public key.
    """
    cert = item.certificate
    return {
        "source": item.source,
        "subject": cert.subject.rfc4514_string() if cert else None,
        "issuer": cert.issuer.rfc4514_string() if cert else None,
        "not_before": cert.not_valid_before_utc if cert else None,
        "not_after": cert.not_valid_after_utc if cert else None,
        "spki_sha256": spki_pin(item.public_key),
        "spki_sha1": spki_sha1_pin(item.public_key),
        "cert_sha256": cert_pin(cert) if cert else None,
        "is_ca": _is_ca(cert) if cert else None,
    }
