"""Run every benchmark (``make bench``): engine expected mode, batch runs and the explorer.

Each benchmark writes ``benchmarks/results/<name>.json``; this script prints their summaries.
``--quick`` scales everything down for a smoke check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "bench_engine.py",
    "bench_scaling.py",
    "bench_scaling_engine_parts.py",
    "bench_batch.py",
    "bench_explorer.py",
    "bench_report.py",
]


def main() -> int:
    extra = [a for a in sys.argv[1:] if a == "--quick"]
    status = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / name), *extra])
    return status


if __name__ == "__main__":
    sys.exit(main())
