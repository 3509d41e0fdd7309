"""The command line, run as users run it (the installed console script)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import DATA, ROOT

SIMLIB = [str(Path(sys.executable).with_name("simlib"))]
QUICKSTART = str(DATA / "scenarios" / "quickstart.yaml")


def run(*args, cwd=None):
    return subprocess.run([*SIMLIB, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_clean_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0]


def test_run_writes_results_and_prints_summary(tmp_path):
    out = tmp_path / "q"
    proc = run("run", QUICKSTART, "--out", str(out), "--format", "parquet")
    assert proc.returncode == 0, proc.stderr
    assert "leaf key + next key" in proc.stdout and "12/12" in proc.stdout
    assert proc.stderr == ""  # the shipped quickstart runs with no warning
    for name in ("timeseries", "summary", "durations", "issuances", "releases"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.parquet").exists()
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert {
        "date",
        "strategy",
        "active_users",
        "locked_users",
        "lockout_rate",
        "protected_rogue_ca",
        "exposed_rogue_ca",
    } <= set(ts.columns)
    assert (out / "scenario.yaml").read_text().startswith("name: quickstart")
    assert not list(out.glob(".*.tmp"))


def test_same_scenario_same_bytes(tmp_path):
    for d in ("a", "b"):
        assert run("run", QUICKSTART, "--out", str(tmp_path / d), "--quiet").returncode == 0
    for name in ("timeseries.csv", "summary.csv", "issuances.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_bad_scenario_exit_2_and_nothing_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(QUICKSTART).read_text().replace("weight: 0.53", "weight: -0.53"))
    out = tmp_path / "never"
    proc = run("run", str(bad), "--out", str(out))
    assert_clean_error(proc, "bad.yaml", "fleet.adoption.components[1].weight: must be ≥ 0")
    assert not out.exists()


def test_error_found_while_simulating_names_the_file(tmp_path):
    bad = tmp_path / "noint.yaml"
    text = (
        Path(QUICKSTART)
        .read_text()
        .replace(
            "intermediates: [{name: Int A1}, {name: Int A2}]",
            "intermediates: [{name: Int A1, active_until: 2025-02-01}]",
        )
    )
    bad.write_text(text)
    out = tmp_path / "never"
    proc = run("run", str(bad), "--out", str(out))
    assert_clean_error(proc, "noint.yaml", "cas[0].intermediates: no active intermediate")
    assert not out.exists()


def test_monte_carlo_run(tmp_path):
    proc = run(
        "run",
        QUICKSTART,
        "--out",
        str(tmp_path),
        "--mode",
        "monte-carlo",
        "--replications",
        "3",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    reps = pd.read_csv(tmp_path / "replications.csv")
    assert sorted(reps["replication"].unique()) == [0, 1, 2]
    assert {"p5", "p50", "p95"} <= set(pd.read_csv(tmp_path / "summary.csv").columns)


def test_monte_carlo_prints_like_the_exact_table(tmp_path):
    """Strategies in scenario order (not sorted) and numbers as the exact-mode table shows them:
    thousands separators and percentages, never ``1.777820e+08``."""
    args = ("run", QUICKSTART, "--out")
    exact = run(*args, str(tmp_path / "e"))
    mc = run(*args, str(tmp_path / "m"), "--mode", "monte-carlo", "--replications", "3")
    assert exact.returncode == 0 and mc.returncode == 0, mc.stderr

    def rows(stdout: str) -> list[str]:
        lines = stdout.splitlines()
        head = next(i for i, line in enumerate(lines) if line.lstrip().startswith("strategy"))
        return lines[head + 1 : -1]  # up to "wrote N files"

    order = pd.read_csv(tmp_path / "e" / "summary.csv")["strategy"].tolist()
    assert order != sorted(order)  # else the order would not tell the two apart
    for stdout in (exact.stdout, mc.stdout):
        # the longest name a row starts with ("leaf key + next key", not "leaf key")
        names = [max((n for n in order if r.strip().startswith(n)), key=len) for r in rows(stdout)]
        assert names == order
    assert "e+0" not in mc.stdout and "e+1" not in mc.stdout
    means = pd.read_csv(tmp_path / "m" / "summary.csv").set_index(["strategy", "metric"])
    days = means.loc[("intermediate", "locked_user_days"), "mean"]
    assert f"{days:,.0f}" in mc.stdout and "100.0%" in mc.stdout
    assert "locked user-days p5–p95" in mc.stdout


def test_mc_table_formats_means_in_order():
    from simlib.cli.terminal import mc_table

    long = pd.DataFrame(
        [
            (s, m, v, v * 0.9, v * 1.1)
            for s, big in (("zeta", 177_782_000.0), ("alpha", 1.0))
            for m, v in (("locked_user_days", big), ("peak_lockout_rate", 0.5))
        ],
        columns=["strategy", "metric", "mean", "p5", "p95"],
    )
    lines = mc_table(long).splitlines()
    assert lines[1].split()[:3] == ["zeta", "50.0%", "177,782,000"]
    assert lines[2].split()[:3] == ["alpha", "50.0%", "1"]
    assert "160,003,800–195,560,200" in lines[1]


def test_pins_match_known_vectors():
    proc = run(
        "pins",
        str(DATA / "certs" / "letsencrypt" / "isrgrootx1.pem"),
        str(DATA / "certs" / "roots" / "GoogleBackup2048.pubkey.pem"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M=" in proc.stdout
    assert "sha256/IPMbDAjLVSGntGO3WP53X/zilCVndez5YJ2+vJvhJsA=" in proc.stdout


def test_pins_bad_file(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x00\x01 not a certificate")
    assert_clean_error(run("pins", str(junk)), "junk.pem")
    assert_clean_error(run("pins", str(tmp_path / "missing.pem")), "missing.pem")


def test_validate_and_report(tmp_path):
    proc = run("validate", QUICKSTART)
    assert proc.returncode == 0 and "ok" in proc.stdout
    resolved = run("validate", QUICKSTART, "--resolved")
    assert "renew_at_fraction" in resolved.stdout
    proc = run("report", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for name in ("lockout.png", "coverage.png", "report.md", "summary.csv"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "lockout.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_make_report_default_scenario_is_embedded(tmp_path):
    """``simlib report`` with no scenario argument runs the packaged quickstart from any folder."""
    proc = run("report", "--out", "r", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r" / "report.md").read_text().startswith("# quickstart")


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_makefile_targets_exist():
    text = (ROOT / "Makefile").read_text()
    assert "\nreport:" in text and "\ntest:" in text
