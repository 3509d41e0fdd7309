"""Read the certificate chain a live host presents over TLS.

The handshake runs with verification **on** (the default trust store, or ``ca_file`` alone when
given, e.g. a test root), with SNI and hostname checking, and a timeout. Every failure — a name
that does not resolve, a refused or timed-out connection, a failed handshake, a certificate that
does not verify or is not valid for the host — is a one-line :class:`ConfigError`.

Reading the whole chain: Python 3.13 has ``SSLSocket.get_unverified_chain()`` and
``get_verified_chain()``; Python 3.10–3.12 have the same methods on the private ``_sslobj``
(CPython's ``_ssl._SSLSocket``, added in 3.10 as the implementation of the later public API).
:func:`fetch_chain` uses the public methods when present, else the private ones; an interpreter
with neither is refused with a one-line error naming ``--chain`` as the way out, rather than
silently auditing the leaf alone (``getpeercert(binary_form=True)`` returns only the leaf).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from simlib._files import InputFileError, read_limited
from simlib._hostnames import check_hostname
from simlib.errors import clip, one_line
from simlib.toolkit.policy import ConfigError

DEFAULT_TIMEOUT = 10.0
_DER = 2  # _ssl.ENCODING_DER


@dataclass(frozen=True)
class LiveChain:
    """``served``: the certificates the server sent, in its order (leaf first); ``verified``:
    the path the local verifier built, ending at the trusted root (the anchor to pass to the
    audit, so root pins can match)."""

    host: str
    port: int
    served: list[x509.Certificate]
    verified: list[x509.Certificate]

    @property
    def anchors(self) -> list[x509.Certificate]:
        return [c for c in self.verified[-1:] if c not in self.served]


def check_host(host: str) -> str:
    """A host name or IP address as typed, canonical (see :func:`hostnames.check_hostname`)."""
    return check_hostname(host, source="--host")


def _context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # trust ca_file only
        # Read bounded like every input file (a FIFO or /dev/zero is refused, never read), then
        # hand OpenSSL the bytes rather than the path.
        try:
            data = read_limited(ca_file)
        except InputFileError as exc:
            why = (
                "no such file"
                if "No such file" in exc.reason
                else f"cannot read file: {exc.reason}"
            )
            raise ConfigError(ca_file, "", why) from None
        try:
            if b"-----BEGIN" in data:  # PEM: bytes outside ASCII can only be in comments
                ctx.load_verify_locations(cadata=data.decode("ascii", "ignore"))
            else:
                ctx.load_verify_locations(cadata=data)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(ca_file, "", f"not a usable CA file ({one_line(exc, 80)})") from None
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _chain_methods(sock: ssl.SSLSocket):
    if hasattr(sock, "get_unverified_chain"):  # Python ≥ 3.13
        return sock.get_unverified_chain, sock.get_verified_chain
    obj = getattr(sock, "_sslobj", None)
    if obj is not None and hasattr(obj, "get_unverified_chain"):  # CPython 3.10–3.12
        return obj.get_unverified_chain, obj.get_verified_chain
    return None


def _ders(items) -> list[bytes]:
    return [item if isinstance(item, bytes) else item.public_bytes(_DER) for item in items or ()]


def _to_x509(items: list[bytes], where: str, what: str) -> list[x509.Certificate]:
    """Certificates as cryptography reads them, fully parsed now: OpenSSL accepts encodings
    (BER booleans, odd times) that cryptography refuses, and extensions parse lazily."""
    out = []
    for i, der in enumerate(items):
        try:
            cert = x509.load_der_x509_certificate(der)
            _ = cert.extensions, cert.public_key(), cert.subject, cert.issuer
            _ = cert.not_valid_before_utc, cert.not_valid_after_utc
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ConfigError(
                where,
                f"{what} certificate [{i}]",
                f"OpenSSL accepted it but it is not valid DER X.509 ({clip(exc, 120)})",
            ) from None
        out.append(cert)
    return out


def fetch_chain(
    host: str,
    port: int = 443,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
    connect_to: str | None = None,
) -> LiveChain:
    """TLS-connect to ``host:port`` (SNI ``host``), verify, and return the presented chain.

    ``connect_to`` dials another address while still sending ``host`` as SNI and checking the
    certificate against ``host`` (tests use 127.0.0.1 for a name such as api.example.com).
    """
    host = check_host(host)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{host}:{port}", "", "port must be between 1 and 65535")
    where = f"{host}:{port}"
    ctx = _context(ca_file)
    try:
        raw = socket.create_connection((connect_to or host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise ConfigError(where, "", f"cannot resolve host name ({exc.strerror})") from None
    except TimeoutError:
        raise ConfigError(where, "", f"connection timed out after {timeout:g} s") from None
    except ConnectionRefusedError:
        raise ConfigError(where, "", "connection refused") from None
    except OSError as exc:
        raise ConfigError(where, "", f"cannot connect ({exc.strerror or exc})") from None
    try:
        with ctx.wrap_socket(raw, server_hostname=host) as sock:
            methods = _chain_methods(sock)
            if methods is None:
                raise ConfigError(
                    where, "", "this Python cannot read the served chain; save it and use --chain"
                )
            raw_served, raw_verified = (_ders(m()) for m in methods)
    except ssl.SSLCertVerificationError as exc:
        why = one_line(exc.verify_message or exc.reason or exc, 120)
        raise ConfigError(where, "", f"certificate verification failed: {why}") from None
    except ssl.SSLError as exc:
        why = one_line(exc.reason or exc, 120)
        raise ConfigError(where, "", f"TLS handshake failed ({why})") from None
    except TimeoutError:
        raise ConfigError(where, "", f"TLS handshake timed out after {timeout:g} s") from None
    except (ConnectionError, OSError) as exc:
        why = one_line(exc.strerror or exc, 120) if isinstance(exc, OSError) else str(exc)
        raise ConfigError(
            where, "", f"TLS handshake failed ({why or 'connection closed'})"
        ) from None
    finally:
        raw.close()
    served = _to_x509(raw_served, where, "served")
    verified = _to_x509(raw_verified, where, "verified")
    if not served:
        raise ConfigError(where, "", "the server presented no certificate")
    return LiveChain(host, port, served, verified)
