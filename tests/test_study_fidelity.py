"""A study with a `[fidelity]` section: every proxy kind scores its cells through the store and
executor, resumes without rerunning, exports the per-cell scores, and the report has the section."""

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

from nastransfer.cli.main import main
from nastransfer.study import load, load_frames

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("analognasbench") is None, reason="needs analog-nasbench (nb201:cifar10)"
)

STUDY = """
name = "tiny-fidelity"
space = "nb201"

[[sources]]
name = "digits"
dataset = "digits"

[evaluate]
on_source = false

[fidelity]
target = "nb201:cifar10"
cells = 6
seed = 3
n_boot = 50
chunk = 4

[[fidelity.proxies]]
kind = "zero-cost"
predictors = ["synflow", "params"]
net = { C = 2, N = 1 }

[[fidelity.proxies]]
kind = "zero-cost"
source = "digits"
predictors = ["naswot", "snip"]
batch_size = 8
net = { C = 2, N = 1 }

[[fidelity.proxies]]
kind = "train"
source = "digits"
cells = 3
protocol = "cpu-mini"
overrides = { epochs = 1, channels = 2, layers = 5, batch_size = 64 }

[[fidelity.proxies]]
kind = "supernet"
source = "digits"
cells = 4
budget = { epochs = 1, channels = 2, layers = 1, batch_size = 32, data_fraction = 0.3 }

[executor]
workers = 2
threads_per_worker = 1
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fidelity")
    (folder / "study.toml").write_text(STUDY)
    assert main(["run", str(folder / "study.toml"), "--dir", str(folder / "run")]) == 0
    return folder / "run"


def test_the_plan_prices_every_proxy_but_tables(run_dir):
    """`run` kept its plan: zero-cost tasks cost per cell, trainings and the supernet cost device time."""
    tasks = [t for t in json.loads((run_dir / "plan.json").read_text())["by_task"] if t["kind"] == "fidelity"]
    kinds = ("zero-cost", "train", "supernet")
    by_kind = {kind: [t for t in tasks if t["protocol"] == kind] for kind in kinds}
    assert all(by_kind.values()) and all(t["device_s"] > 0 for t in tasks)
    synflow = sorted(t["device_s"] for t in by_kind["zero-cost"] if t["method"] == "synflow")
    assert synflow[1] == pytest.approx(2 * synflow[0])  # chunks of 2 and 4 of the 6 cells
    assert len({t["device_s"] for t in by_kind["train"]}) == 1  # one training per cell, priced alike
    cost = json.loads((run_dir / "cost.json").read_text())["kinds"]["fidelity"]
    assert cost["estimated_device_s"] > 0 and cost["measured_device_s"] > 0


def test_every_proxy_scores_its_cells_and_the_target_rows_are_there(run_dir):
    frame = load(run_dir)
    proxies = frame[frame["eval_role"] == "proxy"]
    counts = proxies.groupby(["method", "source"]).size().to_dict()
    assert counts == {
        ("synflow", ""): 6,
        ("params", ""): 6,
        ("naswot", "digits"): 6,
        ("snip", "digits"): 6,
        ("train:cpu-mini", "digits"): 3,
        ("supernet", "digits"): 4,
    }
    targets = frame[frame["method"] == "fidelity"]
    assert len(targets) == 6 and set(targets["eval_dataset"]) == {"nb201:cifar10"}
    cheap = set(proxies[proxies["method"] == "synflow"]["cell"])
    assert set(proxies[proxies["method"] == "train:cpu-mini"]["cell"]) < cheap  # a prefix of the sample
    assert (proxies["eval_device_s"] > 0).all()


def test_rerun_resumes_without_new_work_and_export_has_the_scores(run_dir, tmp_path):
    before = load(run_dir)
    assert main(["run", str(run_dir.parent / "study.toml"), "--dir", str(run_dir), "--no-report"]) == 0
    pd.testing.assert_frame_equal(before, load(run_dir))
    out = tmp_path / "scores.csv"
    assert main(["export", str(run_dir), "--to", str(out)]) == 0
    exported = pd.read_csv(out, keep_default_na=False)
    assert (exported["eval_role"] == "proxy").sum() == 31


def test_report_has_the_proxy_fidelity_section(run_dir):
    text = (run_dir / "report" / "report.md").read_text()
    assert "## Proxy fidelity" in text and "Proxy fidelity to nb201:cifar10" in text and "Use " in text
    assert (run_dir / "report" / "report_files" / "proxy-fidelity-pareto-nb201-cifar10.png").is_file()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'predictors = ["synflow", "params"]',
            'predictors = ["synflow", "nosuch"]',
            "unknown zero-cost predictor 'nosuch'",
        ),
        ('predictors = ["synflow", "params"]', 'predictors = ["snip"]', "snip reads images"),
        ('source = "digits"\ncells = 3', 'source = "nope"\ncells = 3', "'nope' names no source of the study"),
        ('kind = "supernet"', 'kind = "table"', "needs cost_per_cell_s"),
        ("epochs = 1, channels = 2, layers = 5", "epochz = 1, channels = 2, layers = 5", "no field 'epochz'"),
    ],
)
def test_bad_fidelity_sections_exit_2_naming_the_key(tmp_path, capsys, old, new, message):
    assert old in STUDY
    (tmp_path / "bad.toml").write_text(STUDY.replace(old, new))
    assert main(["run", str(tmp_path / "bad.toml"), "--dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "fidelity" in err and not (tmp_path / "run").exists()


GRAPH_STUDY = """
name = "tiny-graph-fidelity"
space = "graph"

[[sources]]
name = "cora"
table = "graph:cora"

[[sources]]
name = "citeseer"
table = "graph:citeseer"

[[sources]]
name = "proteins"
table = "graph:proteins"

[evaluate]
on_source = false

[fidelity]
target = ["graph:cora", "graph:citeseer"]
cells = 30
n_boot = 30

[[fidelity.proxies]]
kind = "table"
source = "cora"
cost_per_cell_s = 0.027

[[fidelity.proxies]]
kind = "table"
source = "citeseer"
cost_per_cell_s = 0.033

[[fidelity.proxies]]
kind = "table"
source = "proteins"
cost_per_cell_s = 1.3

[executor]
workers = 1
"""


@pytest.mark.skipif(importlib.util.find_spec("nas_bench_graph") is None, reason="needs nas-bench-graph")
def test_tables_as_proxies_of_each_other(tmp_path):
    (tmp_path / "graph.toml").write_text(GRAPH_STUDY)
    assert main(["run", str(tmp_path / "graph.toml"), "--dir", str(tmp_path / "run")]) == 0
    proxies = load(tmp_path / "run").query("eval_role == 'proxy'")
    pairs = set(zip(proxies["method"], proxies["eval_dataset"], strict=True))
    assert pairs == {
        ("graph:citeseer", "graph:cora"),
        ("graph:proteins", "graph:cora"),
        ("graph:cora", "graph:citeseer"),
        ("graph:proteins", "graph:citeseer"),
    }  # a table is no proxy of itself
    cora = proxies[(proxies["method"] == "graph:cora")]
    assert cora["eval_device_s"].tolist() == pytest.approx([0.027] * 30)
    assert proxies[proxies["method"] == "graph:proteins"]["top1"].isna().any()  # cells proteins lacks
    text = (tmp_path / "run" / "report" / "report.md").read_text()
    assert "Proxy fidelity to graph:cora" in text and "Proxy fidelity to graph:citeseer" in text


def test_the_report_reads_the_scores_as_a_frame_of_their_own(run_dir):
    """`load_frames` keeps the fidelity rows out of the results frame and hands the report the scores
    frame read from `proxy_scores`: each score with its cost share and its cell's target score, as
    the exported rows carry them."""
    results, own = load_frames(run_dir)
    assert not ((results["eval_role"] == "proxy") | (results["method"] == "fidelity")).any()
    scores = own["proxy_scores"]
    columns = ["cell", "genotype", "proxy", "source", "score", "target", "cost_s", "target_name"]
    assert list(scores.columns) == columns
    frame = load(run_dir)
    proxies = frame[frame["eval_role"] == "proxy"]
    targets = frame[frame["method"] == "fidelity"].set_index("cell")["top1"]
    assert len(results) == len(frame) - len(proxies) - len(targets)
    assert scores["cell"].tolist() == proxies["cell"].tolist()
    assert scores["proxy"].tolist() == proxies["method"].tolist()
    np.testing.assert_array_equal(scores["score"], proxies["top1"].astype(float))
    np.testing.assert_array_equal(scores["cost_s"], proxies["eval_device_s"])
    np.testing.assert_array_equal(scores["target"], targets.reindex(scores["cell"]).to_numpy(dtype=float))
    assert set(scores["target_name"]) == {"nb201:cifar10"}
