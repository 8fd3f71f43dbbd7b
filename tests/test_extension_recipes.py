"""The two recipes of docs/architecture.md, tried from outside the package: a search space (a
record with its evaluation net and supernet) and a NAS method (one class), both registered here
and run through a tiny real study together with a built-in method (DARTS searches the toy
space through the toy supernet) and the random baseline.

The study's workers are fresh processes, so they find the toy space and method as installed
plugins would be found: a `.dist-info` folder on `sys.path` naming them as entry points.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from nastransfer import search, spaces
from nastransfer.cli.main import main
from nastransfer.errors import GenotypeError
from nastransfer.nets.supernets.base import Supernet, run_nodes
from nastransfer.nets.supernets.edge import SearchEdge, State
from nastransfer.runtime import CostMeter
from nastransfer.search import Budget, Searcher, SearchResult
from nastransfer.study import load

pytestmark = pytest.mark.slow

OPS = ("conv", "pool", "skip")
_TEXT = re.compile(r"^toy\((\w+),(\w+)\)$")


@dataclass(frozen=True)
class ToyCell:
    """A 2-edge chain cell: input -> ops[0] -> ops[1]."""

    ops: tuple[str, str]

    def __post_init__(self) -> None:
        if len(self.ops) != 2 or any(op not in OPS for op in self.ops):
            raise GenotypeError(f"a toy cell has two ops of {', '.join(OPS)}, got {self.ops!r}")

    def __str__(self) -> str:
        return f"toy({self.ops[0]},{self.ops[1]})"

    @property
    def key(self) -> str:
        return "-".join(self.ops)

    @classmethod
    def parse(cls, text: str) -> ToyCell:
        match = _TEXT.match(text.strip())
        if match is None:
            raise GenotypeError(f"toy cell text reads toy(op,op), not {text!r}")
        return cls((match.group(1), match.group(2)))


def sample(seed: int) -> ToyCell:
    rng = np.random.default_rng(seed)
    return ToyCell(tuple(OPS[int(i)] for i in rng.integers(len(OPS), size=2)))


def neighbours(cell: ToyCell) -> list[ToyCell]:
    return [
        ToyCell(cell.ops[:k] + (op,) + cell.ops[k + 1 :]) for k in range(2) for op in OPS if op != cell.ops[k]
    ]


def mutate(cell: ToyCell, seed: int) -> ToyCell:
    moves = neighbours(cell)
    return moves[int(np.random.default_rng(seed).integers(len(moves)))]


def _op(name: str, C: int, stride: int = 1, affine: bool = True) -> nn.Module:
    if name == "conv":
        return nn.Sequential(nn.Conv2d(C, C, 3, padding=1, bias=False), nn.BatchNorm2d(C, affine=affine))
    if name == "pool":
        return nn.AvgPool2d(3, 1, 1)
    return nn.Identity()


class ToyNet(nn.Module):
    """Evaluation net: a stem, `layers` residual toy cells, pooled logits."""

    def __init__(self, cell: ToyCell, C: int, layers: int, num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        self.stem = nn.Conv2d(in_channels, C, 3, padding=1)
        self.cells = nn.ModuleList(nn.Sequential(*(_op(op, C) for op in cell.ops)) for _ in range(layers))
        self.head = nn.Linear(C, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        x = self.stem(x)
        for cell in self.cells:
            x = x + cell(x)
        return self.head(x.mean(dim=(2, 3))), None


SLICES = ((0, 1), (1, 2))  # node 1 reads edge 0, node 2 reads edge 1
TABLE = {name: (lambda C, stride, affine, name=name: _op(name, C, stride, affine)) for name in OPS}


class ToySupernet(Supernet):
    """Supernet of the toy space on the shared `Supernet` base: every form comes with it."""

    cell_types = ("cell",)

    def __init__(
        self, C: int, layers: int, num_classes: int, in_channels: int = 3, form: str = "mixed", k: int = 2
    ) -> None:
        super().__init__()
        self._setup(form, OPS, SLICES, k, channels=C)
        self.stem = nn.Conv2d(in_channels, C, 3, padding=1)
        self.cells = nn.ModuleList(
            nn.ModuleList(SearchEdge(OPS, TABLE, C, 1, self.partial) for _ in SLICES) for _ in range(layers)
        )
        self.head = nn.Linear(C, num_classes)

    def _run(self, x: torch.Tensor, plans: dict, betas: dict) -> torch.Tensor:
        x = self.stem(x)
        for edges in self.cells:
            x = x + run_nodes(edges, [State(x)], SLICES, (0, 1), plans["cell"], betas["cell"])[-1].x
        return self.head(x.mean(dim=(2, 3)))

    def path_plans(self, path: object) -> dict:
        return {"cell": [[(self.op_names.index(op), None)] for op in path.ops]}

    def genotype(self) -> ToyCell:
        return ToyCell(tuple(self.op_names[int(i)] for i in self.derivation_weights("cell").argmax(dim=1)))


TOY = spaces.Space(
    name="toy",
    genotype_type=ToyCell,
    ops=OPS,
    parse=ToyCell.parse,
    sample=sample,
    mutate=mutate,
    neighbours=neighbours,
    recognises=lambda text: text.startswith("toy("),
    text_help="toy(op,op) text",
    eval_net=ToyNet,
    supernet=ToySupernet,
    net_defaults=(("C", 4), ("layers", 1)),
)


class ToySample(Searcher):
    """A NAS method is one class: here, the space's own draw for seed + 1 (nothing trained)."""

    paper_budget = Budget.queries(1)

    def search(self, space, data, budget, seed, workdir, progress=None):
        with CostMeter(device="cpu") as meter:
            cell = spaces.get_space(space).sample(seed + 1)
        return SearchResult(cell, [{"epoch": 0, "genotype": str(cell)}], meter.cost, budget, self.name, seed)


ENTRY_POINTS = f"""[nastransfer.spaces]
toy = {__name__}:TOY

[nastransfer.searchers]
toy-sample = {__name__}:ToySample
"""


@pytest.fixture
def toy_plugin(tmp_path):
    """Register the toy space and method here, and install them as plugins for the study's workers."""
    info = tmp_path / "plugins" / "nastransfer_toy-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nastransfer-toy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    spaces.register_space(TOY)
    search.register("toy-sample")(ToySample)
    sys.path.insert(0, str(info.parent))
    yield
    sys.path.remove(str(info.parent))
    search.SEARCHERS.remove("toy-sample")
    spaces.unregister_space("toy")


def test_a_space_registers_once_and_every_package_finds_it(toy_plugin):
    assert "toy" in spaces.space_names() and spaces.get_space("toy") is TOY
    cell = spaces.parse_any("toy(conv,pool)")
    assert spaces.space_of(cell) is TOY and spaces.load_genotype(str(cell)) == cell
    with pytest.raises(GenotypeError, match="search space .toy. is already registered"):
        spaces.register_space(TOY)
    from nastransfer.nets import build_eval_net, build_supernet, count_params

    logits, _ = build_eval_net(cell, C=4, layers=2, num_classes=3, in_channels=1)(torch.zeros(2, 1, 8, 8))
    assert logits.shape == (2, 3) and count_params(build_eval_net(cell, C=4, layers=1, num_classes=3)) > 0
    supernet = build_supernet("toy", C=4, layers=1, num_classes=3, in_channels=1, form="partial")
    assert supernet(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
    assert isinstance(supernet.genotype(), ToyCell)


STUDY = """
name = "toy-space"
space = "toy"

[[sources]]
name = "digits"
dataset = "digits"

[[methods]]
name = "toy-sample"

[[methods]]
name = "darts"

[budget]
epochs = 1
channels = 4
layers = 1
batch_size = 16
data_fraction = 0.5

[random]
n = 1

[[targets]]
name = "mnist"
dataset = "mnist5k"
protocols = ["cpu-mini"]
overrides = { epochs = 1, channels = 4, layers = 2, batch_size = 32, image_size = 8, data_fraction = 0.1 }

[evaluate]
source_overrides = { epochs = 1, channels = 4, layers = 2, batch_size = 32, image_size = 8 }

[executor]
workers = 1
threads_per_worker = 1
retries = 0
"""


def test_a_toy_space_and_method_run_through_a_study(toy_plugin, tmp_path):
    study = tmp_path / "toy.toml"
    study.write_text(STUDY)
    run_dir = tmp_path / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 0
    frame = load(run_dir)
    assert set(frame.space) == {"toy"} and set(frame.method) == {"toy-sample", "darts", "random"}
    assert len(frame) == 3 * 2  # three cells x (the source, the target)
    for row in frame.itertuples():
        assert row.cell == ToyCell.parse(row.genotype).key
        assert 0.0 <= row.top1 <= 100.0 and row.params > 0
    found = frame[frame.method == "toy-sample"]
    assert set(found.genotype) == {str(sample(1))}  # the method's own rule, seed 0 + 1
    random_cells = frame[frame.method == "random"]
    assert set(random_cells.genotype) == {str(sample(0))}
