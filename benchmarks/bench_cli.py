"""Start-up of the `nastransfer` command: lazy imports vs importing the heavy packages eagerly.

Each row runs the command in a fresh interpreter; the baseline runs the same command after first
importing what an eager command module would pull in at start (torch and numpy through
`nastransfer.data` and `nastransfer.runtime`). Runs alternate; the table shows the median
CPU-seconds of the child processes (user + system, steadier than wall time on a shared machine).

    .venv/bin/python benchmarks/bench_cli.py --repeats 5
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

from rich.console import Console
from rich.table import Table

COMMANDS = (["version"], ["--help"], ["run", "--help"])
EAGER = "import nastransfer.data, nastransfer.runtime; "
PROBE = "import sys; {pre}from nastransfer.cli.main import main; sys.exit(main(sys.argv[1:]))"


def cost(prelude: str, args: list[str]) -> tuple[float, float]:
    """CPU-seconds and wall seconds of one fresh `nastransfer ARGS` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", PROBE.format(pre=prelude), *args], check=True, stdout=subprocess.DEVNULL
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    table = Table(title="nastransfer start-up (median of fresh processes, CPU-seconds)")
    for column in ("command", "eager imports", "lazy imports", "speed-up", "lazy, wall s"):
        table.add_column(column, justify="right")
    for command in COMMANDS:
        eager, lazy, wall = [], [], []
        for _ in range(args.repeats):
            eager.append(cost(EAGER, command)[0])
            cpu, seconds = cost("", command)
            lazy.append(cpu)
            wall.append(seconds)
        eager_s, lazy_s = statistics.median(eager), statistics.median(lazy)
        table.add_row(
            " ".join(command), f"{eager_s:.2f}", f"{lazy_s:.2f}", f"{eager_s / lazy_s:.1f}x",
            f"{statistics.median(wall):.2f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
