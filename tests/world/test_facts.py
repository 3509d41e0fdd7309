"""Issue 16's corrected world facts, each asserted against the data with the source it cites.

Every test names the primary source the fact was checked against; a row that the reference
notes leave unconfirmed must stay labelled so.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from simlib.world import active_intermediates, audit, certificate, coverage, defaults_on, events
from simlib.world.adoption import curve_info, curve_names, points
from simlib.world.catalogue import ca
from tests.world.conftest import CERTS_DIR

ACM_POOL = tuple(f"Amazon RSA 2048 M0{i}" for i in (1, 2, 3, 4))


def _x509(name: str) -> x509.Certificate:
    path = certificate(name).path
    assert path is not None, f"{name} has no real file"
    return x509.load_pem_x509_certificate(path.read_bytes())


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- ACM: the four RSA-2048 intermediates, real certificates -------------------------------


@pytest.mark.parametrize("name", ACM_POOL)
def test_acm_intermediates_are_real_and_signed_by_amazon_root_ca_1(name: str) -> None:
    # amazontrust.com/repository; the file's signature is the proof it is Amazon's
    cert = certificate(name)
    assert not cert.stand_in and cert.confidence == "primary"
    assert cert.issuer == "Amazon Root CA 1" and cert.key_type == "rsa"
    assert cert.spki_pin == cert.published_spki_pin is not None
    assert cert.not_before is not None and cert.not_before.date() == date(2022, 8, 23)
    assert cert.not_after is not None and cert.not_after.date() == date(2030, 8, 23)
    _x509(name).verify_directly_issued_by(_x509("Amazon Root CA 1"))


def test_acm_pool_holds_all_four_and_stays_an_assumption() -> None:
    # aws.amazon.com/blogs/security/amazon-introduces-dynamic-intermediate-certificate-authorities
    assert active_intermediates("amazon", date(2024, 1, 1), "rsa") == ACM_POOL
    (pool,) = ca("amazon").active_sets
    assert pool.start == date(2022, 10, 11) and pool.confidence == "unconfirmed"
    assert len({certificate(n).spki_pin for n in ACM_POOL}) == 4  # four keys, four pins


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # serial 0
def test_amazon_root_ca_1_cross_sign_is_the_real_file() -> None:
    cross = certificate("Amazon Root CA 1/Starfield G2")
    assert not cross.stand_in and cross.spki_pin == certificate("Amazon Root CA 1").spki_pin
    _x509("Amazon Root CA 1/Starfield G2").verify_directly_issued_by(
        _x509("Starfield Services Root G2")
    )


def test_acm_renewal_lead_time_by_lifetime() -> None:
    # docs.aws.amazon.com/acm/latest/userguide/dns-renewal-validation.html: 395-day
    # certificates renew 60 days before expiry, 198-day ones 45 days
    old, new = defaults_on("acm", date(2026, 2, 17)), defaults_on("aws-acm", date(2026, 2, 18))
    assert (old.renew_before_days, new.renew_before_days) == (60, 45)
    for d in (old, new):
        fact = d.facts["renew_before_days"]
        assert fact.confidence == "primary" and "docs.aws.amazon.com/acm" in fact.source


# --- Caddy / CertMagic ---------------------------------------------------------------------


def test_caddy_new_key_per_renewal_from_caddy_2_7_0() -> None:
    # caddyserver/caddy go.mod at tag v2.7.0 (2023-08-02): certmagic v0.19.1
    assert defaults_on("caddy", date(2023, 8, 1)).reuses_key is True
    after = defaults_on("caddy", date(2023, 8, 2))
    assert after.reuses_key is False and "2.7.0" in after.facts["reuses_key"].version


def test_caddy_ari_from_caddy_2_8_0() -> None:
    # certmagic commit 0e88b3e (first in v0.21.0); caddy v2.8.0 (2024-05-29) ships v0.21.2
    assert defaults_on("caddy", date(2024, 5, 28)).ari is False
    after = defaults_on("certmagic", date(2024, 5, 29))
    assert after.ari is True and after.facts["ari"].confidence == "primary"
    assert "v0.21" in after.facts["ari"].version


# --- Let's Encrypt dates -------------------------------------------------------------------


def test_r3_dst_is_the_served_cross_sign_not_the_superseded_one() -> None:
    # letsencrypt/website commit a909622b (2020-10-08) "Update IdenTrust cross-signs"
    r3 = certificate("R3/DST")
    assert r3.file == "letsencrypt/lets-encrypt-r3-cross-signed.pem"
    assert (r3.not_before, r3.not_after) == (
        _utc(2020, 10, 7, 19, 21, 40),
        _utc(2021, 9, 29, 19, 21, 40),
    )
    old = x509.load_pem_x509_certificate(
        (CERTS_DIR / "letsencrypt/lets-encrypt-r3-cross-signed-by-dst.pem").read_bytes()
    )
    assert old.not_valid_after_utc == _utc(2021, 9, 29, 19, 52, 4)  # kept only as a vector
    expiry = events("letsencrypt", date(2021, 9, 29), date(2021, 9, 29))
    assert [e.certificates for e in expiry] == [("R3/DST",)] and "19:21:40" in expiry[0].detail
    _x509("R3/DST").verify_directly_issued_by(_x509("DST Root CA X3"))


def test_authority_x1_cross_sign_ends_2020_10_19() -> None:
    # letsencrypt/website static/certs/lets-encrypt-x1-cross-signed.pem
    x1 = certificate("Let's Encrypt Authority X1/DST")
    assert x1.not_after == _utc(2020, 10, 19, 22, 33, 36) and x1.confidence == "primary"
    ends = [e for e in events("letsencrypt") if e.kind == "cross_sign_expiry"]
    assert (date(2020, 10, 19), ("Let's Encrypt Authority X1/DST",)) in {
        (e.date, e.certificates) for e in ends
    }


def test_authority_x1_and_x3_share_one_real_key() -> None:
    names = [
        "Let's Encrypt Authority X1",
        "Let's Encrypt Authority X1/DST",
        "Let's Encrypt Authority X3",
        "Let's Encrypt Authority X3/DST",
    ]
    assert {certificate(n).spki_pin for n in names} == {
        "YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg="
    }


def test_cloudflare_coverage_point_is_dated_by_its_post() -> None:
    # blog.cloudflare.com/upcoming-lets-encrypt-certificate-chain-change-... (2024-03-14)
    (point,) = [c for c in coverage("ISRG Root X1", "android") if c.basis == "requests"]
    assert point.date == date(2024, 3, 14) and point.share == pytest.approx(1 - 0.0296)
    assert point.confidence == "primary" and "blog.cloudflare.com" in point.source


# --- adoption curves tied to their data ----------------------------------------------------


def _share(name: str, days: float) -> float:
    c = curve_info(name)
    return (1 - c.never_update_share) * (1 - sum(w * math.exp(-days / m) for w, m in c.components))


def _series(name: str) -> list[str]:
    return [s.strip() for s in curve_info(name).fitted_to.split(";") if s.strip()]


@pytest.mark.parametrize("name", curve_names())
def test_each_curve_names_its_series_and_meets_their_points(name: str) -> None:
    series = _series(name)
    if not series:  # a modelling choice, not a fit: it must say so
        assert "fitted to no data" in curve_info(name).note
        return
    for s in series:
        published = [p for p in points(s) if p.share_of == "installs"]
        assert published, f"{name}: series {s!r} has no points in adoption-points.csv"
        for p in published:
            assert abs(_share(name, p.days) - p.share) <= 0.03, (name, s, p.days)


def test_the_capped_curve_is_not_claimed_as_a_fit() -> None:
    assert _series("pessimistic-capped") == []
    assert abs(_share("pessimistic-capped", 31) - 0.568) > 0.2  # far from neurons-dk-2015


@given(
    st.sampled_from(curve_names()),
    st.floats(0, 3650, allow_nan=False),
    st.floats(0, 3650, allow_nan=False),
)
def test_curves_rise_to_at_most_their_updating_share(name: str, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    top = 1 - curve_info(name).never_update_share
    assert 0 <= _share(name, lo) <= _share(name, hi) + 1e-12 <= top + 1e-12


# --- roadmap rows that were missing --------------------------------------------------------

ADDED = [
    # (date, kind, a fragment of the cited source, confidence)
    (date(2025, 7, 31), "distrust", "ccadb.org/g/public/c/eMOETf47kFY", "primary"),
    (date(2026, 8, 1), "trust_store_change", "apple/apple-root-program", "primary"),
    (date(2027, 7, 1), "trust_store_change", "apple/apple-root-program", "primary"),
    (date(2025, 6, 2), "root_migration", "sectigo.com/knowledge-base", "primary"),
    (date(2025, 4, 15), "root_migration", "sectigo.com/knowledge-base", "primary"),
    (date(2025, 6, 24), "root_migration", "ccadb.org/g/public/c/tk2CV6Mc-xo", "primary"),
    (
        date(2025, 3, 15),
        "intermediate_retirement",
        "ccadb.org/g/public/c/tk2CV6Mc-xo",
        "unconfirmed",
    ),
    (
        date(2024, 11, 12),
        "chain_change",
        "entrust.com/tls-certificate-information-center",
        "primary",
    ),
    (date(2026, 7, 1), "distrust", "knowledge.digicert.com/alerts", "primary"),
    (date(2021, 12, 15), "root_expiry", "Google Security Blog", "primary"),
    (date(2030, 5, 26), "root_trust_end", "chromium.org", "unconfirmed"),
    (date(2028, 8, 1), "root_trust_end", "chromium.org", "unconfirmed"),
    (date(2031, 6, 22), "root_trust_end", "chromium.org", "unconfirmed"),
    (date(2024, 9, 1), "root_trust_end", "chromium.org", "unconfirmed"),
]


@pytest.mark.parametrize(("day", "kind", "source", "confidence"), ADDED)
def test_missing_events_are_dated_and_sourced(
    day: date, kind: str, source: str, confidence: str
) -> None:
    found = [e for e in events(start=day, end=day) if e.kind == kind and source in e.source]
    assert len(found) == 1 and found[0].confidence == confidence


def test_chrome_term_limits_name_the_catalogue_roots() -> None:
    ends = {e.date: e.certificates for e in events() if e.kind == "root_trust_end"}
    assert ends[date(2030, 5, 26)] == tuple(f"Amazon Root CA {i}" for i in (1, 2, 3, 4))
    assert ends[date(2028, 8, 1)] == ("DigiCert Global Root G2", "DigiCert Global Root G3")
    assert ends[date(2030, 6, 4)] == ("ISRG Root X1",)  # LE's own 15-year date, the same rule


def test_unconfirmed_reference_rows_stay_unconfirmed() -> None:
    # ca-events.md open questions 1 and 11
    (rotation,) = events("letsencrypt", date(2025, 8, 20), date(2025, 8, 20))
    assert rotation.confidence == "unconfirmed"
    assert ca("letsencrypt").fact("selection").confidence == "unconfirmed"  # type: ignore[union-attr]
    assert ca("amazon").fact("selection").confidence == "unconfirmed"  # type: ignore[union-attr]


# --- the audit -----------------------------------------------------------------------------


def test_the_audit_passes() -> None:
    assert audit() == []


def _blank_source(path: Path, match: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames or [], list(reader)
    hit = [r for r in rows if match in r["detail"]]
    assert len(hit) == 1
    hit[0]["source"] = ""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)


def test_a_missing_source_fails_the_audit(world_copy: Path) -> None:
    _blank_source(world_copy / "ca-roadmap.csv", "Apple Root Program Policy 2.0 in force")
    (problem,) = audit(world_copy)
    assert "ca-roadmap.csv" in problem and "source" in problem


def test_a_catalogue_certificate_without_source_fails_the_audit(world_copy: Path) -> None:
    path = world_copy / "ca-catalogue.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    (i,) = [k for k, line in enumerate(lines) if "name: Amazon RSA 2048 M03," in line]
    cited = "source: amazontrust.com/repository (ATS subordinate CAs), "
    assert cited in lines[i]
    lines[i] = lines[i].replace(cited, "")
    path.write_text("".join(lines), encoding="utf-8")
    (problem,) = audit(world_copy)
    assert "ca-catalogue.yaml" in problem and "source" in problem
