"""The DARTS space's registry record: text forms, sampling, diagrams and its nets (built lazily)."""

from __future__ import annotations

from nastransfer.spaces.darts.genotype import OPS, STEPS, Genotype
from nastransfer.spaces.darts.published import PUBLISHED
from nastransfer.spaces.darts.sampling import mutate, neighbours, sample
from nastransfer.spaces.registry import Diagram, Space, register_space

NAME = "darts"


def parse(text: str) -> Genotype:
    """A published cell's name or `Genotype(...)` text."""
    stripped = text.strip()
    if stripped in PUBLISHED:
        return PUBLISHED[stripped]
    return Genotype.parse(stripped)


def _recognises(text: str) -> bool:
    return text in PUBLISHED or "Genotype" in text


def _diagrams(genotype: Genotype) -> list[Diagram]:
    """The normal and the reduction cell: node k's two inputs, its ops, and the concatenated output."""
    names = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(STEPS)]
    diagrams = []
    for field in ("normal", "reduce"):
        edges = [
            (names[index], str(position // 2), op)
            for position, (op, index) in enumerate(getattr(genotype, field))
        ]
        concat = [names[state] for state in getattr(genotype, f"{field}_concat")]
        edges += [(node, "c_{k}", "") for node in concat]
        title = f"{field} cell (output concatenates nodes {', '.join(concat)})"
        diagrams.append(Diagram(title, ("c_{k-2}", "c_{k-1}"), tuple(edges)))
    return diagrams


def _path(seed: int) -> Genotype:
    """Weight-sharing search draws every op of the supernet, `none` included."""
    return sample(seed, ops=OPS)


SPACE = register_space(
    Space(
        name=NAME,
        genotype_type=Genotype,
        ops=OPS,
        parse=parse,
        sample=sample,
        mutate=mutate,
        neighbours=neighbours,
        recognises=_recognises,
        text_help=f"a published cell ({', '.join(PUBLISHED)}), Genotype(...) text",
        from_dict=Genotype.from_dict,
        diagrams=_diagrams,
        eval_net="nastransfer.nets.darts_net:EvalNet",
        supernet="nastransfer.nets.supernets.darts:DartsSupernet",
        depth_keyword="layers",
        protocol_options=("stem", "auxiliary", "drop_path"),
        net_defaults=(("C", 36), ("layers", 20)),
        min_search_layers=3,
        # reductions at 1/3 and 2/3 of the cells: one more normal cell per stage every 3 cells
        supernet_depth_period=(3, 5),
        sample_path=_path,
    )
)
