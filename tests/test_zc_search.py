"""Training-free searchers `zc` and `zc-rea`: the argmax of the scores they computed (checked by
scoring the same cells directly), seed determinism, the evolution's moves, bad input, the plan's
price, and a tiny study with a table target. NB201 C=2, N=1 networks on 8 px digits."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from nastransfer import data, predictors, search, spaces
from nastransfer.cli.main import main
from nastransfer.errors import ConfigError, DatasetError
from nastransfer.search.zero_cost import best_index, first_batch

TINY = search.published_budget("zc").replace(channels=2, layers=1, batch_size=8, n_samples=6)
needs_table = pytest.mark.skipif(
    importlib.util.find_spec("analognasbench") is None, reason="needs analog-nasbench (nb201:cifar10)"
)


@pytest.fixture(scope="module")
def splits():
    return data.paper_splits(data.make_proxy(data.load_dataset("digits"), per_class=8, seed=0))


def _direct_scores(name, cells, splits, seed):
    """The scores of `cells` computed apart from the searcher: the same batch and networks."""
    batch = first_batch(splits.train, TINY.batch_size, seed)
    options = {"C": 2, "N": 1, "num_classes": 10, "in_channels": 1}
    return predictors.score_set(name, cells, batch, net_options=options, seed=seed)[0]


@pytest.mark.parametrize("predictor", ["naswot", "vote:naswot,params"])
def test_zc_returns_the_argmax_of_the_scores_of_its_cells(splits, tmp_path, predictor):
    result = search.get("zc", predictor=predictor).search("nb201", splits, TINY, seed=3, workdir=tmp_path)
    cells = [spaces.get_space("nb201").parse(h["genotype"]) for h in result.history]
    assert len(cells) == 6 and result.extra["calls"] == 6
    direct = _direct_scores(predictor, cells, splits, seed=3)
    assert [h["score"] for h in result.history] == pytest.approx(direct, abs=0)
    assert result.genotype == cells[int(np.argmax(direct))]
    assert result.extra["best_score"] == max(direct)


@pytest.mark.parametrize("name", ["zc", "zc-rea"])
def test_same_seed_same_search_another_seed_other_cells(splits, tmp_path, name):
    budget = TINY.replace(n_samples=8)
    runs = [
        search.get(name, predictor="vote:naswot,synflow").search("nb201", splits, budget, seed, tmp_path)
        for seed in (5, 5, 6)
    ]
    assert runs[0].genotype == runs[1].genotype and runs[0].history == runs[1].history
    assert [h["genotype"] for h in runs[0].history] != [h["genotype"] for h in runs[2].history]


def test_zc_rea_evolves_by_one_edge_mutations_and_returns_the_best_fitness(splits, tmp_path):
    budget = TINY.replace(n_samples=12)
    searcher = search.get("zc-rea", predictor="naswot", population=4, sample_size=2)
    result = searcher.search("nb201", splits, budget, seed=1, workdir=tmp_path)
    space = spaces.get_space("nb201")
    cells = [space.parse(h["genotype"]) for h in result.history]
    assert len(cells) == 12 and result.extra["calls"] == 12
    born = cells[4:]
    for index, child in enumerate(born, start=4):  # each child is one edge away from an earlier cell
        assert any(sum(a != b for a, b in zip(child.ops, p.ops, strict=True)) == 1 for p in cells[:index])
    fitness = [h["fitness"] for h in result.history]
    direct = _direct_scores("naswot", cells, splits, seed=1)
    assert fitness == pytest.approx(direct, abs=0)
    assert result.genotype == cells[best_index(fitness)]


def test_zc_rea_ranks_a_relative_predictor_over_every_cell_it_scored(splits, tmp_path):
    budget = TINY.replace(n_samples=7)
    searcher = search.get("zc-rea", predictor="az_nas", population=3, sample_size=2)
    result = searcher.search("nb201", splits, budget, seed=2, workdir=tmp_path)
    cells = [spaces.get_space("nb201").parse(h["genotype"]) for h in result.history]
    direct = _direct_scores("az_nas", cells, splits, seed=2)  # az_nas of the 7 cells ranked together
    assert [h["fitness"] for h in result.history] == pytest.approx(direct, abs=1e-12)
    assert result.genotype == cells[best_index(direct)]


def test_best_index_skips_nan_and_takes_the_first_of_ties():
    assert best_index([1.0, float("nan"), 3.0, 3.0]) == 2
    assert best_index([float("nan"), float("nan")]) == 0


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("zc", {"predictor": "nosuch"}, "unknown zero-cost predictor 'nosuch'"),
        ("zc", {"predictor": "learned:naswot"}, "needs the target's labels"),
        ("zc", {"predictor": "vote:naswot"}, "two or more predictors"),
        ("zc-rea", {"population": 0}, "population"),
        ("zc-rea", {"sample_size": 2.5}, "sample_size"),
        ("zc", {"generations": 3}, "unknown option 'generations'"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(name, options, message):
    with pytest.raises(ConfigError, match=message):
        search.get(name, **options)


def test_bad_budget_space_or_data_is_refused(splits, tmp_path):
    zc = search.get("zc")
    with pytest.raises(ConfigError, match="n_samples"):
        zc.check("nb201", TINY.replace(n_samples=0))
    with pytest.raises(ConfigError, match="no networks to score"):
        zc.check("graph", TINY)
    with pytest.raises(DatasetError, match="not a dict"):
        zc.search("nb201", {}, TINY, seed=0, workdir=tmp_path)


STUDY = """
name = "tiny-zc"
space = "nb201"
seeds = [0, 1]

[[sources]]
name = "digits"
dataset = "digits"

[[methods]]
name = "zc"
params = { predictor = "vote:naswot,synflow" }
budget = { channels = 2, layers = 1, batch_size = 8, n_samples = 4 }

[[methods]]
name = "zc-rea"
budget = { channels = 2, layers = 1, batch_size = 8, n_samples = 5 }

[random]
n = 2

[[targets]]
name = "cifar10"
table = "nb201:cifar10"

[evaluate]
on_source = false

[executor]
workers = 1
threads_per_worker = 1
retries = 0
"""


@needs_table
def test_a_study_runs_zc_to_a_table_target_and_plans_its_cost(tmp_path, monkeypatch, capsys):
    from nastransfer.study import load
    from nastransfer.tabular import get_table

    monkeypatch.setenv("NASTRANSFER_CACHE", str(tmp_path / "cache"))
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    assert main(["plan", str(config), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    searches = [t for t in plan["by_task"] if t["kind"] == "search"]
    assert {t["method"] for t in searches} == {"zc", "zc-rea"} and all(t["device_s"] > 0 for t in searches)
    run_dir = tmp_path / "run"
    assert main(["run", str(config), "--dir", str(run_dir), "--no-report"]) == 0
    frame = load(run_dir)
    found = frame[frame["method"] == "zc"]
    assert len(found) == 2 and set(found["eval_dataset"]) == {"cifar10"}
    table = get_table("nb201:cifar10")
    splits = data.paper_splits(data.load_dataset("digits"), seed=0)
    budget = TINY.replace(n_samples=4)
    for row in found.itertuples():
        direct = search.get("zc", predictor="vote:naswot,synflow").search(
            "nb201", splits, budget, row.search_seed, tmp_path
        )
        assert row.genotype == str(direct.genotype)
        assert row.top1 == table.query(direct.genotype)["accuracy"] and row.search_device_s > 0
    assert len(frame[frame["method"] == "zc-rea"]) == 2


def test_search_command_runs_zc_with_a_vote_and_refuses_a_predictor_elsewhere(tmp_path, capsys):
    output = tmp_path / "zc.json"
    argv = ["search", "--method", "zc", "--source", "digits", "--space", "nb201", "--channels", "2"]
    argv += ["--layers", "1", "--batch-size", "8", "--n-samples", "3", "-o", str(output)]
    assert main([*argv, "--predictor", "vote:naswot,params"]) == 0
    result = json.loads(output.read_text())
    assert result["method"] == "zc" and result["extra"]["predictor"] == "vote:naswot,params"
    assert len(result["history"]) == 3 and result["budget"]["n_samples"] == 3
    argv[2] = "darts"
    assert main([*argv, "--predictor", "naswot"]) == 2
    assert "unknown option 'predictor'" in capsys.readouterr().err
