"""`nastransfer search`: run one NAS method on a source (a dataset or a proxy of it), write result JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from nastransfer.cli import MAX_SEED, check_output_file, checked_device
from nastransfer.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add the `search` command."""
    app.command("search")(search_command)


def search_command(
    method: Annotated[
        str,
        typer.Option(
            help="Search method (see `nastransfer search --help`): darts, darts2, "
            "pcdarts, gdas, pdarts, rsws, random, zc, zc-rea, a plugin, or module:Class."
        ),
    ],
    source: Annotated[str, typer.Option(help="Dataset to search on, e.g. fashion-mnist.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the result JSON.")],
    space: Annotated[
        str, typer.Option(help="Search space: darts, nb201, or another registered one.")
    ] = "darts",
    seed: Annotated[
        int, typer.Option(min=0, max=MAX_SEED, help="Search seed (weights, data order, sampling).")
    ] = 0,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Checkpoint folder; a rerun resumes from it (default: OUTPUT with suffix .work)."),
    ] = None,
    proxy_classes: Annotated[int | None, typer.Option(help="Proxy: keep K random classes.")] = None,
    proxy_per_class: Annotated[int | None, typer.Option(help="Proxy: N images per class.")] = None,
    proxy_fraction: Annotated[float | None, typer.Option(help="Proxy: this fraction of each class.")] = None,
    proxy_resolution: Annotated[int | None, typer.Option(help="Proxy: resize to PX pixels.")] = None,
    proxy_seed: Annotated[
        int, typer.Option(min=0, max=MAX_SEED, help="Seed of the proxy's random choices.")
    ] = 0,
    epochs: Annotated[
        int | None, typer.Option(help="Override the method's published epochs (a plugin may publish none).")
    ] = None,
    channels: Annotated[int | None, typer.Option(help="Override the initial channels.")] = None,
    layers: Annotated[int | None, typer.Option(help="Override cells (DARTS) / per stage (NB201).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Override the batch size.")] = None,
    image_size: Annotated[int | None, typer.Option(help="Resize search images to PX pixels.")] = None,
    data_fraction: Annotated[float | None, typer.Option(help="Use this fraction of train/val.")] = None,
    warmup_epochs: Annotated[
        int | None, typer.Option(help="Weights-only epochs before arch updates.")
    ] = None,
    n_samples: Annotated[
        int | None, typer.Option(help="Cells scored by rsws or zc; predictor calls of zc-rea.")
    ] = None,
    predictor: Annotated[
        str | None,
        typer.Option(help="zc, zc-rea: the zero-cost predictor or vote (vote:naswot,synflow) to search by."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 (default: CUDA if present).")] = None,
    compile_: Annotated[
        str | None,
        typer.Option(
            "--compile",
            help="Supernet methods: auto (compile where a measured compile repays within the search), "
            "true or false (default: auto).",
        ),
    ] = None,
) -> None:
    """Search a cell of SPACE with METHOD on SOURCE's 40% train / 40% validation split."""
    from nastransfer.data import load_dataset, make_proxy, paper_splits
    from nastransfer.runtime import atomic_write_bytes
    from nastransfer.search import get, method_budget
    from nastransfer.spaces import space_names

    check_output_file(output, "--output")
    if space not in space_names():
        raise ConfigError(f"--space {space!r} is not one of {', '.join(space_names())}")
    options: dict[str, object] = {"device": checked_device(device)} if device is not None else {}
    if predictor is not None:
        options["predictor"] = predictor
    if compile_ is not None:
        choices = {"auto": "auto", "true": True, "false": False}
        if compile_ not in choices:
            raise ConfigError(f"--compile {compile_!r}: expected auto, true or false")
        options["compile"] = choices[compile_]
    searcher = get(method, **options)
    changes = {
        "epochs": epochs,
        "channels": channels,
        "layers": layers,
        "batch_size": batch_size,
        "image_size": image_size,
        "data_fraction": data_fraction,
        "warmup_epochs": warmup_epochs,
        "n_samples": n_samples,
    }
    budget = method_budget(method, {k: v for k, v in changes.items() if v is not None})
    searcher.check(space, budget)
    dataset = load_dataset(source)
    manifest = None
    if any(v is not None for v in (proxy_classes, proxy_per_class, proxy_fraction, proxy_resolution)):
        dataset = make_proxy(
            dataset,
            classes=proxy_classes,
            per_class=proxy_per_class,
            fraction=proxy_fraction,
            resolution=proxy_resolution,
            seed=proxy_seed,
        )
        manifest = dataset.manifest
    result = searcher.search(
        space, paper_splits(dataset), budget, seed, workdir or output.with_suffix(".work"), progress=None
    )
    record = result.to_dict()
    record["source"] = {"dataset": source, "proxy": None if manifest is None else manifest.hash}
    atomic_write_bytes(output, (json.dumps(record, indent=1) + "\n").encode())
    typer.echo(str(result.genotype))
