"""`nastransfer datasets`: which datasets can be loaded here, from where, and how to get the others."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nastransfer.data import dataset_names, dataset_status


def register(app: typer.Typer) -> None:
    """Add the `datasets` command."""
    app.command("datasets")(datasets)


def datasets(
    name: Annotated[list[str] | None, typer.Argument(help="Datasets to check (default: all known).")] = None,
) -> None:
    """List known datasets: found or not, where, and how to get the missing ones."""
    table = Table(title="nastransfer datasets", show_lines=True)
    for column in ("dataset", "status", "where", "about / how to get"):
        table.add_column(column, overflow="fold")
    for dataset in name or dataset_names():
        status = dataset_status(dataset)
        mark = "[green]found[/]" if status.found else "[yellow]missing[/]"
        about = status.description
        if not status.found:
            about += f"\n[dim]get it:[/] {status.how_to_get}"
        table.add_row(status.name, mark, status.location, about)
    Console(width=160).print(table)
