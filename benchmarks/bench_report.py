"""Benchmark of ``make report``: the decision report of the default scenario on a warm ``.venv``.

Run: ``.venv/bin/python benchmarks/bench_report.py [--quick]``. Writes
``benchmarks/results/report.json``. Target (issue: decision report): ``simlib report`` of the
embedded quickstart ≤ 30 s, with papermill's own start-up measured separately.

Measured, each in a fresh process (the command a user runs), median of ``REPS``:

1. ``simlib report --out DIR`` — the whole of ``make report`` after installation.
2. ``simlib run --out DIR`` — simulation and result files only: the baseline in the same run.
3. papermill start-up: executing a one-cell notebook (``pass``) with the report's kernel settings
   (kernel start, connection, shutdown) — the fixed cost the report notebook pays.
4. In-process steps of one report (:class:`simlib.report.render.Timings`): simulate, result
   files, notebook execution, HTML export.

``--quick`` uses one repetition.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "report.json"
REPS = 3
TARGET_S = 30.0


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t


def _median(cmd: list[str], reps: int) -> float:
    return statistics.median(_timed(cmd) for _ in range(reps))


def _papermill_startup(tmp: Path, reps: int) -> float:
    import nbformat

    from simlib.report.notebook import execute

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp / "empty.ipynb"
    nbformat.write(nb, path)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        execute(path, tmp / "empty-out.ipynb")
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _steps(tmp: Path) -> dict[str, float]:
    from simlib.model import default_scenario
    from simlib.report.render import Timings, write_report

    timings = Timings()
    write_report(default_scenario(), tmp / "steps", timings=timings)
    return timings.steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition (smoke check)")
    args = parser.parse_args()
    reps = 1 if args.quick else REPS
    simlib = str(Path(sys.executable).with_name("simlib"))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        _timed([simlib, "report", "--out", str(tmp / "warm"), "--quiet"])  # warm caches
        report = _median([simlib, "report", "--out", str(tmp / "r"), "--quiet"], reps)
        run = _median([simlib, "run", "--out", str(tmp / "run"), "--quiet"], reps)
        startup = _papermill_startup(tmp, reps)
        steps = _steps(tmp)
    result = {
        "machine": platform.platform(),
        "reps": reps,
        "report_s": round(report, 2),
        "run_s": round(run, 2),
        "papermill_startup_s": round(startup, 2),
        "report_over_run": round(report / run, 1),
        "steps_s": {k: round(v, 2) for k, v in steps.items()},
        "target_s": TARGET_S,
        "met": report <= TARGET_S,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"simlib report (warm .venv)   {report:6.2f} s   target ≤ {TARGET_S:.0f} s: "
        f"{'met' if result['met'] else 'MISSED'}"
    )
    print(f"simlib run (baseline)        {run:6.2f} s   report / run = {report / run:.1f}×")
    print(f"papermill start-up (1 cell)  {startup:6.2f} s")
    print("in-process steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
