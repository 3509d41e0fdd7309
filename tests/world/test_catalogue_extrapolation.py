"""The catalogue past its last published step: a CA's practice continued, every value labelled."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.errors import ScenarioError
from simlib.world.catalogue import PRACTICE, ca, catalogue
from simlib.world.extrapolation import (
    assumption_label,
    extend,
    extrapolated_events,
    stand_in_name,
)

LE_LAST_PUBLISHED = date(2026, 5, 28)  # classic moves to Gen Y (upper bound of the window)
GEN_Y_EXPIRY = date(2028, 9, 2)


def test_practice_is_sourced_and_named() -> None:
    facts = ca("letsencrypt").practice
    assert {f.name for f in facts} <= set(PRACTICE)
    assert all(f.source and f.confidence in ("primary", "secondary", "unconfirmed") for f in facts)
    cadence = ca("letsencrypt").fact("batch_every_months")
    assert cadence is not None and cadence.value == "24" and cadence.confidence == "primary"
    assert ca("letsencrypt").fact("activate_after_days").confidence == "unconfirmed"


def test_published_sets_are_kept_unchanged() -> None:
    published = ca("letsencrypt").active_sets
    ext = extend("letsencrypt", date(2031, 1, 1))
    assert set(published) <= set(ext.sets)
    assert ext.last_published == LE_LAST_PUBLISHED
    assert extend("letsencrypt", date(2027, 1, 1)).certificates == ()


def test_the_2027_batch() -> None:
    ext = extend("letsencrypt", date(2029, 5, 31))
    names = [c.name for c in ext.certificates]
    assert names == [
        stand_in_name("letsencrypt", kt, 2027, i) for kt in ("rsa", "ecdsa") for i in range(3)
    ]
    rsa_a = ext.certificate("letsencrypt extrapolated RSA 2027a")
    assert (rsa_a.issuer, rsa_a.key_type, rsa_a.key_algorithm) == ("Root YR", "rsa", "rsa-2048")
    assert ext.certificate("letsencrypt extrapolated ECDSA 2027b").issuer == "Root YE"
    assert ext.certificate("letsencrypt extrapolated ECDSA 2027b").key_algorithm == "ec-p384"
    # 24 months after Gen Y's ceremony (2025-09-03), valid 3 years, in use 267 days later
    assert rsa_a.not_before.date() == date(2027, 9, 3)
    assert rsa_a.not_after.date() == date(2030, 9, 2)
    assert rsa_a.announced == date(2027, 11, 24)
    assert rsa_a.active_from == date(2028, 5, 27) < GEN_Y_EXPIRY
    assert ext.extrapolated_from == date(2028, 5, 27)
    assert ext.active(date(2028, 5, 26), "rsa") == ("YR1", "YR2")
    assert ext.active(date(2028, 5, 27), "rsa") == (
        "letsencrypt extrapolated RSA 2027a",
        "letsencrypt extrapolated RSA 2027b",
    )
    # the backup is announced (pinnable) but never issues
    backup = ext.certificate("letsencrypt extrapolated RSA 2027c")
    assert backup.active_from is None and backup.announced == date(2027, 11, 24)


def test_every_invented_certificate_is_an_assumption() -> None:
    ext = extend("letsencrypt", date(2035, 1, 1))
    assert ext.certificates
    for c in ext.certificates:
        assert c.assumed and c.origin == "extrapolated" and c.stand_in
        assert c.confidence == "unconfirmed" and c.spki_pin is None
        assert assumption_label(c.name) is not None and "assumption" in c.note
    new = [s for s in ext.sets if s not in ca("letsencrypt").active_sets]
    assert new and all(s.confidence == "unconfirmed" for s in new)


def test_real_names_are_not_labelled() -> None:
    assert all(assumption_label(name) is None for name in catalogue().certificates)
    assert assumption_label("letsencrypt extrapolated RSA 2027a").startswith("extrapolated")


@settings(max_examples=25, deadline=None)
@given(
    end=st.dates(min_value=date(2026, 6, 1), max_value=date(2044, 1, 1)),
    key_type=st.sampled_from(["rsa", "ecdsa"]),
    profile=st.sampled_from(["classic", "tlsserver", "shortlived"]),
)
def test_no_day_without_an_unexpired_intermediate(end: date, key_type: str, profile: str) -> None:
    ext = extend("letsencrypt", end)
    day = date(2026, 6, 1)
    while day <= end:
        names = ext.active(day, key_type, profile)
        assert names, day
        # a leaf issued today (45 days at most from 2028-02-16) chains to an unexpired one
        assert max(ext.certificate(n).not_after.date() for n in names) >= day
        day += timedelta(days=29)
    assert ext.active(end, key_type, profile)


def test_same_horizon_same_extension() -> None:
    a = extend.__wrapped__("letsencrypt", date(2032, 3, 1))
    b = extend.__wrapped__("letsencrypt", date(2032, 3, 1))
    assert a == b


def test_entrust_and_identrust_invent_nothing() -> None:
    for name in ("entrust", "identrust"):
        ext = extend(name, date(2060, 1, 1))
        assert ext.certificates == () and ext.sets == ca(name).active_sets
        assert ext.exited is not None and "no new intermediates" in ext.exited
    with pytest.raises(ScenarioError, match="identrust creates no new intermediates"):
        extend("identrust", date(2030, 1, 1)).schedule(
            "rsa", "default", date(2026, 6, 1), date(2030, 1, 1)
        )


AMAZON_POOL = tuple(f"Amazon RSA 2048 M0{i}" for i in (1, 2, 3, 4))
AMAZON_2029 = tuple(stand_in_name("amazon", "rsa", 2029, i) for i in range(4))


def test_amazon_takes_over_398_days_before_m01_m04_expire() -> None:
    """M01-M04 expire 2030-08-23; the practice: a successor of 4 RSA-2048 intermediates valid
    8 years takes over 398 days before (2029-07-21), created 49 days earlier (2029-06-02)."""
    ext = extend("amazon", date(2040, 1, 1))
    assert ext.active(date(2029, 7, 20), "rsa") == AMAZON_POOL
    assert ext.active(date(2029, 7, 21), "rsa") == AMAZON_2029
    assert ext.active(date(2030, 8, 24), "rsa") == AMAZON_2029
    assert ext.extrapolated_from == date(2029, 7, 21)
    first = ext.certificate(AMAZON_2029[0])
    assert (first.not_before.date(), first.not_after.date()) == (date(2029, 6, 2), date(2037, 6, 1))
    assert first.key_algorithm == "rsa-2048" and first.announced is None
    assert first.active_from == date(2029, 7, 21) and first.active_until == date(
        2036, 4, 28
    )  # its last issuing day
    # the next batch takes over 398 days before the 2029 batch expires (2037-06-01)
    assert ext.active(date(2036, 4, 29), "rsa")[0] == "amazon extrapolated RSA 2036a"
    assert ext.active(date(2030, 1, 1), "ecdsa") == ()
    # Amazon Root CA 1 (to 2038-01-17) is succeeded 10 years ahead: the 2029 batch is under it
    root = ext.certificate(first.issuer)
    assert root.name == "amazon extrapolated root RSA 2028" and root.role == "root"
    assert (root.not_before.date(), root.not_after.date()) == (date(2028, 1, 18), date(2048, 1, 17))
    assert root.assumed and root.key_algorithm == "rsa-2048"  # Amazon Root CA 1's algorithm
    assert assumption_label(root.name) is not None


def test_root_succession_and_its_cross_sign() -> None:
    """Root YR (to 2045-09-02) is succeeded 10 years ahead, on 2035-09-03, the day of the 2035
    batch: the first batch under the new root. Root YR cross-signs it for 7 years."""
    ext = extend("letsencrypt", date(2047, 1, 1))
    new = ext.certificate("letsencrypt extrapolated root RSA 2035")
    assert (new.not_before.date(), new.not_after.date()) == (date(2035, 9, 3), date(2055, 9, 2))
    assert new.issuer == new.name and new.key_algorithm == "rsa-4096"
    assert ext.certificate("letsencrypt extrapolated RSA 2033a").issuer == "Root YR"
    first = ext.certificate("letsencrypt extrapolated RSA 2035a")
    assert first.issuer == new.name and first.active_from == date(2036, 5, 27)
    cross = ext.certificate("letsencrypt extrapolated root RSA 2035/Root YR")
    assert (cross.role, cross.subject, cross.issuer) == ("cross", new.name, "Root YR")
    assert cross.not_after.date() == date(2042, 9, 2) and cross.assumed
    # the server sends the cross-sign while it is valid: clients trusting Root YR build a path
    assert ext.chain(first.name, date(2036, 6, 1)) == (first.name, cross.name)
    assert ext.chain(first.name, date(2042, 9, 3)) == (first.name,)
    assert ext.chain("letsencrypt extrapolated RSA 2033a", date(2034, 1, 1)) == (
        "letsencrypt extrapolated RSA 2033a",
    )
    assert ext.certificate("letsencrypt extrapolated root ECDSA 2035").key_algorithm == "ec-p384"


def test_without_a_succession_rule_a_batch_outliving_its_root_fails(monkeypatch) -> None:
    import dataclasses

    import simlib.world.extrapolation as extrapolation

    real = extrapolation.ca
    le = real("letsencrypt")
    facts = tuple(f for f in le.practice if f.name != "root_successor_before_expiry_years")
    monkeypatch.setattr(extrapolation, "ca", lambda name: dataclasses.replace(le, practice=facts))
    extrapolation.extend.cache_clear()
    try:
        with pytest.raises(ScenarioError, match="would outlive Root YR"):
            extrapolation.extend("letsencrypt", date(2046, 1, 1))
    finally:
        extrapolation.extend.cache_clear()


#: the CAs a host can name with ``ca:`` (identrust issues nothing)
USABLE = ("letsencrypt", "amazon", "digicert", "google", "entrust")


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(USABLE),
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
    years=st.integers(min_value=1, max_value=40),
    key_type=st.sampled_from(["rsa", "ecdsa"]),
)
def test_every_usable_ca_has_an_intermediate_for_40_years(
    name: str, start: date, years: int, key_type: str
) -> None:
    cau = ca(name)
    start = max(start, min(s.start for s in cau.active_sets))
    if not any(getattr(s, key_type) for s in cau.active_sets if s.start <= start):
        key_type = "rsa"  # ACM and DigiCert issue RSA only here
    end = start + timedelta(days=365 * years)
    ext = extend(name, end)
    assert ext.schedule(key_type, "classic", start, end)
    day = start
    while day <= end:
        names = ext.active(day, key_type)
        assert names, day
        expiries = [ext.certificate(n).not_after for n in names]
        assert all(e is None or e.date() >= day for e in expiries), (day, names)
        day += timedelta(days=97)


@pytest.mark.parametrize("name", USABLE)
def test_every_usable_ca_documents_its_practice(name: str) -> None:
    facts = {f.name: f for f in ca(name).practice}
    assert set(facts) <= set(PRACTICE) and facts
    assert all(
        f.source and f.confidence in ("primary", "secondary", "unconfirmed") for f in facts.values()
    )
    if name == "entrust":
        assert facts["new_intermediates"].value == "none"
        return
    assert "intermediate_validity_years" in facts
    assert {"batch_every_months", "takeover_before_expiry_days"} & set(facts)
    for rule in ("root_successor_before_expiry_years", "root_validity_years", "cross_sign_years"):
        assert facts[rule].confidence == "unconfirmed"  # no CA publishes its next root


def test_events_are_dated_and_unconfirmed() -> None:
    found = extrapolated_events("letsencrypt", date(2026, 6, 1), date(2031, 1, 1))
    kinds = [(e.date, e.kind) for e in found]
    assert (date(2027, 9, 3), "intermediate_creation") in kinds
    assert (date(2028, 5, 27), "intermediate_rotation") in kinds
    assert (date(2030, 9, 2), "intermediate_expiry") in kinds
    assert all(e.confidence == "unconfirmed" and "assumption" in e.detail for e in found)
    assert extrapolated_events("letsencrypt", date(2026, 6, 1), date(2027, 1, 1)) == ()
    assert extrapolated_events("entrust", date(2026, 6, 1), date(2031, 1, 1)) == ()


def test_root_generations_reach_the_roadmap() -> None:
    found = extrapolated_events("amazon", date(2026, 6, 1), date(2036, 1, 1))
    rows = {(e.date, e.kind) for e in found}
    assert (date(2028, 1, 18), "root_creation") in rows
    assert (date(2028, 1, 18), "cross_sign") in rows
    assert (date(2035, 1, 17), "cross_sign_expiry") in rows
    assert (date(2029, 7, 21), "intermediate_rotation") in rows
    assert all(e.confidence == "unconfirmed" and "assumption" in e.detail for e in found)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{name: batch_every_months, value: 24,",
            "{name: every_so_often, value: 24,",
            "is not one of",
        ),
        (
            "{name: batch_every_months, value: 24,",
            "{name: batch_every_months, value: null,",
            "is empty",
        ),
        (
            "value: 24, source: community",
            "value: 24, source: '', x: community",
            "'source' is empty",
        ),
    ],
)
def test_a_broken_practice_entry_fails(world_copy, old: str, new: str, message: str) -> None:
    from simlib.world.catalogue import load_catalogue
    from tests.world.conftest import CERTS_DIR

    path = world_copy / "ca-catalogue.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError, match=message):
        load_catalogue(world_copy, CERTS_DIR)


def test_a_cadence_that_is_not_a_number_fails(monkeypatch) -> None:
    import dataclasses

    import simlib.world.extrapolation as extrapolation

    real = extrapolation.ca
    le = real("letsencrypt")
    facts = tuple(
        dataclasses.replace(f, value="two years") if f.name == "batch_every_months" else f
        for f in le.practice
    )
    monkeypatch.setattr(extrapolation, "ca", lambda name: dataclasses.replace(le, practice=facts))
    extrapolation.extend.cache_clear()
    try:
        with pytest.raises(ScenarioError, match="'two years' is not a whole number"):
            extrapolation.extend("letsencrypt", date(2030, 1, 1))
    finally:
        extrapolation.extend.cache_clear()


def test_schedule_lists_changes_and_refuses_a_ca_that_issues_nothing() -> None:
    ext = extend("letsencrypt", date(2029, 5, 31))
    assert ext.schedule("ecdsa", "classic", date(2026, 6, 1), date(2029, 5, 31)) == [
        (date(2026, 6, 1), ("YE1", "YE2")),
        (
            date(2028, 5, 27),
            ("letsencrypt extrapolated ECDSA 2027a", "letsencrypt extrapolated ECDSA 2027b"),
        ),
    ]
    with pytest.raises(ScenarioError, match="issues no rsa leaves on 2026-06-01"):
        extend("identrust", date(2029, 5, 31)).schedule(
            "rsa", "classic", date(2026, 6, 1), date(2029, 5, 31)
        )
