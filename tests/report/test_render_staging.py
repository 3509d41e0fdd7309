"""``simlib report`` stages its work in a private folder *inside* ``--out``: a parent that is
read-only or someone else's does not matter, the staging folder never outlives the call, and a
failure leaves ``--out`` as it was (or absent, if the report made it)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simlib.cli.main import main
from simlib.report import render
from simlib.report.html import PAGE_POLICY
from tests.conftest import BASE

pytestmark = [
    pytest.mark.hostile,
    pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning"),
]

PAGE = (
    f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
    f"content=\"{PAGE_POLICY}\"><meta charset='utf-8'><title>t</title></head>"
    "<body><p>report</p></body></html>"
)


def _scenario(folder: Path) -> Path:
    data = {**BASE, "name": "staged", "end": "2025-01-31"}
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture
def fake_kernel(monkeypatch, tmp_path):
    """The notebook step replaced by one that records where it ran and writes two files."""
    seen: dict[str, object] = {}

    def execute(notebook, output, parameters, cwd):
        staging = Path(parameters["results_dir"])
        seen.update(staging=staging, cwd=Path(cwd), mode=stat.S_IMODE(os.stat(staging).st_mode))
        seen["parent"] = _listing(tmp_path)  # what the parent holds while the report is made
        if seen.get("fail"):
            raise OSError(28, os.strerror(28))
        (staging / "summary.csv").write_text("strategy\nnone\n")
        Path(output).write_text("{}")
        return Path(output)

    monkeypatch.setattr(render, "execute", execute)
    monkeypatch.setattr(render, "to_html", lambda nb, title: PAGE)
    return seen


def test_staging_is_private_inside_out_and_the_parent_is_untouched(tmp_path, fake_kernel):
    scenario = render_scenario(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    before = _listing(tmp_path)
    written = render.write_report(scenario, out)
    staging = fake_kernel["staging"]
    assert staging.parent == out.resolve() and staging.is_absolute()
    assert staging.name.startswith(".report-") and fake_kernel["cwd"] == staging
    assert fake_kernel["mode"] == 0o700
    assert fake_kernel["parent"] == before == _listing(tmp_path)
    assert {p.name for p in written} == {"report.html", "report.ipynb", "summary.csv"}
    assert _listing(out) == ["report.html", "report.ipynb", "summary.csv"]  # staging removed


def test_a_failed_report_leaves_out_as_it_was(tmp_path, fake_kernel):
    fake_kernel["fail"] = True
    scenario = render_scenario(tmp_path)
    before = _listing(tmp_path)
    with pytest.raises(OSError):
        render.write_report(scenario, tmp_path / "new" / "out")
    assert _listing(tmp_path) == before  # the folders made for the report are gone again
    out = tmp_path / "kept"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OSError):
        render.write_report(scenario, out)
    assert _listing(out) == ["notes.txt"]


def test_out_as_a_link_is_refused_by_the_staging_too(tmp_path, fake_kernel):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "out")
    with pytest.raises(Exception, match="symbolic link"):
        render.write_report(render_scenario(tmp_path), tmp_path / "out")
    assert _listing(tmp_path / "real") == []


def render_scenario(folder: Path):
    from simlib.model import load_scenario

    return load_scenario(_scenario(folder))


def _read_only_parent_run(parent: Path, argv: list[str]) -> subprocess.CompletedProcess:
    """``simlib argv`` with ``parent`` read-only and ``parent/sub`` writable: a read-only bind
    mount in a private mount namespace as root (permission bits do not stop root), else the
    permission bits."""
    command = [sys.executable, "-m", "simlib.cli.main", *argv]
    if os.geteuid() != 0:
        parent.chmod(0o555)
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=600)
        finally:
            parent.chmod(0o755)
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs unshare(1) to make a read-only folder as root")
    script = (
        'mount --bind "$1" "$1" && mount --bind "$1/sub" "$1/sub" '
        '&& mount -o remount,bind,ro "$1" && shift && exec "$@"'
    )
    probe = subprocess.run([unshare, "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespaces here (unshare -m refused)")
    return subprocess.run(
        [unshare, "-m", "sh", "-c", script, "sh", str(parent), *command],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_report_into_a_writable_folder_under_a_read_only_parent(tmp_path):
    source = _scenario(tmp_path)
    parent = tmp_path / "ro"
    (parent / "sub").mkdir(parents=True)
    result = _read_only_parent_run(
        parent, ["report", str(source), "--out", str(parent / "sub"), "--quiet"]
    )
    assert result.returncode == 0, result.stderr
    names = _listing(parent / "sub")
    assert {"report.html", "report.ipynb", "report.md", "summary.csv"} <= set(names)
    assert not [n for n in names if n.startswith(".report-")]
    assert _listing(parent) == ["sub"]


def test_cli_report_reruns_replace_the_earlier_runs_files(tmp_path, monkeypatch, fake_kernel):
    """A ``run --format parquet`` then a ``report`` into the same folder: the Parquet files the
    report does not write are gone, the user's own file stays."""
    monkeypatch.chdir(tmp_path)
    _scenario(tmp_path)
    assert main(["run", "s.yaml", "--out", "out", "--format", "parquet", "--quiet"]) == 0
    assert [n for n in _listing(tmp_path / "out") if n.endswith(".parquet")]
    (tmp_path / "out" / "notes.txt").write_text("mine")
    assert main(["report", "s.yaml", "--out", "out", "--quiet"]) == 0
    assert [n for n in _listing(tmp_path / "out") if not n.startswith(".")] == [
        "notes.txt",
        "report.html",
        "report.ipynb",
        "summary.csv",
    ]
