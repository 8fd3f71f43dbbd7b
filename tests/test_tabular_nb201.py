"""NB201 tables: the analog-nasbench look-ups against its raw pickle, the op/edge mapping, user files."""

import importlib.util
import json
import math
import pickle
from pathlib import Path

import pytest

from nastransfer.errors import DatasetError, GenotypeError
from nastransfer.spaces import nb201
from nastransfer.tabular import (
    TableEvaluator,
    analog_from_arch,
    arch_from_analog,
    export_table,
    get_table,
    table_names,
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("analognasbench") is None, reason="needs analog-nasbench"
)


class _Holder:
    pass


class _RawUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return _Holder if module.startswith("analognasbench") else super().find_class(module, name)


@pytest.fixture(scope="module")
def raw():
    """{NASLib op-index tuple: baseline_accuracy}, read straight from the package file."""
    folder = Path(next(iter(importlib.util.find_spec("analognasbench").submodule_search_locations)))
    with (folder / "data.anb").open("rb") as handle:
        data = _RawUnpickler(handle).load()
    return {key: vars(value)["baseline_accuracy"] for key, value in data.items()}


@pytest.fixture(scope="module")
def table():
    return get_table("nb201:cifar10")


def _arch(text):
    return nb201.Arch.parse(text)


ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
NB201_BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
# NASLib order of edges: 0->1, 0->2, 0->3, 1->2, 1->3, 2->3; ops: skip, none, conv3x3, conv1x1, avgpool.
ASYMMETRIC = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_known_cells_match_the_raw_package_data(table, raw):
    assert len(table) == len(raw) == 15625
    assert table.query(_arch(ALL_NONE))["accuracy"] == raw[(1, 1, 1, 1, 1, 1)] == 10.0
    assert table.query(_arch(ALL_CONV3))["accuracy"] == raw[(2, 2, 2, 2, 2, 2)]
    assert table.query(_arch(ASYMMETRIC))["accuracy"] == raw[(4, 3, 1, 0, 2, 3)]
    best_key = max(raw, key=raw.get)
    best_arch, best_metrics = table.best()
    assert analog_from_arch(best_arch) == best_key
    assert best_metrics["accuracy"] == raw[best_key] > 94.0


def test_mapping_agrees_with_known_facts(table):
    def disconnected(arch):
        reached = {0}
        for (to, src), op in zip(nb201.EDGES, arch.ops, strict=True):
            if op != "none" and src in reached:
                reached.add(to)
        return 3 not in reached

    chance = {arch.key for arch, metrics in table.items() if metrics["accuracy"] <= 10.01}
    assert chance == {arch.key for arch in nb201.all_archs() if disconnected(arch)}
    # The best NB201 CIFAR-10 cells keep the input-to-output skip and are mostly 3x3 convolutions;
    # the optimum NB201 published is among the top five here.
    top = [arch for arch, _ in sorted(table.items(), key=lambda item: -item[1]["accuracy"])[:10]]
    assert all(arch.ops[nb201.EDGES.index((3, 0))] == "skip_connect" for arch in top)
    assert all(arch.ops.count("nor_conv_3x3") >= 3 for arch in top)
    assert _arch(NB201_BEST) in top[:5]


def test_encoding_round_trips_over_all_cells():
    for arch in nb201.all_archs():
        assert arch_from_analog(analog_from_arch(arch)) == arch


def test_evaluator_looks_up_and_names_missing_cells(tmp_path, table):
    result = TableEvaluator("nb201:cifar10").evaluate(_arch(ALL_CONV3), seed=0, workdir=tmp_path)
    assert result.top1 == table.query(_arch(ALL_CONV3))["accuracy"]
    assert math.isnan(result.top5) and result.curve == [] and result.cost.wall_s >= 0
    assert json.loads(json.dumps(result.to_dict()))["top1"] == result.top1

    small = tmp_path / "two.csv"
    small.write_text(f"arch,accuracy,params\n{ALL_CONV3},93.5,1000\n{ALL_NONE},10,0\n")
    evaluator = TableEvaluator(f"nb201-file:{small}")
    assert evaluator.evaluate(_arch(ALL_CONV3)).params == 1000
    with pytest.raises(GenotypeError, match="has no entry"):
        evaluator.evaluate(_arch(ASYMMETRIC))


def test_exported_json_reads_back_identically(tmp_path, table):
    path = tmp_path / "cifar10.json"
    export_table(table, path, dataset="cifar10")
    copy = get_table(f"nb201-file:{path}")
    assert copy.accuracies() == table.accuracies()
    assert copy.search_metric == "accuracy"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("arch,accuracy\n|none~0|+|none~0|none~1|+|none~0|none~1|bogus~2|,1\n", "unknown op"),
        (f"arch,accuracy\n{ALL_NONE},\n", "missing 'accuracy'"),
        (f"arch,accuracy\n{ALL_NONE},ten\n", "not a number"),
        (f"arch,accuracy\n{ALL_NONE},1\n{ALL_NONE},2\n", "appears twice"),
        ("name,acc\nx,1\n", "needs 'arch' and 'accuracy'"),
    ],
)
def test_bad_user_files_are_one_line_errors(tmp_path, text, problem):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DatasetError, match=problem) as caught:
        get_table(f"nb201-file:{path}")
    assert "\n" not in str(caught.value)


def test_unknown_tables_are_errors(tmp_path):
    with pytest.raises(DatasetError, match="only cifar10"):
        get_table("nb201:cifar100")
    with pytest.raises(DatasetError, match="unknown table family"):
        get_table("nb301:cifar10")
    with pytest.raises(DatasetError, match="no such file"):
        get_table(f"nb201-file:{tmp_path / 'absent.json'}")
    (tmp_path / "x.json").write_text('{"rows": []}')
    with pytest.raises(DatasetError, match="'cells' list"):
        get_table(f"nb201-file:{tmp_path / 'x.json'}")


def test_exports_in_the_tables_folder_are_served_by_dataset_name(tmp_path, monkeypatch):
    (tmp_path / "nb201-imagenet16-120.csv").write_text(
        f"arch,accuracy,valid_accuracy\n{ALL_CONV3},44.5,45.0\n"
    )
    (tmp_path / "notes.csv").write_text("not a table\n")
    monkeypatch.setenv("NASTRANSFER_TABLES", str(tmp_path))
    assert "nb201:imagenet16-120" in table_names() and "nb201:cifar10" in table_names()
    table = get_table("nb201:imagenet16-120")
    assert table.name == "nb201:imagenet16-120" and table.search_metric == "valid_accuracy"
    assert table.query(_arch(ALL_CONV3)) == {"accuracy": 44.5, "valid_accuracy": 45.0}
