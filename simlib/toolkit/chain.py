"""Certificate chains for audits: loading files and building the path a client validates.

Clients pin against the *built* path, not the list the server sent: it starts at the leaf,
follows issuers, drops unrelated extras and ends at a trust anchor — which a server usually
does not send, so a pinned root only matches when the caller supplies it as an anchor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from simlib.pki import PkiInputError, load_certificates, spki_pin, spki_sha1_pin
from simlib.toolkit.policy import ConfigError

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

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()


def build_path(
    served: list[x509.Certificate],
    anchors: tuple[x509.Certificate, ...] | list[x509.Certificate] = (),
) -> list[PathCert]:
    """Leaf first, then each issuer found among the served certs or ``anchors``."""
    if not served:
        raise ValueError("the chain is empty")
    path = [served[0]]
    # Prefer a supplied anchor over a served copy: the anchor is what the client trusts.
    pool = [(c, False, c.subject) for c in anchors] + [(c, True, c.subject) for c in served[1:]]
    from_anchor = [False]
    while len(path) <= MAX_SIGNERS and not (len(path) > 1 and is_self_signed(path[-1])):
        wanted = path[-1].issuer
        named = [(c, s) for c, s, subject in pool if subject == wanted and c not in path]
        found = next(((c, s) for c, s in named[:MAX_CANDIDATES] if _issued_by(path[-1], c)), None)
        if found is None:
            break
        path.append(found[0])
        from_anchor.append(not found[1])
    out = []
    for i, cert in enumerate(path):
        role = "leaf" if i == 0 else "root" if is_self_signed(cert) else "intermediate"
        out.append(PathCert(i, cert, role, spki_pin(cert), spki_sha1_pin(cert), not from_anchor[i]))
    return out
