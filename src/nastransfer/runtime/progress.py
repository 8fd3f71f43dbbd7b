"""Progress bars for long tasks: rich on a terminal, silent in logs, CI and worker processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class ProgressUpdate(Protocol):
    def __call__(self, advance: float = 1, **fields: Any) -> None: ...


@contextmanager
def progress(total: float, description: str, enabled: bool | None = None) -> Iterator[ProgressUpdate]:
    """Yield ``update(advance=1, **fields)``; fields (loss, acc...) are shown beside the bar."""
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield lambda advance=1, **fields: None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        transient=False,
    )
    with bar:
        task = bar.add_task(description, total=total, info="")

        def update(advance: float = 1, **fields: Any) -> None:
            info = "  ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items()
            )
            bar.update(task, advance=advance, info=info)

        yield update
