"""`nastransfer datasets`: which datasets can be loaded here, from where, and how to get the others;
`--download NAME` fetches a downloadable one (checksum-verified)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add the `datasets` command."""
    app.command("datasets")(datasets)


def datasets(
    name: Annotated[list[str] | None, typer.Argument(help="Datasets to check (default: all known).")] = None,
    download: Annotated[
        str | None, typer.Option(help="Download this dataset's published files (md5-verified) instead.")
    ] = None,
    root: Annotated[
        str | None, typer.Option(help="Folder to download into (default: $NASTRANSFER_DATA/NAME).")
    ] = None,
) -> None:
    """List known datasets: found or not, where, and how to get the missing ones; or download one."""
    from nastransfer.data import dataset_names, dataset_status, download_dataset

    if download is not None:
        if name:
            raise typer.BadParameter("give the dataset to --download, not as an argument", param_hint="NAME")
        typer.echo(f"{download}: files in {download_dataset(download, root)}")
        return
    if root is not None:
        raise typer.BadParameter("--root only applies with --download", param_hint="--root")
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
