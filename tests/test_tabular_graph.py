"""NAS-Bench-Graph: the GNN space, look-ups against the raw pickles, and the Kendall tau matrix."""

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import kendalltau

from nastransfer.errors import GenotypeError
from nastransfer.spaces.graph import OPS, PROTEINS_OPS, GraphArch, GraphSpace, decode_hash
from nastransfer.tabular import GRAPH_DATASETS, TableEvaluator, get_table, tau_matrix

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nas_bench_graph") is None, reason="needs nas-bench-graph"
)


def _raw(dataset):
    folder = Path(next(iter(importlib.util.find_spec("nas_bench_graph").submodule_search_locations)))
    with (folder / "light" / f"{dataset}.bench").open("rb") as handle:
        return pickle.load(handle)


def _package_hash(arch):
    from nas_bench_graph.architecture import Arch

    return Arch(list(arch.inputs), list(arch.ops)).valid_hash()


def test_text_round_trips_and_bad_text_is_one_line():
    arch = GraphArch.parse("gnn(0:gcn, 0:gat, 1:sage, 3:skip)")
    assert str(arch) == "gnn(0:gcn,0:gat,1:sage,3:skip)"
    assert GraphArch.parse(str(arch)) == arch
    for text, problem in [
        ("gnn(0:gcn,0:gat,1:sage)", "4 inputs"),
        ("gnn(0:gcn,2:gat,1:sage,0:fc)", "may read 0..1"),
        ("gnn(0:gcn,0:gat,1:sage,0:mlp)", "unknown GNN op"),
        ("gnn(0:skip,0:skip,0:skip,0:skip)", "four skip"),
        ("gcn,gat", "must read gnn"),
        ("gnn(0:gcn,0:gat,x:sage,0:fc)", "is not 'input:op'"),
    ]:
        with pytest.raises(GenotypeError, match=problem) as caught:
            GraphArch.parse(text)
        assert "\n" not in str(caught.value)


def test_keys_agree_with_the_package_hash():
    space = GraphSpace()
    for seed in range(300):
        arch = space.sample(seed)
        canonical = arch.canonical()
        assert arch.bench_hash() == _package_hash(arch) == canonical.bench_hash()
        assert canonical.canonical() == canonical
        assert decode_hash(arch.bench_hash()) == canonical
    # Two encodings of one network: the same key. Ops reading the input side by side commute.
    assert (
        GraphArch((0, 0, 0, 0), ("gcn", "gat", "sage", "fc")).key
        == GraphArch((0, 0, 0, 0), ("fc", "sage", "gat", "gcn")).key
    )


def test_moves_are_deterministic_distinct_and_stay_in_the_op_set():
    space = GraphSpace(PROTEINS_OPS)
    arch = space.sample(3)
    assert arch == space.sample(3) and all(op in PROTEINS_OPS for op in arch.ops)
    neighbours = space.neighbours(arch)
    keys = [n.key for n in neighbours]
    assert len(set(keys)) == len(keys) and arch.key not in keys
    assert all(space.contains(n) for n in neighbours)
    child = space.mutate(arch, 5)
    assert child == space.mutate(arch, 5) and child.key in keys


def test_lookups_match_the_raw_pickles():
    raw = _raw("cora")
    table = get_table("graph:cora")
    assert len(table) == len(raw) == 26206
    for arch in [
        GraphArch((0, 1, 2, 3), ("gcn", "gcn", "gcn", "gcn")),
        GraphSpace().sample(11),
        table.best()[0],
    ]:
        record = raw[_package_hash(arch)]
        metrics = table.query(arch)
        assert metrics["accuracy"] == pytest.approx(100 * record["perf"])
        assert metrics["valid_accuracy"] == pytest.approx(100 * record["valid_perf"])
        assert metrics["params"] == pytest.approx(1e6 * record["para"])
    assert table.best()[1]["accuracy"] == pytest.approx(100 * max(r["perf"] for r in raw.values()))


def test_proteins_holds_only_its_ops_and_names_missing_cells():
    table = get_table("graph:proteins")
    assert len(table) == len(_raw("proteins")) == 2021
    assert all(set(arch.ops) <= set(PROTEINS_OPS) for arch, _ in table.items())
    with pytest.raises(GenotypeError, match="graph:proteins has no entry"):
        TableEvaluator("graph:proteins").evaluate(GraphArch((0, 0, 0, 0), ("gat", "gat", "gat", "gat")))
    assert table.search_space().ops == PROTEINS_OPS and set(OPS) > set(PROTEINS_OPS)
    # Enumerating the space gives exactly the networks the benchmark trained.
    assert {str(arch) for arch in GraphSpace(PROTEINS_OPS).all_archs()} == set(table.records)


def test_tau_matrix_equals_scipy_on_the_raw_arrays():
    names = ["cora", "citeseer", "arxiv", "proteins"]
    matrix = tau_matrix([get_table(f"graph:{n}") for n in names])
    assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1)
    raws = {n: _raw(n) for n in names}
    for i, j in [(0, 1), (0, 2), (1, 2), (0, 3), (2, 3)]:
        first, second = raws[names[i]], raws[names[j]]
        common = sorted(set(first) & set(second))
        expected = kendalltau(
            [first[k]["perf"] for k in common], [second[k]["perf"] for k in common]
        ).statistic
        assert matrix[i, j] == pytest.approx(expected, abs=1e-12)
    assert matrix[0, 1] > 0.5 > matrix[0, 3]  # the citation graphs agree; proteins ranks differently
    assert len(GRAPH_DATASETS) == 9
