"""`nastransfer run | status | export`: run a study file, show a run's progress, write its results frame."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from nastransfer.cli.plan import duration, summary_line
from nastransfer.errors import ConfigError

STATUS_ORDER = ("done", "running", "pending", "failed", "skipped")


def register(app: typer.Typer) -> None:
    """Add `run`, `status` and `export`."""
    app.command("run")(run)
    app.command("status")(status)
    app.command("export")(export)


def run(
    study: Annotated[Path, typer.Argument(help="study TOML file")],
    dir: Annotated[Path | None, typer.Option("--dir", help="run directory (default runs/NAME)")] = None,
    executor: Annotated[str | None, typer.Option("--executor", help="local or ray")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster: auto or host:port")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="tasks run at once")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="write the report at the end")] = True,
    max_hours: Annotated[
        float | None,
        typer.Option(
            "--max-hours", min=0, help="refuse a plan above this many device-hours ([executor] max_hours)"
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="run even if the plan exceeds max_hours")] = False,
) -> None:
    """Run a study (or resume it in the same --dir): its cost plan first, the report's path at the end."""
    from nastransfer.cli import check_output_folder
    from nastransfer.study import load_study, run_study
    from nastransfer.study.config.schema import ExecutorConfig
    from nastransfer.study.cost.plan import estimate_study
    from nastransfer.study.driver.driver import check_before_run

    config = load_study(study)
    given = {"kind": executor, "address": address, "workers": workers}
    changes = {k: v for k, v in given.items() if v is not None}
    if changes:
        if executor not in (None, "local", "ray"):
            raise ConfigError(f"--executor: expected local or ray, got {executor!r}")
        config = config.with_executor(
            ExecutorConfig.model_validate({**config.executor.model_dump(), **changes})
        )
    run_dir = dir or Path("runs") / config.name
    check_output_folder(run_dir, "--dir")  # every refusal that needs no measurement comes before
    check_before_run(config, run_dir, str(study))  # the plan, which may time network steps
    console = Console()
    estimate = estimate_study(config)
    limit = max_hours if max_hours is not None else config.executor.max_hours
    needed = estimate.device_s / 3600
    if limit is not None and needed > limit and not force:
        where = "--max-hours" if max_hours is not None else f"{study}: executor.max_hours"
        raise ConfigError(
            f"{where}: the plan needs {_hours(needed)} device-hours, more than {limit:g}; "
            "shrink the study or pass --force"
        )
    console.print(summary_line(estimate), markup=False, highlight=False)
    view = _LiveView(console)
    try:
        with view:
            summary = run_study(config, run_dir, on_update=view.update, where=str(study), plan=estimate)
    except KeyboardInterrupt:
        console.print(f"interrupted: unfinished tasks stay pending; rerun the command to resume ({run_dir})")
        raise typer.Exit(130) from None
    console.print(_counts_table(summary.counts, f"study {config.name!r} in {run_dir}"))
    if summary.failed:
        console.print(
            f"[red]{len(summary.failed)} task(s) failed[/] (first: {summary.cause}); "
            f"see `nastransfer status {run_dir}`",
            highlight=False,
        )
    reported = _report(console, run_dir) if report else True
    if summary.failed or not reported:
        raise typer.Exit(1)


def _hours(hours: float) -> str:
    """Device-hours with the digits that tell a small plan from its limit: 1,234.5, 12.3, 0.000123."""
    return f"{hours:,.1f}" if hours >= 100 else f"{hours:.3g}"


def status(run_dir: Annotated[Path, typer.Argument(help="run directory")]) -> None:
    """Progress of a run, per task kind; the tasks each node ran; the last line of each failure."""
    from nastransfer.study import Store
    from nastransfer.study.driver.run_dir import RunDir

    if not RunDir(run_dir).store.is_file():
        raise ConfigError(f"{run_dir}: not a study run directory (no {RunDir.STORE})")
    with Store.of_run(run_dir, readonly=True) as store:
        counts = store.status_counts()
        nodes = store.node_counts()
        failures = [(r["kind"], r["key"], r["error"]) for r in store.tasks() if r["status"] == "failed"]
    console = Console()
    console.print(_counts_table(counts, str(run_dir)))
    for node, done in nodes.items():
        console.print(f"node {node}: {done} task(s) done", highlight=False)
    for kind, key, error in failures:
        last = (error or "").strip().splitlines()[-1:] or ["?"]
        console.print(f"[red]failed[/] {kind} {key[:12]}: {last[0]}")


def export(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    to: Annotated[Path, typer.Option("--to", help="FILE.csv or FILE.parquet")],
) -> None:
    """Write the run's results frame (one row per evaluation) to CSV or Parquet."""
    from nastransfer.cli import check_output_file
    from nastransfer.study import export as export_frame

    check_output_file(to, "--to")

    typer.echo(str(export_frame(run_dir, to)))


def _report(console: Console, run_dir: Path) -> bool:
    """Write the run's report; a failure of the report is said in one line and leaves the finished
    study's results where they are (a traceback in the run directory), so hours of work are never lost
    to the last step. Returns whether the report was written."""
    import traceback

    from rich.markup import escape

    from nastransfer.atomic import atomic_write_text
    from nastransfer.cli.report import report_run
    from nastransfer.errors import NastransferError
    from nastransfer.study.driver.run_dir import RunDir

    try:
        console.print(f"report: {report_run(run_dir)}")
    except NastransferError:
        raise
    except Exception as err:  # noqa: BLE001 - any bug of the analysis: the results must survive it
        log = RunDir(run_dir).report_error
        atomic_write_text(log, traceback.format_exc())
        console.print(
            f"[red]the report failed[/] ({type(err).__name__}: {escape(str(err))}); the study's results "
            f"are kept in {run_dir} (`nastransfer export {run_dir} --to results.csv`); traceback in {log}; "
            f"`nastransfer report {run_dir}` writes the report again",
            highlight=False,
        )
        return False
    return True


def _counts_table(counts: dict[str, dict[str, int]], title: str, eta: str | None = None) -> Table:
    table = Table(title=title, caption=eta)
    table.add_column("task")
    for status in STATUS_ORDER:
        table.add_column(status, justify="right")
    table.add_column("total", justify="right")
    from nastransfer.study.kinds import kind_names  # the registry's order; a kind not registered here last

    order = kind_names()
    for kind in sorted(counts, key=lambda k: order.index(k) if k in order else len(order)):
        row = counts[kind]
        table.add_row(kind, *(str(row.get(s, 0)) for s in STATUS_ORDER), str(sum(row.values())))
    return table


class _LiveView:
    """A live table on a terminal; elsewhere one line each time a task finishes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        terminal = console.is_terminal
        self.live = Live(console=console, refresh_per_second=2, transient=True) if terminal else None
        self.last_done = -1

    def __enter__(self) -> _LiveView:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def update(self, snapshot) -> None:
        caption = f"elapsed {duration(snapshot.elapsed_s)}, left ~{duration(snapshot.eta_s)}"
        if self.live is not None:
            self.live.update(_counts_table(snapshot.counts, "study", caption))
            return
        done = sum(c.get("done", 0) for c in snapshot.counts.values())
        if done != self.last_done:
            self.last_done = done
            parts = ", ".join(
                f"{kind} {c.get('done', 0)}/{sum(c.values())}"
                + (f" ({c['failed']} failed)" if c.get("failed") else "")
                for kind, c in snapshot.counts.items()
            )
            line = f"[{duration(snapshot.elapsed_s)}] {parts}; left ~{duration(snapshot.eta_s)}"
            self.console.print(line, markup=False, highlight=False)
