"""Entry point of the `nastransfer` command: assembles the command groups, maps bad input to exit 2."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.markup import escape

from nastransfer.errors import NastransferError

# Each module defines `register(app: typer.Typer) -> None` and holds only argument parsing and printing.
COMMAND_MODULES = (
    "datasets", "genotype", "search", "train", "study", "plan", "report", "tables", "fidelity",
)

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
    click = _click_exceptions()
    try:
        code = app(args=argv, prog_name="nastransfer", standalone_mode=False)
    except NastransferError as err:
        return _error(str(err))
    except click.NoArgsIsHelpError as err:  # a bare group: its help, as --help prints it
        typer.echo(err.ctx.get_help() if err.ctx else err.format_message())
        return err.exit_code
    except click.UsageError as err:  # typer would draw a framed panel of many lines
        where = f"{err.ctx.command_path}: " if err.ctx else ""
        return _error(f"{where}{err.format_message()} (see --help)")
    except click.ClickException as err:
        return _error(err.format_message())
    except typer.Abort:
        return 130
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return code if isinstance(code, int) else 0


def _click_exceptions():
    """The exceptions module of the click that typer runs on: vendored in newer typers, else click's."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def _error(message: str) -> int:
    """Print `message` as the one line of a failed command; its exit code is 2."""
    line = escape(" ".join(message.split()))  # a message may hold `[random]`, which is not markup
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {line}", soft_wrap=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
