"""One home per rule: a key's type (``pki.keys.key_type``/``key_algorithm``) and the SPKI pin
(``pki.pins.spki_pin``) are computed in simlib.pki and nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

import simlib
from simlib.pki.keys import KEY_ALGORITHMS, derive_private_key, key_algorithm, key_type
from simlib.pki.pins import spki_pin
from tests.pki.conftest import REAL_FILES

ROOT = Path(simlib.__file__).parent
#: Key classes whose isinstance test is the key-type rule.
_KEY_CLASSES = {"RSAPublicKey", "EllipticCurvePublicKey", "Ed25519PublicKey", "Ed448PublicKey"}
#: Modules of work in progress (the toolkit's forecast) that still test key classes themselves:
#: each is to call ``key_type``/``key_algorithm``, and then leaves this set. No other may.
PENDING_KEY_TYPE: set[str] = set()


def _modules(root: Path) -> dict[str, ast.AST]:
    return {
        str(p.relative_to(root.parent)): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(root.rglob("*.py"))
    }


def _hashes_spki_der(call: ast.Call) -> bool:
    """``hashlib.sha256(spki_der(key))`` and the like: a digest of the SPKI DER."""
    if not ast.unparse(call.func).endswith(("sha256", "sha1", "hashlib.new")):
        return False
    return any(
        isinstance(n, ast.Call) and ast.unparse(n.func).endswith("spki_der")
        for arg in call.args
        for n in ast.walk(arg)
    )


def spki_encoders(root: Path) -> list[str]:
    """Modules that DER-encode a SubjectPublicKeyInfo (``PublicFormat.SubjectPublicKeyInfo``,
    the first step of an SPKI hash) or hash ``spki_der``'s output themselves."""
    return sorted(
        name
        for name, tree in _modules(root).items()
        if any(
            (isinstance(n, ast.Attribute) and n.attr == "SubjectPublicKeyInfo")
            or (isinstance(n, ast.Call) and _hashes_spki_der(n))
            for n in ast.walk(tree)
        )
    )


def key_type_tests(root: Path) -> list[str]:
    """Modules that test a public key's class (``isinstance(key, rsa.RSAPublicKey)``)."""
    found = set()
    for name, tree in _modules(root).items():
        for n in ast.walk(tree):
            if not (isinstance(n, ast.Call) and ast.unparse(n.func) == "isinstance"):
                continue
            if (
                len(n.args) == 2
                and {
                    part.rsplit(".", 1)[-1]
                    for part in ast.unparse(n.args[1]).strip("()").split(", ")
                }
                & _KEY_CLASSES
            ):
                found.add(name)
    return sorted(found)


def test_only_pins_encodes_an_spki() -> None:
    assert spki_encoders(ROOT) == ["simlib/pki/pins.py"]


def test_only_keys_tells_a_key_type() -> None:
    found = set(key_type_tests(ROOT)) - {"simlib/pki/keys.py"}
    assert found <= PENDING_KEY_TYPE, "call simlib.pki.keys.key_type / key_algorithm instead"


def test_the_checks_find_planted_copies(tmp_path: Path) -> None:
    pkg = tmp_path / "simlib"
    pkg.mkdir()
    (pkg / "a.py").write_text(
        "import hashlib\nfrom cryptography.hazmat.primitives import serialization as s\n"
        "def pin(k):\n    return hashlib.sha256(k.public_bytes(s.Encoding.DER,"
        " s.PublicFormat.SubjectPublicKeyInfo)).digest()\n"
    )
    (pkg / "b.py").write_text(
        "from cryptography.hazmat.primitives.asymmetric import ec, rsa\n"
        "def kind(k):\n    return 'ecdsa' if isinstance(k, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)) else 1\n"
    )
    (pkg / "c.py").write_text("def kind(k):\n    return isinstance(k, int)\n")
    (pkg / "d.py").write_text(
        "import hashlib\nfrom simlib.pki import spki_der\n"
        "def pin(k):\n    return hashlib.sha256(spki_der(k)).digest()\n"
        "def same(a, b):\n    return spki_der(a) == spki_der(b)\n"
    )
    assert spki_encoders(pkg) == ["simlib/a.py", "simlib/d.py"]
    assert key_type_tests(pkg) == ["simlib/b.py"]


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.sampled_from(KEY_ALGORITHMS))
def test_every_simulated_key_names_its_own_algorithm(material: bytes, algorithm: str) -> None:
    private = derive_private_key(material, algorithm)
    for obj in (private, private.public_key()):
        assert key_algorithm(obj) == algorithm
        assert key_type(obj) == ("rsa" if algorithm.startswith("rsa") else "ecdsa")


#: Published key sizes and curves (letsencrypt.org/certificates, the roots' own documents).
KNOWN = {
    "letsencrypt/isrgrootx1.pem": "rsa-4096",
    "letsencrypt/isrg-root-x2.pem": "ec-p384",
    "letsencrypt/2024_r10.pem": "rsa-2048",
    "letsencrypt/2024_e5.pem": "ec-p384",
    "roots/AmazonRootCA1.pem": "rsa-2048",
    "roots/AmazonRootCA3.pem": "ec-p256",
}


@pytest.mark.parametrize(
    "path", [p for p in REAL_FILES if "pubkey" not in p.name], ids=lambda p: p.name
)
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_real_certificates(path: Path) -> None:
    cert = x509.load_pem_x509_certificates(path.read_bytes())[0]  # Starfield G2: serial 0
    kind = key_type(cert)
    assert kind == key_type(cert.public_key()) in ("rsa", "ecdsa")
    algorithm = key_algorithm(cert)
    assert algorithm is None or algorithm.startswith("rsa" if kind == "rsa" else "ec")
    name = f"{path.parent.name}/{path.name}"
    if name in KNOWN:
        assert algorithm == KNOWN[name]


def test_other_keys_have_a_type_but_no_scenario_algorithm() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    assert key_type(key) == type(key.public_key()).__name__
    assert key_algorithm(key) is None
    assert spki_pin(key)  # still pinnable
    with pytest.raises(TypeError):
        key_type("not a key")  # type: ignore[arg-type]


def test_the_world_reads_real_certificates_through_the_one_rule() -> None:
    from simlib.world.catalogue import catalogue
    from simlib.world.realcerts import read_real_cert

    real = [c for c in catalogue().certificates.values() if c.path is not None]
    assert real
    for c in real:
        rc = read_real_cert(c.path.resolve())  # type: ignore[union-attr]
        assert rc.spki_pin == spki_pin(rc.certificate)
        assert rc.key_type == key_type(rc.certificate) == c.key_type
