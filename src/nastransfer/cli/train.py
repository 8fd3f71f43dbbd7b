"""`nastransfer train` (final training of one cell) and `nastransfer protocols` (the named protocols).

Under `torchrun --nproc_per_node N -m nastransfer.cli.main train ...` the same command trains
data-parallel; only rank 0 prints and writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nastransfer.cli import MAX_SEED, check_output_file, checked_device


def register(app: typer.Typer) -> None:
    """Add `train` and `protocols` to the app."""
    app.command("train")(train)
    app.command("protocols")(list_protocols)


def train(
    genotype: Annotated[
        str, typer.Option(help="published cell name, genotype/arch text, or a file holding it")
    ],
    dataset: Annotated[str, typer.Option(help="dataset name (see `nastransfer datasets`)")],
    protocol: Annotated[str, typer.Option(help="protocol name (see `nastransfer protocols`)")] = "cpu-mini",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a protocol field: field=value (repeatable)")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="training seed")] = 0,
    data_root: Annotated[Path | None, typer.Option(help="folder holding the dataset's files")] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="checkpoints and log; rerunning resumes (default: runs/train/...)")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the result JSON here")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 (default: CUDA when present)")] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="progress bar")] = None,
) -> None:
    """Train a cell's network on a dataset under a named protocol; print test top-1/top-5."""
    from nastransfer.runtime import atomic_write_bytes
    from nastransfer.train import (
        TrainEvaluator,
        get_protocol,
        init_distributed,
        load_genotype,
        parse_overrides,
        shutdown_distributed,
    )

    check_output_file(output, "--output")
    checked_device(device)
    chosen = get_protocol(protocol, **parse_overrides(set_ or []))
    cell = load_genotype(genotype)
    if workdir is None:
        workdir = Path("runs") / "train" / f"{dataset}-{chosen.name}-{cell.key[:10]}-s{seed}"
    context = init_distributed()
    try:
        result = TrainEvaluator(data_root=data_root, device=device, show_progress=progress).evaluate(
            cell, dataset, chosen, seed, workdir
        )
    finally:
        shutdown_distributed(context)
    if not context.is_main:
        return
    if output is not None:
        atomic_write_bytes(output, (json.dumps(result.to_dict(), indent=2) + "\n").encode())
    cost = result.cost
    spent = f", {cost.wall_s:.1f} s on {cost.device}" if cost is not None else ""
    typer.echo(
        f"{dataset} / {chosen.name} / seed {seed}: top-1 {result.top1:.2f} %, top-5 {result.top5:.2f} %, "
        f"{result.params:,} params, {result.flops / 1e6:.1f} M multiply-adds{spent}  [{workdir}]"
    )


def list_protocols(
    name: Annotated[str | None, typer.Argument(help="show only this protocol")] = None,
) -> None:
    """List the named training protocols and every field of each."""
    from nastransfer.train import Protocol, get_protocol, protocols

    chosen = [get_protocol(name)] if name else list(protocols().values())
    table = Table(title="training protocols", header_style="bold")
    table.add_column("field", no_wrap=True)
    for protocol in chosen:
        table.add_column(protocol.name, justify="right", overflow="fold")
    for field in Protocol.model_fields:
        if field in ("name", "description"):
            continue
        table.add_row(field, *(_shown(getattr(protocol, field)) for protocol in chosen))
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=160)
    console.print(table)
    for protocol in chosen:
        console.print(f"[bold]{protocol.name}[/]: {protocol.description}", highlight=False)


def _shown(value: object) -> str:
    return "-" if value is None else str(value)
