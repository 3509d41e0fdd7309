"""Pin computation against openssl and published vectors (simlib.pki.pins)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from simlib.pki import (
    cert_pin,
    describe,
    load_certificates,
    okhttp_pin,
    parse_pin,
    spki_der,
    spki_pin,
    spki_sha1_pin,
)
from tests.pki.conftest import CERTS_DIR, REAL_FILES

BARE_KEY = "roots/GoogleBackup2048.pubkey.pem"

# Published vectors (letsencrypt/website static/certs PEMs, Chromium static pins; see
# data/certs/README.md), hard-coded
# so these checks do not depend on openssl or on our own code.
ISRG_X1_SPKI = "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="
ISRG_X1_SPKI_SHA1 = "+BZRPP0bRJ8uayihlyIfuB9RTjw="
ISRG_X2_SPKI = "diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI="
ISRG_X2_CERT = "aXKbjhWobvwXelevtxcd/GSt0owvyozxUH40RTzLFHA="
R10_SPKI = "K7rZOrXHknnsEhUH8nLL4MZkejquUuIvOIr6tCa0rbo="
E5_SPKI = "NYbU7PBwV4y9J67c4guWTki8FJ+uudrXL0a4V4aRcrg="
GOOGLE_BACKUP_SPKI = "IPMbDAjLVSGntGO3WP53X/zilCVndez5YJ2+vJvhJsA="
CERT_PINS = {
    "roots/DigiCertGlobalRootG2.pem": "yzzLt2Ax5eATj43TmiP53kf/w15DwRRM6ifUalqxy18=",
    "roots/GTSRootR1.pem": "2UdDKr3nt/qQ/C5rWRAbEoDg4cfk5A+jxoh//1en9M8=",
    "roots/DigiCertGlobalRoot.pem": "Q0ig6URMeMsmXgWNXolEtNhPlmK9Jtslf4k0pEPHAWE=",
    "roots/ISRGRootX2.pem": ISRG_X2_CERT,
}


def _load(name: str) -> Any:
    (item,) = load_certificates(CERTS_DIR / name)
    return item


def _cert(name: str) -> x509.Certificate:
    cert = _load(name).certificate
    assert cert is not None
    return cert


def _rel(path: Path) -> str:
    return path.relative_to(CERTS_DIR).as_posix()


class TestAgainstOpenssl:
    @pytest.mark.parametrize("path", REAL_FILES, ids=_rel)
    def test_real_files_spki_pin(self, path: Path, openssl: Any) -> None:
        item = _load(_rel(path))
        if _rel(path) == BARE_KEY:
            assert spki_pin(item.public_key) == openssl("key", path)
        else:
            assert spki_pin(item.certificate) == openssl("spki", path)

    @pytest.mark.parametrize("path", [p for p in REAL_FILES if _rel(p) != BARE_KEY], ids=_rel)
    def test_real_files_cert_pin(self, path: Path, openssl: Any) -> None:
        assert cert_pin(_cert(_rel(path))) == openssl("cert", path)

    @pytest.mark.parametrize("role", ["root", "intermediate", "leaf"])
    def test_generated_certs(
        self, chain: Any, role: str, tmp_path: Path, openssl: Any, write_pem: Any
    ) -> None:
        cert = getattr(chain, role)
        path = write_pem(tmp_path / f"{role}.pem", cert)
        assert spki_pin(cert) == openssl("spki", path)
        assert spki_sha1_pin(cert) == openssl("spki", path, "sha1")
        assert cert_pin(cert) == openssl("cert", path)

    def test_bare_key_sha1(self, openssl: Any) -> None:
        assert spki_sha1_pin(_load(BARE_KEY).public_key) == openssl(
            "key", CERTS_DIR / BARE_KEY, "sha1"
        )


class TestKnownVectors:
    def test_isrg_root_x1(self) -> None:
        cert = _cert("letsencrypt/isrgrootx1.pem")
        assert spki_pin(cert) == ISRG_X1_SPKI
        assert spki_sha1_pin(cert) == ISRG_X1_SPKI_SHA1
        assert okhttp_pin(cert) == "sha256/" + ISRG_X1_SPKI

    def test_r10(self) -> None:
        assert spki_pin(_cert("letsencrypt/2024_r10.pem")) == R10_SPKI

    def test_e5_and_cross_share_spki(self) -> None:
        e5 = _cert("letsencrypt/2024_e5.pem")
        e5_cross = _cert("letsencrypt/2024_e5-cross.pem")
        assert spki_pin(e5) == spki_pin(e5_cross) == E5_SPKI
        assert e5.issuer != e5_cross.issuer
        assert cert_pin(e5) != cert_pin(e5_cross)

    def test_isrg_root_x2_self_and_cross_signed(self) -> None:
        own = _cert("letsencrypt/isrg-root-x2.pem")
        cross = _cert("letsencrypt/isrg-root-x2-cross-signed.pem")
        assert spki_pin(own) == spki_pin(cross) == ISRG_X2_SPKI
        assert cert_pin(own) == ISRG_X2_CERT
        assert cert_pin(cross) != ISRG_X2_CERT

    def test_google_backup_bare_key(self) -> None:
        item = _load(BARE_KEY)
        assert item.certificate is None
        assert spki_pin(item.public_key) == GOOGLE_BACKUP_SPKI

    @pytest.mark.parametrize(("name", "pin"), sorted(CERT_PINS.items()))
    def test_certificate_fingerprints(self, name: str, pin: str) -> None:
        assert cert_pin(_cert(name)) == pin

    def test_chromium_copy_is_the_letsencrypt_copy(self) -> None:
        a = (CERTS_DIR / "roots/ISRGRootX2.pem").read_bytes()
        b = (CERTS_DIR / "letsencrypt/isrg-root-x2.pem").read_bytes()
        assert a == b


class TestPinFunctions:
    def test_key_private_key_and_certificate_agree(self, chain: Any) -> None:
        expected = spki_pin(chain.leaf)
        assert spki_pin(chain.leaf_key) == expected
        assert spki_pin(chain.leaf_key.public_key()) == expected
        assert spki_der(chain.leaf_key) == spki_der(chain.leaf.public_key())
        assert spki_sha1_pin(chain.leaf_key) == spki_sha1_pin(chain.leaf)

    def test_spki_der_is_a_subject_public_key_info(self, chain: Any) -> None:
        der = spki_der(chain.leaf.public_key())
        assert der[0] == 0x30  # SEQUENCE
        # The SPKI is embedded verbatim in the certificate's TBS.
        assert der in chain.leaf.tbs_certificate_bytes

    def test_pin_shapes(self, chain: Any) -> None:
        assert len(base64.b64decode(spki_pin(chain.root), validate=True)) == 32
        assert len(base64.b64decode(spki_sha1_pin(chain.root), validate=True)) == 20
        assert len(base64.b64decode(cert_pin(chain.root), validate=True)) == 32
        assert re.fullmatch(r"sha256/[A-Za-z0-9+/]{43}=", okhttp_pin(chain.root))

    def test_rejects_other_types(self) -> None:
        with pytest.raises(TypeError, match="public key"):
            spki_pin(b"not a key")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="Certificate"):
            cert_pin(object())  # type: ignore[arg-type]


class TestParsePin:
    @pytest.mark.parametrize(
        "text",
        [
            f"sha256/{ISRG_X1_SPKI}",
            f'pin-sha256="{ISRG_X1_SPKI}"',
            f'  PIN-SHA256 = "{ISRG_X1_SPKI}"  ',
            ISRG_X1_SPKI,
            f"  {ISRG_X1_SPKI}\n",
        ],
    )
    def test_accepted_forms(self, text: str) -> None:
        assert parse_pin(text) == ISRG_X1_SPKI

    def test_round_trip_with_okhttp_pin(self) -> None:
        cert = _cert("letsencrypt/2024_r10.pem")
        assert parse_pin(okhttp_pin(cert)) == spki_pin(cert)

    def test_non_canonical_padding_bits_normalised(self) -> None:
        # Last char 'N' instead of 'M' differs only in the unused low bits.
        variant = ISRG_X1_SPKI[:-2] + "N="
        assert parse_pin(variant) == ISRG_X1_SPKI

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            (ISRG_X1_SPKI_SHA1, "20 bytes"),
            (f"sha256/{ISRG_X1_SPKI_SHA1}", "20 bytes"),
            (base64.b64encode(bytes(31)).decode(), "31 bytes"),
            (base64.b64encode(bytes(33)).decode(), "33 bytes"),
            (f'pin-sha256="{base64.b64encode(bytes(48)).decode()}"', "48 bytes"),
            (f"sha1/{ISRG_X1_SPKI_SHA1}", "SHA-1"),
            ("not base64 at all!", "base64"),
            (ISRG_X1_SPKI.rstrip("="), "base64"),
            (ISRG_X1_SPKI.replace("+", "-"), "base64"),
            ("", "empty"),
            ("sha256/", "empty"),
        ],
    )
    def test_rejected_with_message(self, text: str, fragment: str) -> None:
        with pytest.raises(ValueError, match="32") as info:
            parse_pin(text)
        assert fragment in str(info.value)

    def test_rejects_non_str(self) -> None:
        with pytest.raises(TypeError):
            parse_pin(b"abc")  # type: ignore[arg-type]


class TestDataReadme:
    def test_table_matches_files(self) -> None:
        """Every row of data/certs/README.md matches the file it describes."""
        text = (CERTS_DIR / "README.md").read_text(encoding="utf-8")
        rows = re.findall(r"^\| `([^`]+\.pem)` \| ([^|]+) \| `([^`]+)` \| ([^|]+) \|$", text, re.M)
        assert {name for name, *_ in rows} == {_rel(p) for p in REAL_FILES}
        for name, subject, pin, not_after in rows:
            info = describe(_load(name))
            assert info["spki_sha256"] == pin, name
            if info["subject"] is None:
                assert not_after.strip() == "–", name
                continue
            assert subject.strip() == info["subject"].replace(",", ", "), name
            assert not_after.strip() == info["not_after"].strftime("%Y-%m-%d %H:%M:%SZ"), name

    def test_no_private_keys_vendored(self) -> None:
        files = [p for p in CERTS_DIR.glob("*/*") if p.is_file()]
        assert files
        for path in files:
            assert b"PRIVATE KEY" not in path.read_bytes(), path
