"""Forecasts on real CA certificates: the catalogue roadmap, Apple's rule, root pins by key,
several hosts, stale chains and the 90 → 64 → 45-day schedule.

Expected dates are derived here from the renewal rule (``docs/model.md``: a renewal after
``lifetime − renew_before_days`` days, or ``floor(fraction · lifetime)``) and the published
dates, never copied from a forecast's output.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

import simlib.toolkit.chain as chain_module
from simlib.cli.main import main
from simlib.pki import derive_private_key, spki_pin
from simlib.toolkit import ConfigError, parse_config
from simlib.toolkit.forecast import forecast
from simlib.world.data import certs_dir
from simlib.world.realcerts import read_real_cert
from tests.toolkit.pki import HOST

FLEET = {
    "users": 100_000,
    "release_every_days": 14,
    "adoption": {"never_update_share": 0.02, "components": [{"weight": 1.0, "mean_lag_days": 7}]},
}
R3_SWITCH = date(2024, 6, 6)  # letsencrypt.org/2024/04/12/changes-to-issuance-chains
#: certbot before 4.0.0 renews 30 days before expiry (certbot CHANGELOG); 4.0.0+ at 2/3
CERTBOT_BEFORE_DAYS = 30
CERTBOT_FRACTION = 0.6667
ACM_BEFORE_DAYS = 60  # ACM managed renewal, before 2026-02-18 (tooling-defaults.csv)
_FAKE_LEAVES: list[x509.Certificate] = []


def real(name: str) -> x509.Certificate:
    return read_real_cert(certs_dir() / "letsencrypt" / name).certificate


def fake_leaf(
    issuer: x509.Certificate,
    host: str,
    not_before: date,
    days: int,
    seed: str,
    key_type: str = "rsa-2048",
):
    """A leaf naming ``issuer`` as its issuer, signed by a test key (a real CA's key is not
    ours): the forecast reads the served intermediate's key, not the leaf's signature."""
    key = derive_private_key(f"forecast-real/{seed}".encode(), key_type)
    nb = datetime.combine(not_before, datetime.min.time(), UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(abs(hash(seed)) % 10**12 + 1)
        .not_valid_before(nb)
        .not_valid_after(nb + timedelta(days=days) - timedelta(seconds=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(
            derive_private_key(f"forecast-real/{seed}/signer".encode(), "ec-p256"), hashes.SHA256()
        )
    )
    _FAKE_LEAVES.append(cert)
    return cert


@pytest.fixture(autouse=True)
def _unsigned_leaves_link_by_name(monkeypatch):
    """Test-only: a fake leaf links to the served certificate its issuer names (the real
    intermediates' links, R3 ← ISRG Root X1, are still verified)."""
    verify = chain_module._issued_by

    def issued_by(cert, issuer):
        if cert in _FAKE_LEAVES:  # equal, also when read back from a file
            return cert.issuer == issuer.subject
        return verify(cert, issuer)

    monkeypatch.setattr(chain_module, "_issued_by", issued_by)


def nsc(pins: list[str], host: str = HOST) -> bytes:
    items = "".join(f'<pin digest="SHA-256">{p}</pin>' for p in pins)
    return (
        '<?xml version="1.0" encoding="utf-8"?><network-security-config><domain-config>'
        f"<domain>{host}</domain><pin-set>{items}</pin-set></domain-config>"
        "</network-security-config>"
    ).encode()


def plist(leaf: list[str] | None, ca: list[str] | None, host: str = HOST) -> bytes:
    def identities(key: str, pins: list[str] | None) -> str:
        if pins is None:
            return ""
        items = "".join(
            f"<dict><key>SPKI-SHA256-BASE64</key><string>{p}</string></dict>" for p in pins
        )
        return f"<key>{key}</key><array>{items}</array>"

    return (
        '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>'
        "<key>NSAppTransportSecurity</key><dict><key>NSPinnedDomains</key><dict>"
        f"<key>{host}</key><dict>{identities('NSPinnedLeafIdentities', leaf)}"
        f"{identities('NSPinnedCAIdentities', ca)}</dict></dict></dict></dict></plist>"
    ).encode()


def renewals(first: date, offset_days: int, until: date) -> list[date]:
    return [
        first + timedelta(days=offset_days * k)
        for k in range(1, 100)
        if first + timedelta(days=offset_days * k) <= until
    ]


# ------------------------------------------------------------------ the 2023 Let's Encrypt chain

ISSUED_2023 = date(2023, 3, 1)
START_2023 = date(2023, 4, 1)


@pytest.fixture()
def le2023():
    r3, x1, x1_dst = (
        real("lets-encrypt-r3.pem"),
        real("isrgrootx1.pem"),
        real("isrg-root-x1-cross-signed-by-dst.pem"),
    )
    leaf = fake_leaf(r3, HOST, ISSUED_2023, 90, "le2023")
    return leaf, r3, x1, x1_dst


@pytest.mark.parametrize(
    ("key_type", "successors"), [("rsa-2048", ("R10", "R11")), ("ec-p256", ("E5", "E6"))]
)
def test_r3_pin_breaks_at_the_first_renewal_after_the_r10_r11_switch(key_type, successors):
    """Acceptance: an R3 pin is not safe for 900 days: the catalogue's 2024-06-06 switch (ECDSA
    leaves, issued from R3 until then, move to E5/E6)."""
    r3 = real("lets-encrypt-r3.pem")
    leaf = fake_leaf(r3, HOST, ISSUED_2023, 90, f"le2023-{key_type}", key_type)
    frame = forecast(
        [parse_config(nsc([spki_pin(r3)]), "r3.xml")],
        [leaf, r3],
        host=HOST,
        fleet=FLEET,
        today=START_2023,
        horizon_days=900,
    )
    every = 90 - CERTBOT_BEFORE_DAYS
    k = math.ceil((R3_SWITCH - ISSUED_2023).days / every)
    expected = ISSUED_2023 + timedelta(days=every * k)  # the first renewal on/after the switch
    row = frame.iloc[0]
    assert (row["pin"], row["levels"]) == ("intermediate_spki", "intermediate")
    assert row["first_break"].date() == expected == date(2024, 6, 23)
    assert row["locked_share"] > 0.9  # every version released before the renewal pins R3
    sc = frame.attrs["resolved"]
    assert sc.hosts[0].ca == "letsencrypt" and sc.hosts[0].first_issued == ISSUED_2023
    assert {"R3", *successors} <= {i.name for i in sc.cas[0].intermediates}
    iss = frame.attrs["issuances"]
    served = dict(zip(pd.to_datetime(iss["date"]).dt.date, iss["intermediate"], strict=True))
    assert served[ISSUED_2023] == "R3" and served[expected] in successors
    assert "profile classic guessed" in frame.attrs["notes"][HOST]


def test_a_pin_on_isrg_root_x1_is_a_root_pin_even_as_a_cross_sign(le2023):
    """The chain carries X1 cross-signed by DST (not self-signed, so in the intermediate
    position): classified by its key, a catalogue root, it survives the intermediate switch."""
    leaf, r3, x1, x1_dst = le2023  # the chain as served in 2023: leaf, R3, X1 cross-signed
    cfg = parse_config(nsc([spki_pin(x1)]), "x1.xml")
    frame = forecast(
        [cfg], [leaf, r3, x1_dst], host=HOST, fleet=FLEET, today=START_2023, horizon_days=900
    )
    row = frame.iloc[0]
    assert (row["pin"], row["levels"]) == ("root_spki", "root")
    assert pd.isna(row["first_break"]) and row["locked_share"] == 0.0


def test_served_intermediate_issues_the_current_leaf_even_after_the_roadmap_moved_on():
    """A leaf from R3 observed on 2024-07-01 (the roadmap already at R10/R11): the current
    certificate stays R3's, so the R3 pin breaks at the first renewal, not at random."""
    r3 = real("lets-encrypt-r3.pem")
    issued = date(2024, 5, 20)
    leaf = fake_leaf(r3, HOST, issued, 90, "late-r3")
    frame = forecast(
        [parse_config(nsc([spki_pin(r3)]), "r3.xml")],
        [leaf, r3],
        host=HOST,
        fleet=FLEET,
        today=date(2024, 7, 1),
        horizon_days=200,
    )
    first_renewal = issued + timedelta(days=90 - CERTBOT_BEFORE_DAYS)
    assert frame.iloc[0]["first_break"].date() == first_renewal
    iss = frame.attrs["issuances"]
    assert iss.iloc[0]["intermediate"] == "R3" and iss.iloc[1]["intermediate"] in ("R10", "R11")


# ------------------------------------------------------------------------------ Apple's rule


def test_leaf_and_ca_plist_on_an_acm_host_breaks_at_the_first_renewal(test_pki, pin):
    """Acceptance: ATS needs the leaf list and the CA list to match; ACM renews with a new
    key 60 days before expiry, so the leaf list fails at the first renewal."""
    today = date(2026, 1, 10)
    both = parse_config(plist([pin["leaf"]], [pin["ca1"]]), "both.plist")
    ca_only = parse_config(plist(None, [pin["ca1"]]), "ca.plist")
    any_rule = parse_config(nsc([pin["leaf"], pin["ca1"]]), "nsc.xml")
    frame = forecast(
        [both, ca_only, any_rule],
        test_pki.chain,
        host=HOST,
        fleet=FLEET,
        tool="acm",
        today=today,
        horizon_days=365,
    )
    issued = test_pki.leaf.not_valid_before_utc.date()
    lifetime = 90  # the test leaf's
    renewal = issued + timedelta(days=lifetime - ACM_BEFORE_DAYS)
    rows = frame.set_index("config")
    assert rows.loc["both.plist", "platform"] == "ios"
    assert rows.loc["both.plist", "first_break"].date() == renewal == date(2026, 1, 31)
    assert rows.loc["both.plist", "levels"] == "intermediate+leaf"
    assert pd.isna(rows.loc["ca.plist", "first_break"])
    # The same two pins under "any pin matches" (Android NSC): the CA pin keeps it connecting.
    assert rows.loc["nsc.xml", "platform"] == "android"
    assert pd.isna(rows.loc["nsc.xml", "first_break"])


def test_each_config_runs_under_its_platforms_client(test_pki):
    """OkHttp and TrustKit configs are simulated on their own clients (any pin matches)."""
    from simlib.toolkit import load_config
    from tests.toolkit.conftest import CONFIGS, TODAY

    frame = forecast(
        [load_config(CONFIGS / n) for n in ("okhttp-pins.txt", "trustkit.json")],
        test_pki.chain,
        host=HOST,
        fleet=FLEET,
        today=TODAY,
        horizon_days=120,
    )
    assert frame["platform"].tolist() == ["okhttp", "trustkit-ios"]
    clients = {k: v["fleet"]["platforms"] for k, v in frame.attrs["scenarios"].items()}
    assert clients == {
        ("android", "okhttp"): {"android": {"share": 1.0, "client": "okhttp"}},
        ("ios", "trustkit"): {"ios": {"share": 1.0, "client": "trustkit"}},
    }


# ------------------------------------------------------------------------------ several hosts


def test_several_hosts_one_scenario_one_row_per_config_and_host(test_pki, pin):
    r12 = real("2024_r12.pem")
    auth = "auth.example.com"
    issued = date(2026, 1, 15)
    auth_leaf = fake_leaf(r12, auth, issued, 90, "auth")
    cfg = parse_config(
        (
            '<?xml version="1.0" encoding="utf-8"?><network-security-config>'
            f'<domain-config><domain>{HOST}</domain><pin-set><pin digest="SHA-256">'
            f"{pin['leaf']}</pin></pin-set></domain-config>"
            f'<domain-config><domain>{auth}</domain><pin-set><pin digest="SHA-256">'
            f"{spki_pin(r12)}</pin></pin-set></domain-config></network-security-config>"
        ).encode(),
        "two.xml",
    )
    today = date(2026, 2, 1)
    frame = forecast(
        [cfg],
        {HOST: test_pki.chain, auth: [auth_leaf, r12]},
        fleet=FLEET,
        today=today,
        horizon_days=300,
    )
    assert len(frame.attrs["scenarios"]) == 1
    sc = frame.attrs["resolved"]
    assert sorted(h.name for h in sc.hosts) == [HOST, auth]
    assert {h.name: h.ca for h in sc.hosts} == {HOST: "observed-ca", auth: "letsencrypt"}
    rows = frame.set_index("host")
    assert list(frame["host"]) == [HOST, auth]
    step = math.floor(CERTBOT_FRACTION * 90)  # certbot 4.x renews at 2/3 of the lifetime
    api_first = test_pki.leaf.not_valid_before_utc.date() + timedelta(days=step)
    assert rows.loc[HOST, "first_break"].date() == api_first
    # R12 issues until the classic profile moves to Gen Y (2026-05-28): the pin breaks at the
    # first renewal leaving R12 — at the latest the first renewal after that day.
    gen_y = date(2026, 5, 28)
    auth_renewals = renewals(issued, step, today + timedelta(days=300))
    latest = next(d for d in auth_renewals if d >= gen_y)
    first = rows.loc[auth, "first_break"].date()
    assert first in auth_renewals and first <= latest


def test_cli_takes_several_hosts(tmp_path, capsys, test_pki, pin):
    from cryptography.hazmat.primitives.serialization import Encoding

    r12 = real("2024_r12.pem")
    auth = "auth.example.com"
    (tmp_path / "api.pem").write_bytes(
        b"".join(c.public_bytes(Encoding.PEM) for c in test_pki.chain)
    )
    leaf = fake_leaf(r12, auth, date(2026, 1, 15), 90, "auth-cli")
    (tmp_path / "auth.pem").write_bytes(
        leaf.public_bytes(Encoding.PEM) + r12.public_bytes(Encoding.PEM)
    )
    cfg = tmp_path / "cfg.xml"
    cfg.write_bytes(
        nsc([pin["ca1"], spki_pin(r12)], "example.com").replace(
            b"<domain>", b'<domain includeSubdomains="true">'
        )
    )
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "fleet: {users: 1000, release_every_days: 14, adoption: "
        "{components: [{weight: 1.0, mean_lag_days: 10}]}}\n"
    )
    base = [
        "forecast",
        str(cfg),
        "--fleet",
        str(fleet),
        "--date",
        "2026-02-01",
        "--horizon-days",
        "120",
    ]
    argv = [
        *base,
        "--chain",
        str(tmp_path / "api.pem"),
        "--host",
        auth,
        "--chain",
        str(tmp_path / "auth.pem"),
        "--host",
        HOST,
    ]
    assert (
        main(
            [
                *base,
                "--host",
                HOST,
                "--chain",
                str(tmp_path / "api.pem"),
                "--chain",
                f"{auth}={tmp_path / 'auth.pem'}",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"{HOST} (android)" in out and f"{auth} (android)" in out
    assert "CA: letsencrypt (" in out and "R12 is letsencrypt's" in out
    # paired in order: the api chain named auth.example.com is refused (stale/foreign input)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"not issued to {auth}" in err
    assert (
        main([*base, "--chain", str(tmp_path / "api.pem"), "--chain", str(tmp_path / "auth.pem")])
        == 2
    )
    assert "name each host" in capsys.readouterr().err


# ------------------------------------------------------------------------------ stale input


def test_stale_or_foreign_leaf_does_not_seed_the_forecast(test_pki, pin):
    cfg = parse_config(nsc([pin["leaf"]]), "leaf.xml")
    with pytest.raises(ConfigError, match=r"chain: the leaf expired on 2026-03-31"):
        forecast([cfg], test_pki.chain, host=HOST, fleet=FLEET, today=date(2026, 6, 1))
    with pytest.raises(ConfigError, match=r"the leaf is valid only from 2026-01-01"):
        forecast([cfg], test_pki.chain, host=HOST, fleet=FLEET, today=date(2025, 12, 1))
    with pytest.raises(
        ConfigError,
        match=r"not issued to cdn\.example\.com \(subjectAltName: api\.example\.com, www",
    ):
        forecast([cfg], test_pki.chain, host="cdn.example.com", fleet=FLEET, today=date(2026, 2, 1))


# ------------------------------------------------------------------------------ 2026-12: 90 → 64 → 45


@pytest.mark.filterwarnings("error::simlib.errors.ScenarioWarning")
def test_forecast_from_2026_12_follows_the_90_64_45_day_schedule():
    """letsencrypt-classic: 90 days, 64 from 2027-02-10, 45 from 2028-02-16
    (letsencrypt.org/2025/12/02/from-90-to-45); YR1/YR2 issue to 2028-09-02, so the horizon
    ends inside the published roadmap."""
    yr1 = real("gen-y_int-yr1.pem")
    issued, today = date(2026, 11, 20), date(2026, 12, 1)
    end = date(2028, 5, 1)  # inside the published roadmap: nothing extrapolated (the marker)
    leaf = fake_leaf(yr1, HOST, issued, 90, "gen-y")
    frame = forecast(
        [parse_config(nsc([spki_pin(leaf)]), "leaf.xml")],
        [leaf, yr1],
        host=HOST,
        fleet=FLEET,
        today=today,
        horizon_days=(end - today).days,
    )

    def cap(day: date) -> int:
        return 90 if day < date(2027, 2, 10) else 64 if day < date(2028, 2, 16) else 45

    expected = [(issued, 90)]
    while True:  # certbot 4.x on 2026-12-01: renew at 2/3 of each certificate's lifetime
        day, life = expected[-1]
        nxt = day + timedelta(days=math.floor(CERTBOT_FRACTION * life))
        if nxt > end:
            break
        expected.append((nxt, cap(nxt)))
    iss = frame.attrs["issuances"]
    got = list(zip(pd.to_datetime(iss["date"]).dt.date, iss["lifetime_days"], strict=True))
    got = [(d, int(n)) for d, n in got if d <= end]
    assert got == expected
    assert {n for _, n in expected} == {90, 64, 45}
    assert frame.iloc[0]["first_break"].date() == expected[1][0]  # the leaf key rotates


# ------------------------------------------------------------------------------ ACM by key


@pytest.fixture()
def acm_chain():
    """leaf (test key) ← the real "Amazon RSA 2048 M01" ← the real "Amazon Root CA 1"
    (data/certs since issue 16): ACM's intermediate is matched by its key."""
    inter = read_real_cert(certs_dir() / "amazon" / "AmazonRSA2048M01.pem").certificate
    root = read_real_cert(certs_dir() / "roots" / "AmazonRootCA1.pem").certificate
    leaf = fake_leaf(inter, HOST, date(2026, 1, 5), 395, "acm-leaf")
    return leaf, inter, root


def test_a_stand_in_intermediate_is_matched_by_name():
    """A catalogue intermediate without a key (GTS WR2, a stand-in) is matched by its subject
    and issuer names."""
    from simlib.pki import make_intermediate, make_root, validity
    from simlib.toolkit.chain import PathCert
    from simlib.toolkit.observed import match_catalogue

    root_key = derive_private_key(b"forecast-real/gts-root", "rsa-2048")
    nb, na = validity(date(2016, 6, 22), 7000)
    root = make_root(root_key, "GTS Root R1", not_before=nb, not_after=na, serial=11)
    nb, na = validity(date(2023, 12, 13), 2000)
    inter = make_intermediate(
        derive_private_key(b"forecast-real/gts-wr2", "rsa-2048"),
        "WR2",
        issuer_cert=root,
        issuer_key=root_key,
        not_before=nb,
        not_after=na,
        serial=12,
    )
    leaf = fake_leaf(inter, HOST, date(2026, 1, 5), 90, "gts-leaf")
    path = [
        PathCert(i, c, role, spki_pin(c), "", True)
        for i, (c, role) in enumerate([(leaf, "leaf"), (inter, "intermediate"), (root, "root")])
    ]
    found = match_catalogue(path)
    assert found is not None and (found.ca, found.intermediate) == ("google", "WR2")
    assert "matched by name" in found.profile_note


def test_an_acm_chain_is_the_amazon_catalogue_ca(acm_chain):
    leaf, inter, root = acm_chain
    today = date(2026, 1, 10)
    both = parse_config(plist([spki_pin(leaf)], [spki_pin(inter)]), "both.plist")
    root_pin = parse_config(nsc([spki_pin(root)]), "root.xml")
    frame = forecast(
        [both, root_pin],
        [leaf, inter],
        host=HOST,
        fleet=FLEET,
        tool="acm",
        today=today,
        horizon_days=500,
        anchors=[root],
    )
    sc = frame.attrs["resolved"]
    assert sc.hosts[0].ca == "amazon"
    assert "matched by name" not in frame.attrs["notes"][HOST]  # by M01's real key
    assert "profile acm guessed: the 395-day leaf matches" in frame.attrs["notes"][HOST]
    renewal = date(2026, 1, 5) + timedelta(days=395 - ACM_BEFORE_DAYS)  # 2026-12-06
    rows = frame.set_index("config")
    assert rows.loc["both.plist", "first_break"].date() == renewal
    assert rows.loc["root.xml", "levels"] == "root" and pd.isna(rows.loc["root.xml", "first_break"])
    iss = frame.attrs["issuances"]
    assert iss.iloc[0]["intermediate"] == "Amazon RSA 2048 M01"
    assert pd.to_datetime(iss["date"]).dt.date.tolist()[1] == renewal
    # after 2026-02-18 ACM issues 198-day certificates (validity-caps.csv, acm)
    assert int(iss.iloc[1]["lifetime_days"]) == 198
