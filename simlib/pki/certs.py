"""Deterministic certificate building (loading real certificate files: :mod:`simlib.pki.loading`).

Builders produce byte-identical DER for identical inputs (deterministic ECDSA,
RFC 6979; RSA PKCS#1 v1.5), so simulated chains and their certificate pins are
reproducible. All times are timezone-aware UTC ``datetime`` objects; validity
ends are inclusive, as ``notAfter`` is in RFC 5280 §4.1.2.5.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from simlib.pki.pins import _public_key, spki_der

__all__ = [
    "make_cross_sign",
    "make_intermediate",
    "make_leaf",
    "make_root",
    "validity",
]


# --------------------------------------------------------------------------- building


def validity(not_before_day: date, days: int) -> tuple[datetime, datetime]:
    """Validity window covering exactly ``days`` whole UTC days from ``not_before_day``.

    Returns ``(not_before, not_after)`` with not_before at 00:00:00Z of the day and
    not_after ``days`` days later minus one second, because notAfter is inclusive.
    """
    # datetime is a subclass of date; silently dropping its time would hide a bug.
    if isinstance(not_before_day, datetime) or not isinstance(not_before_day, date):
        raise TypeError(
            f"not_before_day must be a datetime.date, not {type(not_before_day).__name__}"
        )
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    not_before = datetime.combine(not_before_day, time(0, 0, 0), tzinfo=UTC)
    return not_before, not_before + timedelta(days=days) - timedelta(seconds=1)


def _utc(value: datetime, name: str) -> datetime:
    """Check that ``value`` is tz-aware and convert it to UTC."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        # cryptography would silently treat a naive datetime as UTC; refuse instead.
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _window(not_before: datetime, not_after: datetime) -> tuple[datetime, datetime]:
    start, end = _utc(not_before, "not_before"), _utc(not_after, "not_after")
    if end < start:
        raise ValueError(f"not_after {end.isoformat()} is before not_before {start.isoformat()}")
    return start, end


def _name(common_name: str, organization: str | None) -> x509.Name:
    if not common_name:
        raise ValueError("common_name must be a non-empty string")
    # O before CN, the usual order for CA names (prints as "CN=...,O=..." in RFC 4514).
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _check_issuer(issuer_cert: x509.Certificate, issuer_key: PrivateKeyTypes) -> None:
    """Fail early if ``issuer_key`` does not belong to ``issuer_cert``."""
    if not isinstance(issuer_cert, x509.Certificate):
        raise TypeError(
            f"issuer_cert must be an x509.Certificate, not {type(issuer_cert).__name__}"
        )
    if spki_der(issuer_key) != spki_der(issuer_cert):
        # Otherwise we would emit a certificate that no client can verify.
        raise ValueError(
            f"issuer_key does not match the public key of issuer_cert "
            f"({issuer_cert.subject.rfc4514_string()})"
        )


def _authority_key_id(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """AKI from the issuer's SKI when present, else computed from its key."""
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)


def _base_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PublicKeyTypes,
    not_before: datetime,
    not_after: datetime,
    serial: int,
) -> x509.CertificateBuilder:
    start, end = _window(not_before, not_after)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
    )


def _ca_key_usage(*, digital_signature: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _sign_builder(
    builder: x509.CertificateBuilder, issuer_key: CertificateIssuerPrivateKeyTypes
) -> x509.Certificate:
    """Sign deterministically so equal inputs give byte-identical DER.

    EC: ECDSA with RFC 6979 deterministic nonces and the hash matched to the curve
    (SHA-256 for P-256, SHA-384 for P-384 as ISRG Root X2 uses). RSA:
    PKCS#1 v1.5 with SHA-256, which is deterministic by construction (PSS is not).
    """
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        size = issuer_key.curve.key_size
        digest: hashes.HashAlgorithm = (
            hashes.SHA512() if size > 384 else hashes.SHA384() if size > 256 else hashes.SHA256()
        )
        return builder.sign(issuer_key, digest, ecdsa_deterministic=True)
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        return builder.sign(issuer_key, hashes.SHA256(), rsa_padding=padding.PKCS1v15())
    raise TypeError(f"issuer_key must be an EC or RSA private key, not {type(issuer_key).__name__}")


def make_root(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str,
    *,
    not_before: datetime,
    not_after: datetime,
    serial: int,
    organization: str | None = None,
) -> x509.Certificate:
    """Self-signed root CA certificate for ``key``."""
    name = _name(common_name, organization)
    public_key = _public_key(key)
    builder = (
        _base_builder(name, name, public_key, not_before, not_after, serial)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_key_usage(digital_signature=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return _sign_builder(builder, key)


def make_intermediate(
    key_or_public_key: PublicKeyTypes | PrivateKeyTypes,
    common_name: str,
    *,
    issuer_cert: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    not_before: datetime,
    not_after: datetime,
    serial: int,
    organization: str | None = None,
) -> x509.Certificate:
    """Intermediate CA certificate (pathLen 0, serverAuth) signed by ``issuer_key``."""
    _check_issuer(issuer_cert, issuer_key)
    public_key = _public_key(key_or_public_key)
    builder = (
        _base_builder(
            _name(common_name, organization),
            issuer_cert.subject,
            public_key,
            not_before,
            not_after,
            serial,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        # digitalSignature as on real issuing CAs (Let's Encrypt R10/E5), for OCSP signing.
        .add_extension(_ca_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_id(issuer_cert), critical=False)
    )
    return _sign_builder(builder, issuer_key)


# Extensions that describe the original issuer or signature, not the subject; a
# cross-sign must not inherit them from the certificate it copies.
_ISSUER_SPECIFIC_EXTENSIONS = frozenset(
    {
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
        ExtensionOID.CRL_DISTRIBUTION_POINTS,
        ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS,
        ExtensionOID.SIGNED_CERTIFICATE_TIMESTAMPS,
    }
)


def make_cross_sign(
    subject_cert: x509.Certificate,
    *,
    issuer_cert: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    not_before: datetime,
    not_after: datetime,
    serial: int,
) -> x509.Certificate:
    """Re-issue ``subject_cert``'s name and key under another CA.

    The result has the same SPKI pin as ``subject_cert`` but a different
    certificate pin, like ISRG Root X2 cross-signed by ISRG Root X1. The subject's
    own extensions are kept, except issuer-specific ones; AKI points at the new issuer.
    """
    if not isinstance(subject_cert, x509.Certificate):
        raise TypeError(
            f"subject_cert must be an x509.Certificate, not {type(subject_cert).__name__}"
        )
    _check_issuer(issuer_cert, issuer_key)
    builder = _base_builder(
        subject_cert.subject,
        issuer_cert.subject,
        subject_cert.public_key(),
        not_before,
        not_after,
        serial,
    )
    for extension in subject_cert.extensions:
        if extension.oid not in _ISSUER_SPECIFIC_EXTENSIONS:
            builder = builder.add_extension(extension.value, critical=extension.critical)
    builder = builder.add_extension(_authority_key_id(issuer_cert), critical=False)
    return _sign_builder(builder, issuer_key)


def make_leaf(
    public_key: PublicKeyTypes | PrivateKeyTypes,
    hostnames: list[str],
    *,
    issuer_cert: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    not_before: datetime,
    not_after: datetime,
    serial: int,
) -> x509.Certificate:
    """End-entity TLS server certificate for ``hostnames`` (CN = first hostname)."""
    if isinstance(hostnames, str):
        # A bare string would otherwise become one SAN per character.
        raise TypeError("hostnames must be a list of strings, not a single str")
    names = list(hostnames)
    if not names or not all(isinstance(h, str) and h for h in names):
        raise ValueError(f"hostnames must be a non-empty list of non-empty strings, got {names!r}")
    _check_issuer(issuer_cert, issuer_key)
    key = _public_key(public_key)
    builder = (
        _base_builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]),
            issuer_cert.subject,
            key,
            not_before,
            not_after,
            serial,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(_authority_key_id(issuer_cert), critical=False)
    )
    return _sign_builder(builder, issuer_key)
