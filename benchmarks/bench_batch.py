"""Benchmark of batch runs (``simlib sweep``): throughput, parallel speed-up, memory, streaming.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--quick]``. Prints a table and writes
``benchmarks/results/batch.json``. Every measurement runs the real command line
(``python -m simlib.cli.main sweep ...``) in a fresh process, so process start-up, validation,
worker start-up and Parquet writes are included. The machine is shared and noisy: every target is
a ratio of two measurements taken in the same run (alternated where it matters); each timed run
waits (up to 90 s) until the machine is idle, and the CPU use found then is recorded next to it.

1. Throughput: 10 000 Monte Carlo replications of the quickstart scenario (one point) with
   ``--workers 2`` and tasks of 100 replications. Target ≤ 20 s on a 2-core machine.
2. Parallel efficiency: the same on a 2 000-replication subset with ``--workers 1`` (T1) and
   ``--workers 2`` (T2); efficiency = T1 / (2 · T2), end to end (the figure judged against the
   target ≥ 80 %) and from the sweeps' own wall times (without interpreter start-up).
3. Expected mode, 400 calendar-changing points: a grid over ``hosts[1].validity_days`` ×
   ``hosts[2].renew_before_days`` of ``five-years-three-hosts.yaml`` (every point has its own
   certificate calendar), in-process vs ``--workers 2``, alternated twice; speed-up = in-process
   time / 2-worker time (best of each). Target ≥ 1.6. The same points with ``--workers 1`` too
   (alternated with the other two): throughput in runs per second per core, 1 worker vs 2
   (2 workers: runs / s / 2), end to end and from the sweeps' own wall times.
4. Memory: peak RSS (``getrusage(RUSAGE_CHILDREN)`` of a wrapper process, i.e. the largest
   process of the sweep) of an expected-mode sweep of 100 runs vs 10 000 runs of a cheap scenario
   (one-year horizon, two strategies, a random axis over the never-update share). Target ratio
   ≤ 1.2.
5. Streaming plan: an expected-mode sweep of 10^7 runs (the documented maximum; a 4-axis grid
   over the cheap scenario) with ``--workers 2`` is started and killed once it has written
   ``STREAM_PARTS`` parts: time until its first part (target ≤ 10 s) and the resident memory of
   the sweep's processes once the workers run and at the end (target: flat, ratio ≤ 1.2).

``--quick`` divides the sizes of 1-4 by 10 (a smoke check, not a measurement); ``--expected-only``
runs only 3.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "data" / "scenarios" / "quickstart.yaml"
FIVE_YEARS = ROOT / "data" / "scenarios" / "five-years-three-hosts.yaml"
STREAM_PARTS = 80
#: CPU seconds (command and workers) of each ``_timed`` run, in order.
CPU_S: list[float] = []
STREAM_STEADY = 10
RESULTS = Path(__file__).resolve().parent / "results" / "batch.json"

_RSS_WRAPPER = """
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""


def _busy_cores(seconds: float = 0.5) -> float:
    """CPU cores busy over ``seconds`` (from /proc/stat; 0 where it does not exist)."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except OSError:
        return 0.0
    return (os.cpu_count() or 1) * (1 - (i1 - i0) / max(t1 - t0, 1))


def _wait_quiet(limit_s: float = 90.0, busy: float = 0.3) -> float:
    """Wait (up to ``limit_s``) until other processes use less than ``busy`` cores; return usage.

    The machine is shared: a measurement taken while something else computes is meaningless for
    a 2-worker speed-up, so each timed pair starts when the machine is idle if it gets idle.
    """
    deadline = time.monotonic() + limit_s
    while True:
        used = _busy_cores()
        if used < busy or time.monotonic() > deadline:
            return round(used, 2)


def _write(folder: Path, name: str, doc: dict[str, Any]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _cli(sweep_file: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "simlib.cli.main",
        "sweep",
        str(sweep_file),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(end-to-end wall time of the command, the sweep's own wall time from its summary line).

    The second excludes interpreter start-up, imports and validation but includes starting the
    worker pool. The CPU time of the command and its workers is added to ``CPU_S``.
    """
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_S.append(round(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime, 2))
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
            "random": {
                "n": n,
                "params": {"fleet.adoption.never_update_share": {"uniform": [0.0, 0.1]}},
            }
        },
    }


def _calendar_sweep(n: int) -> dict[str, Any]:
    """``n`` expected-mode points, each with its own certificate calendar (n = 20 · k)."""
    return {
        "name": f"calendars-{n}",
        "base": str(FIVE_YEARS),
        "seed": 5,
        "mode": "expected",
        "axes": {
            "grid": {
                "hosts[1].validity_days": list(range(40, 240, 10)),  # 20 values
                "hosts[2].renew_before_days": list(range(5, 5 + n // 20)),
            }
        },
    }


def _stream_sweep() -> dict[str, Any]:
    """10^7 expected-mode points of the cheap scenario: 100 × 100 × 100 × 10 grid values."""
    doc = _cheap_sweep(1)
    doc["name"] = "stream-1e7"
    doc["axes"] = {
        "grid": {
            "fleet.users": list(range(1_000, 101_000, 1_000)),
            "fleet.adoption.never_update_share": [k / 1000 for k in range(100)],
            "fleet.adoption.components[0].mean_lag_days": [1 + k / 10 for k in range(100)],
            "fleet.adoption.components[1].mean_lag_days": [10 + k for k in range(10)],
        }
    }
    return doc


def _tree_kib(root: int, field: str) -> int:
    """Sum of ``field`` (VmRSS, VmHWM, in KiB) over ``root`` and its descendants."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        more = {p for p, pp in parents.items() if pp in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _stream(sweep_file: Path, out: Path) -> dict[str, Any]:
    """Start the 10^7-run sweep, watch its parts and memory, kill it after ``STREAM_PARTS`` parts.

    Memory is the resident set of the sweep's process tree (parent and workers) sampled every
    50 ms; "flat" compares the sample when ``STREAM_STEADY`` parts exist (workers up) with the
    last one.
    """
    import pyarrow.parquet as pq

    parts = out / "results"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        _cli(sweep_file, out, "--workers", "2"),
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    first_s = rss_first = rss_steady = None
    peak_rss = 0
    try:
        while True:
            n = len(list(parts.glob("part-*.parquet"))) if parts.exists() else 0
            rss = _tree_kib(proc.pid, "VmRSS")
            peak_rss = max(peak_rss, rss)
            if n and first_s is None:
                first_s, rss_first = time.perf_counter() - t0, rss
            if n >= STREAM_STEADY and rss_steady is None:
                rss_steady = rss
            if n >= STREAM_PARTS:
                break
            if proc.poll() is not None:
                raise SystemExit(
                    f"the 10^7-run sweep ended early: {proc.stderr.read().decode()[-2000:]}"
                )
            if time.perf_counter() - t0 > 600:
                raise SystemExit("the 10^7-run sweep made no progress in 10 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        rss_last = _tree_kib(proc.pid, "VmRSS")
        hwm = _tree_kib(proc.pid, "VmHWM")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    runs = sum(pq.read_metadata(p).num_rows for p in (out / "manifest").glob("part-*.parquet"))
    assert first_s is not None and rss_first is not None and rss_steady is not None
    ratio = rss_last / rss_steady
    return {
        "runs_planned": 10**7,
        "first_part_s": round(first_s, 2),
        "parts_at_kill": STREAM_PARTS,
        "runs_at_kill": runs,
        "elapsed_at_kill_s": round(elapsed, 2),
        "rss_first_part_mib": round(rss_first / 1024, 1),
        f"rss_at_{STREAM_STEADY}_parts_mib": round(rss_steady / 1024, 1),
        f"rss_at_{STREAM_PARTS}_parts_mib": round(rss_last / 1024, 1),
        "rss_peak_sampled_mib": round(peak_rss / 1024, 1),
        "hwm_sum_mib": round(hwm / 1024, 1),
        "rss_ratio": round(ratio, 3),
        "target_first_part_s": 10,
        "target_ratio": 1.2,
        "ok": first_s <= 10 and ratio <= 1.2,
    }


def _mc_part(work: Path, n_full: int, n_subset: int, batch: str, busy: dict[str, float]):
    """Monte Carlo throughput and parallel efficiency (1 and 2)."""
    full = _write(work, "full", _mc_sweep(n_full))
    subset = _write(work, "subset", _mc_sweep(n_subset))

    busy["mc_full"] = _wait_quiet()
    t_full, in_full = _timed(_cli(full, work / "full-out", "--workers", "2", "--batch-size", batch))
    print(
        f"{n_full} MC replications of quickstart, 2 workers: {t_full:.1f} s (sweep {in_full:.1f} s)"
    )
    busy["mc_w1"] = _wait_quiet()
    t1, in1 = _timed(_cli(subset, work / "w1", "--workers", "1", "--batch-size", batch))
    busy["mc_w2"] = _wait_quiet()
    t2, in2 = _timed(_cli(subset, work / "w2", "--workers", "2", "--batch-size", batch))
    eff, in_eff = t1 / (2 * t2), in1 / (2 * in2)
    cpu1, cpu2 = CPU_S[-2:]
    print(
        f"{n_subset} replications: 1 worker {t1:.1f} s, 2 workers {t2:.1f} s → efficiency "
        f"{eff:.0%} (sweep only: {in1:.1f} s / {in2:.1f} s → {in_eff:.0%}; CPU {cpu1:.1f} s / "
        f"{cpu2:.1f} s → {cpu1 / cpu2:.0%})"
    )
    return t_full, in_full, t1, in1, t2, in2, eff, in_eff, cpu1, cpu2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10× smaller (smoke check)")
    parser.add_argument(
        "--expected-only", action="store_true", help="only the expected-mode points (3)"
    )
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    n_full, n_subset = 10_000 // scale, 2_000 // scale
    n_small, n_large = 100, 10_000 // scale
    n_calendars = 400 // scale
    batch = str(max(1, 100 // scale))

    out: dict[str, Any] = {
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="simlib-bench-") as tmp:
        work = Path(tmp)
        busy: dict[str, float] = {}
        if not args.expected_only:
            t_full, in_full, t1, in1, t2, in2, eff, in_eff, cpu1, cpu2 = _mc_part(
                work, n_full, n_subset, batch, busy
            )
        calendars = _write(work, "calendars", _calendar_sweep(n_calendars))
        inproc: list[tuple[float, float]] = []
        pooled: list[tuple[float, float]] = []
        single: list[tuple[float, float]] = []
        cpu_calendars: list[float] = []
        for k in range(2):
            busy[f"calendars_in_{k}"] = _wait_quiet()
            inproc.append(_timed(_cli(calendars, work / f"cal-in-{k}")))
            busy[f"calendars_w1_{k}"] = _wait_quiet()
            single.append(_timed(_cli(calendars, work / f"cal-w1-{k}", "--workers", "1")))
            busy[f"calendars_w2_{k}"] = _wait_quiet()
            pooled.append(_timed(_cli(calendars, work / f"cal-w2-{k}", "--workers", "2")))
            cpu_calendars += CPU_S[-3:]
        t_in, t_w2 = min(t for t, _ in inproc), min(t for t, _ in pooled)
        s_in, s_w2 = min(s for _, s in inproc), min(s for _, s in pooled)
        speedup, in_speedup = t_in / t_w2, s_in / s_w2
        print(
            f"{n_calendars} calendar-changing expected-mode points: in-process {t_in:.1f} s, "
            f"2 workers {t_w2:.1f} s → speed-up {speedup:.2f}× (sweep only: {s_in:.1f} s / "
            f"{s_w2:.1f} s → {in_speedup:.2f}×)"
        )
        t_w1, s_w1 = min(t for t, _ in single), min(s for _, s in single)
        per_core = {
            "workers1_runs_per_s_per_core": round(n_calendars / t_w1, 2),
            "workers2_runs_per_s_per_core": round(n_calendars / t_w2 / 2, 2),
            "sweep_workers1_runs_per_s_per_core": round(n_calendars / s_w1, 2),
            "sweep_workers2_runs_per_s_per_core": round(n_calendars / s_w2 / 2, 2),
        }
        # CPU seconds of each command and its workers (in-process, 1 worker, 2 workers per round):
        # runs per CPU second is the per-core throughput a loaded box cannot blur
        cpu_in, cpu_w1, cpu_w2 = (min(cpu_calendars[i::3]) for i in range(3))
        per_core |= {
            "cpu_s_in_process_w1_w2": [cpu_in, cpu_w1, cpu_w2],
            "in_process_runs_per_cpu_s": round(n_calendars / cpu_in, 2),
            "workers1_runs_per_cpu_s": round(n_calendars / cpu_w1, 2),
            "workers2_runs_per_cpu_s": round(n_calendars / cpu_w2, 2),
        }
        print(
            f"expected-mode runs per CPU second: in-process {per_core['in_process_runs_per_cpu_s']:.1f}, "
            f"1 worker {per_core['workers1_runs_per_cpu_s']:.1f}, 2 workers "
            f"{per_core['workers2_runs_per_cpu_s']:.1f} (CPU {cpu_in:.1f} / {cpu_w1:.1f} / {cpu_w2:.1f} s)"
        )
        print(
            f"expected-mode throughput per core: 1 worker {per_core['workers1_runs_per_s_per_core']:.1f} "
            f"runs/s, 2 workers {per_core['workers2_runs_per_s_per_core']:.1f} runs/s per core (sweep "
            f"only: {per_core['sweep_workers1_runs_per_s_per_core']:.1f} / "
            f"{per_core['sweep_workers2_runs_per_s_per_core']:.1f})"
        )
        if args.expected_only:
            out["calendar_points"] = {
                "points": n_calendars,
                "workers1_s": [round(t, 2) for t, _ in single],
                "workers2_s": [round(t, 2) for t, _ in pooled],
                "in_process_s": [round(t, 2) for t, _ in inproc],
                "speedup": round(speedup, 3),
                **per_core,
                "busy_cores_before": busy,
            }
            out["load_average_end"] = os.getloadavg()
            only = RESULTS.with_name("batch-expected.json")
            only.parent.mkdir(parents=True, exist_ok=True)
            only.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
            print(f"written {only.relative_to(ROOT)}")
            return 0

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

        stream = _stream(_write(work, "stream", _stream_sweep()), work / "stream-out")
        print(
            f"10^7-run sweep, 2 workers: first part after {stream['first_part_s']:.1f} s; resident "
            f"memory of its processes {stream[f'rss_at_{STREAM_STEADY}_parts_mib']:.0f} MiB at "
            f"{STREAM_STEADY} parts, {stream[f'rss_at_{STREAM_PARTS}_parts_mib']:.0f} MiB at "
            f"{STREAM_PARTS} parts ({stream['runs_at_kill']} runs, {stream['elapsed_at_kill_s']:.0f} s) "
            f"→ ratio {stream['rss_ratio']:.2f}; peak {stream['rss_peak_sampled_mib']:.0f} MiB"
        )

    out["throughput"] = {
        "replications": n_full,
        "workers": 2,
        "batch_size": int(batch),
        "wall_s": round(t_full, 2),
        "sweep_wall_s": in_full,
        "replications_per_s": round(n_full / t_full, 1),
        "target_wall_s": 20 / scale,
        "ok": t_full <= 20 / scale,
    }
    out["parallel_efficiency"] = {
        "replications": n_subset,
        "t1_s": round(t1, 2),
        "t2_s": round(t2, 2),
        "efficiency": round(eff, 3),
        "sweep_t1_s": in1,
        "sweep_t2_s": in2,
        "sweep_efficiency": round(in_eff, 3),
        # CPU seconds of all processes: what the second worker costs, whatever else ran meanwhile
        "cpu_t1_s": cpu1,
        "cpu_t2_s": cpu2,
        "cpu_efficiency": round(cpu1 / cpu2, 3),
        "target": 0.8,
        "ok": eff >= 0.8,
    }
    out["calendar_points"] = {
        "points": n_calendars,
        "scenario": FIVE_YEARS.name,
        "in_process_s": [round(t, 2) for t, _ in inproc],
        "workers2_s": [round(t, 2) for t, _ in pooled],
        "sweep_in_process_s": [s for _, s in inproc],
        "sweep_workers2_s": [s for _, s in pooled],
        "speedup": round(speedup, 3),
        "sweep_speedup": round(in_speedup, 3),
        "pair_speedups": [round(a / b, 3) for (a, _), (b, _) in zip(inproc, pooled, strict=True)],
        "workers1_s": [round(t, 2) for t, _ in single],
        "sweep_workers1_s": [s for _, s in single],
        **per_core,
        "cpu_s_in_process_w1_w2_alternating": cpu_calendars,
        "target": 1.6,
        "ok": speedup >= 1.6,
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
    out["streaming"] = stream
    out["busy_cores_before"] = busy  # other processes' CPU use just before each timed run
    out["load_average_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)} (load average {out['load_average_end'][0]:.2f})")
    keys = ("throughput", "parallel_efficiency", "calendar_points", "memory", "streaming")
    return 0 if all(out[k]["ok"] for k in keys) else 1


if __name__ == "__main__":
    sys.exit(main())
