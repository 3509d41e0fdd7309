"""Fixtures for the pin-toolkit tests: the deterministic test PKI and the config fixtures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.toolkit.pki import TestPki, pins, pki

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
TODAY = date(2026, 2, 1)  # the test leaf is valid 2026-01-01 .. 2026-03-31


@pytest.fixture(scope="session")
def test_pki() -> TestPki:
    return pki()


@pytest.fixture(scope="session")
def pin() -> dict[str, str]:
    return pins()


@pytest.fixture()
def chain_pem(tmp_path: Path, test_pki: TestPki) -> Path:
    path = tmp_path / "chain.pem"
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in test_pki.chain))
    return path
