"""Hostile but valid input: it must run, and run safely (paths, terminals, figures, dates)."""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import simlib
from simlib.cli.main import folder_name, main
from simlib.pki import derive_private_key, load_certificates, make_root
from tests.conftest import BASE, DATA

SIMLIB = str(Path(sys.executable).with_name("simlib"))


def tiny(**top) -> dict:
    data = copy.deepcopy(BASE)
    data.update({"end": "2025-02-28", **top})
    return data


def write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_scenario_name_never_becomes_a_path(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = write(tmp_path, tiny(name="../../x"))
    assert main(["run", str(path), "--quiet"]) == 0
    assert (work / "results" / "x" / "summary.csv").exists()
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()
    assert folder_name("../../etc/passwd") == "etc-passwd"
    assert folder_name("..") == "scenario"
    assert folder_name("/") == "scenario"


def test_leap_day_start_runs(tmp_path, capsys):
    path = write(tmp_path, tiny(start="2028-02-29", end="2028-05-31"))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    issuances = pd.read_csv(tmp_path / "out" / "issuances.csv")
    assert issuances["date"].iloc[0] == "2028-02-29"


@pytest.mark.parametrize("start", ["1950-01-01", "2200-10-01"])
def test_dates_at_the_limits_run(tmp_path, start, capsys):
    end = (dt.date.fromisoformat(start) + dt.timedelta(days=60)).isoformat()
    path = write(tmp_path, tiny(start=start, end=end))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0


def test_longest_names_x509_accepts_run(tmp_path, capsys):
    data = tiny()
    data["cas"][0].update(name="C" * 64, root="R" * 64, intermediates=[{"name": "I" * 64}])
    data["hosts"][0].update(name="a" * 51 + ".example.com", ca="C" * 64)
    assert len(data["hosts"][0]["name"]) == 63
    path = write(tmp_path, data)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0


def test_mathtext_names_do_not_break_the_report(tmp_path, capsys):
    data = tiny(
        name="$x^$ report",
        strategies=[
            {"name": "$\\frac{1}{0}$", "pin": "leaf_spki"},
            {"name": "$x^$", "pin": "root_spki"},
            {"name": "a | b", "pin": "none"},
        ],
        attacks=["rogue_ca"],
    )
    out = tmp_path / "out"
    assert main(["report", str(write(tmp_path, data)), "--out", str(out), "--quiet"]) == 0
    assert {"lockout.png", "coverage.png", "report.md", "summary.csv"} <= {
        p.name for p in out.iterdir()
    }
    assert "a \\| b" in (out / "report.md").read_text()


def test_mode_spellings(tmp_path, capsys):
    path = write(tmp_path, tiny())
    for i, mode in enumerate(["monte_carlo", "monte-carlo"]):
        out = tmp_path / f"mc{i}"
        argv = [
            "run",
            str(path),
            "--mode",
            mode,
            "--replications",
            "2",
            "--out",
            str(out),
            "--quiet",
        ]
        assert main(argv) == 0
        assert (out / "replications.csv").exists()


def test_help_text_for_every_option():
    from simlib.cli.main import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subs.choices.items():
        for action in sub._actions:
            assert action.help, f"simlib {name} {action.option_strings or action.dest} has no help"


def _evil_cert(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = derive_private_key(b"evil")
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    cert = make_root(
        key,
        "evil\n  spki sha256  FORGED=\x1b[2J\u202e",
        not_before=now,
        not_after=now + dt.timedelta(days=30),
        serial=5,
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_pins_escapes_certificate_subjects(tmp_path, capsys):
    pem = tmp_path / "evil.pem"
    _evil_cert(pem)
    assert main(["pins", str(pem)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "FORGED" in out and "\\n" in out and "\\x1b" in out
    assert sum(line.lstrip().startswith("spki sha256") for line in out.splitlines()) == 1


def test_pins_into_a_closed_pipe_is_quiet(tmp_path):
    files = [str(p) for p in sorted((DATA / "certs").rglob("*.pem"))]
    proc = subprocess.run(
        f"'{SIMLIB}' pins {' '.join(files)} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == "", proc.stderr


def test_unterminated_pem_blocks_are_linear(tmp_path):
    path = tmp_path / "many.pem"
    path.write_bytes(b"text\n" * 100_000 + b"-----BEGIN CERTIFICATE-----\n" + b"AAAA\n" * 100_000)
    started = time.process_time()  # CPU time: not inflated by other load on the box
    with pytest.raises(simlib.SimlibError, match="no matching END"):
        load_certificates(path)
    assert time.process_time() - started < 3.0  # the old regex scan took minutes on such files


class TestPythonDates:
    @pytest.fixture(scope="class")
    @classmethod
    def result(cls):
        from simlib.model import scenario_from_dict

        return simlib.simulate(scenario_from_dict(tiny()))

    def test_locked_versions_accepts_every_spelling(self, result):
        frames = [
            result.locked_versions("none", d)
            for d in (dt.date(2025, 2, 1), "2025-02-01", pd.Timestamp("2025-02-01"))
        ]
        for f in frames[1:]:
            pd.testing.assert_frame_equal(f, frames[0])

    def test_timeseries_date_is_datetime64(self, result):
        ts = result.timeseries
        assert ts["date"].dtype == "datetime64[ns]"
        weekly = ts[ts.strategy == "none"].resample("W", on="date")["lockout_rate"].mean()
        assert len(weekly) >= 8

    def test_overrides_accept_timestamps_and_strings(self):
        sc = simlib.apply_overrides(
            tiny(), {"start": pd.Timestamp("2025-01-15"), "end": "2025-02-20"}
        )
        assert (sc.start, sc.end) == (dt.date(2025, 1, 15), dt.date(2025, 2, 20))
        assert sc.day(pd.Timestamp("2025-01-16")) == sc.day("2025-01-16") == 1

    def test_time_of_day_is_refused(self):
        with pytest.raises(simlib.ScenarioError, match="start: must be a date"):
            simlib.apply_overrides(tiny(), {"start": pd.Timestamp("2025-01-15 10:30")})
