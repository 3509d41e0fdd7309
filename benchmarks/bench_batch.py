"""Benchmark of batch runs (``simlib sweep``): throughput, parallel efficiency, peak memory.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--quick]``. Prints a table and writes
``benchmarks/results/batch.json``. Every measurement runs the real command line
(``python -m simlib.cli.main sweep ...``) in a fresh process, so process start-up, validation,
worker start-up and Parquet writes are included.

1. Throughput: 10 000 Monte Carlo replications of the quickstart scenario (one point) with
   ``--workers 2`` and tasks of 100 replications. Target ≤ 60 s on a 2-core machine.
2. Parallel efficiency: the same on a 2 000-replication subset with ``--workers 1`` (T1) and
   ``--workers 2`` (T2); efficiency = T1 / (2 · T2), end to end (the figure judged against the
   target ≥ 80 %) and from the sweeps' own wall times (without interpreter start-up).
3. Memory: peak RSS (``getrusage(RUSAGE_CHILDREN)`` of a wrapper process, i.e. the largest
   process of the sweep) of an expected-mode sweep of 100 runs vs 10 000 runs of a cheap scenario
   (one-year horizon, two strategies, a random axis over the never-update share). Target ratio
   ≤ 1.2.

``--quick`` divides every size by 10 (a smoke check, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "data" / "scenarios" / "quickstart.yaml"
RESULTS = Path(__file__).resolve().parent / "results" / "batch.json"

_RSS_WRAPPER = """
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""


def _write(folder: Path, name: str, doc: dict[str, Any]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _cli(sweep_file: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "simlib.cli.main", "sweep", str(sweep_file), "--out", str(out), "--quiet", *extra]


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(end-to-end wall time of the command, the sweep's own wall time from its summary line).

    The second excludes interpreter start-up, imports and validation but includes starting the
    worker pool.
    """
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    inner = re.search(r" in ([0-9.]+) s ", proc.stdout)
    return elapsed, float(inner.group(1)) if inner else float("nan")


def _peak_rss_mib(cmd: list[str]) -> float:
    """Peak RSS of the largest process of ``cmd`` (and its workers), in MiB."""
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_WRAPPER, *cmd], cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return int(proc.stdout.split()[-1]) / 1024  # Linux reports KiB


def _mc_sweep(replications: int) -> dict[str, Any]:
    return {
        "name": f"quickstart-mc-{replications}",
        "base": str(QUICKSTART),
        "seed": 1,
        "mode": "monte_carlo",
        "replications": replications,
        "axes": {"grid": {"fleet.users": [1_000_000]}},  # one point: the quickstart itself
    }


def _cheap_sweep(n: int) -> dict[str, Any]:
    with QUICKSTART.open(encoding="utf-8") as fh:
        base = yaml.safe_load(fh)
    base["end"] = "2025-12-31"
    base["strategies"] = base["strategies"][:3:2]  # no pinning, leaf key
    base["attacks"] = base["attacks"][:1]
    return {
        "name": f"cheap-expected-{n}",
        "base": base,
        "seed": 3,
        "mode": "expected",
        "axes": {
            "random": {"n": n, "params": {"fleet.adoption.never_update_share": {"uniform": [0.0, 0.1]}}}
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10× smaller (smoke check)")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    n_full, n_subset = 10_000 // scale, 2_000 // scale
    n_small, n_large = 100, 10_000 // scale
    batch = str(max(1, 100 // scale))

    out: dict[str, Any] = {
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="simlib-bench-") as tmp:
        work = Path(tmp)
        full = _write(work, "full", _mc_sweep(n_full))
        subset = _write(work, "subset", _mc_sweep(n_subset))

        t_full, in_full = _timed(_cli(full, work / "full-out", "--workers", "2", "--batch-size", batch))
        print(f"{n_full} MC replications of quickstart, 2 workers: {t_full:.1f} s (sweep {in_full:.1f} s)")
        t1, in1 = _timed(_cli(subset, work / "w1", "--workers", "1", "--batch-size", batch))
        t2, in2 = _timed(_cli(subset, work / "w2", "--workers", "2", "--batch-size", batch))
        eff, in_eff = t1 / (2 * t2), in1 / (2 * in2)
        print(
            f"{n_subset} replications: 1 worker {t1:.1f} s, 2 workers {t2:.1f} s → efficiency "
            f"{eff:.0%} (sweep only: {in1:.1f} s / {in2:.1f} s → {in_eff:.0%})"
        )

        small = _write(work, "small", _cheap_sweep(n_small))
        large = _write(work, "large", _cheap_sweep(n_large))
        t0 = time.perf_counter()
        rss_small = _peak_rss_mib(_cli(small, work / "small-out", "--workers", "2"))
        t_small = time.perf_counter() - t0
        t0 = time.perf_counter()
        rss_large = _peak_rss_mib(_cli(large, work / "large-out", "--workers", "2"))
        t_large = time.perf_counter() - t0
        ratio = rss_large / rss_small
        print(
            f"peak RSS, expected-mode sweep: {n_small} runs {rss_small:.0f} MiB ({t_small:.1f} s), "
            f"{n_large} runs {rss_large:.0f} MiB ({t_large:.1f} s) → ratio {ratio:.2f}"
        )

    out["throughput"] = {
        "replications": n_full,
        "workers": 2,
        "batch_size": int(batch),
        "wall_s": round(t_full, 2),
        "sweep_wall_s": in_full,
        "replications_per_s": round(n_full / t_full, 1),
        "target_wall_s": 60 // scale,
        "ok": t_full <= 60 / scale,
    }
    out["parallel_efficiency"] = {
        "replications": n_subset,
        "t1_s": round(t1, 2),
        "t2_s": round(t2, 2),
        "efficiency": round(eff, 3),
        "sweep_t1_s": in1,
        "sweep_t2_s": in2,
        "sweep_efficiency": round(in_eff, 3),
        "target": 0.8,
        "ok": eff >= 0.8,
    }
    out["memory"] = {
        "runs_small": n_small,
        "runs_large": n_large,
        "peak_rss_small_mib": round(rss_small, 1),
        "peak_rss_large_mib": round(rss_large, 1),
        "wall_small_s": round(t_small, 2),
        "wall_large_s": round(t_large, 2),
        "ratio": round(ratio, 3),
        "target": 1.2,
        "ok": ratio <= 1.2,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)}")
    return 0 if all(out[k]["ok"] for k in ("throughput", "parallel_efficiency", "memory")) else 1


if __name__ == "__main__":
    sys.exit(main())
