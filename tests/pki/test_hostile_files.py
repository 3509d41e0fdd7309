"""Hostile certificate files: ``load_certificates`` (``--chain``, ``--anchor``, ``simlib pins``)
refuses them with one PkiInputError line, quickly, and never reads a FIFO or a device.

Certificates OpenSSL parses but cryptography refuses (a duplicate extension, a subject that is
not UTF-8) are built by editing the DER of a good one.
"""

from __future__ import annotations

import base64
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simlib.pki import PkiInputError, load_certificates
from simlib.pki.loading import describe
from tests.toolkit.pki import pki

pytestmark = pytest.mark.hostile

# ---------------------------------------------------------------------------- DER editing


def _tlv(data: bytes, i: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``i`` (single-byte tags only)."""
    tag, n = data[i], data[i + 1]
    i += 2
    if n & 0x80:
        size = n & 0x7F
        n = int.from_bytes(data[i : i + size], "big")
        i += size
    return tag, i, i + n


def _children(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i < len(data):
        tag, start, end = _tlv(data, i)
        out.append((tag, data[start:end]))
        i = end
    return out


def _enc(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _edit_tbs(der: bytes, edit: Callable[[list[tuple[int, bytes]]], None]) -> bytes:
    """The certificate with its TBS fields changed by ``edit`` (the signature no longer holds,
    which loading does not check)."""
    ((_, cert),) = _children(der)
    tbs, alg, sig = _children(cert)
    fields = _children(tbs[1])
    edit(fields)
    body = _enc(0x30, b"".join(_enc(t, c) for t, c in fields))
    return _enc(0x30, body + _enc(*alg) + _enc(*sig))


def _leaf_der() -> bytes:
    return pki().leaf.public_bytes(serialization.Encoding.DER)


def _duplicate_extension(fields: list[tuple[int, bytes]]) -> None:
    i = next(i for i, (t, _) in enumerate(fields) if t == 0xA3)
    ((_, seq),) = _children(fields[i][1])
    exts = _children(seq)
    fields[i] = (0xA3, _enc(0x30, b"".join(_enc(*e) for e in exts + exts[:1])))


def _subject_not_utf8(fields: list[tuple[int, bytes]]) -> None:
    rdns = _children(fields[5][1])  # version, serial, signature, issuer, validity, subject
    set_tag, set_body = rdns[-1]
    ((_, attr),) = _children(set_body)
    oid, _ = _children(attr)
    rdns[-1] = (set_tag, _enc(0x30, _enc(*oid) + _enc(0x0C, b"\xff\xfe")))
    fields[5] = (fields[5][0], b"".join(_enc(*r) for r in rdns))


def _negative_serial(fields: list[tuple[int, bytes]]) -> None:
    fields[1] = (0x02, b"\xff\x01")


def _pem(der: bytes, label: str = "CERTIFICATE") -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"\r\n")
    return f"-----BEGIN {label}-----\r\n".encode() + body + f"-----END {label}-----\r\n".encode()


def _pem_body_with(junk: bytes) -> bytes:
    lines = _pem(_leaf_der()).split(b"\r\n")
    lines[2] += junk
    return b"\r\n".join(lines)


def _nested(depth: int) -> bytes:
    der = b"\x05\x00"
    for _ in range(depth):
        der = _enc(0x30, der)
    return der


# ----------------------------------------------------------------------------------- cases

REFUSED_CERT = "not a valid or supported DER certificate"
NO_ITEM = "no certificate or public key found"

HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "duplicate-extension-der": (lambda: _edit_tbs(_leaf_der(), _duplicate_extension), NO_ITEM),
    "duplicate-extension-pem": (
        lambda: _pem(_edit_tbs(_leaf_der(), _duplicate_extension)),
        REFUSED_CERT,
    ),
    "subject-not-utf8-der": (lambda: _edit_tbs(_leaf_der(), _subject_not_utf8), NO_ITEM),
    "subject-not-utf8-pem": (lambda: _pem(_edit_tbs(_leaf_der(), _subject_not_utf8)), REFUSED_CERT),
    "second-block-bad": (
        lambda: _pem(_leaf_der()) + _pem(_edit_tbs(_leaf_der(), _duplicate_extension)),
        "CERTIFICATE block [1]",
    ),
    "der-nested-3000": (lambda: _nested(3000), NO_ITEM),
    "pem-nested-3000": (lambda: _pem(_nested(3000)), REFUSED_CERT),
    "key-nested-3000": (lambda: _pem(_nested(3000), "PUBLIC KEY"), "DER public key"),
    "der-cut-10": (lambda: _leaf_der()[:10], NO_ITEM),
    "der-cut-half": (lambda: _leaf_der()[: len(_leaf_der()) // 2], NO_ITEM),
    "der-cut-last-byte": (lambda: _leaf_der()[:-1], NO_ITEM),
    "der-trailing-garbage": (lambda: _leaf_der() + b"\x00" * 10, NO_ITEM),
    "pem-body-9mb": (lambda: _pem(b"\x30\x82" + b"A" * 7_000_000), REFUSED_CERT),
    "pem-begin-10000-times": (lambda: b"-----BEGIN CERTIFICATE-----\n" * 10_000, "truncated"),
    "pem-end-without-begin": (
        lambda: b"x\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n",
        "without BEGIN",
    ),
    "pem-mismatched-end": (
        lambda: _pem(_leaf_der()).replace(b"END CERTIFICATE", b"END PUBLIC KEY"),
        "closes CERTIFICATE",
    ),
    "pem-megabyte-label": (
        lambda: b"-----BEGIN " + b"A" * 1_000_000 + b"-----\n",
        NO_ITEM,
    ),
    "pem-nul-in-body": (lambda: _pem_body_with(b"\x00"), "invalid base64"),
    "pem-escape-in-body": (lambda: _pem_body_with(b"\x1b[2J"), "invalid base64"),
    "pem-begin-with-escape": (
        lambda: _pem(_leaf_der()).replace(b"-----\r\n", b"-----\x1b[2J\r\n", 1),
        "without BEGIN",
    ),
    "utf16-pem": (lambda: _pem(_leaf_der()).decode().encode("utf-16"), NO_ITEM),
    "random-bytes": (lambda: os.urandom(4096), NO_ITEM),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_certificate_file(case: str, tmp_path: Path) -> None:
    make, needle = HOSTILE[case]
    path = tmp_path / "chain.pem"
    path.write_bytes(make())
    start = time.process_time()
    with pytest.raises(PkiInputError) as info:
        load_certificates(path)
    assert time.process_time() - start < 2.0
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{path}: ") and needle in text, text
    assert "\x1b" not in text


def test_negative_serial_loads_with_a_warning(tmp_path: Path) -> None:
    """cryptography accepts it with a deprecation warning; the pins are still computed."""
    path = tmp_path / "neg.pem"
    path.write_bytes(_pem(_edit_tbs(_leaf_der(), _negative_serial)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (item,) = load_certificates(path)
        assert describe(item)["subject"] == "CN=api.example.com"


def test_edited_certificates_are_what_the_cases_claim() -> None:
    """Guards the DER editor: the edits parse as DER and trip exactly what they should."""
    good = x509.load_der_x509_certificate(_edit_tbs(_leaf_der(), lambda f: None))
    assert good.subject == pki().leaf.subject
    dup = x509.load_der_x509_certificate(_edit_tbs(_leaf_der(), _duplicate_extension))
    with pytest.raises(x509.DuplicateExtension):
        _ = dup.extensions
    bad = x509.load_der_x509_certificate(_edit_tbs(_leaf_der(), _subject_not_utf8))
    with pytest.raises(ValueError):
        _ = bad.subject


def _special(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        path = tmp_path / "chain.fifo"
        os.mkfifo(path)
        return path
    if kind == "folder":
        return tmp_path
    if kind == "huge":
        path = tmp_path / "huge.pem"
        with path.open("wb") as f:
            f.truncate(11 * 1024 * 1024)
        return path
    return Path(kind)


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("fifo", "not a regular file"),
        ("/dev/zero", "not a regular file"),
        ("/dev/null", "not a regular file"),
        ("folder", "is a folder"),
        ("huge", "larger than 10 MB"),
    ],
)
def test_special_files_are_refused_without_reading(kind: str, needle: str, tmp_path: Path) -> None:
    if kind.startswith("/dev/") and not Path(kind).exists():
        pytest.skip(f"{kind} missing")
    path = _special(kind, tmp_path)
    start = time.monotonic()
    with pytest.raises(PkiInputError, match=needle):
        load_certificates(path)
    assert time.monotonic() - start < 20.0  # wall clock on purpose: a blocking read never returns
