"""Every real CA pin the catalogue computes equals openssl's on the file, and published vectors."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from simlib.world.catalogue import catalogue, certificate
from tests.world.conftest import CERTS_DIR

REAL = sorted(c.name for c in catalogue().certificates.values() if c.file is not None)

# Published SPKI sha256 values (data/certs/README.md, from the letsencrypt/website PEMs and the
# IdenTrust download), hard-coded so this check depends on neither openssl nor our code.
KNOWN = {
    "R10": "K7rZOrXHknnsEhUH8nLL4MZkejquUuIvOIr6tCa0rbo=",
    "E5": "NYbU7PBwV4y9J67c4guWTki8FJ+uudrXL0a4V4aRcrg=",
    "E5/X1": "NYbU7PBwV4y9J67c4guWTki8FJ+uudrXL0a4V4aRcrg=",
    "ISRG Root X1": "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M=",
    "ISRG Root X1/DST": "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M=",
    "DST Root CA X3": "Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=",
    "R3/DST": "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0=",
    "Amazon Root CA 1": "++MBgDH5WGvL9Bcn5Be30cRcL0f5O+NyoXuWtQdX1aI=",
    "Starfield Services Root G2": "KwccWaCgrnaw6tsrrSO61FgLacNgG2MMLq8GE6+oP5I=",
}


def _openssl_spki(path: Path) -> str:
    f = shlex.quote(str(path))
    command = (
        f"openssl x509 -in {f} -pubkey -noout | openssl pkey -pubin -outform der"
        " | openssl dgst -sha256 -binary | base64"
    )
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_most_catalogue_certificates_are_real() -> None:
    assert len(REAL) >= 35


@pytest.mark.parametrize("name", REAL)
def test_pin_equals_openssl(name: str) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on PATH")
    cert = certificate(name)
    assert cert.path is not None and cert.path.parent.parent == CERTS_DIR
    assert cert.spki_pin == _openssl_spki(cert.path)


@pytest.mark.parametrize(("name", "pin"), sorted(KNOWN.items()))
def test_pin_equals_published_vector(name: str, pin: str) -> None:
    assert certificate(name).spki_pin == pin


@pytest.mark.parametrize("name", REAL)
def test_published_pin_in_the_catalogue_matches_the_file(name: str) -> None:
    cert = certificate(name)
    assert cert.published_spki_pin in (None, cert.spki_pin)


def test_stand_ins_have_no_computed_pin_and_are_marked() -> None:
    stand_ins = [c for c in catalogue().certificates.values() if c.stand_in]
    assert {"YR2", "YE2", "Entrust Root (stand-in)", "DigiCert Global CA G2"} <= {
        c.name for c in stand_ins
    }
    assert all(c.spki_pin is None and c.path is None for c in stand_ins)
    # A stand-in that re-uses a real key still knows the real pin through its key.
    assert certificate("E6/X1").published_spki_pin == certificate("E6").spki_pin
