"""`nastransfer tables`: list, query, search, tau; bad input exits 2 with one line."""

import importlib.util
import json

import pytest

from nastransfer.cli.main import main

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("analognasbench") is None or importlib.util.find_spec("nas_bench_graph") is None,
    reason="needs analog-nasbench and nas-bench-graph",
)
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def test_list_and_query(capsys):
    assert main(["tables", "list"]) == 0
    names = capsys.readouterr().out.split()
    assert "nb201:cifar10" in names and "graph:proteins" in names and len(names) == 10
    assert main(["tables", "query", "nb201:cifar10", BEST]) == 0
    assert "accuracy: 94.0664" in capsys.readouterr().out
    assert main(["tables", "query", "graph:citeseer", "gnn(0:gcn,1:gcn,2:gcn,3:gcn)"]) == 0
    assert "valid_accuracy:" in capsys.readouterr().out


def test_search_prints_the_found_cell(capsys):
    assert main(["tables", "search", "nb201:cifar10", "--method", "ls", "--queries", "300", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["history"][-1]["queries"] == 300
    assert result["metrics"]["accuracy"] == result["history"][-1]["best_accuracy"]


def test_tau_prints_a_matrix(capsys):
    assert main(["tables", "tau", "graph:cora", "graph:citeseer"]) == 0
    assert "0.559" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["tables", "query", "nb201:cifar100", BEST],
        ["tables", "query", "nb201:cifar10", "|conv~0|"],
        ["tables", "query", "graph:proteins", "gnn(0:gat,0:gat,0:gat,0:gat)"],
        ["tables", "search", "graph:cora", "--method", "bo"],
        ["tables", "search", "graph:cora", "--queries", "0"],
    ],
)
def test_bad_input_exits_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
