"""Cells published by the DARTS family, read from the package's `published.json`."""

from __future__ import annotations

import json
from importlib import resources

from nastransfer.spaces.darts.genotype import Genotype


def _load() -> dict[str, Genotype]:
    text = resources.files(__package__).joinpath("published.json").read_text(encoding="utf-8")
    entries = json.loads(text).items()
    return {name: Genotype.from_dict(fields) for name, fields in entries if not name.startswith("_")}


#: name -> Genotype for DARTS_V1, DARTS_V2, PC_DARTS_cifar, PC_DARTS_image, PDARTS.
PUBLISHED: dict[str, Genotype] = _load()
