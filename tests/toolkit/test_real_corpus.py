"""The real-config corpus (tests/fixtures/real/): every file parsed or refused as its platform would.

Each entry of ``MANIFEST.yaml`` is a file copied byte for byte from a public repository, with
its provenance, the platform behaviour it shows, the platform source that says so, and what
``simlib.toolkit`` must make of it: the platforms, hosts and pin counts it imports and the
findings an audit reports, or the one-line reason it is refused. A check that waits for work
not landed yet is listed under ``pending`` and runs as a strict xfail, so it turns into a
failure (remove the ``pending`` line) the moment it passes.

The audit runs against a chain made here for the entry's host (leaf <- "Toolkit CA 1" <-
"Toolkit Root" of :mod:`tests.toolkit.pki`): no real pin can match it, so each verdict is the
platform's rule for a mismatch (fail, report-only, expired, not-pinned, ...).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simlib.pki import derive_private_key, make_leaf, validity
from simlib.toolkit import ConfigError, PinConfig, audit, load_config
from tests.toolkit.pki import pki

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
MANIFEST = REAL / "MANIFEST.yaml"
TODAY = date(2026, 2, 1)  # inside the made leaf's validity (2026-01-01 + 90 days)

# SPDX ids of the OSI-approved licences the corpus may hold; an expression's parts each count.
OSI_LICENCES = {
    "Apache-2.0",
    "MIT",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "MPL-2.0",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "LGPL-2.1-or-later",
    "LGPL-3.0-or-later",
}
REQUIRED = (
    "file",
    "repo",
    "path",
    "commit",
    "licence",
    "sha256",
    "format",
    "demonstrates",
    "source",
    "expect",
)


@functools.cache
def manifest() -> list[dict]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def _params(check: str, keep=lambda entry: True) -> list:
    """One pytest param per entry (id = its file), a strict xfail where ``check`` is pending."""
    out = []
    for entry in manifest():
        if not keep(entry):
            continue
        why = (entry.get("pending") or {}).get(check)
        marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
        out.append(pytest.param(entry, id=entry["file"], marks=marks))
    return out


def _parsed(entry: dict) -> bool:
    return entry["expect"]["outcome"] == "parsed"


def _load(entry: dict) -> PinConfig:
    return load_config(REAL / entry["file"], **(entry.get("load") or {}))


def _pin_counts(config: PinConfig) -> dict[str, dict[str, int]]:
    """platform -> host pattern -> pins, as the manifest writes them."""
    counts: dict[str, Counter] = {}
    for policy in config.policies:
        counts.setdefault(policy.platform, Counter())[policy.pattern] += len(policy.all_pins)
    return {platform: dict(hosts) for platform, hosts in counts.items()}


@functools.cache
def _chain_for(host: str) -> tuple[x509.Certificate, ...]:
    """A leaf for ``host`` issued by the test PKI's "Toolkit CA 1", then that CA."""
    test = pki()
    # tests/toolkit/pki.py derives "Toolkit CA 1" from this material; checked, not assumed.
    ca_key = derive_private_key(b"toolkit/ca1", "ec-p256")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    assert ca_key.public_key().public_bytes(
        serialization.Encoding.DER, public
    ) == test.intermediate.public_key().public_bytes(serialization.Encoding.DER, public)
    not_before, not_after = validity(date(2026, 1, 1), 90)
    leaf = make_leaf(
        derive_private_key(b"toolkit/real-corpus/" + host.encode(), "ec-p256").public_key(),
        [host],
        issuer_cert=test.intermediate,
        issuer_key=ca_key,
        not_before=not_before,
        not_after=not_after,
        serial=1000,
    )
    return leaf, test.intermediate


def test_manifest_lists_the_whole_corpus() -> None:
    entries = manifest()
    listed = [e["file"] for e in entries]
    stored = sorted(
        str(p.relative_to(REAL))
        for p in REAL.rglob("*")
        if p.is_file() and p.parent != REAL  # MANIFEST.yaml and README.md sit at the top
    )
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(listed) == stored
    assert len(entries) >= 25
    assert len({e["format"] for e in entries}) >= 5
    assert {e["expect"]["outcome"] for e in entries} == {"parsed", "refused"}


@pytest.mark.parametrize("entry", _params("provenance"))
def test_entry_records_where_it_comes_from(entry: dict) -> None:
    missing = [k for k in REQUIRED if not entry.get(k)]
    assert not missing, f"missing {missing}"
    assert re.fullmatch(r"[0-9a-f]{40}", entry["commit"])
    assert re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", entry["repo"])
    parts = re.split(r" (?:OR|AND) ", entry["licence"])
    assert set(parts) <= OSI_LICENCES, f"{entry['licence']} is not an OSI licence id"
    assert Path(entry["file"]).name == Path(entry["path"]).name  # the original file name
    assert set(entry.get("pending") or {}) <= {"parse", "names", "audit"}


@pytest.mark.parametrize("entry", _params("bytes"))
def test_file_is_the_copy_the_manifest_describes(entry: dict) -> None:
    digest = hashlib.sha256((REAL / entry["file"]).read_bytes()).hexdigest()
    assert digest == entry["sha256"], "the stored copy was edited; real files stay unchanged"


@pytest.mark.parametrize("entry", _params("parse", _parsed))
def test_parsed_as_the_platform_reads_it(entry: dict) -> None:
    want = entry["expect"]
    config = _load(entry)
    assert config.format == want["loader_format"]
    assert set(config.platforms) == set(want["platforms"])
    assert _pin_counts(config) == want["pins"]
    rules = {f.rule for f in config.findings}
    assert set(want["findings"]) <= rules, f"import findings: {sorted(rules)}"


@pytest.mark.parametrize("entry", _params("parse", lambda e: not _parsed(e)))
def test_refused_with_one_line_reason(entry: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(entry)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(REAL / entry["file"]))  # it names the file
    assert re.search(entry["expect"]["reason"], message), message


@pytest.mark.parametrize("entry", _params("names", lambda e: not _parsed(e)))
def test_refusal_names_the_format(entry: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(entry)
    # The file's own path (its folder may be called okhttp-...) does not count as naming it.
    message = str(caught.value).removeprefix(str(REAL / entry["file"])).lower()
    names = entry["expect"]["names"]
    assert any(name.lower() in message for name in names), f"none of {names} in: {message}"


@pytest.mark.parametrize("entry", _params("audit", lambda e: _parsed(e) and "audit" in e["expect"]))
def test_audit_reports_what_the_platform_does(entry: dict) -> None:
    want = entry["expect"]["audit"]
    path = REAL / entry["file"]
    report = audit(
        _load(entry),
        list(_chain_for(want["host"])),
        host=want["host"],
        today=TODAY,
        anchors=[pki().root],
        document=path.read_bytes(),
    )
    assert {v.platform: v.status for v in report.verdicts} == want["verdicts"]
    rules = {f.rule for f in report.findings}
    assert set(want["rules"]) <= rules, f"audit findings: {sorted(rules)}"
    assert not set(want.get("absent", ())) & rules, f"audit findings: {sorted(rules)}"


def test_pending_checks_name_their_reason() -> None:
    """Every pending check says what it waits for, so the xfail list reads as a to-do list."""
    for entry in manifest():
        for check, why in (entry.get("pending") or {}).items():
            assert isinstance(why, str) and len(why) > 20, (entry["file"], check)
