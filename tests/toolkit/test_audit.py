"""Lint rules, path building and report renderings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.pki import load_certificates, spki_pin
from simlib.toolkit import audit, load_chain, parse_config
from simlib.toolkit.chain import PathCert, build_path
from simlib.toolkit.lints import known_keys, lint_policy
from simlib.toolkit.policy import PinPolicy, make_pin
from tests.toolkit.conftest import CONFIGS, TODAY
from tests.toolkit.pki import HOST

LE = Path(__file__).resolve().parents[2] / "data" / "certs" / "letsencrypt"


def _cert(name: str):
    return load_certificates(LE / name)[0].certificate


def test_known_keys_match_the_vendored_certificates():
    files = {"ISRG Root X1": "isrgrootx1.pem", "ISRG Root X2": "isrg-root-x2.pem"}
    files |= {
        f"Let's Encrypt {n}": f"2024_{n.lower()}.pem"
        for n in ("R10", "R11", "R12", "R13", "R14", "E5", "E6", "E7", "E8", "E9")
    }
    by_name = {v[0]: k for k, v in known_keys(TODAY).items()}
    for name, file in files.items():
        assert by_name[name] == spki_pin(_cert(file)), name


def _le_path(test_pki) -> list[PathCert]:
    """A path as Android would build it for a Let's Encrypt host (leaf is a stand-in)."""
    r11, x1 = _cert("2024_r11.pem"), _cert("isrgrootx1.pem")
    leaf = build_path([test_pki.leaf])[0]
    return [
        leaf,
        PathCert(1, r11, "intermediate", spki_pin(r11), "", True),
        PathCert(2, x1, "root", spki_pin(x1), "", False),
    ]


def _policy(*pins: str, **kw) -> PinPolicy:
    return PinPolicy(HOST, "android", pins=tuple(make_pin(p) for p in pins), source="f", **kw)


def _rules(findings) -> set[str]:
    return {f.rule for f in findings}


def test_random_intermediate_and_same_ca(test_pki):
    r10, r11 = (spki_pin(_cert(f"2024_{n}.pem")) for n in ("r10", "r11"))
    findings = lint_policy("android", [_policy(r11, r10)], _le_path(test_pki), TODAY, 30)
    assert _rules(findings) == {"random-intermediate", "same-ca"}
    text = next(f.message for f in findings if f.rule == "random-intermediate")
    assert "Let's Encrypt R11" in text and "2 of 5 pinned" in text


def test_all_random_siblings_or_the_root_is_fine(test_pki):
    group = [k for k, v in known_keys(TODAY).items() if v[2] == "R10-R14"]
    findings = lint_policy("android", [_policy(*group)], _le_path(test_pki), TODAY, 30)
    assert "random-intermediate" not in _rules(findings)
    x1 = spki_pin(_cert("isrgrootx1.pem"))
    r11 = spki_pin(_cert("2024_r11.pem"))
    findings = lint_policy("android", [_policy(r11, x1)], _le_path(test_pki), TODAY, 30)
    assert _rules(findings) == {"backup-in-chain", "root-pin"}


def test_expiring_soon(test_pki, pin):
    policy = _policy(pin["ca1"], pin["backup_root"], expiration=date(2026, 2, 20))
    path = build_path(test_pki.chain)
    assert _rules(lint_policy("android", [policy], path, TODAY, 30)) == {"pin-set-expiring"}
    assert _rules(lint_policy("android", [policy], path, TODAY, 10)) == set()
    # TrustKit, NSC: pinning is off from the expiration date itself.
    expired = lint_policy("android", [policy], path, date(2026, 2, 20), 30)
    assert _rules(expired) == {"pin-set-expired"}


def test_path_building_ignores_extras_and_order(test_pki):
    served = [test_pki.leaf, test_pki.backup_root, test_pki.intermediate, test_pki.root]
    path = build_path(served)
    assert [c.role for c in path] == ["leaf", "intermediate", "root"]
    assert all(c.served for c in path)
    path = build_path([test_pki.leaf, test_pki.intermediate], [test_pki.root])
    assert [c.served for c in path] == [True, True, False]


def test_unrelated_pinned_cert_in_chain_does_not_satisfy(test_pki, pin):
    """OkHttp's CVE-2016-2402 fix: an appended pinned cert that is not on the path is dropped."""
    config = parse_config(f"{HOST} sha256/{pin['backup_root']}\n".encode(), "pins.txt")
    report = audit(
        config, [test_pki.leaf, test_pki.intermediate, test_pki.backup_root], host=HOST, today=TODAY
    )
    assert report.verdicts[0].status == "fail"


def test_load_chain_then_audit(chain_pem, test_pki):
    chain = load_chain(chain_pem)
    assert chain == test_pki.chain
    config = parse_config((CONFIGS / "nsc_basic.xml").read_bytes(), "nsc.xml")
    assert audit(config, chain, host=HOST, today=TODAY).passed


@pytest.fixture()
def report(test_pki):
    config = parse_config((CONFIGS / "nsc_trustkit.xml").read_bytes(), "nsc_trustkit.xml")
    return audit(config, test_pki.chain, host=HOST, today=TODAY)


def test_exit_codes(report):
    assert report.exit_code("error") == 1  # the OS blocks: pin-mismatch
    assert report.exit_code("info") == 1
    assert report.exit_code("none") == 0
    with pytest.raises(ValueError, match="fail_on"):
        report.exit_code("fatal")


def test_exit_code_below_threshold(test_pki):
    config = parse_config((CONFIGS / "nsc_expired.xml").read_bytes(), "x.xml")
    report = audit(config, test_pki.chain, host=HOST, today=TODAY, anchors=[test_pki.root])
    assert report.exit_code("error") == 0 and report.exit_code("warning") == 1


def test_json(report):
    doc = json.loads(report.to_json())
    assert doc["host"] == HOST and doc["passed"] is False
    assert [p["status"] for p in doc["platforms"]] == ["fail", "report-only"]
    assert doc["chain"][0]["role"] == "leaf"
    assert {"rule", "severity", "message", "location", "platforms"} <= set(doc["findings"][0])


def test_sarif(report):
    doc = json.loads(report.to_sarif())
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert run["results"] and len(run["results"]) == len(report.findings)
    for result in run["results"]:
        assert result["level"] in ("error", "warning", "note")
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        region = result["locations"][0]["physicalLocation"].get("region")
        assert region is None or region["startLine"] >= 1
    assert any(r["ruleId"] == "pin-mismatch" and r["level"] == "error" for r in run["results"])


def test_table(report):
    text = report.to_table()
    assert "FAIL" in text and "trustkit-android" in text and "report-only" in text
    assert "pin-mismatch" in text and "sha256/" in text


# ------------------------------------------------------------------ one verdict

FIXTURES = sorted(p.name for p in CONFIGS.iterdir() if p.is_file() and not p.name.endswith(".pem"))


def _outputs(report, fail_on: str) -> dict[str, object]:
    header = report.to_table(fail_on).splitlines()[0]
    sarif = json.loads(report.to_sarif(fail_on))["runs"][0]
    doc = json.loads(report.to_json(fail_on))
    return {
        "header": "FAIL"
        if ": FAIL (exit 1" in header
        else "PASS"
        if ": PASS (exit 0" in header
        else header,
        "json": (doc["result"], doc["exit_code"], doc["passed"]),
        "sarif": (sarif["properties"]["result"], sarif["invocations"][0]["exitCode"]),
        "exit": report.exit_code(fail_on),
    }


@pytest.mark.parametrize("name", FIXTURES)
def test_header_json_and_sarif_name_the_recognised_format(test_pki, name):
    """A misdetected file must show before its verdict is trusted: every rendering says what
    it was read as, the registry's name and label of the detected format."""
    from simlib.toolkit.formats import REGISTRY

    config = parse_config((CONFIGS / name).read_bytes(), name)
    report = audit(config, test_pki.chain, host=HOST, today=TODAY, anchors=[test_pki.root])
    label = REGISTRY[config.format].label
    assert label and report.format == config.format and report.format_label == label
    assert report.to_table().startswith(f"audit {name} ({config.format}: {label}) for {HOST} ")
    doc = json.loads(report.to_json())
    assert (doc["format"], doc["format_label"]) == (config.format, label)
    props = json.loads(report.to_sarif())["runs"][0]["properties"]
    assert (props["format"], props["formatLabel"]) == (config.format, label)


def test_the_formats_of_the_fixtures_are_several():
    found = {parse_config((CONFIGS / n).read_bytes(), n).format for n in FIXTURES}
    assert {"nsc", "ats", "trustkit", "okhttp"} <= found


@pytest.mark.parametrize("name", FIXTURES)
def test_header_json_sarif_and_exit_code_are_one_verdict(test_pki, name):
    config = parse_config((CONFIGS / name).read_bytes(), name)
    report = audit(config, test_pki.chain, host=HOST, today=TODAY, anchors=[test_pki.root])
    for fail_on in ("error", "warning", "info", "none"):
        got = _outputs(report, fail_on)
        code = got["exit"]
        result = "fail" if code else "pass"
        assert got["header"] == result.upper(), (fail_on, got)
        assert got["json"] == (result, code, result == "pass")
        assert got["sarif"] == (result, code)
    # A platform that cannot connect always fails the audit at the default threshold.
    if report.blocked:
        assert report.exit_code("error") == 1


def test_every_platform_connects_and_exit_0_means_pass(test_pki):
    """The bug: TrustKit-Android only reports a mismatch, exit 0, yet the header said FAIL."""
    data = (CONFIGS / "trustkit_defaults.json").read_bytes()
    config = parse_config(data, "trustkit_defaults.json", platform="android")
    report = audit(config, test_pki.chain, host=HOST, today=TODAY)
    assert [v.status for v in report.verdicts] == ["report-only"] and not report.blocked
    header = report.to_table().splitlines()[0]
    assert ": PASS (exit 0): no finding at or above --fail-on error (" in header
    assert "pin mismatch only reported on trustkit-android" in header
    assert header.endswith("; every platform connects") and report.exit_code() == 0
    strict = report.to_table("warning").splitlines()[0]
    assert ": FAIL (exit 1): " in strict and "at or above --fail-on warning" in strict
    assert report.exit_code("warning") == 1


def test_header_says_what_failed_and_what_the_chain_does(capsys):
    """The bugs: "PASS … but clients reject the chain" and "FAIL … every platform connects"
    with no word of what failed."""
    ca = CONFIGS / "api-root.pem"
    real = CONFIGS.parent / "real" / "httptoolkit-android-demo" / "network_security_config.xml"
    base = ["--chain", CONFIGS / "api-chain.pem", "--ca-file", ca]
    code, out, _ = _cli(capsys, "audit", real, *base, "--date", "2026-02-01")
    assert code == 1
    assert out.splitlines()[0].endswith(
        ": FAIL (exit 1): 2 error findings (malformed-pin ×2), plus 3 warnings, 5 infos; "
        "host not pinned on android, trustkit-android; every platform connects"
    )
    code, out, _ = _cli(capsys, "audit", CONFIGS / "nsc_basic.xml", *base, "--date", "9999-12-31")
    assert code == 0
    assert out.splitlines()[0].endswith(
        ": PASS (exit 0): no finding at or above --fail-on error (3 warnings below it); "
        "pins expired (not enforced) on android; note: on 9999-12-31 the leaf has expired and "
        "a CA certificate has expired — every client rejects the chain, pinned or not"
    )
    code, out, _ = _cli(capsys, "audit", real, *base, "--date", "2026-02-01", "--fail-on", "none")
    assert code == 0 and ": PASS (exit 0): --fail-on none (2 errors, 3 warnings, 5 infos);" in out


def test_blocked_platforms_are_named(report):
    assert report.blocked == ("android",)
    header = report.to_table().splitlines()[0]
    assert "FAIL (exit 1" in header and "blocked on android" in header
    assert json.loads(report.to_json())["blocked"] == ["android"]
    assert "FAIL" not in report.to_table("none").splitlines()[0]  # the user waived failing


# -------------------------------------------------------------------------- CLI


def _cli(capsys, *argv) -> tuple[int, str, str]:
    from simlib.cli.main import main

    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_ca_file_completes_the_path(capsys, tmp_path, chain_pem, test_pki, pin):
    from cryptography.hazmat.primitives import serialization

    cfg = tmp_path / "pins.txt"
    cfg.write_text(f"{HOST} sha256/{pin['root']}\n{HOST} sha256/{pin['backup_root']}\n")
    base = ["audit", cfg, "--chain", chain_pem, "--date", "2026-02-01"]
    code, out, _ = _cli(capsys, *base)
    assert code == 1 and ": FAIL (exit 1" in out and "incomplete-path" in out
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(test_pki.root.public_bytes(serialization.Encoding.PEM))
    code, out, _ = _cli(capsys, *base, "--ca-file", bundle, "--format", "json")
    doc = json.loads(out)
    assert code == 0 == doc["exit_code"] and doc["result"] == "pass"
    assert doc["chain"][2]["origin"] == f"ca-file {bundle}" and not doc["chain"][2]["served"]


def test_cli_stale_chain(capsys, chain_pem):
    cfg = CONFIGS / "nsc_basic.xml"
    # A past date on purpose: the leaf was valid then, no warning.
    code, out, _ = _cli(capsys, "audit", cfg, "--chain", chain_pem, "--date", "2026-03-31")
    assert code == 0 and "leaf-expired" not in out
    code, out, _ = _cli(capsys, "audit", cfg, "--chain", chain_pem, "--date", "2026-04-01")
    assert "leaf-expired" in out and "--date" in out
    assert out.splitlines()[0].endswith(
        ": PASS (exit 0): no finding at or above --fail-on error (1 warning, 1 info below it); "
        "pins match; note: on 2026-04-01 the leaf has expired — every client rejects the "
        "chain, pinned or not"
    )
    # Expired and issued to another host: refused, one line, exit 2.
    code, out, err = _cli(
        capsys,
        "audit",
        cfg,
        "--chain",
        chain_pem,
        "--host",
        "other.example.org",
        "--date",
        "2027-01-01",
    )
    assert code == 2 and out == "" and err.count("\n") == 1 and "cannot stand for" in err


def test_cli_document_lints_run_on_the_file(capsys, tmp_path, chain_pem, pin):
    cfg = tmp_path / "nsc.xml"
    cfg.write_text(
        f'<network-security-config><domain-config enforcePinning="true">'
        f"<domain>{HOST}</domain><pin-set>"
        f'<pin digest="SHA-256">{pin["ca1"]}</pin>'
        f'<pin digest="SHA-256">{"A" * 43}=</pin>'
        "</pin-set></domain-config></network-security-config>"
    )
    code, out, _ = _cli(
        capsys, "audit", cfg, "--chain", chain_pem, "--date", "2026-02-01", "--format", "sarif"
    )
    rules = {r["ruleId"] for r in json.loads(out)["runs"][0]["results"]}
    assert {"ignored-key", "placeholder-pin", "no-backup-pin"} <= rules and code == 0


@settings(max_examples=60, deadline=None)
@given(
    severities=st.lists(st.sampled_from(["info", "warning", "error"]), max_size=6),
    blocked=st.booleans(),
)
def test_outcome_is_monotone_in_the_threshold(severities, blocked):
    from simlib.toolkit.policy import Finding
    from simlib.toolkit.report import AuditReport, Verdict

    findings = tuple(Finding(f"r{i}", s, "m") for i, s in enumerate(severities))  # type: ignore[arg-type]
    verdicts = (Verdict("android", "fail" if blocked else "pass", not blocked),)
    report = AuditReport(HOST, "f", "nsc", TODAY, (), verdicts, findings)
    codes = [report.outcome(t).exit_code for t in ("info", "warning", "error", "none")]
    assert codes == sorted(codes, reverse=True) and codes[-1] == 0
    for t in ("info", "warning", "error", "none"):
        out = report.outcome(t)
        assert (out.result == "fail") == bool(out.exit_code)
        assert out.summary.startswith(f"{out.result.upper()} (exit {out.exit_code}")
        assert ("blocked on android" in out.summary) == blocked
