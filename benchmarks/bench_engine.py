"""Engine benchmark: expected mode on the 5-year, 12-strategy, 3-host scenario.

Measures the in-process time of ``simulate(scenario)`` plus its summary after a warm-up run that
also builds every certificate (the "after certificate caching" condition), with 10^3 and 10^8
users, and the peak memory of each (tracemalloc). Time and memory should not depend on the number
of users. Run: ``.venv/bin/python benchmarks/bench_engine.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import simlib  # noqa: E402
from simlib.model import ScenarioWarning  # noqa: E402

SCENARIO = HERE.parent / "data" / "scenarios" / "five-years-three-hosts.yaml"
BUDGET_S = 0.1


def timed(scenario, repeats: int) -> dict:
    warm = simlib.simulate(scenario)
    warm.summary  # noqa: B018
    warm.issuances  # noqa: B018 - builds every key and certificate once
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = simlib.simulate(scenario)
        res.summary  # noqa: B018
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    res = simlib.simulate(scenario)
    res.summary  # noqa: B018
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "users": scenario.fleet.users,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "peak_mib": peak / 2**20,
        "repeats": repeats,
        "strategies": len(scenario.strategies),
        "hosts": len(scenario.hosts),
        "days": scenario.days,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke check)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 21
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        base = simlib.load_scenario(SCENARIO)
    runs = [
        timed(simlib.apply_overrides(base, {"fleet.users": n}), repeats) for n in (10**3, 10**8)
    ]
    small, big = runs
    report = {
        "benchmark": "engine expected mode",
        "scenario": SCENARIO.name,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "budget_s": BUDGET_S,
        "runs": runs,
        "time_ratio_1e8_vs_1e3": big["median_s"] / small["median_s"],
        "memory_ratio_1e8_vs_1e3": big["peak_mib"] / small["peak_mib"],
        "within_budget": max(small["median_s"], big["median_s"]) <= BUDGET_S,
    }
    out = HERE / "results" / "engine.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for r in runs:
        print(
            f"{r['users']:>12,} users: median {r['median_s'] * 1000:6.1f} ms "
            f"(min {r['min_s'] * 1000:.1f}, max {r['max_s'] * 1000:.1f}), peak {r['peak_mib']:.1f} MiB "
            f"— {r['strategies']} strategies, {r['hosts']} hosts, {r['days']} days"
        )
    print(
        f"time 1e8/1e3 = {report['time_ratio_1e8_vs_1e3']:.2f}, memory 1e8/1e3 = "
        f"{report['memory_ratio_1e8_vs_1e3']:.2f}, budget {BUDGET_S * 1000:.0f} ms: "
        f"{'met' if report['within_budget'] else 'MISSED'}"
    )
    return report


if __name__ == "__main__":
    main()
