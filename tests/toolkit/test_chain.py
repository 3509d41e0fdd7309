"""Path completion from trusted roots, and whether an observed chain can stand for a host."""

from __future__ import annotations

import ipaddress
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.pki import derive_private_key, load_certificates, make_leaf, spki_pin, validity
from simlib.toolkit import ConfigError, audit, parse_config
from simlib.toolkit.chain import (
    build_path,
    catalogue_roots,
    check_observed,
    complete_path,
    covers,
    load_ca_file,
    stale_reason,
)
from simlib.world.data import certs_dir
from tests.toolkit.conftest import TODAY
from tests.toolkit.pki import HOST

LE = certs_dir() / "letsencrypt"


def _real(name: str):
    return load_certificates(LE / name)[0].certificate


def _pem(tmp_path: Path, name: str, *certs) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def _leaf(test_pki, names, start: date, days: int = 90, serial: int = 40):
    nb, na = validity(start, days)
    key = derive_private_key(b"toolkit/ca1", "ec-p256")  # the test intermediate's key
    return make_leaf(
        derive_private_key(f"toolkit/leaf-{serial}".encode(), "ec-p256").public_key(),
        list(names),
        issuer_cert=test_pki.intermediate,
        issuer_key=key,
        not_before=nb,
        not_after=na,
        serial=serial,
    )


# ----------------------------------------------------------------- path completion


def test_catalogue_roots_are_the_shipped_real_roots():
    roots = dict((o, c) for c, o in catalogue_roots())
    x1 = roots["simlib catalogue (ISRG Root X1)"]
    assert x1 == _real("isrgrootx1.pem")
    assert all(c.subject == c.issuer for c in roots.values())


def test_root_the_server_does_not_send_comes_from_the_catalogue():
    """Let's Encrypt serves R11 without ISRG Root X1; every platform checks pins against X1 too."""
    r11 = _real("2024_r11.pem")
    path = complete_path([r11])
    assert [c.role for c in path] == ["leaf", "root"]
    assert path[1].cert == _real("isrgrootx1.pem")
    assert path[1].origin == "simlib catalogue (ISRG Root X1)" and not path[1].served
    assert [c.role for c in complete_path([r11], catalogue=False)] == ["leaf"]


def test_ca_file_completes_and_is_named(tmp_path, test_pki):
    bundle = _pem(tmp_path, "ca.pem", test_pki.backup_root, test_pki.root)
    path = complete_path(test_pki.chain, ca_file=bundle)
    assert [c.role for c in path] == ["leaf", "intermediate", "root"]
    assert path[2].cert == test_pki.root and path[2].origin == f"ca-file {bundle}"
    # An explicit anchor is preferred, and a served copy of a trusted root is replaced by it.
    path = complete_path([*test_pki.chain, test_pki.root], [test_pki.root], ca_file=bundle)
    assert path[2].origin == "anchor" and not path[2].served
    assert build_path([*test_pki.chain, test_pki.root])[2].origin == "served"


def test_ca_file_must_hold_ca_certificates(tmp_path, test_pki):
    bad = _pem(tmp_path, "leaf.pem", test_pki.leaf)
    with pytest.raises(ConfigError, match=r"certificate \[0\].*not a CA certificate"):
        load_ca_file(bad)
    with pytest.raises(ConfigError, match=r"no such file|cannot read"):
        load_ca_file(tmp_path / "missing.pem")


def test_root_pin_without_the_root_served(tmp_path, test_pki, pin):
    """The normal case: the server omits its root. The trusted root completes the path."""
    xml = f"""<network-security-config><domain-config>
      <domain>{HOST}</domain>
      <pin-set><pin digest="SHA-256">{pin["root"]}</pin>
      <pin digest="SHA-256">{pin["backup_root"]}</pin></pin-set>
    </domain-config></network-security-config>""".encode()
    config = parse_config(xml, "nsc.xml")
    blocked = audit(config, test_pki.chain, host=HOST, today=TODAY)
    assert blocked.verdicts[0].status == "fail" and blocked.exit_code() == 1
    bundle = _pem(tmp_path, "ca.pem", test_pki.root)
    report = audit(config, test_pki.chain, host=HOST, today=TODAY, ca_file=bundle)
    assert report.verdicts[0].status == "pass" and report.exit_code() == 0
    assert report.verdicts[0].matches[0].role == "root"
    assert f"trusted from ca-file {bundle}" in report.to_table()
    assert report.to_dict()["chain"][2]["origin"] == f"ca-file {bundle}"


# ------------------------------------------------------------------ observation


def test_current_chain_for_its_host_is_clean(test_pki):
    assert check_observed(test_pki.chain, HOST, TODAY) == []
    assert check_observed(test_pki.chain, "WWW.example.com.", TODAY) == []


@pytest.mark.parametrize(
    ("on", "rule"),
    [
        (date(2026, 4, 1), "leaf-expired"),  # valid 2026-01-01 .. 2026-03-31 23:59:59
        (date(2025, 12, 31), "leaf-not-yet-valid"),
    ],
)
def test_leaf_outside_its_validity(test_pki, on, rule):
    found = check_observed(test_pki.chain, HOST, on)
    assert [f.rule for f in found] == [rule] and found[0].severity == "warning"
    # The first and last days of validity are fine.
    assert check_observed(test_pki.chain, HOST, date(2026, 1, 1)) == []
    assert check_observed(test_pki.chain, HOST, date(2026, 3, 31)) == []


def test_host_not_in_the_leaf(test_pki):
    found = check_observed(test_pki.chain, "other.example.org", TODAY)
    assert [f.rule for f in found] == ["host-not-in-leaf"]
    assert "api.example.com, www.example.com" in found[0].message


def test_expired_served_ca(test_pki):
    leaf = _leaf(test_pki, [HOST], date(2027, 6, 1), serial=41)  # after Toolkit CA 1 expires
    found = check_observed([leaf, test_pki.intermediate], HOST, date(2027, 7, 1))
    assert [f.rule for f in found] == ["ca-expired"]


def test_stale_chain_for_another_host_is_refused(test_pki, pin):
    """The bug report: a 2023 leaf of another host passed the audit in 2026."""
    old = _leaf(test_pki, ["old.example.net"], date(2023, 1, 1), serial=42)
    config = parse_config(f"{HOST} sha256/{pin['ca1']}\n".encode(), "pins.txt")
    found = check_observed([old, test_pki.intermediate], HOST, TODAY)
    assert {f.rule for f in found} == {"leaf-expired", "host-not-in-leaf"}
    assert stale_reason(found)
    with pytest.raises(ConfigError, match="cannot stand for this host") as info:
        audit(config, [old, test_pki.intermediate], host=HOST, today=TODAY)
    assert "\n" not in str(info.value) and "expired on 2023-03-31" in str(info.value)
    # Either alone is a warning: the past date given on purpose, or a sibling host.
    report = audit(config, [old, test_pki.intermediate], host="old.example.net", today=TODAY)
    assert "leaf-expired" in {f.rule for f in report.findings}
    past = audit(
        config, [old, test_pki.intermediate], host="old.example.net", today=date(2023, 2, 1)
    )
    assert not {"leaf-expired", "host-not-in-leaf"} & {f.rule for f in past.findings}


def test_wildcard_and_ip_names(test_pki):
    leaf = _leaf(test_pki, ["*.example.com"], TODAY, serial=43)
    assert covers(leaf, "api.example.com")
    assert not covers(leaf, "example.com")  # a wildcard needs one label
    assert not covers(leaf, "a.b.example.com")  # and covers exactly one
    key = derive_private_key(b"toolkit/ip", "ec-p256")
    nb, na = validity(TODAY, 30)
    ip_leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")]))
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(nb)
        .not_valid_after(na)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("192.0.2.7"))]),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    assert covers(ip_leaf, "192.0.2.7") and not covers(ip_leaf, "192.0.2.8")
    assert not covers(ip_leaf, "7.2.0.192.in-addr.arpa")


_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(_label, min_size=2, max_size=4), extra=_label)
def test_covers_each_listed_name_and_one_label_under_a_wildcard(test_pki, labels, extra):
    name = ".".join(labels)
    leaf = _leaf(test_pki, [name, f"*.{name}"], TODAY, serial=44)
    assert covers(leaf, name) and covers(leaf, name.upper() + ".")
    assert covers(leaf, f"{extra}.{name}")
    assert not covers(leaf, f"{extra}.{extra}.{name}")
    assert not covers(leaf, f"{extra}{name}")


def test_check_observed_dates_are_whole_utc_days(test_pki):
    end = test_pki.leaf.not_valid_after_utc.date()
    assert check_observed(test_pki.chain, HOST, end) == []
    assert [f.rule for f in check_observed(test_pki.chain, HOST, end + timedelta(days=1))] == [
        "leaf-expired"
    ]


def test_pins_of_the_real_root_match_the_catalogue():
    root = next(c for c, o in catalogue_roots() if o.endswith("(ISRG Root X1)"))
    assert spki_pin(root) == "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="
