"""Time to save the report's figures: `plots.save_figure` against two plain `savefig` calls per figure.

The frame is the analysis tests' reference study (3 methods x 2 sources x 2 seeds, 4 random cells, two
protocols). The baseline saves each figure as `savefig(png, dpi=110)` then `savefig(svg)`: with the
constrained layout each call lays the figure out again in an extra draw, and outside the plot style the
SVG's text becomes paths. Both save freshly drawn copies of the same figures, in the same run; the
whole report build is timed last.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_report.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from nastransfer.analysis import build_report_from_frame, check_frame, method_stats, plots

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_analysis_frames import study_frame  # noqa: E402  (the tests' reference frame)


def figures(frame) -> dict:
    """The report's per-target figures (all but the protocol-effect bar chart), drawn afresh."""
    return {
        **plots.source_vs_target(frame),
        **plots.rank_bump(method_stats(frame), plots.method_colours(frame)),
        **plots.against_random(frame),
        **plots.cost_vs_accuracy(frame),
    }


def savefig_twice(fig, folder: Path, name: str) -> None:
    """The baseline: what `savefig` does when asked for each format in turn."""
    fig.savefig(folder / f"{name}.png", format="png", dpi=plots.PNG_DPI)
    fig.savefig(folder / f"{name}.svg", format="svg")


def seconds(frame, save, repeats: int) -> float:
    """Best time over `repeats` to save freshly drawn figures with `save(fig, folder, name)`."""
    best = float("inf")
    for _ in range(repeats):
        drawn, folder = figures(frame), Path(tempfile.mkdtemp())
        start = time.perf_counter()
        for name, fig in drawn.items():
            save(fig, folder, name)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    frame = check_frame(
        study_frame(methods=("darts", "pc-darts", "gdas"), search_seeds=2, eval_seeds=1, n_random=4)
    )
    count = len(figures(frame))
    rows = [
        ("savefig PNG + savefig SVG (baseline)", seconds(frame, savefig_twice, args.repeats)),
        ("plots.save_figure", seconds(frame, plots.save_figure, args.repeats)),
    ]
    start = time.perf_counter()
    build_report_from_frame(frame, tempfile.mkdtemp(), title="benchmark", n_boot=200)
    build = time.perf_counter() - start

    base = rows[0][1]
    table = Table(title=f"Saving {count} report figures as PNG ({plots.PNG_DPI} dpi) and SVG, 1 thread")
    for column in ("how", "seconds", "speed-up"):
        table.add_column(column, justify="left" if column == "how" else "right")
    for name, value in rows:
        table.add_row(name, f"{value:.2f}", f"{base / value:.1f}x")
    table.add_row("whole report (tables, 9 figures, HTML + MD), once", f"{build:.2f}", "")
    Console().print(table)


if __name__ == "__main__":
    main()
