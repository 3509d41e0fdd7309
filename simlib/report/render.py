"""``simlib report`` / ``make report``: result files, figures and the decision report.

The decision report is the template notebook (``templates/decision-report.ipynb``) executed with
papermill for this scenario and exported by nbconvert (``--no-input``) as one self-contained
HTML page; ``pdf=True`` also prints it with headless Chromium. Everything is made in a private
staging folder *inside* ``out`` (hidden, 0700, always removed: only ``out`` needs to be writable,
not its parent) and moved in only when all of it succeeded, each file by an atomic rename: a
failure leaves ``out`` as it was (and removes ``out`` again if it was made for this report).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from simlib.errors import clip, escape_controls
from simlib.model import Scenario
from simlib.report.html import ReportError, check_page
from simlib.report.inputs import RESOLVED_MARK
from simlib.report.notebook import TEMPLATES, execute, to_html

__all__ = ["TEMPLATE", "Timings", "notebook_parameters", "write_report"]

TEMPLATE = TEMPLATES / "decision-report.ipynb"
EMBEDDED = "quickstart.yaml"
#: First line of a resolved scenario written for the notebook (see ``inputs.RESOLVED_MARK``).
RESOLVED_HEADER = RESOLVED_MARK + " (every default written out)\n"


@dataclass
class Timings:
    """Seconds spent per step of the last :func:`write_report` (for benchmarks)."""

    steps: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.steps[step] = self.steps.get(step, 0.0) + now - since
        return now


def notebook_parameters(scenario: Scenario, preset: str | None, folder: Path) -> dict[str, object]:
    """What the report notebook's ``parameters`` cell gets to rebuild exactly ``scenario``: the
    preset name or the scenario's own file when it is unchanged (so the inputs table can tell
    given from default), the embedded quickstart as ``None``; otherwise (built in Python, or
    changed since it was read) the resolved scenario written to ``folder``."""
    import warnings

    from simlib.model import ScenarioWarning, default_scenario, load_scenario

    data = scenario.to_dict()
    with warnings.catch_warnings():
        # loaded again only to compare: the caller saw its warnings, the page shows them as notes
        warnings.simplefilter("ignore", ScenarioWarning)
        if preset:
            from simlib.analysis.presets import load_preset

            if load_preset(preset).to_dict() == data:
                return {"preset": preset}
        source = Path(scenario.source)
        if source.is_file() and load_scenario(source).to_dict() == data:
            return {"scenario": str(source.resolve())}
        if scenario.source == EMBEDDED and default_scenario().to_dict() == data:
            return {"scenario": None}
    path = folder / "scenario.yaml"
    path.write_text(RESOLVED_HEADER + scenario.to_yaml(), encoding="utf-8")
    return {"scenario": str(path)}


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A private (0700) hidden folder inside ``out``, removed always; ``out`` (and missing
    parents) made if needed and removed again if the report fails.

    Inside ``out``: the same file system (the files are renamed in) and the one place the user
    asked us to write, so a read-only parent or one owned by someone else does not matter. The
    path is absolute and real: the kernel runs there and writes the result files by this path.
    """
    from simlib._atomic import OutputBatch

    folder = OutputBatch(out)  # makes missing folders, refuses ``out`` if it is a link
    folder.open()
    staging = None
    try:
        name = f".report-{secrets.token_hex(8)}"
        os.mkdir(name, 0o700, dir_fd=folder.fd)
        staging = Path(os.path.realpath(folder.path_of(name)))
        yield staging
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        folder.abort()  # removes the folders made for this report (when empty)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    folder.keep()  # the report is in: the folders made for it stay


def _move_into(staging: Path, out: Path) -> list[Path]:
    """The report's files into ``out`` by rename, every target checked first; ``out`` itself is
    never followed if it is a link, and subfolders of ``staging`` (a browser profile, say) are
    not moved (see :func:`simlib._atomic.move_files_into`)."""
    from simlib._atomic import move_files_into

    return move_files_into(staging, out)


def write_report(
    scenario: Scenario,
    out: str | os.PathLike,
    *,
    preset: str | None = None,
    pdf: bool = False,
    timings: Timings | None = None,
) -> list[Path]:
    """Write the decision report ``report.html`` (and ``report.pdf`` with ``pdf=True``), the
    executed ``report.ipynb``, the result files (CSV, Parquet, the resolved ``scenario.yaml``),
    ``lockout.png``, ``coverage.png`` and ``report.md`` into ``out``; returns the paths.

    The scenario is simulated once, in the report notebook's kernel, which also writes the
    result files (its ``results_dir`` parameter), so the page and the files come from the same
    run.
    """
    if pdf:
        from simlib.report.browser import find_chromium

        find_chromium()  # refuse before any work
    t = timings or Timings()
    now = time.perf_counter()
    out = Path(out)
    with _staging(out) as staging:
        with tempfile.TemporaryDirectory(prefix="simlib-report-input-") as inputs:
            params = notebook_parameters(scenario, preset, Path(inputs))
            params["results_dir"] = str(staging)
            notebook = execute(TEMPLATE, staging / "report.ipynb", params, cwd=staging)
        now = t.add("notebook (simulation and result files included)", now)
        page = to_html(notebook, title=f"{escape_controls(scenario.name)}: decision report")
        # names are escaped where they enter the page; this refuses a page if one slipped through
        (staging / "report.html").write_text(check_page(page), encoding="utf-8")
        now = t.add("html", now)
        if pdf:
            from simlib.report.browser import print_pdf

            # the page may not log or load anything: a line here is an injection or a broken page
            lines = print_pdf(staging / "report.html", staging / "report.pdf")
            if lines:
                raise ReportError(
                    f"report.pdf: the page logged or requested something while printing: "
                    f"{clip(lines[0], 120)}"
                    + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else "")
                )
            now = t.add("pdf", now)
        return _move_into(staging, out)
