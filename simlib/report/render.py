"""``simlib report`` / ``make report``: result files, figures and the decision report.

The decision report is the template notebook (``templates/decision-report.ipynb``) executed with
papermill for this scenario and exported by nbconvert (``--no-input``) as one self-contained
HTML page; ``pdf=True`` also prints it with headless Chromium. Everything is made in a staging
folder next to ``out`` and moved in only when all of it succeeded, each file by an atomic
rename: a failure leaves ``out`` as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from simlib.model import Scenario
from simlib.report.notebook import TEMPLATES, execute, to_html

__all__ = ["TEMPLATE", "Timings", "notebook_parameters", "write_report"]

TEMPLATE = TEMPLATES / "decision-report.ipynb"
EMBEDDED = "quickstart.yaml"


@dataclass
class Timings:
    """Seconds spent per step of the last :func:`write_report` (for benchmarks)."""

    steps: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.steps[step] = self.steps.get(step, 0.0) + now - since
        return now


def notebook_parameters(scenario: Scenario, staging: Path, preset: str | None) -> dict[str, object]:
    """What the report notebook's ``parameters`` cell gets: the preset name, the scenario's own
    file (so the inputs table can tell given from default), or the resolved copy written in
    ``staging`` for a scenario built in Python."""
    if preset:
        return {"preset": preset}
    source = Path(scenario.source)
    if source.is_file():
        return {"scenario": str(source.resolve())}
    if scenario.source == EMBEDDED:
        return {"scenario": None}
    path = staging / "scenario.yaml"  # the resolved scenario, one of the result files
    if not path.is_file():
        path.write_text(scenario.to_yaml(), encoding="utf-8")
    return {"scenario": str(path)}


def _move_into(staging: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    moved = []
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = out / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved.append(target)
    return moved


def write_report(
    scenario: Scenario,
    out: str | os.PathLike,
    *,
    preset: str | None = None,
    pdf: bool = False,
    timings: Timings | None = None,
) -> list[Path]:
    """Simulate ``scenario``; write result files (CSV, Parquet), ``lockout.png``,
    ``coverage.png``, ``report.md``, the executed ``report.ipynb`` and the decision report
    ``report.html`` (and ``report.pdf`` with ``pdf=True``) into ``out``. Returns the paths."""
    from simlib.api import simulate
    from simlib.report.markdown import summary_files

    if pdf:
        from simlib.report.browser import find_chromium

        find_chromium()  # refuse before any work
    t = timings or Timings()
    now = time.perf_counter()
    out = Path(out)
    res = simulate(scenario)
    files = summary_files(scenario, res)
    now = t.add("simulate", now)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.report-", dir=out.parent))
    try:
        res.write(staging, ("csv", "parquet"))
        for name, data in files.items():
            (staging / name).write_bytes(data)
        params = notebook_parameters(scenario, staging, preset)
        now = t.add("result files", now)
        notebook = execute(TEMPLATE, staging / "report.ipynb", params, cwd=staging)
        now = t.add("notebook", now)
        page = to_html(notebook, title=f"{scenario.name}: decision report")
        (staging / "report.html").write_text(page, encoding="utf-8")
        now = t.add("html", now)
        if pdf:
            from simlib.report.browser import print_pdf

            print_pdf(staging / "report.html", staging / "report.pdf")
            now = t.add("pdf", now)
        return _move_into(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
