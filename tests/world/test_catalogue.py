"""The CA catalogue: key types, issuers (checked by signature), active periods, shared keys."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from simlib.errors import ScenarioError
from simlib.world.catalogue import (
    active_intermediates,
    ca,
    catalogue,
    certificate,
    load_catalogue,
)
from simlib.world.realcerts import read_real_cert
from tests.world.conftest import CERTS_DIR

ALL = catalogue().certificates


@pytest.mark.parametrize("name", [f"R{i}" for i in range(10, 15)])
def test_r_series_rsa_under_x1(name: str) -> None:
    cert = certificate(name)
    assert (cert.key_type, cert.issuer, cert.role) == ("rsa", "ISRG Root X1", "intermediate")


@pytest.mark.parametrize("name", [f"E{i}" for i in range(5, 10)])
def test_e_series_ecdsa_under_x2_and_cross_signed_by_x1(name: str) -> None:
    cert, cross = certificate(name), certificate(f"{name}/X1")
    assert (cert.key_type, cert.issuer) == ("ecdsa", "ISRG Root X2")
    assert (cross.role, cross.subject, cross.key, cross.issuer) == (
        "cross",
        name,
        name,
        "ISRG Root X1",
    )


@pytest.mark.parametrize(
    ("name", "issuer"),
    [
        ("YR1", "Root YR"),
        ("YR2", "Root YR"),
        ("YE1", "Root YE"),
        ("YE2", "Root YE"),
        ("R3", "ISRG Root X1"),
        ("E1", "ISRG Root X2"),
        ("R3/DST", "DST Root CA X3"),
        ("ISRG Root X1/DST", "DST Root CA X3"),
    ],
)
def test_issuers(name: str, issuer: str) -> None:
    assert certificate(name).issuer == issuer


def _files_of(subject: str) -> list[Path]:
    return [c.path for c in ALL.values() if c.subject == subject and c.path is not None]


@pytest.mark.parametrize("name", sorted(n for n, c in ALL.items() if c.file is not None))
def test_real_file_is_signed_by_its_issuer(name: str) -> None:
    cert = certificate(name)
    assert cert.path is not None
    real = read_real_cert(cert.path).certificate
    issuers = _files_of(cert.issuer)
    if not issuers:
        pytest.skip(f"no file for issuer {cert.issuer}")
    # Any certificate of the issuer's key will do (same key, same signature check).
    try:
        real.verify_directly_issued_by(read_real_cert(issuers[0]).certificate)
    except ValueError as exc:  # DST Root CA X3 signs itself with SHA-1
        assert cert.role == "root" and "Unsupported signature algorithm" in str(exc)


def test_every_file_key_type_matches() -> None:
    for cert in ALL.values():
        if cert.path is not None:
            assert read_real_cert(cert.path).key_type == cert.key_type, cert.name


def test_active_periods_are_consistent() -> None:
    for cert in ALL.values():
        if cert.active_from is not None:
            assert cert.active_until is None or cert.active_from <= cert.active_until, cert.name
            assert cert.active_confidence in ("primary", "secondary", "unconfirmed")
            # Some certificate of its subject (X3: the DST cross-sign) was valid by then.
            starts = [
                c.not_before.date()
                for c in ALL.values()
                if c.subject == cert.subject and c.not_before is not None
            ]
            assert not starts or min(starts) <= cert.active_from, cert.name
            if cert.not_after is not None and cert.active_until is not None:
                assert cert.active_until <= cert.not_after.date(), cert.name
        else:
            assert cert.active_until is None, cert.name
    assert (certificate("R10").active_from, certificate("R10").active_until) == (
        date(2024, 6, 6),
        date(2025, 8, 19),
    )
    assert certificate("R14").active_from is None  # emergency backup, never active


def test_cross_signs_share_keys() -> None:
    assert certificate("R3/DST").spki_pin == certificate("R3").spki_pin is not None
    assert certificate("E5/X1").spki_pin == certificate("E5").spki_pin is not None
    assert certificate("ISRG Root X1/DST").spki_pin == certificate("ISRG Root X1").spki_pin
    assert certificate("ISRG Root X2/X1").spki_pin == certificate("ISRG Root X2").spki_pin
    assert certificate("R3/DST").not_after < certificate("R3").not_after  # type: ignore[operator]
    x3 = certificate("Let's Encrypt Authority X3")
    assert x3.key == "Let's Encrypt Authority X1" and not x3.stand_in  # real file since issue 16
    assert {c.name for c in catalogue().sharing_key("Let's Encrypt Authority X3")} == {
        "Let's Encrypt Authority X1",
        "Let's Encrypt Authority X1/DST",
        "Let's Encrypt Authority X3",
        "Let's Encrypt Authority X3/DST",
    }


@pytest.mark.parametrize(
    ("day", "key_type", "profile", "expected"),
    [
        (date(2024, 6, 5), "rsa", "classic", ("R3",)),
        (date(2024, 6, 6), "rsa", "classic", ("R10", "R11")),
        (date(2024, 6, 6), "ecdsa", "classic", ("E5", "E6")),
        (date(2025, 8, 20), "ecdsa", "classic", ("E7", "E8")),
        (date(2026, 1, 7), "rsa", "classic", ("R12", "R13")),
        (date(2026, 1, 7), "rsa", "tlsserver", ("YR1", "YR2")),
        (date(2025, 12, 1), "rsa", "tlsserver", ("R12", "R13")),  # falls back to classic
        (date(2026, 5, 28), "ecdsa", "classic", ("YE1", "YE2")),
        (date(2015, 1, 1), "rsa", "classic", ()),
    ],
)
def test_active_intermediates(
    day: date, key_type: str, profile: str, expected: tuple[str, ...]
) -> None:
    assert active_intermediates("letsencrypt", day, key_type, profile) == expected


def test_cas_and_lookup_errors() -> None:
    assert set(catalogue().cas) == {
        "letsencrypt",
        "identrust",
        "amazon",
        "digicert",
        "google",
        "entrust",
    }
    le = ca("letsencrypt")
    assert set(le.roots) == {"ISRG Root X1", "ISRG Root X2", "Root YR", "Root YE"}
    assert {"R3", "R10", "E9", "YR1", "YE2"} <= set(le.intermediates)
    assert set(ca("amazon").roots) == {f"Amazon Root CA {i}" for i in range(1, 5)} | {
        "Starfield Services Root G2"
    }
    with pytest.raises(ScenarioError, match="unknown CA 'lets-encrypt'; valid: letsencrypt, "):
        ca("lets-encrypt")
    with pytest.raises(ScenarioError, match="unknown CA certificate 'R9'; valid: "):
        certificate("R9")


def test_catalogue_is_cached() -> None:
    assert catalogue() is catalogue()


def _edit(world: Path, edit: object) -> None:
    path = world / "ca-catalogue.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["cas"]["letsencrypt"]["certificates"][0].update(key_type="ecdsa"),
            "ecdsa but letsencrypt/isrgrootx1.pem holds a rsa key",
        ),
        (
            lambda d: d["cas"]["letsencrypt"]["certificates"][0].update(published_spki="AAAA"),
            "AAAA differs from the file's pin",
        ),
        (
            lambda d: d["cas"]["letsencrypt"]["certificates"][0].update(file="nope.pem"),
            "cannot read nope.pem",
        ),
        (
            lambda d: d["cas"]["letsencrypt"]["certificates"][3].update(issuer="Root ZZ"),
            "issuer 'Root ZZ' is not in the catalogue",
        ),
        (
            lambda d: d["cas"]["letsencrypt"]["active_sets"][0].update({"from": "2015-13-01"}),
            "'2015-13-01' is not a date",
        ),
        (
            lambda d: d["cas"]["letsencrypt"]["active_sets"][0].update(rsa=["R99"]),
            "'R99' is not a certificate of this CA",
        ),
    ],
)
def test_bad_catalogue_entries_fail_clearly(world_copy: Path, edit: object, message: str) -> None:
    _edit(world_copy, edit)
    with pytest.raises(ScenarioError, match=r"^ca-catalogue\.yaml: ") as info:
        load_catalogue(world_copy, CERTS_DIR)
    assert message in str(info.value)
