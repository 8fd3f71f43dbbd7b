"""`nastransfer fidelity`: how well cheap proxies rank a table's cells, measured in one command."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from nastransfer.cli import MAX_SEED
from nastransfer.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add the `fidelity` command."""
    app.command()(fidelity)


def check_sources(sources: list[str]) -> None:
    """Every --source is a dataset whose files are on this machine: found before any cell is scored."""
    from nastransfer.study.config.checks import check_dataset

    for name in sources:
        try:
            check_dataset(name, None, {}, "", "")
        except ConfigError as err:
            raise ConfigError(f"{name!r}: {err.problem}", field="--source") from None


def fidelity(
    target: Annotated[str, typer.Option(help="target ranking: a table, e.g. nb201:cifar10")],
    proxy: Annotated[
        list[str],
        typer.Option(
            help="a zero-cost predictor, a rank vote of several (vote:synflow,naswot or vote-mean:...) "
            "or a model fitted on --labels cells (learned:synflow,naswot); repeat the option for more"
        ),
    ],
    space: Annotated[str, typer.Option(help="search space of the cells")] = "nb201",
    cells: Annotated[int, typer.Option(help="K: cells sampled from the table (all when K covers it)")] = 1000,
    seed: Annotated[
        int, typer.Option(min=0, max=MAX_SEED, help="seed of the cell sample, batches and initial weights")
    ] = 0,
    source: Annotated[
        list[str] | None,
        typer.Option(help="dataset the predictors read a batch of (repeatable); none: the target's shape"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=2, max=4096, help="images in the predictors' batch")] = 64,
    n_boot: Annotated[
        int, typer.Option(min=1, max=100_000, help="bootstrap resamples of the intervals")
    ] = 1000,
    labels: Annotated[
        int, typer.Option(help="labelled cells a learned proxy is fitted on (it scores only the others)")
    ] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per (proxy, source)")] = False,
) -> None:
    """Kendall tau, Spearman rho and top-k overlap of each proxy against the target, with costs."""
    check_sources(source or [])
    for option, values in (("--proxy", proxy), ("--source", source or [])):
        twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
        if twice is not None:
            raise ConfigError(f"{option} {twice!r} is given twice; name each once")
    from nastransfer.analysis.fidelity import (
        display_table,
        fidelity_table,
        from_scores_frame,
        json_records,
        recommendation,
    )
    from nastransfer.proxies import ZeroCostSetup, measure_zero_cost
    from nastransfer.proxies.learned import LABELS_NOTE, is_learned

    frame = measure_zero_cost(
        space=space,
        target=target,
        cells=cells,
        seed=seed,
        proxies=proxy,
        sources=source or [""],
        setup=ZeroCostSetup(batch_size=batch_size),
        labels=labels,
        show_progress=None if not as_json else False,
    )
    proxies, truth = from_scores_frame(frame)
    table = fidelity_table(proxies, truth, n_boot=n_boot, seed=seed)
    records = json_records(table)
    for record in records:
        if is_learned(record["proxy"]):
            record |= {"labels": labels, "note": LABELS_NOTE}
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    text = display_table(table)
    view = RichTable(*text.columns, title=f"fidelity to {target} ({cells} cells, seed {seed})")
    for row in text.itertuples(index=False):
        view.add_row(*row)
    console.print(view)
    console.print(recommendation(table, proxies, truth, n_boot=n_boot, seed=seed))
    if any(is_learned(name) for name in proxy):
        console.print(
            f"learned proxies: fitted on {labels} labelled cells, scored on the others; {LABELS_NOTE}"
        )
