"""Votes and learned proxies: rank arithmetic by hand, held-out scoring, the CLI and a study's
`[fidelity]` section, and bad names refused before anything is scored. Networks are NB201 C=2, N=1
on scikit-learn digits (8 px): each test takes seconds."""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest

from nastransfer import predictors
from nastransfer.cli.main import main
from nastransfer.data import load_dataset
from nastransfer.errors import ConfigError
from nastransfer.proxies import ZeroCostSetup
from nastransfer.proxies.cells import choose_cells
from nastransfer.proxies.learned import labelled_cells, learned_scores, parse_learned
from nastransfer.proxies.zero_cost import proxy_scores
from nastransfer.runtime import Cost
from nastransfer.spaces import nb201
from nastransfer.study import load

needs_table = pytest.mark.skipif(
    importlib.util.find_spec("analognasbench") is None, reason="needs analog-nasbench (nb201:cifar10)"
)
TINY = ZeroCostSetup(batch_size=8, net={"C": 2, "N": 1})


def test_vote_is_the_log_rank_sum_and_vote_mean_the_mean_rank_by_hand():
    # Three cells; predictor a ranks them (1, 3, 2), b (3, 1, 2) with n = 3.
    scores = np.array([[0.1, 5.0, 2.0], [7.0, -1.0, 3.0]], dtype=np.float64)
    vote = predictors.parse_vote("vote:synflow,params").aggregate(scores)
    by_hand = [math.log(1 / 3) + math.log(3 / 3), math.log(3 / 3) + math.log(1 / 3), 2 * math.log(2 / 3)]
    assert vote.dtype == np.float64 and vote.tolist() == pytest.approx(by_hand, abs=1e-15)
    mean = predictors.parse_vote("vote-mean:synflow,params").aggregate(scores)
    assert mean.tolist() == [2.0, 2.0, 2.0]


def test_ranks_share_ties_and_put_broken_scores_last():
    ranks = predictors.ascending_ranks([3.0, float("nan"), 3.0, 10.0, -math.inf])
    assert ranks.tolist() == [3.5, 1.5, 3.5, 5.0, 1.5]


def test_a_vote_of_scored_cells_is_the_aggregate_of_each_predictor_scored_alone():
    cells = [nb201.sample(s) for s in range(5)]
    batch = predictors.Batch(*_digits_batch())
    options = {"C": 2, "N": 1, "num_classes": 10, "in_channels": 1}
    voted, cost = predictors.score_set("vote:naswot,params", cells, batch, net_options=options, seed=2)
    alone = [
        predictors.score_cells(n, cells, batch, net_options=options, seed=2)[0] for n in ("naswot", "params")
    ]
    expected = predictors.parse_vote("vote:naswot,params").aggregate(np.array(alone))
    assert voted == pytest.approx(expected.tolist(), abs=0) and cost.device_s > 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("vote:synflow", "two or more predictors"),
        ("vote:synflow,nosuch", "unknown zero-cost predictor 'nosuch'"),
        ("vote:synflow,synflow", "appears twice"),
        ("vote:synflow,,params", "two or more predictors"),
        ("learned:nosuch", "unknown zero-cost predictor 'nosuch'"),
        ("learned:", "name one or more predictors"),
    ],
)
def test_bad_ensemble_names_are_refused(name, message):
    parse = parse_learned if name.startswith("learned") else predictors.parse_vote
    with pytest.raises(ConfigError, match=message):
        parse(name)


def test_learned_never_scores_a_cell_it_was_fitted_on():
    cells = [nb201.sample(s) for s in range(12)]
    targets = np.arange(12, dtype=np.float64)
    read = []

    def score(name):
        read.append(name)
        return [float(i * (1 + len(name))) for i in range(12)], Cost(0.0, 1.0, 0.0, "cpu")

    scored, scores, cost = learned_scores(
        "learned:synflow", cells, targets, score, labels=5, seed=4, model="ridge"
    )
    fitted = {cells[i].key for i in labelled_cells(12, 5, 4)}
    assert len(fitted) == 5 and len(scored) == len(scores) == 7
    assert not fitted & {c.key for c in scored}
    assert read == ["synflow", "params", "flops"] and cost.device_s >= 3.0
    # Every feature ranks the cells as the targets do: the fitted linear model keeps that order.
    assert np.all(np.diff(scores) > 0)
    _, boosted, _ = learned_scores("learned:synflow", cells, targets, score, labels=5, seed=4)
    assert len(boosted) == 7 and np.all(np.diff(boosted) >= 0)  # the default model: boosted trees


@pytest.mark.parametrize("labels", [1, 10, 12, True])
def test_learned_refuses_labels_that_leave_fewer_than_three_cells(labels):
    cells = [nb201.sample(s) for s in range(12)]
    with pytest.raises(ConfigError, match="labels"):
        learned_scores("learned:synflow", cells, np.zeros(12), _never_called, labels=labels)


@needs_table
def test_learned_proxy_on_a_table_scores_the_others_the_same_way_twice():
    from nastransfer.tabular import get_table

    cells = choose_cells(get_table("nb201:cifar10"), 14, seed=1)
    runs = [
        proxy_scores(
            "learned:naswot",
            cells,
            load_dataset("digits"),
            TINY,
            space="nb201",
            target="nb201:cifar10",
            seed=1,
            labels=6,
        )
        for _ in range(2)
    ]
    (scored, scores, _), (again, scores_again, _) = runs
    assert len(scored) == 8 and [c.key for c in scored] == [c.key for c in again]
    assert scores == scores_again and all(math.isfinite(s) for s in scores)


@needs_table
def test_cli_measures_a_vote_and_a_learned_proxy_with_json(capsys):
    argv = ["fidelity", "--target", "nb201:cifar10", "--cells", "12", "--n-boot", "20", "--source", "digits"]
    argv += [
        "--batch-size",
        "8",
        "--proxy",
        "vote:naswot,params",
        "--proxy",
        "learned:naswot",
        "--labels",
        "5",
    ]
    assert main([*argv, "--json"]) == 0
    records = {r["proxy"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["vote:naswot,params"]["cells"] == 12
    learned = records["learned:naswot"]
    assert learned["cells"] == 7 and learned["labels"] == 5 and "not included" in learned["note"]


@needs_table
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--proxy", "vote:params"], "two or more predictors"),
        (["--proxy", "vote:params,nosuch"], "unknown zero-cost predictor 'nosuch'"),
        (["--proxy", "vote:params,naswot"], "needs a source dataset"),
        (["--proxy", "learned:params", "--labels", "10"], "leaves 2 of 12 cells"),
    ],
)
def test_cli_refuses_bad_ensembles_in_one_line(capsys, extra, message):
    argv = ["fidelity", "--target", "nb201:cifar10", "--cells", "12", "--n-boot", "20", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


STUDY = """
name = "tiny-ensembles"
space = "nb201"

[[sources]]
name = "digits"
dataset = "digits"

[evaluate]
on_source = false

[fidelity]
target = "nb201:cifar10"
cells = 10
seed = 2
n_boot = 20
chunk = 4

[[fidelity.proxies]]
kind = "zero-cost"
source = "digits"
predictors = ["naswot", "params", "vote:naswot,params", "learned:naswot"]
labels = 4
batch_size = 8
net = { C = 2, N = 1 }

[executor]
workers = 1
threads_per_worker = 1
retries = 0
"""


@needs_table
def test_a_study_scores_votes_over_all_its_cells_and_learned_on_the_others(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    run_dir = tmp_path / "run"
    assert main(["run", str(config), "--dir", str(run_dir), "--no-report"]) == 0
    frame = load(run_dir)
    proxies = frame[frame["eval_role"] == "proxy"].groupby("method")["cell"].nunique().to_dict()
    assert proxies == {"naswot": 10, "params": 10, "vote:naswot,params": 10, "learned:naswot": 6}
    # One task ranks all 10 cells: the vote is that of the chunked naswot and params scores.
    rows = frame[frame["eval_role"] == "proxy"]
    by = {name: rows[rows["method"] == name].set_index("cell")["top1"] for name in proxies}
    cells = by["naswot"].index
    parts = np.array([by["naswot"].to_numpy(), by["params"].loc[cells].to_numpy()])
    expected = predictors.parse_vote("vote:naswot,params").aggregate(parts)
    assert by["vote:naswot,params"].loc[cells].to_numpy() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"learned:naswot"]', '"learned:nosuch"]', "unknown zero-cost predictor 'nosuch'"),
        ("labels = 4", "labels = 8", "leaves 2 of 10 cells"),
        ('"learned:naswot"]', '"synflow"]', "labels only apply to learned predictors"),
        ('"naswot", "params", "vote', '"vote:naswot", "vote', "two or more predictors"),
    ],
)
def test_a_study_refuses_bad_ensembles_before_running(tmp_path, capsys, old, new, message):
    config = tmp_path / "study.toml"
    config.write_text(STUDY.replace(old, new))
    assert main(["plan", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def _digits_batch():
    digits = load_dataset("digits")
    from nastransfer.proxies.zero_cost import source_batch

    batch = source_batch(digits, 8, seed=0)
    return batch.inputs, batch.targets


def _never_called(name):
    raise AssertionError(f"{name} scored before the labels were checked")
