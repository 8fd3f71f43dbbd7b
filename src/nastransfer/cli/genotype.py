"""`nastransfer genotype ...`: show, size, sample and draw cells of the search spaces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nastransfer.cli import MAX_SEED, check_output_file

SPEC_HELP = "a published cell name (e.g. DARTS_V2), Genotype(...) text, an NB201 arch string, or a file"

genotype_app = typer.Typer(
    help="Show, size, sample and draw cells of the search spaces.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `genotype` command group."""
    app.add_typer(genotype_app, name="genotype")


def _edge_table(title: str, rows: list[tuple[str, str, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("node", "input", "op"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table


@genotype_app.command()
def show(spec: Annotated[str, typer.Argument(help=SPEC_HELP)]) -> None:
    """Print a cell: its space, canonical key, text, and edges node by node."""
    from nastransfer.spaces import load_genotype, space_of

    genotype = load_genotype(spec)
    space = space_of(genotype)
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"space: {space.name}")
    console.print(f"key:   {space.key(genotype)}")
    console.print(f"text:  {space.format(genotype)}")
    for diagram in space.diagrams(genotype) if space.diagrams else []:
        rows = [(to, src, op) for src, to, op in diagram.edges if op]
        console.print(_edge_table(diagram.title, rows))


@genotype_app.command()
def params(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP)],
    C: Annotated[
        int | None, typer.Option("--C", min=1, max=1024, help="initial channels (DARTS 36, NB201 16)")
    ] = None,
    layers: Annotated[
        int | None,
        typer.Option(min=1, max=200, help="cells (DARTS, default 20) or cells per stage (NB201, default 5)"),
    ] = None,
    classes: Annotated[int, typer.Option(min=1, max=100_000, help="number of classes")] = 10,
    stem: Annotated[str, typer.Option(help="DARTS stem: cifar or imagenet")] = "cifar",
    image_size: Annotated[
        int, typer.Option(min=8, max=1024, help="square input side in pixels, for FLOPs")
    ] = 32,
    in_channels: Annotated[int, typer.Option(min=1, max=64, help="input image channels")] = 3,
) -> None:
    """Parameters (auxiliary head excluded) and multiply-adds of the evaluation network of a cell."""
    from nastransfer.errors import ConfigError
    from nastransfer.nets import count_flops, count_params
    from nastransfer.spaces import load_genotype, space_of

    genotype = load_genotype(spec)
    space = space_of(genotype)
    size = dict(space.net_defaults)
    size.update({k: v for k, v in (("C", C), (space.depth_keyword, layers)) if v is not None})
    options = {}
    if "stem" in space.protocol_options:
        if stem not in ("cifar", "imagenet"):
            raise ConfigError(f"--stem must be cifar or imagenet, got {stem!r}")
        options["stem"] = stem
    net = space.build_eval_net(genotype, **size, num_classes=classes, in_channels=in_channels, **options)
    flops = count_flops(net, (in_channels, image_size, image_size))
    parameters = count_params(net)
    typer.echo(f"params: {parameters:,} ({parameters / 1e6:.2f} M)")
    typer.echo(f"flops:  {flops:,} multiply-adds ({flops / 1e6:.1f} M) at {image_size}x{image_size}")


@genotype_app.command()
def sample(
    space: Annotated[str, typer.Option(help="search space: darts, nb201, graph, or a plugin's")] = "darts",
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="random seed")] = 0,
) -> None:
    """Print a uniformly random cell of a space (the random-sampling baseline's draw for this seed)."""
    from nastransfer.spaces import get_space

    typer.echo(str(get_space(space).sample(seed)))


@genotype_app.command()
def plot(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP)],
    output: Annotated[Path, typer.Option("-o", "--output", help="image file to write (.png, .pdf, .svg)")],
) -> None:
    """Draw a cell (DARTS: normal and reduction cells) as a directed graph."""
    from nastransfer.spaces import load_genotype
    from nastransfer.spaces.plotting import plot_cells

    check_output_file(output, "--output")
    typer.echo(f"wrote {plot_cells(load_genotype(spec), output)}")
