"""`nastransfer` commands of this group (not yet written: the owning issue fills this in)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
