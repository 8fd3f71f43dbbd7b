"""Contracts every registered piece keeps, parametrised over the registries themselves.

A NAS method (`search.names()`, plugins included), a dataset reader (`data.dataset_names()`), a
table family (`tabular.table_names()`), a training protocol (`train.protocols()`), a search space
(`spaces.space_names()`) or a zero-cost predictor (`predictors.names()`) is tested here the moment
it registers. Everything is tiny: one-epoch
searches of a C=4 NB201 supernet on 80 scikit-learn digits, 20-query table searches. A toy method,
added the documented way (one class with its published budget), is registered here and also run
through a tiny table study.
"""

from __future__ import annotations

import importlib.util
import inspect
import math

import pytest
import torch

from nastransfer import data, predictors, search, spaces, train
from nastransfer.cli.main import main
from nastransfer.errors import ConfigError, NastransferError
from nastransfer.nets import build_eval_net
from nastransfer.runtime import CostMeter
from nastransfer.search import Budget, Searcher, SearchResult
from nastransfer.study import load
from nastransfer.tabular import get_table, table_names
from nastransfer.tabular.blackbox import table_methods


@search.register("toy")
class ToyMethod(Searcher):
    """A new method is one class: the cell of smallest key among `n_samples` sampled ones."""

    paper_budget = Budget.queries(3)

    def search(self, space, data, budget, seed, workdir, progress=None):
        with CostMeter(device="cpu") as meter:
            cells = [spaces.get_space(space).sample(seed * 1000 + i) for i in range(budget.n_samples)]
            chosen = min(cells, key=lambda cell: cell.key)
        history = [{"epoch": 0, "genotype": str(chosen)}]
        return SearchResult(chosen, history, meter.cost, budget, method=self.name, seed=seed)


TABLE_METHODS = table_methods()
IMAGE_METHODS = [name for name in search.names() if name not in TABLE_METHODS]
TINY = {"epochs": 1, "channels": 4, "layers": 1, "batch_size": 8, "image_size": 8, "warmup_epochs": 0}


@pytest.fixture(scope="module")
def digits_splits():
    """80 digits (8 per class), split 40/40/20 as the paper does."""
    return data.paper_splits(data.make_proxy(data.load_dataset("digits"), per_class=8, seed=0))


@pytest.mark.parametrize("name", search.names())
def test_searcher_is_named_publishes_its_budget_and_accepts_it(name):
    searcher = search.get(name)
    assert isinstance(searcher, Searcher) and searcher.name == name
    published = search.published_budget(name)
    assert isinstance(published, Budget) and published == type(searcher).paper_budget
    searcher.check("darts", published)  # the published budget is one the method can run


@pytest.mark.parametrize("name", IMAGE_METHODS)
def test_image_searcher_finds_a_cell_of_the_space_the_same_way_twice(name, digits_splits, tmp_path):
    published = search.published_budget(name)
    budget = published.replace(**TINY, n_samples=min(2, published.n_samples))
    runs = [
        search.get(name).search(
            "nb201", digits_splits, budget, seed=1, workdir=tmp_path / str(i), progress=False
        )
        for i in range(2)
    ]
    first, again = runs
    assert isinstance(first, SearchResult) and first.method == name and first.budget == budget
    assert spaces.space_of(first.genotype).name == "nb201" and first.history
    assert first.genotype == again.genotype
    assert SearchResult.from_dict(first.to_dict()).genotype == first.genotype


@pytest.mark.parametrize("name", TABLE_METHODS)
def test_table_searcher_spends_its_query_budget_on_a_table(name, tmp_path):
    names = table_names()
    if not names:
        pytest.skip("no benchmark table package installed")
    table = get_table(names[0])
    budget = search.published_budget(name).replace(n_samples=20)
    first = search.get(name).search(table.space, table, budget, seed=2, workdir=tmp_path)
    again = search.get(name).search(table.space, table, budget, seed=2, workdir=tmp_path)
    assert first.method == name and first.extra["queries"] == 20 and first.genotype in table
    assert first.genotype == again.genotype and first.history == again.history


@pytest.mark.parametrize("name", data.dataset_names())
def test_dataset_reader_is_findable_and_reads_a_labelled_set(name):
    spec = data.dataset_spec(name)
    assert spec.name == name
    assert list(inspect.signature(spec.reader).parameters)[:3] == ["spec", "root", "train"]
    status = data.dataset_status(name)
    if not status.found:
        assert status.how_to_get  # a missing dataset says how to get it
        return
    dataset = data.load_dataset(name)  # the training part: every reader has one
    assert len(dataset) > 0 and dataset.num_classes >= 2
    image, label = dataset[0]
    assert image.ndim == 3 and 0 <= label < dataset.num_classes
    assert len(dataset.mean) == image.shape[0] == len(dataset.std)


@pytest.mark.parametrize("name", table_names())
def test_table_holds_cells_of_its_space_with_finite_accuracies(name):
    table = get_table(name)
    assert len(table) > 0 and table.name == name
    best, metrics = table.best()
    assert best in table and math.isfinite(metrics["accuracy"])
    assert math.isfinite(table.fitness(best)) and table.query(best) == metrics
    cell = spaces.get_space(table.space).parse(str(best))
    assert cell in table and table.query(cell) == metrics


@pytest.mark.parametrize("name", list(train.protocols()))
def test_protocol_is_named_overridable_and_strict(name):
    protocol = train.get_protocol(name)
    assert protocol.name == name and protocol.epochs >= 1 and protocol.batch_size >= 1
    assert train.get_protocol(name, epochs=1).epochs == 1
    assert train.Protocol.model_validate(protocol.model_dump()) == protocol
    with pytest.raises(ConfigError):
        train.get_protocol(name, no_such_field=1)


SPACES = [
    pytest.param(name, marks=pytest.mark.skipif(
        name == "graph" and importlib.util.find_spec("nas_bench_graph") is None,
        reason="NAS-Bench-Graph's canonical form needs nas-bench-graph",
    ))
    for name in spaces.space_names()
]  # fmt: skip


@pytest.mark.parametrize("name", SPACES)
def test_space_samples_parses_and_moves_within_itself(name):
    space = spaces.get_space(name)
    cell = space.sample(5)
    assert cell == space.sample(5) and isinstance(cell, space.genotype_type)
    text = space.format(cell)
    assert spaces.space_of(cell) is space and space.parse(text) == cell and space.recognises(text)
    assert spaces.parse_any(text) == cell and space.key(cell) == space.key(space.parse(text))
    assert space.network_key(cell) == space.network_key(space.parse(text))  # canonical key is stable
    moved = space.mutate(cell, 0)
    assert isinstance(moved, space.genotype_type) and moved != cell
    assert moved == space.mutate(cell, 0) and space.parse(space.format(moved)) == moved
    neighbours = space.neighbours(cell)
    assert neighbours and all(isinstance(n, space.genotype_type) and n != cell for n in neighbours)
    assert all(space.parse(space.format(n)) == n for n in neighbours)
    with pytest.raises(NastransferError):
        space.parse("not a cell")


TRAINABLE_SPACES = [n for n in spaces.space_names() if spaces.get_space(n).eval_net is not None]


@pytest.mark.parametrize("name", TRAINABLE_SPACES)
def test_space_nets_take_the_layout_the_registry_gives(name):
    """The evaluation net at a protocol's depth, and the supernet at the smallest search depth, run."""
    import torch

    from nastransfer.nets import build_eval_net, build_supernet

    space = spaces.get_space(name)
    x = torch.zeros(2, 1, 16, 16)
    net = build_eval_net(space.sample(0), C=4, num_classes=3, in_channels=1, **space.layout(5))
    logits, _ = net(x)
    assert logits.shape == (2, 3)
    if space.supernet is not None:
        depth = {space.depth_keyword: space.min_search_layers}
        assert build_supernet(name, C=4, num_classes=3, in_channels=1, **depth)(x).shape == (2, 3)


#: Two NB201 cells with convolutions (every predictor reads them) at C=2, one cell per stage.
PREDICTOR_CELLS = [spaces.nb201.Arch.parse(text) for text in (
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|",
)]  # fmt: skip
PREDICTOR_NETS = {"C": 2, "N": 1, "num_classes": 3, "in_channels": 1}


def predictor_batch(seed: int) -> predictors.Batch:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(6) % 3
    return predictors.Batch(torch.randn((6, 1, 8, 8), generator=generator, dtype=torch.float64), labels)


@pytest.mark.usefixtures("float64_default")  # the data-free ones draw their inputs in the default dtype
@pytest.mark.parametrize("name", predictors.names())
def test_predictor_scores_tiny_nets_with_finite_floats_the_same_way_twice(name):
    """Higher is better for every predictor (the interface); each states whether it reads the
    images (`needs_data`) and whether its scores only rank the cells scored together (`relative`)."""
    predictor = predictors.get(name)
    assert isinstance(predictor, predictors.Predictor) and predictor.name == name
    assert isinstance(predictor.needs_data, bool) and isinstance(predictor.relative, bool)

    def scores(batch_seed: int) -> list[float]:
        found, cost = predictors.score_cells(
            name, PREDICTOR_CELLS, predictor_batch(batch_seed), net_options=PREDICTOR_NETS, seed=5,
            dtype="float64",
        )
        assert cost.device_s >= 0
        return found

    first = scores(0)
    assert len(first) == 2 and all(isinstance(s, float) and math.isfinite(s) for s in first), first
    assert scores(0) == first
    if not predictor.needs_data:  # other images of the same shape give the same scores
        assert scores(1) == pytest.approx(first, rel=1e-9)
    if predictor.relative:  # a rank aggregate has no score of one cell alone
        net = build_eval_net(PREDICTOR_CELLS[0], **PREDICTOR_NETS).double()
        with pytest.raises(ConfigError):
            predictor.score(net, predictor_batch(0))


TOY_STUDY = """
name = "toy-method"
space = "nb201"
seeds = [0, 1]

[[sources]]
name = "cifar10-table"
table = "nb201:cifar10"

[[methods]]
name = "test_contracts:ToyMethod"   # as a plugin: the study's worker processes import it by path
label = "toy"

[random]
n = 2

[executor]
workers = 1
threads_per_worker = 1
retries = 0
"""


@pytest.mark.skipif(importlib.util.find_spec("analognasbench") is None, reason="needs analog-nasbench")
def test_a_new_method_runs_through_a_study_with_its_published_budget(tmp_path):
    study = tmp_path / "toy.toml"
    study.write_text(TOY_STUDY)
    run_dir = tmp_path / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 0
    frame = load(run_dir)
    found = frame[frame["method"] == "toy"]
    assert len(found) == 2 and set(found["eval_dataset"]) == {"cifar10-table"}
    table = get_table("nb201:cifar10")
    for row in found.itertuples():
        expected = min(
            (spaces.get_space("nb201").sample(row.search_seed * 1000 + i) for i in range(3)),
            key=lambda cell: cell.key,
        )
        assert row.genotype == str(expected) and row.top1 == table.query(expected)["accuracy"]
