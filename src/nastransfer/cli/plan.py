"""`nastransfer plan`: what a study will cost before it runs (tasks, device-seconds, wall time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add `plan`."""
    app.command("plan")(plan)


def plan(
    study: Annotated[Path, typer.Argument(help="study TOML file")],
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="tasks run at once")] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="cpu or cuda (default: cuda when tasks get GPUs)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object instead of the table")] = False,
) -> None:
    """Estimate a study's cost from a few timed steps of each network shape (cached per machine)."""
    from nastransfer.study import load_study
    from nastransfer.study.cost.plan import estimate_study

    config = load_study(study, data=False)  # its datasets need not be on this machine
    estimate = estimate_study(config, device=device, workers=workers)
    if as_json:
        typer.echo(json.dumps(estimate.to_dict(), indent=2))
        return
    console = Console()
    console.print(plan_table(estimate))
    for note in estimate.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print(summary_line(estimate), markup=False, highlight=False)


def plan_table(estimate) -> Table:
    """One row per group of equal tasks: kind, method, source, setting, protocol."""
    how = "measured here" if estimate.estimated_from == "measured" else "estimated from FLOPs"
    table = Table(title=f"plan of {estimate.study!r} on {estimate.device} ({how})")
    for column in ("task", "method", "source", "setting", "protocol"):
        table.add_column(column)
    for column in ("tasks", "device-s each", "device-s"):
        table.add_column(column, justify="right")
    groups: dict[tuple[str, ...], list[float]] = {}
    for task in estimate.tasks:
        groups.setdefault((task.kind, task.method, task.source, task.setting, task.protocol), []).append(
            task.device_s
        )
    for labels, seconds in groups.items():
        table.add_row(*labels, str(len(seconds)), f"{max(seconds):,.0f}", f"{sum(seconds):,.0f}")
    return table


def summary_line(estimate) -> str:
    """Totals in one line: tasks per kind, device total, wall time on the workers."""
    counts = ", ".join(f"{n} {kind}" for kind, n in estimate.counts().items())
    how = "" if estimate.estimated_from == "measured" else ", estimated from FLOPs"
    return (
        f"plan: {counts}; {estimate.device_s:,.0f} device-s = {estimate.total_text()}{how}; "
        f"wall ~{duration(estimate.wall_s)} on {estimate.workers} worker(s)"
    )


def duration(seconds: float | None) -> str:
    """'3d04h', '2h05m', '4m07s'."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
