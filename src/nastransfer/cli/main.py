"""Entry point of the `nastransfer` command: assembles the command groups, maps bad input to exit 2."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from nastransfer.errors import NastransferError

# Each module defines `register(app: typer.Typer) -> None` and holds only argument parsing and printing.
COMMAND_MODULES = ("datasets", "genotype", "search", "train", "study", "plan", "report", "tables")

app = typer.Typer(
    name="nastransfer",
    help="Search NAS cells on small sources, train them on large targets, analyse the transfer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Search NAS cells on small sources, train them on large targets, analyse the transfer."""


@app.command()
def version() -> None:
    """Print the installed nastransfer version."""
    from nastransfer import __version__

    typer.echo(__version__)


for _name in COMMAND_MODULES:
    importlib.import_module(f"nastransfer.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; bad input prints one line on stderr and returns 2 (usage errors too)."""
    try:
        app(args=argv, prog_name="nastransfer")
    except NastransferError as err:
        Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {err}", soft_wrap=True)
        return 2
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
