"""`nastransfer tables ...`: list benchmark tables, look cells up, search them, compare their rankings."""

from __future__ import annotations

import json
import tempfile
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from nastransfer.cli import MAX_SEED

tables_app = typer.Typer(help="Published benchmark tables: look up, search, compare.", no_args_is_help=True)
TABLE_HELP = (
    "table name: nb201:<dataset>, graph:<dataset>, nb201-official:<path>:<dataset>, or nb201-file:<path>"
)


def register(app: typer.Typer) -> None:
    """Add the `tables` command group."""
    app.add_typer(tables_app, name="tables")


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@tables_app.command("list")
def list_tables(
    details: Annotated[
        bool, typer.Option("--details", help="open each table: cells and best accuracy")
    ] = False,
) -> None:
    """The tables the installed packages provide (nb201-file:<path> tables are opened by path)."""
    from nastransfer.tabular import get_table, table_names

    console = _console()
    if not details:
        for name in table_names():
            console.print(name)
        return
    view = RichTable("table", "space", "cells", "best accuracy", "searches maximise")
    for name in table_names():
        table = get_table(name)
        view.add_row(
            name, table.space, str(len(table)), f"{table.best()[1]['accuracy']:.2f}", table.search_metric
        )
    console.print(view)


@tables_app.command()
def query(
    table: Annotated[str, typer.Argument(help=TABLE_HELP)],
    arch: Annotated[str, typer.Argument(help="the cell's text (NB201 arch string or gnn(...))")],
) -> None:
    """Print every metric the table holds for one cell."""
    from nastransfer.spaces import get_space
    from nastransfer.tabular import get_table

    opened = get_table(table)
    cell = get_space(opened.space).parse(arch)
    console = _console()
    console.print(f"cell: {cell}")
    for name, value in opened.query(cell).items():
        console.print(f"{name}: {value:.6g}")


@tables_app.command()
def search(
    table: Annotated[str, typer.Argument(help=TABLE_HELP)],
    method: Annotated[
        str, typer.Option(help="rs (random), re (regularised evolution), ls (local search)")
    ] = "re",
    queries: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="table queries the search may spend")
    ] = 1000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="random seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole result as JSON")] = False,
) -> None:
    """Run a black-box search on a table and print the cell it found."""
    from nastransfer.search.budget import Budget
    from nastransfer.tabular import get_table
    from nastransfer.tabular.blackbox import table_searcher

    opened = get_table(table)
    searcher = table_searcher(method, queries=queries)
    budget = Budget.queries(queries)
    with tempfile.TemporaryDirectory() as workdir:
        result = searcher.search(opened.space, opened, budget, seed, workdir, progress=False)
    metrics = opened.query(result.genotype)
    console = _console()
    if as_json:
        history = result.history
        console.print(json.dumps({"genotype": str(result.genotype), "metrics": metrics, "history": history}))
        return
    console.print(f"found:    {result.genotype}")
    console.print(f"accuracy: {metrics['accuracy']:.4f} (table best {opened.best()[1]['accuracy']:.4f})")
    console.print(f"queries:  {result.extra['queries']} in {result.cost.wall_s:.2f} s")


@tables_app.command()
def tau(
    names: Annotated[
        list[str] | None, typer.Argument(help="tables to compare (default: all graph tables)")
    ] = None,
) -> None:
    """Kendall tau between the accuracies of every pair of tables, over the cells both hold."""
    from nastransfer.tabular import GRAPH_DATASETS, get_table, tau_matrix

    names = names or [f"graph:{d}" for d in GRAPH_DATASETS]
    matrix = tau_matrix([get_table(n) for n in names])
    short = [n.split(":", 1)[1] for n in names]
    width = max(7, *(len(n) + 1 for n in short))
    lines = ["".ljust(width) + "".join(n.rjust(width) for n in short)]
    lines += [
        n.ljust(width) + "".join(f"{v:{width}.3f}" for v in row) for n, row in zip(short, matrix, strict=True)
    ]
    typer.echo("\n".join(lines))
