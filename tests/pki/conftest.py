"""Shared fixtures for the PKI tests: the vendored cert directory, openssl, chains."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simlib.pki import derive_private_key, make_intermediate, make_leaf, make_root, validity

# Repo-relative on purpose: tests must only ever read the vendored copies.
CERTS_DIR = Path(__file__).resolve().parents[2] / "data" / "certs"
REAL_FILES = sorted(CERTS_DIR.glob("*/*.pem"))


@pytest.fixture(scope="session")
def certs_dir() -> Path:
    assert CERTS_DIR.is_dir(), f"missing vendored certificates: {CERTS_DIR}"
    return CERTS_DIR


def _run_pipeline(command: str) -> str:
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{command!r} failed: {result.stderr}"
    return result.stdout.strip()


@pytest.fixture(scope="session")
def openssl() -> Callable[..., str]:
    """Run the reference openssl pipelines; returns fn(kind, path, digest="sha256")."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on PATH")

    def pin(kind: str, path: Path, digest: str = "sha256") -> str:
        f = shlex.quote(str(path))
        tail = f"openssl dgst -{digest} -binary | openssl enc -base64"
        if kind == "spki":
            head = f"openssl x509 -in {f} -pubkey -noout | openssl pkey -pubin -outform der"
        elif kind == "key":
            head = f"openssl pkey -pubin -in {f} -outform der"
        elif kind == "cert":
            head = f"openssl x509 -in {f} -outform der"
        else:
            raise ValueError(kind)
        return _run_pipeline(f"{head} | {tail}")

    return pin


def _write_pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


@pytest.fixture(scope="session")
def write_pem() -> Callable[..., Path]:
    """fn(path, *certs): write certificates as one PEM bundle and return the path."""
    return _write_pem


@dataclass(frozen=True)
class Chain:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    root_key: object
    intermediate_key: object
    leaf_key: object


def _build_chain(root_alg: str, int_alg: str, leaf_alg: str, tag: str = "t") -> Chain:
    """A root -> intermediate -> leaf chain from fixed key material."""
    root_key = derive_private_key(f"{tag}/root".encode(), root_alg)
    int_key = derive_private_key(f"{tag}/int".encode(), int_alg)
    leaf_key = derive_private_key(f"{tag}/leaf".encode(), leaf_alg)
    root_nb, root_na = validity(date(2025, 1, 1), 3650)
    int_nb, int_na = validity(date(2025, 2, 1), 1095)
    leaf_nb, leaf_na = validity(date(2025, 3, 1), 90)
    root = make_root(
        root_key, "Sim Root", not_before=root_nb, not_after=root_na, serial=1, organization="Sim"
    )
    intermediate = make_intermediate(
        int_key,
        "Sim Issuing CA",
        issuer_cert=root,
        issuer_key=root_key,
        not_before=int_nb,
        not_after=int_na,
        serial=2,
        organization="Sim",
    )
    leaf = make_leaf(
        leaf_key.public_key(),
        ["api.example.test", "www.example.test"],
        issuer_cert=intermediate,
        issuer_key=int_key,
        not_before=leaf_nb,
        not_after=leaf_na,
        serial=3,
    )
    return Chain(root, intermediate, leaf, root_key, int_key, leaf_key)


CHAIN_ALGORITHMS = {
    "ec-p256": ("ec-p256", "ec-p256", "ec-p256"),
    "ec-p384": ("ec-p384", "ec-p384", "ec-p384"),
    "rsa-2048": ("rsa-2048", "rsa-2048", "rsa-2048"),
    "mixed": ("ec-p384", "rsa-2048", "ec-p256"),
}


@pytest.fixture(scope="session", params=sorted(CHAIN_ALGORITHMS))
def chain(request: pytest.FixtureRequest) -> Chain:
    return _build_chain(*CHAIN_ALGORITHMS[request.param])


@pytest.fixture(scope="session")
def build_chain() -> Callable[..., Chain]:
    """fn(root_alg, int_alg, leaf_alg, tag="t") -> Chain, for tests that rebuild."""
    return _build_chain
