"""Look a search space up by name, and recognise which space a piece of genotype text belongs to."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nastransfer.errors import GenotypeError
from nastransfer.spaces import darts, nb201


@dataclass(frozen=True)
class Space:
    """What callers need of a space without knowing which one it is."""

    name: str
    genotype_type: type
    ops: tuple[str, ...]
    parse: Callable[[str], object]
    sample: Callable[[int], object]
    mutate: Callable[[object, int], object]
    neighbours: Callable[[object], list]


_SPACES: dict[str, Space] = {
    module.NAME: Space(
        name=module.NAME,
        genotype_type=genotype_type,
        ops=module.OPS,
        parse=module.parse,
        sample=module.sample,
        mutate=module.mutate,
        neighbours=module.neighbours,
    )
    for module, genotype_type in ((darts, darts.Genotype), (nb201, nb201.Arch))
}


def space_names() -> list[str]:
    return sorted(_SPACES)


def get_space(name: str) -> Space:
    try:
        return _SPACES[name]
    except KeyError:
        raise GenotypeError(f"unknown search space {name!r} (known: {', '.join(space_names())})") from None


def space_of(genotype: object) -> Space:
    """The space a genotype object belongs to."""
    for space in _SPACES.values():
        if isinstance(genotype, space.genotype_type):
            return space
    known = ", ".join(space_names())
    raise GenotypeError(f"{type(genotype).__name__} is not a genotype of any space ({known})")


def parse_any(text: str) -> darts.Genotype | nb201.Arch:
    """A published DARTS cell name, `Genotype(...)` text (maybe `NAME = ...`), or an NB201 arch string."""
    stripped = text.strip()
    if stripped in darts.PUBLISHED:
        return darts.PUBLISHED[stripped]
    if stripped.startswith("|"):
        return nb201.Arch.parse(stripped)
    if "Genotype" in stripped:
        return darts.Genotype.parse(stripped)
    shown = stripped if len(stripped) <= 60 else stripped[:57] + "..."
    raise GenotypeError(
        f"{shown!r} is not a published cell ({', '.join(darts.PUBLISHED)}), Genotype(...) text, "
        "or an NB201 arch string"
    )


def load_genotype(spec: str | darts.Genotype | nb201.Arch) -> darts.Genotype | nb201.Arch:
    """A genotype itself, `parse_any(spec)`, or, when `spec` names a file, its text or `to_dict()` JSON.

    The one reader of a user's cell for every command and evaluator.
    """
    if not isinstance(spec, str):
        space_of(spec)  # a GenotypeError for anything that is not a genotype
        return spec
    path = Path(spec)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # text too long or odd (a NUL) to be a path
        is_file = False
    if not is_file:
        return parse_any(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise GenotypeError(f"cannot read genotype file {path}: {err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    try:
        if isinstance(data, dict):
            return darts.Genotype.from_dict(data)
        return parse_any(text)
    except GenotypeError as err:
        raise GenotypeError(f"{path}: {err}") from None
