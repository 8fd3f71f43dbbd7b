"""`nastransfer plan` on every shipped config with a cold cache: wall and CPU-seconds of each.

Each config is planned in a fresh interpreter with `$NASTRANSFER_CACHE` pointing at an empty
folder, so every step timing and multiply-add count is made (the bar: under 30 s each).
CPU-seconds (user + system of the child) are steadier than wall time on a shared machine; the
load average at the start of each row says how shared it was.

    .venv/bin/python benchmarks/bench_plan.py [configs/quickstart.toml ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def cold_plan(config: Path) -> tuple[float, float, str]:
    """(wall s, CPU s, the plan's summary line) of one `nastransfer plan CONFIG` on an empty cache."""
    with tempfile.TemporaryDirectory() as cache:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "nastransfer.cli.main", "plan", str(config)],
            env={**os.environ, "NASTRANSFER_CACHE": cache, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = next((line for line in done.stdout.splitlines() if line.startswith("plan:")), "")
    return wall, cpu, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path, help="default: every configs/*.toml")
    configs = parser.parse_args().configs or sorted(CONFIGS.glob("*.toml"))
    table = Table(title="nastransfer plan, cold cache")
    for column in ("config", "load", "wall s", "CPU s", "plan"):
        table.add_column(column, justify="right" if column in ("load", "wall s", "CPU s") else "left")
    for config in configs:
        load = os.getloadavg()[0]
        wall, cpu, summary = cold_plan(config)
        table.add_row(config.stem, f"{load:.1f}", f"{wall:.1f}", f"{cpu:.1f}", summary.removeprefix("plan: "))
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
