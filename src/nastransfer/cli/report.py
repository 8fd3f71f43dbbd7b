"""`nastransfer report RUN`: write a run's HTML and/or Markdown report and print its path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nastransfer.cli import MAX_SEED, check_output_folder
from nastransfer.errors import ConfigError

DEFAULT_BOOT = 1000
FORMAT_CHOICES = {"html": ("html",), "md": ("md",), "both": ("html", "md")}


def register(app: typer.Typer) -> None:
    """Add the `report` command."""
    app.command("report")(report)


def report(
    run: Annotated[Path, typer.Argument(help="run directory of a study")],
    format: Annotated[str, typer.Option("--format", help="html, md or both")] = "both",
    out: Annotated[
        Path | None, typer.Option("--out", help="write report/ here instead of the run dir")
    ] = None,
    n_boot: Annotated[
        int | None,
        typer.Option(
            "--n-boot",
            min=0,
            max=100_000,
            help="bootstrap resamples per interval (default: 1000, and the study's fidelity.n_boot for "
            "proxy fidelity)",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="seed of the bootstrap")] = 0,
) -> None:
    """Analyse a run (agreement, ranks, random baseline, protocol effect) and write its report."""
    if format not in FORMAT_CHOICES:
        raise ConfigError(f"--format {format!r} unknown; use html, md or both")
    check_output_folder(out, "--out")
    path = report_run(run, FORMAT_CHOICES[format], out_dir=out, n_boot=n_boot, seed=seed)
    typer.echo(str(path))


def report_run(
    run_dir: Path,
    formats: tuple[str, ...] = ("html", "md"),
    *,
    out_dir: Path | None = None,
    n_boot: int | None = None,
    seed: int = 0,
) -> Path:
    """The run's results frame (from `study`) analysed into its report (by `analysis`), titled with the
    study's name, in the run directory (or `out_dir`). Only here do the two packages meet.

    `n_boot` None: 1000 resamples, and the study's `fidelity.n_boot` for its proxy fidelity."""
    from nastransfer import study
    from nastransfer.analysis import build_report_from_frame, check_report_dir
    from nastransfer.study.driver.run_dir import RunDir
    from nastransfer.study.kinds.fidelity_scores import SCORES_FRAME

    if not run_dir.is_dir():
        raise ConfigError(f"run directory {run_dir} does not exist")
    if not any(run_dir.iterdir()):
        raise ConfigError(f"run directory {run_dir} is empty: run a study into it first")
    if out_dir is not None:
        check_report_dir(out_dir)
    title = f"NASTransfer study: {study.study_name(run_dir)}"  # a damaged resolved config is named first
    files = RunDir(run_dir)
    cost = files.read_cost()  # a damaged file is named before the analysis runs
    fidelity_boot = n_boot if n_boot is not None else files.fidelity_n_boot()
    frame, own_frames = study.load_frames(run_dir)
    scores = own_frames.get(SCORES_FRAME)
    if frame.empty and (scores is None or scores.empty):
        raise ConfigError(f"run directory {run_dir} holds no results yet")
    return build_report_from_frame(
        frame,
        out_dir if out_dir is not None else run_dir,
        title=title,
        formats=formats,
        n_boot=n_boot if n_boot is not None else DEFAULT_BOOT,
        seed=seed,
        cost=cost,
        fidelity_n_boot=fidelity_boot,
        scores=scores,
    )
