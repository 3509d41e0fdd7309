"""Certificate building, validity windows and file loading (simlib.pki.certs)."""

from __future__ import annotations

import dataclasses
import shlex
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simlib.pki import (
    LoadedItem,
    PkiInputError,
    cert_pin,
    derive_private_key,
    describe,
    load_certificates,
    make_cross_sign,
    make_leaf,
    make_root,
    spki_pin,
    validity,
)
from tests.pki.conftest import CERTS_DIR, REAL_FILES


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _ext(cert: x509.Certificate, kind: type) -> Any:
    return cert.extensions.get_extension_for_class(kind)


class TestValidity:
    def test_boundaries(self) -> None:
        not_before, not_after = validity(date(2025, 3, 1), 90)
        assert not_before == datetime(2025, 3, 1, 0, 0, 0, tzinfo=UTC)
        # Day 90 counting 2025-03-01 as day 1 is 2025-05-29.
        assert not_after == datetime(2025, 5, 29, 23, 59, 59, tzinfo=UTC)
        assert not_before.utcoffset() == not_after.utcoffset() == timedelta(0)
        # Inclusive notAfter: the window is exactly 90 days long.
        assert not_after + timedelta(seconds=1) - not_before == timedelta(days=90)

    def test_single_day_and_leap_year(self) -> None:
        assert validity(date(2024, 2, 29), 1) == (
            datetime(2024, 2, 29, tzinfo=UTC),
            datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        )
        assert validity(date(2024, 2, 28), 2)[1] == datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)

    def test_round_trips_through_a_certificate(self) -> None:
        key = derive_private_key(b"validity")
        not_before, not_after = validity(date(2030, 12, 31), 365)
        cert = make_root(key, "V", not_before=not_before, not_after=not_after, serial=7)
        assert cert.not_valid_before_utc == not_before
        assert cert.not_valid_after_utc == datetime(2031, 12, 30, 23, 59, 59, tzinfo=UTC)

    @pytest.mark.parametrize("days", [0, -1])
    def test_rejects_non_positive_days(self, days: int) -> None:
        with pytest.raises(ValueError, match="days"):
            validity(date(2025, 1, 1), days)

    def test_rejects_datetime(self) -> None:
        with pytest.raises(TypeError, match="date"):
            validity(datetime(2025, 1, 1, 12, tzinfo=UTC), 1)  # type: ignore[arg-type]


class TestChain:
    def test_chain_verifies(self, chain: Any) -> None:
        chain.leaf.verify_directly_issued_by(chain.intermediate)
        chain.intermediate.verify_directly_issued_by(chain.root)
        chain.root.verify_directly_issued_by(chain.root)

    def test_same_name_other_key_does_not_verify(self, chain: Any) -> None:
        """A root with the right name and key type but another key fails on the signature."""
        root_key = chain.root_key
        kind = "ec-p" if isinstance(root_key, ec.EllipticCurvePrivateKey) else "rsa-"
        impostor_key = derive_private_key(b"impostor", f"{kind}{root_key.key_size}")
        impostor = make_root(
            impostor_key,
            "Sim Root",
            organization="Sim",
            not_before=chain.root.not_valid_before_utc,
            not_after=chain.root.not_valid_after_utc,
            serial=1,
        )
        assert impostor.subject == chain.root.subject
        with pytest.raises(InvalidSignature):
            chain.intermediate.verify_directly_issued_by(impostor)

    def test_openssl_verifies_chain(self, chain: Any, tmp_path: Path, write_pem: Any) -> None:
        """Independent check of signatures, CA flags, key usages and path length."""
        root = write_pem(tmp_path / "root.pem", chain.root)
        inter = write_pem(tmp_path / "int.pem", chain.intermediate)
        leaf = write_pem(tmp_path / "leaf.pem", chain.leaf)
        at = int(datetime(2025, 3, 15, tzinfo=UTC).timestamp())
        cmd = (
            f"openssl verify -x509_strict -purpose sslserver -attime {at} "
            f"-CAfile {shlex.quote(str(root))} -untrusted {shlex.quote(str(inter))} "
            f"{shlex.quote(str(leaf))}"
        )
        result = subprocess.run(shlex.split(cmd), capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_root_extensions(self, chain: Any) -> None:
        root = chain.root
        assert root.subject == root.issuer
        assert root.subject.rfc4514_string() == "CN=Sim Root,O=Sim"
        bc = _ext(root, x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length is None
        ku = _ext(root, x509.KeyUsage)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
        ski = _ext(root, x509.SubjectKeyIdentifier).value
        assert ski == x509.SubjectKeyIdentifier.from_public_key(root.public_key())

    def test_intermediate_extensions(self, chain: Any) -> None:
        inter = chain.intermediate
        assert inter.issuer == chain.root.subject
        bc = _ext(inter, x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length == 0
        ku = _ext(inter, x509.KeyUsage).value
        assert ku.key_cert_sign and ku.crl_sign
        eku = _ext(inter, x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
        aki = _ext(inter, x509.AuthorityKeyIdentifier).value
        root_ski = _ext(chain.root, x509.SubjectKeyIdentifier).value
        assert aki.key_identifier == root_ski.digest
        assert spki_pin(inter) == spki_pin(chain.intermediate_key)

    def test_leaf_extensions(self, chain: Any) -> None:
        leaf = chain.leaf
        cn = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        assert [a.value for a in cn] == ["api.example.test"]
        san = _ext(leaf, x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == ["api.example.test", "www.example.test"]
        bc = _ext(leaf, x509.BasicConstraints)
        assert bc.critical and not bc.value.ca
        ku = _ext(leaf, x509.KeyUsage).value
        assert ku.digital_signature and not ku.key_cert_sign
        eku = _ext(leaf, x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
        aki = _ext(leaf, x509.AuthorityKeyIdentifier).value
        assert (
            aki.key_identifier == _ext(chain.intermediate, x509.SubjectKeyIdentifier).value.digest
        )
        assert _ext(leaf, x509.SubjectKeyIdentifier).value == (
            x509.SubjectKeyIdentifier.from_public_key(chain.leaf_key.public_key())
        )

    def test_signature_hash_matches_issuer(self, chain: Any) -> None:
        def expected(issuer_key: Any) -> type:
            if isinstance(issuer_key, ec.EllipticCurvePrivateKey) and issuer_key.key_size == 384:
                return hashes.SHA384
            return hashes.SHA256

        assert isinstance(chain.root.signature_hash_algorithm, expected(chain.root_key))
        assert isinstance(chain.intermediate.signature_hash_algorithm, expected(chain.root_key))
        assert isinstance(chain.leaf.signature_hash_algorithm, expected(chain.intermediate_key))


class TestDeterministicCertificates:
    @pytest.mark.parametrize(
        "algorithms",
        [("ec-p256",) * 3, ("ec-p384",) * 3, ("rsa-2048",) * 3, ("ec-p384", "rsa-2048", "ec-p256")],
        ids=["ec-p256", "ec-p384", "rsa-2048", "mixed"],
    )
    def test_byte_identical_across_builds_and_cache_clear(
        self, algorithms: tuple[str, str, str], build_chain: Any
    ) -> None:
        first = build_chain(*algorithms, tag="det")
        again = build_chain(*algorithms, tag="det")
        derive_private_key.cache_clear()
        fresh = build_chain(*algorithms, tag="det")
        for attr in ("root", "intermediate", "leaf"):
            assert _der(getattr(first, attr)) == _der(getattr(again, attr))
            assert _der(getattr(first, attr)) == _der(getattr(fresh, attr))

    def test_different_material_different_certificate(self, build_chain: Any) -> None:
        a = build_chain("ec-p256", "ec-p256", "ec-p256", tag="a")
        b = build_chain("ec-p256", "ec-p256", "ec-p256", tag="b")
        assert spki_pin(a.leaf) != spki_pin(b.leaf)
        assert cert_pin(a.leaf) != cert_pin(b.leaf)

    def test_serial_changes_certificate_not_spki(self) -> None:
        key = derive_private_key(b"serial")
        not_before, not_after = validity(date(2025, 1, 1), 10)
        one = make_root(key, "S", not_before=not_before, not_after=not_after, serial=1)
        two = make_root(key, "S", not_before=not_before, not_after=not_after, serial=2)
        assert spki_pin(one) == spki_pin(two)
        assert cert_pin(one) != cert_pin(two)


class TestCrossSign:
    @pytest.fixture
    def hierarchy(self) -> dict[str, Any]:
        old_key = derive_private_key(b"x-old", "rsa-2048")
        new_key = derive_private_key(b"x-new", "ec-p384")
        nb, na = validity(date(2020, 9, 4), 7300)
        old_root = make_root(old_key, "Old Root", not_before=nb, not_after=na, serial=10)
        new_root = make_root(new_key, "New Root", not_before=nb, not_after=na, serial=11)
        xnb, xna = validity(date(2020, 9, 4), 1837)
        cross = make_cross_sign(
            new_root,
            issuer_cert=old_root,
            issuer_key=old_key,
            not_before=xnb,
            not_after=xna,
            serial=12,
        )
        return {"old": old_root, "new": new_root, "cross": cross, "new_key": new_key}

    def test_same_subject_and_spki_different_cert_pin(self, hierarchy: dict[str, Any]) -> None:
        new, cross = hierarchy["new"], hierarchy["cross"]
        assert cross.subject == new.subject
        assert spki_pin(cross) == spki_pin(new)
        assert cert_pin(cross) != cert_pin(new)

    def test_verifies_against_its_issuer_only(self, hierarchy: dict[str, Any]) -> None:
        cross, old, new = hierarchy["cross"], hierarchy["old"], hierarchy["new"]
        assert cross.issuer == old.subject
        cross.verify_directly_issued_by(old)
        with pytest.raises(ValueError):
            cross.verify_directly_issued_by(new)

    def test_keeps_subject_extensions_and_points_aki_at_new_issuer(
        self, hierarchy: dict[str, Any]
    ) -> None:
        cross, old, new = hierarchy["cross"], hierarchy["old"], hierarchy["new"]
        assert _ext(cross, x509.BasicConstraints).value.ca
        assert (
            _ext(cross, x509.SubjectKeyIdentifier).value
            == _ext(new, x509.SubjectKeyIdentifier).value
        )
        aki = _ext(cross, x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == _ext(old, x509.SubjectKeyIdentifier).value.digest

    def test_leaf_under_cross_signed_intermediate_verifies_both_ways(
        self, hierarchy: dict[str, Any]
    ) -> None:
        """A leaf issued by the new CA verifies via the self-signed and the cross cert."""
        new_key = hierarchy["new_key"]
        nb, na = validity(date(2021, 1, 1), 90)
        leaf = make_leaf(
            derive_private_key(b"x-leaf"),
            ["x.example.test"],
            issuer_cert=hierarchy["new"],
            issuer_key=new_key,
            not_before=nb,
            not_after=na,
            serial=13,
        )
        leaf.verify_directly_issued_by(hierarchy["new"])
        leaf.verify_directly_issued_by(hierarchy["cross"])


class TestBuilderErrors:
    @pytest.fixture
    def root(self) -> tuple[Any, x509.Certificate]:
        key = derive_private_key(b"err-root")
        nb, na = validity(date(2025, 1, 1), 100)
        return key, make_root(key, "Err Root", not_before=nb, not_after=na, serial=1)

    def test_naive_datetime_rejected(self) -> None:
        key = derive_private_key(b"naive")
        with pytest.raises(ValueError, match="timezone-aware"):
            make_root(
                key,
                "N",
                not_before=datetime(2025, 1, 1),
                not_after=datetime(2025, 2, 1, tzinfo=UTC),
                serial=1,
            )

    def test_non_utc_offset_is_converted(self) -> None:
        key = derive_private_key(b"offset")
        plus2 = timezone(timedelta(hours=2))
        cert = make_root(
            key,
            "O",
            not_before=datetime(2025, 1, 1, 2, 0, tzinfo=plus2),
            not_after=datetime(2025, 2, 1, tzinfo=UTC),
            serial=1,
        )
        assert cert.not_valid_before_utc == datetime(2025, 1, 1, 0, 0, tzinfo=UTC)

    def test_inverted_window_rejected(self) -> None:
        key = derive_private_key(b"inverted")
        with pytest.raises(ValueError, match="before"):
            make_root(
                key,
                "I",
                not_before=datetime(2025, 2, 1, tzinfo=UTC),
                not_after=datetime(2025, 1, 1, tzinfo=UTC),
                serial=1,
            )

    def test_issuer_key_mismatch_rejected(self, root: tuple[Any, x509.Certificate]) -> None:
        _, root_cert = root
        nb, na = validity(date(2025, 1, 1), 10)
        with pytest.raises(ValueError, match="does not match"):
            make_leaf(
                derive_private_key(b"leaf").public_key(),
                ["a.test"],
                issuer_cert=root_cert,
                issuer_key=derive_private_key(b"someone else"),
                not_before=nb,
                not_after=na,
                serial=2,
            )

    @pytest.mark.parametrize("hostnames", [[], [""], "a.test"])
    def test_bad_hostnames_rejected(
        self, root: tuple[Any, x509.Certificate], hostnames: Any
    ) -> None:
        key, root_cert = root
        nb, na = validity(date(2025, 1, 1), 10)
        with pytest.raises((ValueError, TypeError), match="hostnames"):
            make_leaf(
                derive_private_key(b"leaf").public_key(),
                hostnames,
                issuer_cert=root_cert,
                issuer_key=key,
                not_before=nb,
                not_after=na,
                serial=2,
            )


def _assert_one_line_error(exc: PkiInputError, path: Path, fragment: str) -> None:
    text = str(exc)
    assert isinstance(exc, ValueError)
    assert "\n" not in text
    assert "Traceback" not in text
    assert text.startswith(f"{path}: ")
    assert fragment in text


class TestLoader:
    def test_every_vendored_file_loads_one_item(self) -> None:
        assert len(REAL_FILES) >= 28  # the README table test checks each file is listed
        for path in REAL_FILES:
            items = load_certificates(path)
            assert len(items) == 1, path
            is_key = path.name == "GoogleBackup2048.pubkey.pem"
            assert (items[0].certificate is None) == is_key

    def test_pem_bundle_with_certs_and_key(self, tmp_path: Path) -> None:
        names = [
            "letsencrypt/2024_r10.pem",
            "letsencrypt/isrgrootx1.pem",
            "roots/GoogleBackup2048.pubkey.pem",
            "letsencrypt/2024_e5.pem",
        ]
        # A private key block in a combined file is skipped, not parsed.
        private = derive_private_key(b"bundle").private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        bundle = tmp_path / "bundle.pem"
        bundle.write_bytes(
            b"leading text is ignored\n"
            + (CERTS_DIR / names[0]).read_bytes()
            + private
            + b"".join((CERTS_DIR / n).read_bytes() for n in names[1:])
        )
        items = load_certificates(bundle)
        assert [i.source for i in items] == [f"{bundle}[{n}]" for n in range(4)]
        assert [spki_pin(i.public_key) for i in items] == [
            "K7rZOrXHknnsEhUH8nLL4MZkejquUuIvOIr6tCa0rbo=",
            "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M=",
            "IPMbDAjLVSGntGO3WP53X/zilCVndez5YJ2+vJvhJsA=",
            "NYbU7PBwV4y9J67c4guWTki8FJ+uudrXL0a4V4aRcrg=",
        ]
        assert [i.certificate is None for i in items] == [False, False, True, False]

    def test_der_certificate(self, tmp_path: Path) -> None:
        cert = load_certificates(CERTS_DIR / "letsencrypt/isrg-root-x2.pem")[0].certificate
        assert cert is not None
        der = tmp_path / "x2.der"
        der.write_bytes(_der(cert))
        (item,) = load_certificates(der)
        assert item.source == f"{der}[0]"
        assert item.certificate == cert
        assert cert_pin(item.certificate) == "aXKbjhWobvwXelevtxcd/GSt0owvyozxUH40RTzLFHA="

    def test_der_public_key(self, tmp_path: Path) -> None:
        key = load_certificates(CERTS_DIR / "roots/GoogleBackup2048.pubkey.pem")[0].public_key
        der = tmp_path / "backup.spki"
        der.write_bytes(
            key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        (item,) = load_certificates(der)
        assert item.certificate is None
        assert spki_pin(item.public_key) == "IPMbDAjLVSGntGO3WP53X/zilCVndez5YJ2+vJvhJsA="

    def test_loaded_item_is_frozen(self) -> None:
        (item,) = load_certificates(CERTS_DIR / "letsencrypt/isrgrootx1.pem")
        with pytest.raises(dataclasses.FrozenInstanceError):
            item.source = "x"  # type: ignore[misc]

    def test_pathlike_and_str_accepted(self) -> None:
        path = CERTS_DIR / "letsencrypt/isrgrootx1.pem"
        assert load_certificates(str(path))[0].certificate == load_certificates(path)[0].certificate

    @pytest.mark.parametrize(
        ("content", "fragment"),
        [
            (b"", "empty file"),
            (b"  \n\t\n", "empty file"),
            (bytes(range(256)) * 4, "no certificate or public key found"),
            (b"hello, I am not a certificate\n", "no certificate or public key found"),
            (
                b"-----BEGIN CERTIFICATE-----\nMIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAw\n",
                "truncated",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\nMIIF@@@not*base64\n-----END CERTIFICATE-----\n",
                "invalid base64",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\nMIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAw\n-----END CERTIFICATE-----\n",
                "not a valid or supported DER certificate",
            ),
            (
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                "not a valid or supported DER public key",
            ),
            (
                b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                "no certificate or public key found",
            ),
        ],
        ids=[
            "empty",
            "whitespace",
            "binary-junk",
            "text-junk",
            "truncated-no-end",
            "bad-base64",
            "truncated-der",
            "bad-key",
            "only-other-blocks",
        ],
    )
    def test_bad_input_gives_one_line_error(
        self, tmp_path: Path, content: bytes, fragment: str
    ) -> None:
        path = tmp_path / "chain.pem"
        path.write_bytes(content)
        with pytest.raises(PkiInputError) as info:
            load_certificates(path)
        _assert_one_line_error(info.value, path, fragment)

    def test_real_file_cut_short(self, tmp_path: Path) -> None:
        path = tmp_path / "cut.pem"
        path.write_bytes((CERTS_DIR / "roots/GTSRootR1.pem").read_bytes()[:900])
        with pytest.raises(PkiInputError) as info:
            load_certificates(path)
        _assert_one_line_error(info.value, path, "truncated")

    def test_second_block_truncated(self, tmp_path: Path) -> None:
        good = (CERTS_DIR / "letsencrypt/isrgrootx1.pem").read_bytes()
        path = tmp_path / "two.pem"
        path.write_bytes(good + good[:300])
        with pytest.raises(PkiInputError) as info:
            load_certificates(path)
        _assert_one_line_error(info.value, path, "truncated")

    def test_missing_file(self, tmp_path: Path) -> None:
        path = tmp_path / "nope.pem"
        with pytest.raises(PkiInputError) as info:
            load_certificates(path)
        _assert_one_line_error(info.value, path, "No such file")

    def test_directory(self, tmp_path: Path) -> None:
        with pytest.raises(PkiInputError) as info:
            load_certificates(tmp_path)
        _assert_one_line_error(info.value, tmp_path, "cannot read")

    def test_error_str_is_one_line_even_with_newlines_in_message(self) -> None:
        exc = PkiInputError("chain.pem", "no certificate\nor public key found")
        assert str(exc) == "chain.pem: no certificate or public key found"
        assert exc.path == "chain.pem"


class TestDescribe:
    def test_real_root(self) -> None:
        (item,) = load_certificates(CERTS_DIR / "letsencrypt/isrgrootx1.pem")
        info = describe(item)
        assert info == {
            "source": f"{CERTS_DIR / 'letsencrypt/isrgrootx1.pem'}[0]",
            "subject": "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
            "issuer": "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
            "not_before": datetime(2015, 6, 4, 11, 4, 38, tzinfo=UTC),
            "not_after": datetime(2035, 6, 4, 11, 4, 38, tzinfo=UTC),
            "spki_sha256": "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M=",
            "spki_sha1": "+BZRPP0bRJ8uayihlyIfuB9RTjw=",
            "cert_sha256": "lrzsBiZJdvN0YHeazyjFp8/oo8Cq4RqP/O4FwL3fCMY=",
            "is_ca": True,
        }
        assert info["not_after"].tzinfo is not None

    def test_intermediate_issuer(self) -> None:
        (item,) = load_certificates(CERTS_DIR / "letsencrypt/2024_e5-cross.pem")
        info = describe(item)
        assert info["subject"] == "CN=E5,O=Let's Encrypt,C=US"
        assert info["issuer"] == "CN=ISRG Root X1,O=Internet Security Research Group,C=US"
        assert info["is_ca"] is True

    def test_generated_leaf(self, chain: Any) -> None:
        info = describe(LoadedItem("gen", chain.leaf, chain.leaf.public_key()))
        assert info["is_ca"] is False
        assert info["subject"] == "CN=api.example.test"
        assert info["not_before"] == datetime(2025, 3, 1, tzinfo=UTC)
        assert info["not_after"] == datetime(2025, 5, 29, 23, 59, 59, tzinfo=UTC)

    def test_bare_key(self) -> None:
        (item,) = load_certificates(CERTS_DIR / "roots/GoogleBackup2048.pubkey.pem")
        info = describe(item)
        assert info["spki_sha256"] == "IPMbDAjLVSGntGO3WP53X/zilCVndez5YJ2+vJvhJsA="
        assert info["spki_sha1"]
        for field in ("subject", "issuer", "not_before", "not_after", "cert_sha256", "is_ca"):
            assert info[field] is None
