"""The test PKI for toolkit tests: deterministic keys, so fixture files can hold real pins.

Two CAs: "Toolkit Root" -> "Toolkit CA 1" -> leaf (api.example.com), and an unrelated
"Backup Root" whose key is the backup CA pin. ``next_leaf`` is the key the leaf rotates to.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from cryptography import x509

from simlib.pki import (
    derive_private_key,
    make_intermediate,
    make_leaf,
    make_root,
    spki_pin,
    spki_sha1_pin,
    validity,
)

HOST = "api.example.com"


@dataclass(frozen=True)
class TestPki:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    backup_root: x509.Certificate
    next_leaf_key: object

    @property
    def chain(self) -> list[x509.Certificate]:
        """As a server sends it: leaf and intermediate, no root."""
        return [self.leaf, self.intermediate]


@functools.cache
def pki() -> TestPki:
    def key(name: str):
        return derive_private_key(f"toolkit/{name}".encode(), "ec-p256")

    root_key, int_key, backup_key = key("root"), key("ca1"), key("backup-root")
    nb, na = validity(date(2024, 1, 1), 3650)
    root = make_root(
        root_key, "Toolkit Root", not_before=nb, not_after=na, serial=1, organization="Toolkit"
    )
    backup = make_root(
        backup_key, "Backup Root", not_before=nb, not_after=na, serial=9, organization="Other CA"
    )
    nb, na = validity(date(2024, 6, 1), 1095)
    inter = make_intermediate(
        int_key,
        "Toolkit CA 1",
        issuer_cert=root,
        issuer_key=root_key,
        not_before=nb,
        not_after=na,
        serial=2,
        organization="Toolkit",
    )
    nb, na = validity(date(2026, 1, 1), 90)
    leaf = make_leaf(
        key("leaf").public_key(),
        [HOST, "www.example.com"],
        issuer_cert=inter,
        issuer_key=int_key,
        not_before=nb,
        not_after=na,
        serial=3,
    )
    return TestPki(root, inter, leaf, backup, key("leaf-next"))


def pins() -> dict[str, str]:
    p = pki()
    return {
        "leaf": spki_pin(p.leaf),
        "ca1": spki_pin(p.intermediate),
        "root": spki_pin(p.root),
        "backup_root": spki_pin(p.backup_root),
        "next_leaf": spki_pin(p.next_leaf_key),
        "leaf_sha1": spki_sha1_pin(p.leaf),
        "ca1_sha1": spki_sha1_pin(p.intermediate),
    }
