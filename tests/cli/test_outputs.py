"""What ``--out`` may touch, for every command that has one (issue 13, second High item).

Each refused case checks: exit code 2, one ``error:`` line that starts with the path, and the
whole test folder byte for byte as it was (nothing written, nothing replaced, no temporary file,
the link targets outside untouched). No test points at a real device or system path: FIFOs,
sockets and links are made in ``tmp_path``, and a device is faked at ``lstat``.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from simlib._outputs import MARKER
from simlib.cli.main import main
from tests.conftest import BASE
from tests.toolkit.pki import pki

pytestmark = [
    pytest.mark.hostile,
    pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning"),
]

SIMLIB = str(Path(sys.executable).with_name("simlib"))


# ------------------------------------------------------------------------------- helpers


def tiny(name: str = "test") -> dict:
    data = copy.deepcopy(BASE)
    data.update(name=name, end="2025-01-31")
    return data


def write_scenario(folder: Path, name: str = "test", file: str = "s.yaml") -> Path:
    path = folder / file
    path.write_text(yaml.safe_dump(tiny(name), allow_unicode=True), encoding="utf-8")
    return path


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: links by target, files by bytes, others by kind and inode."""
    seen: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = Path(folder) / name
            info = os.lstat(p)
            if stat.S_ISLNK(info.st_mode):
                value: tuple = ("link", os.readlink(p))
            elif stat.S_ISREG(info.st_mode):
                value = ("file", p.read_bytes(), stat.S_IMODE(info.st_mode))
            elif stat.S_ISDIR(info.st_mode):
                value = ("dir",)
            else:
                value = ("other", stat.S_IFMT(info.st_mode), info.st_ino)
            seen[str(p.relative_to(root))] = value
    return seen


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if not x.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture()
def work(tmp_path, monkeypatch) -> Path:
    """``tmp_path`` as the working folder, holding the inputs of every command in ``in/`` and a
    folder ``outside/`` that links point to (it must never change)."""
    monkeypatch.chdir(tmp_path)
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_scenario(inputs)
    sweep = {
        "name": "t",
        "base": tiny(),
        "replications": 1,
        "axes": {"grid": {"hosts[0].validity_days": [90]}},
    }
    (inputs / "w.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    t = pki()
    (inputs / "chain.pem").write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in t.chain)
    )
    (inputs / "vs.csv").write_text(_version_shares(), encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0\n")
    return tmp_path


def _version_shares() -> str:
    import math
    from datetime import date, timedelta

    start = date(2025, 1, 1)
    rel = [start + timedelta(days=14 * k) for k in range(4)]
    lines = ["date,version,share"]
    for t in range(0, 60, 3):
        day = start + timedelta(days=t)

        def g(d: float) -> float:
            return 0.95 * (1 - math.exp(-max(d, 0) / 6.0))

        ge = [1.0] + [g(t - (r - start).days) if r <= day else 0.0 for r in rel[1:]]
        row = [
            max(0.0, ge[k] - (ge[k + 1] if k + 1 < len(rel) else 0.0))
            for k, r in enumerate(rel)
            if r <= day
        ]
        lines += [f"{day},v{k + 1:02d},{share:.6f}" for k, share in enumerate(row)]
    return "\n".join(lines) + "\n"


def backup_pin() -> str:
    from tests.toolkit.pki import pins

    return pins()["next_leaf"]


COMMANDS: dict[str, Callable[[str], list[str]]] = {
    "run": lambda out: ["run", "in/s.yaml", "--out", out, "--quiet"],
    "sweep": lambda out: ["sweep", "in/w.yaml", "--out", out, "--quiet"],
    "emit": lambda out: [
        "emit",
        "--strategy",
        "leaf_spki",
        "--for",
        "android,okhttp",
        "--chain",
        "in/chain.pem",
        "--backup",
        backup_pin(),
        "--out",
        out,
    ],
    "fleet-fit": lambda out: ["fleet", "fit", "in/vs.csv", "--max-components", "1", "--out", out],
}
FOLDER_COMMANDS = ("run", "sweep", "emit")


# ----------------------------------------------------------------- kinds of thing at --out


def _fifo(p: Path) -> str:
    os.mkfifo(p)
    return str(p.relative_to(Path.cwd()))


def _socket(p: Path) -> str:
    rel = str(p.relative_to(Path.cwd()))  # relative: AF_UNIX paths are short
    s = socket.socket(socket.AF_UNIX)
    s.bind(rel)
    s.close()
    return rel


def _file(p: Path) -> str:
    p.write_text("keep me\n")
    return "out"


def _link(target: str) -> Callable[[Path], str]:
    def make(p: Path) -> str:
        os.symlink(Path.cwd() / target, p)
        return "out"

    return make


def _under(kind: Callable[[Path], str]) -> Callable[[Path], str]:
    def make(p: Path) -> str:
        kind(p)
        return "out/sub"

    return make


def _slash(kind: Callable[[Path], str]) -> Callable[[Path], str]:
    """``out/``: a trailing slash makes ``lstat`` follow the link, so it must not reach it."""

    def make(p: Path) -> str:
        return kind(p) + "/"

    return make


def _dot(kind: Callable[[Path], str]) -> Callable[[Path], str]:
    def make(p: Path) -> str:
        return "./" + kind(p) + "/."

    return make


def _mkdir_nonempty(p: Path) -> str:
    p.mkdir()
    (p / "notes.txt").write_text("mine\n")
    return "out"


# (kind id, set-up, what a folder command says, what a file command says)
KINDS = [
    ("fifo", _fifo, "not a folder (a FIFO)", "is a FIFO"),
    ("socket", _socket, "not a folder (a socket)", "is a socket"),
    ("regular-file", _file, "not a folder (a regular file)", "exists: add --force"),
    ("link-to-folder-outside", _link("outside"), "symbolic link", "symbolic link"),
    ("link-to-file-outside", _link("outside/secret.txt"), "symbolic link", "symbolic link"),
    ("link-to-new-file-outside", _link("outside/new"), "symbolic link", "symbolic link"),
    ("broken-link", _link("nowhere"), "symbolic link", "symbolic link"),
    ("link-with-trailing-slash", _slash(_link("outside")), "symbolic link", "symbolic link"),
    ("link-with-dot", _dot(_link("outside")), "symbolic link", "symbolic link"),
    ("under-a-file", _under(_file), "is not a folder", "is not a folder"),
    ("under-a-fifo", _under(_fifo), "is not a folder", "is not a folder"),
    (
        "under-a-broken-link",
        _under(_link("nowhere")),
        "broken symbolic link",
        "broken symbolic link",
    ),
]


def _cases():
    for kid, make, folder_says, file_says in KINDS:
        for command in COMMANDS:
            says = file_says if command == "fleet-fit" else folder_says
            yield pytest.param(command, make, says, False, id=f"{command}-{kid}")
            if command in ("run", "fleet-fit", "emit", "sweep") and kid != "regular-file":
                # --force never makes simlib replace a FIFO, socket or link, or write through one
                yield pytest.param(command, make, says, True, id=f"{command}-{kid}-force")
    yield pytest.param(
        "fleet-fit",
        lambda p: (p.mkdir(), "out")[1],
        "is a folder",
        True,
        id="fleet-fit-empty-folder-force",
    )
    yield pytest.param(
        "fleet-fit", _mkdir_nonempty, "is a folder", True, id="fleet-fit-folder-force"
    )
    yield pytest.param(
        "run", _mkdir_nonempty, "holds no simlib results", False, id="run-foreign-folder"
    )
    yield pytest.param(
        "sweep", _mkdir_nonempty, "holds no sweep.json", False, id="sweep-foreign-folder"
    )


@pytest.mark.parametrize(("command", "make", "says", "force"), list(_cases()))
def test_out_kind_is_refused_and_nothing_changes(work, capsys, command, make, says, force):
    out = make(work / "out")
    argv = COMMANDS[command](out) + ["--force"] * force
    before = snapshot(work)
    assert main(argv) == 2
    line = error_line(capsys)
    assert line.startswith(f"error: {Path(out)}: ") and says in line, line
    assert snapshot(work) == before


@pytest.mark.parametrize("command", ["run", "report", "emit", "fleet-fit"])
def test_a_device_is_refused_before_any_work(work, capsys, monkeypatch, command):
    """``/dev/full`` and ``/dev/null`` stand-ins: ``lstat`` says "character device" for a path that
    does not exist, so if the check failed, the command would create a regular file there."""
    fake = work / "full"
    real_lstat = os.lstat
    device = os.stat_result((stat.S_IFCHR | 0o666, 0, 0, 1, 0, 0, 0, 0, 0, 0))

    def lstat(path, *args, **kwargs):
        return (
            device if os.fspath(path) in ("full", str(fake)) else real_lstat(path, *args, **kwargs)
        )

    argv = {
        "run": ["run", "in/s.yaml", "--out", "full", "--force"],
        "report": ["report", "in/s.yaml", "--out", "full", "--force"],
        "emit": [*COMMANDS["emit"]("full"), "--force"],
        "fleet-fit": [*COMMANDS["fleet-fit"]("full"), "--force"],
    }[command]
    before = snapshot(work)  # taken before the fake
    monkeypatch.setattr(os, "lstat", lstat)
    assert main(argv) == 2
    line = error_line(capsys)
    assert line.startswith("error: full: ") and "a device" in line, line
    monkeypatch.setattr(os, "lstat", real_lstat)
    assert not os.path.lexists(fake) and snapshot(work) == before


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        (_link("outside"), "symbolic link"),
        (_fifo, "not a folder (a FIFO)"),
        (_under(_file), "is not a folder"),
    ],
)
def test_report_refuses_before_any_work(work, capsys, kind, says):
    out = kind(work / "out")
    before = snapshot(work)
    assert main(["report", "in/s.yaml", "--out", out, "--quiet", "--force"]) == 2
    line = error_line(capsys)
    assert line.startswith(f"error: {out}: ") and says in line, line
    assert snapshot(work) == before


def test_real_exit_code(work):
    os.mkfifo(work / "fifo")
    argv = ["fleet", "fit", "in/vs.csv", "--out", "fifo", "--force"]
    proc = subprocess.run([SIMLIB, *argv], capture_output=True, text=True, cwd=work, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == "error: fifo: is a FIFO, not a file simlib may replace\n", proc.stderr
    assert stat.S_ISFIFO(os.lstat(work / "fifo").st_mode)


# ----------------------------------------------------------------- inside the out folder


class _Made:
    """Results folders written by ``simlib run`` once per scenario name in this module: the tests
    that start from a folder holding results test what happens next, not the run that made it,
    so :func:`_ours` copies one (byte for byte what the run wrote) instead of simulating again."""

    root: ClassVar[Path | None] = None
    folders: ClassVar[dict[str, Path]] = {}
    #: file fsyncs of a clean run per starting state (the full-disk baselines)
    syncs: ClassVar[dict[str, int]] = {}


@pytest.fixture(scope="module", autouse=True)
def _made(tmp_path_factory):
    _Made.root = tmp_path_factory.mktemp("made")
    yield
    _Made.root, _Made.folders, _Made.syncs = None, {}, {}


def _ours(work: Path, name: str = "test", out: str = "out") -> Path:
    """``out`` holding the results of scenario ``name`` (as ``simlib run`` writes them)."""
    if name != "test":  # the scenario file sits in the work folder, as after a real run
        write_scenario(work / "in", name, f"{name}.yaml")
    if name not in _Made.folders:
        assert _Made.root is not None
        made = _Made.root / name
        source = write_scenario(_Made.root, name, f"{name}.yaml")
        assert main(["run", str(source), "--out", str(made), "--quiet", "--format", "parquet"]) == 0
        _Made.folders[name] = made
    shutil.copytree(_Made.folders[name], work / out, symlinks=True)
    return work / out


@pytest.mark.parametrize("planted", ["summary.csv", "timeseries.csv", "scenario.yaml", MARKER])
@pytest.mark.parametrize("target", ["outside/secret.txt", "outside/new"])
def test_planted_link_inside_results_is_replaced_not_followed(work, capsys, planted, target):
    out = _ours(work)
    (out / planted).unlink()
    os.symlink(work / target, out / planted)
    outside = snapshot(work / "outside")
    code = main(["run", "in/s.yaml", "--out", "out", "--quiet"])
    if planted == MARKER:  # a marker that is a link is not one simlib wrote
        assert code == 2 and "is a symbolic link" in error_line(capsys)
    else:
        assert code == 0, capsys.readouterr().err
        assert stat.S_ISREG(os.lstat(out / planted).st_mode)
    assert snapshot(work / "outside") == outside


@pytest.mark.parametrize("planted", ["summary.csv", "scenario.yaml"])
@pytest.mark.parametrize("kind", ["fifo", "folder", "socket"])
def test_non_file_in_the_way_of_a_result_replaces_nothing(work, capsys, planted, kind):
    out = _ours(work)
    (out / planted).unlink()
    {"fifo": lambda p: os.mkfifo(p), "folder": lambda p: p.mkdir(), "socket": lambda p: _socket(p)}[
        kind
    ](out / planted)
    before = snapshot(work)
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet", "--force"]) == 2
    line = error_line(capsys)
    assert line.startswith(f"error: out/{planted}: ") and "not a file" in line, line
    assert snapshot(work) == before  # no file replaced, no temporary file left


@pytest.mark.parametrize("entry", [".lock", "results", "sweep.json", "manifest"])
def test_sweep_refuses_links_among_its_entries(work, capsys, entry):
    (work / "out").mkdir()
    os.symlink(work / "outside" / ("new" if entry == ".lock" else ""), work / "out" / entry)
    before = snapshot(work)
    assert main(COMMANDS["sweep"]("out")) == 2
    line = error_line(capsys)
    assert line.startswith(f"error: out/{entry}: ") and "symbolic link" in line, line
    assert snapshot(work) == before


def test_sweep_resumes_in_its_own_folder(work, capsys):
    assert main(COMMANDS["sweep"]("out")) == 0
    assert main(COMMANDS["sweep"]("out")) == 0
    assert "1 skipped" in capsys.readouterr().out


def test_emit_refuses_existing_configs_without_force(work, capsys):
    argv = COMMANDS["emit"]("out")
    assert main(argv) == 0
    capsys.readouterr()
    before = snapshot(work)
    assert main(argv) == 2
    line = error_line(capsys)
    assert "network_security_config.xml: exists: add --force" in line, line
    assert snapshot(work) == before
    (work / "out" / "CertificatePinner.kt").write_text("hand edited\n")
    assert main([*argv, "--force"]) == 0
    assert "hand edited" not in (work / "out" / "CertificatePinner.kt").read_text()


def test_emit_never_writes_through_a_planted_config_link(work, capsys):
    (work / "out").mkdir()
    os.symlink(work / "outside" / "secret.txt", work / "out" / "CertificatePinner.kt")
    before = snapshot(work)
    assert main([*COMMANDS["emit"]("out"), "--force"]) == 2
    assert "CertificatePinner.kt: is a symbolic link" in error_line(capsys)
    assert snapshot(work) == before


def test_fleet_fit_replaces_a_file_only_with_force(work, capsys):
    (work / "fleet.yaml").write_text("mine\n")
    assert main(COMMANDS["fleet-fit"]("fleet.yaml")) == 2
    assert "fleet.yaml: exists: add --force to replace it" in error_line(capsys)
    assert (work / "fleet.yaml").read_text() == "mine\n"
    assert main([*COMMANDS["fleet-fit"]("fleet.yaml"), "--force"]) == 0
    assert "fleet" in yaml.safe_load((work / "fleet.yaml").read_text())


# ----------------------------------------------------------------- whose results a folder holds


def test_rerunning_a_scenario_into_its_own_folder_needs_no_force(work, capsys):
    out = _ours(work)
    assert json.loads((out / MARKER).read_text())["scenario"] == "test"
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet"]) == 0


def test_names_that_reduce_to_one_folder_do_not_overwrite_each_other(work, capsys):
    first = write_scenario(work / "in", "a b", "ab1.yaml")
    second = write_scenario(work / "in", "a-b", "ab2.yaml")
    assert main(["run", str(first), "--quiet"]) == 0
    before = snapshot(work)
    assert main(["run", str(second), "--quiet"]) == 2
    line = error_line(capsys)
    assert line.startswith("error: results/a-b: holds the results of scenario 'a b', not 'a-b'"), (
        line
    )
    assert "--force" in line and snapshot(work) == before
    assert main(["run", str(second), "--quiet", "--force"]) == 0
    assert json.loads((work / "results" / "a-b" / MARKER).read_text())["scenario"] == "a-b"


def test_report_refuses_another_scenarios_folder_before_any_work(work, capsys):
    _ours(work, "other")
    before = snapshot(work)
    assert main(["report", "in/s.yaml", "--out", "out", "--quiet"]) == 2
    assert "holds the results of scenario 'other'" in error_line(capsys)
    assert snapshot(work) == before


@pytest.mark.parametrize(
    ("marker", "says"),
    [
        (b"not json", "not a simlib marker"),
        (b'{"scenario": 5}', "not a simlib marker"),
        (b"[" * 100_000, "not a simlib marker"),
        (b'{"scenario": "' + b"x" * 70_000 + b'"}', "not a simlib marker"),
        (b"\xff\xfe", "not a simlib marker"),
        ("fifo", "is a FIFO"),
        ("folder", "is a folder"),
    ],
)
def test_a_marker_simlib_did_not_write_is_refused(work, capsys, marker, says):
    out = work / "out"
    out.mkdir()
    if marker == "fifo":
        os.mkfifo(out / MARKER)  # never opened: it would block
    elif marker == "folder":
        (out / MARKER).mkdir()
    else:
        (out / MARKER).write_bytes(marker)
    before = snapshot(work)
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet"]) == 2
    line = error_line(capsys)
    assert line.startswith("error: out: ") and says in line, line
    assert snapshot(work) == before


def test_results_written_before_markers_are_still_ours(work, capsys):
    out = _ours(work)
    (out / MARKER).unlink()
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet"]) == 0
    assert (out / MARKER).exists()


def test_foreign_folder_needs_force_and_keeps_its_files(work, capsys):
    _mkdir_nonempty(work / "out")
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet"]) == 2
    capsys.readouterr()
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet", "--force"]) == 0
    assert (work / "out" / "notes.txt").read_text() == "mine\n"
    assert (work / "out" / "summary.csv").exists()


def test_folder_with_hidden_files_only_is_free(work, capsys):
    (work / "out").mkdir()
    (work / "out" / ".DS_Store").write_bytes(b"\0")
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet"]) == 0


def test_a_planted_results_link_is_refused_for_the_default_folder(work, capsys):
    os.symlink(work / "outside", work / "results")
    before = snapshot(work)
    assert main(["run", "in/s.yaml", "--quiet"]) == 2
    assert error_line(capsys).startswith("error: results: is a symbolic link")
    assert snapshot(work) == before
    # typed by the user, a link among the parents is the user's choice
    assert main(["run", "in/s.yaml", "--out", "results/x", "--quiet"]) == 0
    assert (work / "outside" / "x" / "summary.csv").exists()


# ------------------------------------------------------------------------ a full disk


class Full:
    """``os.fsync``/``os.write`` that fail with ENOSPC (or EDQUOT) at the k-th call on a file."""

    def __init__(self, monkeypatch, name: str, k: int, code: int = errno.ENOSPC) -> None:
        self.real = getattr(os, name)
        self.k, self.code, self.calls = k, code, 0
        monkeypatch.setattr(os, name, self)

    def __call__(self, fd, *args):
        if stat.S_ISREG(os.fstat(fd).st_mode):  # folder fsyncs are best effort anyway
            self.calls += 1
            if self.calls == self.k:
                raise OSError(self.code, os.strerror(self.code))
        return self.real(fd, *args)


def _file_syncs(monkeypatch, argv: list[str]) -> int:
    """How many file fsyncs ``argv`` makes when nothing fails (the baseline of the same run)."""
    counter = Full(monkeypatch, "fsync", k=-1)
    assert main(argv) == 0
    monkeypatch.setattr(os, "fsync", counter.real)
    return counter.calls


def _prepare(work: Path, state: str, out: str) -> list[str]:
    argv = ["run", "in/s.yaml", "--out", out, "--quiet", "--format", "parquet"]
    if state == "own-results":
        _ours(work, out=out)
    elif state == "other-scenario-forced":
        _ours(work, "other", out=out)
        argv.append("--force")
    return argv


@pytest.mark.parametrize("state", ["new", "own-results", "other-scenario-forced"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_full_disk_under_run_writes_nothing(work, capsys, monkeypatch, state, where):
    # the baseline: the same command on a folder in the same state, counting the file fsyncs
    # (once per state: the three failure points share it)
    if state not in _Made.syncs:
        _Made.syncs[state] = _file_syncs(monkeypatch, _prepare(work, state, "probe"))
    n = _Made.syncs[state]
    assert n >= 11  # 5 tables × 2 formats and scenario.yaml (and the marker when it changes)
    argv = _prepare(work, state, "out")
    capsys.readouterr()
    before = snapshot(work)
    Full(monkeypatch, "fsync", {"first": 1, "middle": n // 2, "last": n}[where])
    assert main(argv) == 2
    line = error_line(capsys)
    assert line == "error: out: cannot write (No space left on device)", line
    assert snapshot(work) == before


@pytest.mark.parametrize(
    ("command", "call"),
    [
        (command, call)
        for command in ("run", "emit", "fleet-fit")
        for call in ("write-1", "write-2", "fsync-1", "fsync-2", "quota")
        if command != "fleet-fit" or not call.endswith("-2")  # fleet fit writes one file
    ],
)
def test_full_disk_gives_one_line_and_leaves_nothing(work, capsys, monkeypatch, command, call):
    name, _, k = call.partition("-")
    if name == "quota":
        Full(monkeypatch, "fsync", 1, errno.EDQUOT)
    else:
        Full(monkeypatch, name, int(k))
    out = "out.yaml" if command == "fleet-fit" else "out"
    before = snapshot(work)
    assert main(COMMANDS[command](out)) == 2
    line = error_line(capsys)
    strerror = os.strerror(errno.EDQUOT if name == "quota" else errno.ENOSPC)
    assert line == f"error: {out}: cannot write ({strerror})", line
    assert snapshot(work) == before


def test_full_disk_under_fleet_fit_force_keeps_the_old_file(work, capsys, monkeypatch):
    (work / "fleet.yaml").write_text("mine\n")
    Full(monkeypatch, "write", 1)
    assert main([*COMMANDS["fleet-fit"]("fleet.yaml"), "--force"]) == 2
    assert "No space left on device" in error_line(capsys)
    assert (work / "fleet.yaml").read_text() == "mine\n"
    assert not [p for p in os.listdir(work) if p.endswith(".tmp")]


def test_a_writer_failing_half_way_leaves_no_temporary_file(work, capsys, monkeypatch):
    from simlib.results import io

    real = io.write_csv

    def half(frame, path):
        real(frame.head(3), path)  # some bytes reach the temporary file, then the disk is full
        if "lockout_rate" in frame.columns:  # the timeseries, after other tables were written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(io, "write_csv", half)
    before = snapshot(work)
    assert main(["run", "in/s.yaml", "--out", "out", "--quiet"]) == 2
    assert "No space left on device" in error_line(capsys)
    assert snapshot(work) == before


def test_full_disk_under_report_writes_nothing(work, capsys, monkeypatch):
    from simlib.report import render

    def full(*args, **kwargs):  # the kernel filling the staging folder hits a full disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(render, "execute", full)
    before = snapshot(work)
    assert main(["report", "in/s.yaml", "--out", "out", "--quiet"]) == 2
    assert error_line(capsys) == "error: out: cannot write (No space left on device)"
    assert snapshot(work) == before  # no marker, no staging folder
    Full(monkeypatch, "fsync", 1)  # and when the very first write (the marker) fails
    assert main(["report", "in/s.yaml", "--out", "out", "--quiet"]) == 2
    assert error_line(capsys) == "error: out: cannot write (No space left on device)"
    assert snapshot(work) == before
