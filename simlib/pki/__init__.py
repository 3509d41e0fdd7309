"""PKI primitives for the simulator: deterministic keys, certificates and pins.

Keys and certificates built here are reproducible from their inputs, so a
scenario gives the same pins on every run and machine. Real public CA
certificates can be loaded with :func:`load_certificates`.
"""

from __future__ import annotations

from simlib.pki.certs import (
    make_cross_sign,
    make_intermediate,
    make_leaf,
    make_root,
    validity,
)
from simlib.pki.keys import KEY_ALGORITHMS, derive_private_key
from simlib.pki.loading import LoadedItem, PkiInputError, describe, load_certificates
from simlib.pki.pins import (
    cert_pin,
    okhttp_pin,
    parse_pin,
    spki_der,
    spki_pin,
    spki_sha1_pin,
)

__all__ = [
    "KEY_ALGORITHMS",
    "LoadedItem",
    "PkiInputError",
    "cert_pin",
    "derive_private_key",
    "describe",
    "load_certificates",
    "make_cross_sign",
    "make_intermediate",
    "make_leaf",
    "make_root",
    "okhttp_pin",
    "parse_pin",
    "spki_der",
    "spki_pin",
    "spki_sha1_pin",
    "validity",
]
