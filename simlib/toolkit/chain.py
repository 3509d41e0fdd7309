"""Certificate chains for audits: loading files, building the path a client validates, and
checking that an observed chain can stand for the host on a date.

Clients pin against the *built* path, not the list the server sent: it starts at the leaf,
follows issuers, drops unrelated extras and ends at a trust anchor from the client's own store
(AOSP ``NetworkSecurityTrustManager.checkPins`` walks the trusted chain Conscrypt built, anchor
included; OkHttp's ``CertificateChainCleaner`` appends the trusted root; Apple's CA identities
match up to the anchor). A server usually does not send its root, so :func:`complete_path`
finishes the path from the roots the caller trusts: explicit anchors, a CA bundle, and the real
roots simlib's world catalogue ships (``simlib/_data/certs/``).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from simlib._hostnames import check_hostname
from simlib.pki import PkiInputError, load_certificates, spki_pin, spki_sha1_pin
from simlib.toolkit.hostnames import okhttp_matches
from simlib.toolkit.policy import ConfigError, Finding

MAX_SIGNERS = 9  # OkHttp BasicCertificateChainCleaner's bound on path length
# Signatures checked per step: a real pool has one or two certificates per name (a cross-sign);
# a file of thousands sharing one name would otherwise cost a verification each, per step.
MAX_CANDIDATES = 16


def load_chain(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Certificates of a PEM bundle or DER file in file order (leaf first, as served)."""
    try:
        items = load_certificates(path)
    except PkiInputError as exc:
        raise ConfigError(exc.path, "", exc.message) from None
    for number, item in enumerate(items):
        if item.certificate is None:
            raise ConfigError(
                os.fspath(path),
                f"item [{number}]",
                "is a bare public key; a chain needs certificates",
            )
    return [item.certificate for item in items if item.certificate is not None]


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return _issued_by(cert, cert)


@dataclass(frozen=True)
class PathCert:
    """One certificate of the built path with its SPKI hashes (computed once, by simlib.pki)."""

    index: int
    cert: x509.Certificate
    role: str  # leaf | intermediate | root
    sha256: str
    sha1: str
    served: bool  # False for an anchor the caller supplied
    origin: str = "served"  # where an unserved anchor came from (see complete_path)

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()


def build_path(
    served: list[x509.Certificate],
    anchors: tuple[x509.Certificate, ...] | list[x509.Certificate] = (),
    origins: Sequence[str] = (),
) -> list[PathCert]:
    """Leaf first, then each issuer found among the served certs or ``anchors``.

    ``origins[i]`` names where ``anchors[i]`` came from (``anchor`` when not given).
    """
    if not served:
        raise ConfigError(
            "<chain>", "", "the chain is empty: give the served certificates, leaf first"
        )
    path = [served[0]]
    # Prefer a supplied anchor over a served copy: the anchor is what the client trusts, and a
    # trust manager stops at the first certificate its store holds (Conscrypt, OkHttp's
    # BasicCertificateChainCleaner), so a served root is replaced by the store's copy.
    named_origins = list(origins) + ["anchor"] * (len(anchors) - len(origins))
    pool = [(c, named_origins[i], c.subject) for i, c in enumerate(anchors)]
    pool += [(c, "served", c.subject) for c in served[1:]]
    origin_of = ["served"]
    while len(path) <= MAX_SIGNERS and not (len(path) > 1 and is_self_signed(path[-1])):
        wanted = path[-1].issuer
        named = [(c, o) for c, o, subject in pool if subject == wanted and c not in path]
        found = next(((c, o) for c, o in named[:MAX_CANDIDATES] if _issued_by(path[-1], c)), None)
        if found is None:
            break
        path.append(found[0])
        origin_of.append(found[1])
    out = []
    for i, cert in enumerate(path):
        role = "leaf" if i == 0 else "root" if is_self_signed(cert) else "intermediate"
        served_here = origin_of[i] == "served"
        out.append(
            PathCert(i, cert, role, spki_pin(cert), spki_sha1_pin(cert), served_here, origin_of[i])
        )
    return out


# ------------------------------------------------------------------ trust anchors


CATALOGUE_ORIGIN = "simlib catalogue"


@functools.cache
def catalogue_roots() -> tuple[tuple[x509.Certificate, str], ...]:
    """``(certificate, origin)`` for every real root certificate the world catalogue ships.

    Read through the catalogue (``simlib.world``), so the files are the ones it names under
    ``simlib.world.data.certs_dir()``; generated stand-ins have no certificate and are skipped.
    """
    from cryptography.utils import CryptographyDeprecationWarning

    from simlib.world import catalogue

    out = []
    for entry in catalogue().certificates.values():
        if entry.role != "root" or entry.path is None:
            continue
        with warnings.catch_warnings():
            # Starfield Services Root G2 (a real, trusted root) has serial number 0.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            items = load_certificates(entry.path)
        for item in items:
            if item.certificate is not None:
                out.append((item.certificate, f"{CATALOGUE_ORIGIN} ({entry.name})"))
    return tuple(out)


def load_ca_file(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """The certificates of a PEM (or DER) CA bundle; each must be a CA, else a ConfigError."""
    certs = load_chain(path)
    for i, cert in enumerate(certs):
        try:
            ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            ca = is_self_signed(cert)  # a v1 root has no extensions
        except ValueError:
            ca = False
        if not ca:
            raise ConfigError(
                os.fspath(path),
                f"certificate [{i}]",
                f"{cert.subject.rfc4514_string()[:80]} is not a CA certificate; "
                "a CA file holds trusted roots (or intermediates)",
            )
    return certs


def complete_path(
    served: list[x509.Certificate],
    anchors: Sequence[x509.Certificate] = (),
    *,
    ca_file: str | os.PathLike[str] | None = None,
    ca_certs: Sequence[x509.Certificate] = (),
    catalogue: bool = True,
) -> list[PathCert]:
    """The path a client builds: served certificates, finished from the roots it trusts.

    Trusted, in order of preference: ``anchors`` (origin ``anchor``), ``ca_certs`` and the
    certificates of ``ca_file`` (origin ``ca-file <path>``), then with ``catalogue`` the real
    roots simlib ships (origin ``simlib catalogue (<name>)``). Each unserved certificate of the
    result says where it came from in :attr:`PathCert.origin`.
    """
    pool: list[x509.Certificate] = list(anchors)
    origins = ["anchor"] * len(pool)
    extra = list(ca_certs)
    if ca_file is not None:
        extra += load_ca_file(ca_file)
    pool += extra
    origins += [f"ca-file {os.fspath(ca_file)}" if ca_file is not None else "ca-file"] * len(extra)
    if catalogue:
        for cert, origin in catalogue_roots():
            pool.append(cert)
            origins.append(origin)
    return build_path(list(served), pool, origins)


# ------------------------------------------------------- is the observation usable?


def leaf_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """``(DNS names, IP addresses)`` of the leaf's subjectAltName, canonical; bad ones skipped."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return [], []
    dns = []
    for raw in san.get_values_for_type(x509.DNSName):
        try:
            dns.append(check_hostname(raw, source="SAN", wildcard=True, ip=False).rstrip("."))
        except ConfigError:
            continue  # a name no client could match
    ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def covers(cert: x509.Certificate, host: str) -> bool:
    """Whether the leaf is valid for ``host`` as OkHostnameVerifier / RFC 6125 decide.

    DNS names only from subjectAltName (no CN fallback: Android, Apple and browsers dropped it);
    ``*.`` as the whole first label matches exactly one label; an IP host matches an IP entry.
    """
    dns, ips = leaf_names(cert)
    name = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(name.strip("[]"))) in ips
    except ValueError:
        pass
    return any(okhttp_matches(pattern, name) for pattern in dns)


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


#: The rules of :func:`check_observed`: problems of the chain itself, whatever the pins say.
OBSERVATION_RULES = ("leaf-expired", "leaf-not-yet-valid", "host-not-in-leaf", "ca-expired")


def check_observed(chain: Sequence[x509.Certificate], host: str, on: date) -> list[Finding]:
    """What makes an observed chain a poor stand-in for ``host`` on the date ``on``.

    Rules (all warnings): ``leaf-expired`` / ``leaf-not-yet-valid`` (the leaf's validity does not
    hold ``on`` at any time of that UTC day), ``host-not-in-leaf`` (no subjectAltName entry
    covers ``host``), ``ca-expired`` (a served CA certificate expired before ``on``). Each would
    make a real client fail the TLS check before any pin is looked at, so a verdict or forecast
    seeded from such a chain describes a connection that cannot happen.
    """
    if not chain:
        return []
    leaf = chain[0]
    start = datetime.combine(on, datetime.min.time(), UTC)
    end = datetime.combine(on, datetime.max.time(), UTC)
    out = []
    after, before = leaf.not_valid_after_utc, leaf.not_valid_before_utc
    if after < start:
        out.append(
            Finding(
                "leaf-expired",
                "warning",
                f"the leaf expired on {_day(after)}, before {on}: a stale chain; clients "
                "reject it before checking pins (audit the date it was served with --date, "
                "or fetch the current chain)",
            )
        )
    elif before > end:
        out.append(
            Finding(
                "leaf-not-yet-valid",
                "warning",
                f"the leaf is valid only from {_day(before)}, after {on}: clients reject it "
                "before checking pins",
            )
        )
    if not covers(leaf, host):
        dns, ips = leaf_names(leaf)
        names = ", ".join((dns + ips)[:4]) + (" …" if len(dns + ips) > 4 else "")
        out.append(
            Finding(
                "host-not-in-leaf",
                "warning",
                f"the leaf is not issued to {host} (subjectAltName: {names or 'none'}): "
                "clients reject it for that host before checking pins",
            )
        )
    for i, cert in enumerate(chain[1:], start=1):
        if cert.not_valid_after_utc < start and not is_self_signed(cert):
            out.append(
                Finding(
                    "ca-expired",
                    "warning",
                    f"served certificate [{i}] {cert.subject.rfc4514_string()[:80]} expired "
                    f"on {_day(cert.not_valid_after_utc)}, before {on}",
                )
            )
    return out


def stale_reason(findings: Sequence[Finding]) -> str | None:
    """Why an audit of this observation would mean nothing, or None.

    A leaf that is outside its validity *and* issued to another host is not this host's chain
    on that date in any sense; each alone is a warning (a past date, a sibling name).
    """
    rules = {f.rule for f in findings}
    if rules & {"leaf-expired", "leaf-not-yet-valid"} and "host-not-in-leaf" in rules:
        first = next(f for f in findings if f.rule in ("leaf-expired", "leaf-not-yet-valid"))
        host = next(f for f in findings if f.rule == "host-not-in-leaf")
        return f"{first.message.split(': ')[0]}, and {host.message.split(' (')[0]}"
    return None
