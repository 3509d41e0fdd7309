"""The integer-id engine agrees with verdicts computed from real X.509 certificates.

For every strategy, app version, segment and client kind, this test rebuilds the decision the way
a device would: pins are SHA-256 hashes computed from the real certificates (and keys) served on
the build day; the chain is built from the real served certificates by signature verification up
to the first trusted anchor of that device on that day; then the platform's matching rule is
applied to the real pin strings. The engine's lock verdicts must be identical.

The same check runs on a Let's Encrypt host (``real_le``) whose root and intermediates are the
real certificates of data/certs (ISRG Root X2, E5/E6, E7/E8). The intermediate → root links are
real signatures and verify as such; nobody has the real intermediates' private keys, so the
leaf → intermediate link is signed by the intermediate's stand-in key: for such a link
(``_issued``) the child must name the parent's real subject as issuer and its signature must
verify with the stand-in key of the parent's real SPKI (``RealPki.stand_in_public_keys``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from simlib.api import simulate
from simlib.pki.certs import make_leaf, validity
from simlib.pki.pins import cert_pin, spki_pin
from simlib.server.certificates import RealPki
from tests.conftest import make

STRATEGIES = [
    {"name": "leaf cert", "pin": "leaf_cert"},
    {"name": "leaf key", "pin": "leaf_spki"},
    {"name": "next", "pin": "leaf_spki", "backup": ["next_key"]},
    {"name": "int", "pin": "intermediate_spki"},
    {"name": "int all", "pin": "intermediate_spki", "intermediates": "all"},
    {"name": "root", "pin": "root_spki"},
    {"name": "root+ca2", "pin": "root_spki", "backup": ["ca:ca2"]},
    {"name": "leaf+ca2", "pin": "leaf_spki", "backup": ["ca:ca2"]},
    {"name": "leaf+ints2", "pin": "leaf_spki", "backup": ["intermediates:ca2"]},
    {"name": "expiring", "pin": "leaf_spki", "expires_after_days": 100},
    {
        "name": "literal",
        "pin": "intermediate_spki",
        "backup": ["spki:IPMbDAjLVSGntGO3WP53X/zilCVndez5YJ2+vJvhJsA="],
    },
]


def _real_le():
    """A Let's Encrypt ECDSA host (real ISRG Root X2, E5/E6 → E7/E8) plus a generated ca2."""
    return make(
        {"fleet.platforms": {"android": 0.6, "ios": 0.4}},
        cas=[{"name": "ca2", "intermediates": [{"name": "J1"}, {"name": "J2"}]}],
        hosts=[
            {
                "name": "api.test",
                "ca": "letsencrypt",
                "key_type": "ecdsa",
                "tool": "certbot",
                "key": "ec-p256",
                "pregenerate_next_key": True,
            }
        ],
        strategies=STRATEGIES,
        attacks=["same_ca_misissuance"],
    )


@pytest.fixture(scope="module", params=["generated", "real_le"])
def result(request):
    if request.param == "real_le":
        return simulate(_real_le())
    sc = make(
        {
            "fleet.platforms": {"android": 0.6, "ios": 0.4},
            "cas[0].intermediates": [{"name": "I1"}, {"name": "I2", "key": "ec-p384"}],
            "cas[0].selection": "random",
            "cas[1].key": "rsa-2048",
            "cas[1].intermediates": [{"name": "J1"}, {"name": "J2"}],
            "cas[0].cross_signed_by": {"ca": "ca2", "until": "2025-11-30"},
            "hosts[0].pregenerate_next_key": True,
            "end": "2025-12-31",
        },
        events=[
            {"type": "ca_migration", "date": "2025-08-01", "to": "ca2", "when": "next_renewal"},
            # the active set changes between a certificate's issue day and later build days
            {"type": "intermediate_change", "date": "2025-01-01", "ca": "ca1", "active": ["I1"]},
            {"type": "intermediate_change", "date": "2025-03-15", "ca": "ca1", "active": ["I2"]},
            {
                "type": "intermediate_change",
                "date": "2025-05-20",
                "ca": "ca1",
                "active": ["I1", "I2"],
            },
            {
                "type": "trust_store_change",
                "date": "2025-05-01",
                "platforms": ["android"],
                "share": 0.5,
                "add": ["ca1/I1"],
            },
            {
                "type": "trust_store_change",
                "date": "2025-06-15",
                "platforms": ["ios"],
                "share": 0.5,
                "remove": ["ca1"],
            },
        ],
        strategies=STRATEGIES,
        attacks=["same_ca_misissuance"],
    )
    return simulate(sc)


def _noon(sc, day: int) -> dt.datetime:
    return dt.datetime.combine(sc.date(day), dt.time(12), dt.UTC)


def _valid(cert: x509.Certificate, when: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= when <= cert.not_valid_after_utc


def _issued(child: x509.Certificate, parent: x509.Certificate, stand_ins=None) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except Exception:
        pass
    else:
        return True
    stand_in = (stand_ins or {}).get(spki_pin(parent))
    if stand_in is None or child.issuer != parent.subject:
        return False
    try:
        stand_in.verify(
            child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm)
        )
    except Exception:
        return False
    return True


def build_path(leaf, served, anchors, when, checks_anchor_expiry, stand_ins=None):
    """Walk up from the leaf; stop at the first certificate whose key is a trust anchor."""
    anchor_keys = {
        spki_pin(a) for a in anchors if not (checks_anchor_expiry and not _valid(a, when))
    }
    path, cur = [leaf], leaf
    while True:
        if cur is not leaf and spki_pin(cur) in anchor_keys:
            return path, True
        if not _valid(cur, when) and cur is not leaf:
            return path, False
        parents = [a for a in anchors if spki_pin(a) in anchor_keys and _issued(cur, a, stand_ins)]
        parents += [
            c for c in served if c is not cur and c not in path and _issued(cur, c, stand_ins)
        ]
        if not parents:
            return path, False
        cur = parents[0]
        path.append(cur)


def real_pins(real: RealPki, strategy, host: str, build_day: int):
    """(leaf pins, CA pins) computed from real certificates served on the build day."""
    cal = real.calendar
    if not strategy.pins_host(host):
        return set(), set()
    it = cal.serving(host, build_day)
    leaf_cert = real.leaf_cert(it)
    real.intermediate_cert(it.ca, it.intermediate)
    root = real.root_cert(it.ca)
    leaf, ca = set(), set()
    level = strategy.pin
    if level == "leaf_cert":
        leaf.add(cert_pin(leaf_cert))
    elif level == "leaf_spki":
        leaf.add(spki_pin(leaf_cert))
    elif level == "intermediate_spki":
        names = (
            cal.pinnable_intermediates(it.ca, build_day)
            if strategy.intermediates == "all"
            else [it.intermediate]
        )
        ca |= {spki_pin(real.intermediate_cert(it.ca, n)) for n in {*names, it.intermediate}}
    elif level == "root_spki":
        ca.add(spki_pin(root))
    for entry in strategy.backup:
        kind, _, ref = str(entry).partition(":")
        if kind == "next_key":
            leaf.add(spki_pin(real.private_key(it.next_key).public_key()))
        elif kind == "ca":
            ca.add(spki_pin(real.root_cert(ref)))
        elif kind == "intermediates":
            ca |= {
                spki_pin(real.intermediate_cert(ref, n))
                for n in cal.pinnable_intermediates(ref, build_day)
            }
        elif kind == "spki":
            (ca if strategy.level == "ca" else leaf).add(ref)
    return leaf, ca


def anchors_for(real: RealPki, client, day: int):
    sc = real.scenario
    anchors = {spki_pin(real.root_cert(ca)): real.root_cert(ca) for ca in real.calendar.cas}
    for i, ev in enumerate(sc.events):
        if ev.type != "trust_store_change" or i not in client.changes or day < sc.day(ev.date):
            continue
        for ref in ev.add:
            ca, _, name = ref.partition("/")
            cert = real.intermediate_cert(ca, name) if name else real.root_cert(ca)
            anchors[spki_pin(cert)] = cert
        for ref in ev.remove:
            ca, _, name = ref.partition("/")
            cert = real.intermediate_cert(ca, name) if name else real.root_cert(ca)
            anchors.pop(spki_pin(cert), None)
    return list(anchors.values())


def matches(path, leaf_pins, ca_pins, matcher: str) -> bool:
    leaf = path[0]
    leaf_ids = {spki_pin(leaf), cert_pin(leaf)}
    ca_ids = {spki_pin(c) for c in path[1:]}
    if matcher == "any":
        return bool((leaf_pins | ca_pins) & (leaf_ids | ca_ids))
    ok_leaf = not leaf_pins or bool(leaf_pins & leaf_ids)
    ok_ca = not ca_pins or bool(ca_pins & ca_ids)
    return ok_leaf and ok_ca


def test_engine_verdicts_equal_real_certificate_verdicts(result):
    sim = result.simulation
    real = RealPki.for_calendar(sim.calendar)
    sc = sim.scenario
    host = "api.test"
    checked = 0
    for st in sim.strategies:
        run = result.runs[st.name]
        tables = run.tables
        for s, day in enumerate(tables.seg_start):
            day = int(day)
            when = _noon(sc, day)
            it = sim.calendar.serving(host, day)
            served = real.served_chain(it)
            for c in sim.clients:
                anchors = anchors_for(real, c, day)
                path, trusted = build_path(
                    served[0],
                    served[1:],
                    anchors,
                    when,
                    c.checks_anchor_expiry,
                    real.stand_in_public_keys(),
                )
                for v, rel in enumerate(tables.releases):
                    if rel.release_day > day:
                        continue
                    lp, cp = real_pins(real, st, host, rel.build_day)
                    pinned = bool(lp or cp)
                    enforced = (
                        st.expires_after_days is None or day < rel.build_day + st.expires_after_days
                    )
                    real_lock = (not trusted) or (
                        pinned and enforced and not matches(path, lp, cp, c.matcher)
                    )
                    engine_lock = bool(tables.lock_host[c.name][host][v, s])
                    assert engine_lock == real_lock, (st.name, rel.label, sc.date(day), c.name)
                    checked += 1
    assert checked > 500


def test_attack_verdicts_equal_real_certificates(result):
    """same_ca_misissuance: a real certificate for the host with the attacker's key, signed by
    the intermediate serving that day."""
    sim = result.simulation
    real = RealPki.for_calendar(sim.calendar)
    sc = sim.scenario
    host = "api.test"
    attacker = real.private_key(sim.calendar.attacker_key)
    for st in sim.strategies:
        tables = result.runs[st.name].tables
        for s, day in enumerate(tables.seg_start):
            day = int(day)
            it = sim.calendar.serving(host, day)
            keys = sim.calendar.cas[it.ca]
            nb, na = validity(sc.date(day), 30)
            issuer_cert, issuer_key = real.signer(
                keys.int_keys[it.intermediate], real.intermediate_cert(it.ca, it.intermediate)
            )
            forged = make_leaf(
                attacker.public_key(),
                [host],
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                not_before=nb,
                not_after=na,
                serial=7,
            )
            served = [forged, *real.served_chain(it)[1:]]
            for c in sim.clients:
                path, trusted = build_path(
                    forged,
                    served[1:],
                    anchors_for(real, c, day),
                    _noon(sc, day),
                    c.checks_anchor_expiry,
                    real.stand_in_public_keys(),
                )
                for v, rel in enumerate(tables.releases):
                    if rel.release_day > day or tables.lock[c.name][v, s]:
                        continue
                    lp, cp = real_pins(real, st, host, rel.build_day)
                    enforced = (
                        st.expires_after_days is None or day < rel.build_day + st.expires_after_days
                    )
                    rejects = (not trusted) or (
                        bool(lp or cp) and enforced and not matches(path, lp, cp, c.matcher)
                    )
                    assert bool(tables.protect[c.name]["same_ca_misissuance"][v, s]) == rejects, (
                        st.name,
                        rel.label,
                        sc.date(day),
                        c.name,
                    )


def test_issuance_pins_are_the_certificates_pins(result):
    real = RealPki.for_calendar(result.calendar)
    frame = result.issuances
    for row, it in zip(frame.itertuples(), result.calendar.issuances, strict=True):
        cert = real.leaf_cert(it)
        assert row.spki_sha256 == spki_pin(cert)
        assert row.cert_sha256 == cert_pin(cert)
        assert row.intermediate_spki_sha256 == spki_pin(
            real.intermediate_cert(it.ca, it.intermediate)
        )
        assert cert.serial_number == row.serial
        assert _issued(
            cert, real.intermediate_cert(it.ca, it.intermediate), real.stand_in_public_keys()
        )


def _openssl_pin(path: str) -> str:
    import subprocess

    pub = subprocess.run(
        ["openssl", "x509", "-in", path, "-pubkey", "-noout"], capture_output=True, check=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True, check=True
    ).stdout
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-binary"], input=der, capture_output=True, check=True
    ).stdout
    import base64

    return base64.b64encode(digest).decode()


def test_real_ca_pins_in_issuances_equal_openssl():
    """Every real CA pin in issuances.csv is what openssl prints for the file in data/certs."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    from simlib.world import catalogue

    res = simulate(_real_le())
    cat = catalogue()
    frame = res.issuances
    checked = 0
    for row in frame.itertuples():
        for name, pin in (
            (row.intermediate, row.intermediate_spki_sha256),
            (row.root, row.root_spki_sha256),
        ):
            cert = cat.certificates.get(name)
            if cert is not None and cert.path is not None:
                assert pin == _openssl_pin(str(cert.path)), name
                checked += 1
    assert checked >= 2 * len(frame) > 0


def test_pin_of_r10_file_equals_the_simulators():
    """A pin copied from `simlib pins data/certs/letsencrypt/2024_r10.pem` is the simulator's R10."""
    from simlib.pki.loading import load_certificates
    from simlib.world import catalogue

    sc = make(
        {},
        cas=[],
        hosts=[{"name": "api.test", "ca": "letsencrypt", "key_type": "rsa"}],
        start="2024-07-01",
        end="2024-12-31",
    )
    res = simulate(sc)
    path = catalogue().certificate("R10").path
    (item,) = load_certificates(path)
    pins = set(res.issuances.loc[res.issuances.intermediate == "R10", "intermediate_spki_sha256"])
    assert pins == {spki_pin(item.public_key)}
    real = RealPki.for_calendar(res.calendar)
    assert (
        real.intermediate_cert("letsencrypt", "R10").subject.rfc4514_string()
        == "CN=R10,O=Let's Encrypt,C=US"
    )
