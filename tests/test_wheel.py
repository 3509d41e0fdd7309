"""The package stands on its own: a wheel built from ``simlib/`` alone, installed into a fresh
virtual environment outside the checkout, runs what users run — ``simlib presets``, ``run
--preset``, ``run`` and ``validate`` of a shorthand scenario (one that ``data/world`` fills in),
``report`` of the quickstart — and a Dask sweep of a shorthand scenario whose worker runs from
that environment; and the named Jupyter kernel ``simlib`` (``make kernel``) runs the wheel's
simlib for a Jupyter living elsewhere.

To stay fast and offline the new environment borrows the checkout venv's installed dependencies
through a ``.pth`` file that lists its site-packages (a plain path line: the editable install's
own ``.pth`` there is not run, so the checkout's simlib stays invisible) and gets the wheel with
``pip install --no-deps`` (nbconvert's templates, data files under the venv's prefix, are linked
in). Every command runs with its working directory in a temporary folder that holds no checkout,
with Jupyter's data and config folders in it too. Dask listens on 127.0.0.1 only. About 40 s of
CPU (a minute or two of wall time on a busy two-core box), most of it the report.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.slow

PACKAGE_DATA = ROOT / "simlib" / "_data"
TIMEOUT = 300
#: What ``make kernel`` runs (after ``$(BIN)/python``); the test registers the kernel the same way.
KERNEL_INSTALL = [
    "-m",
    "ipykernel",
    "install",
    "--user",
    "--name",
    "simlib",
    "--display-name",
    "Python (simlib)",
]

#: A shorthand host (CA, profile, tool, key type): data/world fills in hierarchy, pins, lifetimes.
SHORTHAND = """\
name: wheel-shorthand
start: 2026-01-01
end: 2026-09-30
seed: 7
fleet:
  users: 100000
  release_every_days: 14
  build_lead_days: 3
  adoption:
    never_update_share: 0.02
    components:
      - {weight: 0.47, mean_lag_days: 3.3}
      - {weight: 0.53, mean_lag_days: 29}
hosts:
  - name: api.bank.example
    ca: letsencrypt
    profile: classic
    tool: certbot
    key_type: rsa
strategies:
  - {name: leaf key, pin: leaf_spki}
  - {name: root, pin: root_spki}
attacks: [rogue_ca]
"""

SWEEP = """\
name: wheel-dask
base: shorthand.yaml
mode: expected
batch_size: 1
axes:
  grid:
    fleet.adoption.components[1].mean_lag_days: [10, 60]
"""


@dataclass
class Installed:
    wheel: Path
    venv: Path
    python: Path
    site: Path
    home: Path  # the working folder: no checkout anywhere above or in it
    env: dict[str, str]
    report: subprocess.Popen | None = None  # simlib report of the quickstart, started at once

    @property
    def simlib(self) -> str:
        return str(self.venv / "bin" / "simlib")

    def run(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            cwd=self.home,
            env=self.env,
            timeout=TIMEOUT,
            **kwargs,
        )
        assert proc.returncode == 0, (
            f"{shlex.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
        )
        return proc

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(self.simlib, *args)


def _check(*args, **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT, **kwargs
    )
    assert proc.returncode == 0, f"{shlex.join(map(str, args))}:\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    # Built from the package tree alone: nothing outside simlib/ (data/ least of all) can leak in.
    src = base / "src"
    shutil.copytree(
        ROOT / "simlib", src / "simlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    _check(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--quiet",
        "--wheel-dir",
        base / "dist",
        src,
    )
    (wheel,) = (base / "dist").glob("simlib-*.whl")

    venv = base / "venv"
    _check(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    # Installed before the .pth exists, so pip sees an empty environment (no simlib to replace).
    _check(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        wheel,
    )
    site = Path(
        _check(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    (site / "_checkout_venv_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # ... and the data files those dependencies installed under their prefix (nbconvert's templates)
    (venv / "share" / "jupyter").mkdir(parents=True)
    (venv / "share" / "jupyter" / "nbconvert").symlink_to(
        Path(sys.prefix) / "share" / "jupyter" / "nbconvert"
    )

    home = base / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        and not k.startswith(("JUPYTER", "IPYTHON"))
    }
    env |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "JUPYTER_DATA_DIR": str(base / "jupyter-data"),  # no kernel registered: none, yet
        "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
        "IPYTHONDIR": str(base / "ipython"),
        "PYTHONNOUSERSITE": "1",
    }
    done = Installed(wheel, venv, python, site, home, env)
    # The report (the slowest command) runs alongside the other tests; its Jupyter data folder
    # stays empty: papermill needs no registered kernel.
    with (base / "report.log").open("w") as log:
        done.report = subprocess.Popen(
            [done.simlib, "report", "--out", str(home / "report"), "--quiet"],
            cwd=home,
            env=env | {"JUPYTER_DATA_DIR": str(base / "jupyter-data-report")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield done
    finally:
        if done.report.poll() is None:
            done.report.kill()
            done.report.wait()


@pytest.fixture
def cluster(installed: Installed):
    """A Dask scheduler and one worker, both on 127.0.0.1 and both running the new venv's python."""
    info = installed.home.parent / "scheduler.json"
    logs = installed.home.parent
    procs: list[subprocess.Popen] = []
    address = None
    try:
        for name, args in (
            (
                "scheduler",
                [
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(info),
                ],
            ),
            (
                "worker",
                [
                    "distributed.cli.dask_worker",
                    "--scheduler-file",
                    str(info),
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--no-nanny",
                ],
            ),
        ):
            with (logs / f"{name}.log").open("w") as log:
                procs.append(
                    subprocess.Popen(
                        [str(installed.python), "-m", *args],
                        cwd=installed.home,
                        env=installed.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            if name == "scheduler":
                _wait(lambda: info.is_file() and info.stat().st_size > 0, procs, logs)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:"), address
        _wait(lambda: _workers(address) > 0, procs, logs)
        yield address, procs[1].pid
    finally:
        if address and procs[0].poll() is None:
            from distributed import Client

            with contextlib.suppress(Exception), Client(address, timeout=5) as client:
                client.shutdown()  # the scheduler closes the worker, then itself
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _workers(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=10) as client:
        return len(client.scheduler_info()["workers"])


def _wait(ready, procs: list[subprocess.Popen], logs: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        died = [p for p in procs if p.poll() is not None]
        if died or time.monotonic() > deadline:
            text = "\n".join(
                f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*.log"))
            )
            pytest.fail(
                f"Dask cluster did not start ({'a process exited' if died else 'timeout'}):\n{text}"
            )
        time.sleep(0.2)


def test_the_wheel_ships_every_data_file_and_template(installed: Installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    tree = {p.relative_to(ROOT).as_posix() for p in PACKAGE_DATA.rglob("*") if p.is_file()}
    assert {
        "simlib/_data/world/ca-catalogue.yaml",
        "simlib/_data/certs/letsencrypt/isrgrootx1.pem",
        "simlib/_data/presets/le-gen-y-root-inclusion.yaml",
    } <= tree
    assert tree - names == set()
    for path in (
        "simlib/scenarios/quickstart.yaml",
        "simlib/report/templates/decision-report.ipynb",
        "simlib/report/templates/simlib-report/index.html.j2",
        "simlib/py.typed",
    ):
        assert path in names


def test_the_installed_package_is_the_wheel_and_reads_its_own_data(installed: Installed):
    code = (
        "import json, simlib; from simlib.world import data; "
        "print(json.dumps([simlib.__file__, str(data.world_dir()), str(data.certs_dir()), "
        "str(data.presets_dir())]))"
    )
    paths = [Path(p) for p in json.loads(installed.run(str(installed.python), "-c", code).stdout)]
    package = installed.site / "simlib"
    assert paths[0] == package / "__init__.py"
    assert paths[1:] == [
        package / "_data" / "world",
        package / "_data" / "certs",
        package / "_data" / "presets",
    ]
    assert not (installed.home / "data").exists() and ROOT not in installed.home.parents


def test_presets_lists_every_shipped_preset(installed: Installed):
    out = installed.cli("presets").stdout
    shipped = sorted(p.stem for p in (PACKAGE_DATA / "presets").glob("*.yaml"))
    assert len(shipped) >= 10
    listed = [line.split()[0] for line in out.splitlines()[1:] if line.strip()]
    assert listed == shipped


def test_run_a_preset(installed: Installed):
    out = installed.home / "preset"
    proc = installed.cli("run", "--preset", "le-gen-y-root-inclusion", "--out", str(out))
    assert "wrote" in proc.stdout
    assert (out / "summary.csv").is_file() and (out / "issuances.csv").is_file()


def test_run_and_validate_a_shorthand_scenario(installed: Installed):
    scenario = installed.home / "shorthand.yaml"
    scenario.write_text(SHORTHAND)
    assert "ok" in installed.cli("validate", "shorthand.yaml").stdout
    resolved = installed.cli("validate", "shorthand.yaml", "--resolved").stdout
    assert "ISRG Root X1" in resolved  # the real hierarchy, from the packaged catalogue
    out = installed.home / "shorthand"
    installed.cli("run", "shorthand.yaml", "--out", str(out), "--quiet")
    summary = (out / "summary.csv").read_text()
    assert '"leaf key"' in summary and '"root"' in summary
    # the issued certificates chain to the real ISRG Root X1 pin (openssl's, data/certs/README.md)
    pin = re.search(
        r"ISRG Root X1.*?`([A-Za-z0-9+/=]{44})`", (DATA / "certs" / "README.md").read_text()
    )
    assert pin and pin.group(1) in (out / "issuances.csv").read_text()


def test_dask_sweep_of_a_shorthand_scenario_on_a_worker_of_the_venv(installed: Installed, cluster):
    from distributed import Client

    from simlib.batch.reading import load_manifest

    address, worker_pid = cluster
    with Client(address, timeout=10) as client:
        ran = client.run(lambda: (__import__("sys").executable, __import__("simlib").__file__))
    assert list(ran.values()) == [
        (str(installed.python), str(installed.site / "simlib" / "__init__.py"))
    ]

    (installed.home / "shorthand.yaml").write_text(SHORTHAND)
    (installed.home / "sweep.yaml").write_text(SWEEP)
    out = installed.home / "sweep"
    proc = installed.cli(
        "sweep", "sweep.yaml", "--out", str(out), "--scheduler", address, "--quiet"
    )
    said = proc.stdout + proc.stderr
    assert "2 runs done, 0 skipped, 0 failed" in said, said
    manifest = load_manifest(out)
    assert list(manifest["status"]) == ["done", "done"]
    assert set(manifest["pid"]) == {worker_pid}  # run by the worker, not by the simlib process


def test_the_named_kernel_runs_the_wheel_for_a_jupyter_elsewhere(installed: Installed, monkeypatch):
    """``make kernel`` registers ``simlib``; a Jupyter of another environment (here: this test's,
    as a user's own JupyterLab or VS Code) lists it and runs notebooks on the wheel's simlib."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^kernel:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe and ["$(BIN)/python", *KERNEL_INSTALL] in [
        shlex.split(line) for line in recipe.group(1).splitlines()
    ]

    installed.run(str(installed.python), *KERNEL_INSTALL)
    for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        monkeypatch.setenv(name, installed.env[name])
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    monkeypatch.delenv("PYTHONPATH", raising=False)

    import nbformat
    import papermill
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("simlib")
    assert spec.display_name == "Python (simlib)" and Path(spec.argv[0]) == installed.python

    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "import simlib\nfrom simlib.analysis.presets import preset_names\n"
            "print(simlib.__file__, len(preset_names()))"
        )
    )
    nbformat.write(notebook, installed.home / "probe.ipynb")
    papermill.execute_notebook(
        str(installed.home / "probe.ipynb"),
        str(installed.home / "probe-out.ipynb"),
        kernel_name="simlib",
        cwd=str(installed.home),
        progress_bar=False,
        start_timeout=120,
    )
    result = nbformat.read(installed.home / "probe-out.ipynb", as_version=4)
    printed = result.cells[0].outputs[0]["text"].split()
    assert Path(printed[0]) == installed.site / "simlib" / "__init__.py" and int(printed[1]) >= 10


# Last: the report has been running in the background since the wheel was installed.
def test_report_of_the_quickstart(installed: Installed):
    """papermill runs the report on ipykernel's own ``python3``: no named kernel is needed."""
    assert installed.report is not None
    returncode = installed.report.wait(timeout=TIMEOUT)
    log = (installed.home.parent / "report.log").read_text()
    assert returncode == 0, log[-3000:]
    assert not (installed.home.parent / "jupyter-data-report" / "kernels").exists()
    out = installed.home / "report"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "root + backup CA" in html and "Traceback" not in html
    assert (out / "report.ipynb").is_file() and (out / "summary.csv").is_file()
