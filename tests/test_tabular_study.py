"""configs/graph-transfer.toml end to end through `nastransfer run` and `report` (look-ups only)."""

import importlib.util
import json
import math
import pickle
import tomllib
from pathlib import Path

import pytest

from nastransfer.cli.main import main
from nastransfer.study import load, load_config

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nas_bench_graph") is None, reason="needs nas-bench-graph"
)
CONFIG = Path(__file__).resolve().parent.parent / "configs" / "graph-transfer.toml"


def test_both_configs_validate():
    graph = load_config(CONFIG)
    assert len(graph.sources) == 9 and len(graph.targets) == 8
    assert {m.name for m in graph.methods} == {"rs", "re", "ls"}
    nb201 = load_config(CONFIG.with_name("nb201-transfer.toml"))
    assert nb201.space == "nb201" and nb201.targets[0].table == "nb201:cifar10"


def _toml_value(value):
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _toml(raw):
    """The few TOML shapes a study uses: scalars, tables, arrays of tables (no writer in the stdlib)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in raw.items() if not isinstance(v, dict | list)]
    lines += [
        f"{k} = {_toml_value(v)}"
        for k, v in raw.items()
        if isinstance(v, list) and not isinstance(v[0], dict)
    ]
    for key, value in raw.items():
        entries = [value] if isinstance(value, dict) else value if isinstance(value[0], dict) else []
        for entry in entries:
            lines.append(f"[{key}]" if isinstance(value, dict) else f"[[{key}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def test_graph_transfer_runs_and_reports(tmp_path):
    # The shipped study, shrunk: one search seed, 100 queries, 3 random cells, 3 of the 8 targets.
    raw = tomllib.loads(CONFIG.read_text())
    raw["seeds"], raw["budget"], raw["random"]["n"] = [0], {"n_samples": 100}, 3
    raw["targets"] = [t for t in raw["targets"] if t["name"] in ("cora", "photo", "arxiv")]
    raw["executor"]["workers"] = 1
    study = tmp_path / "graph.toml"
    study.write_text(_toml(raw))
    run_dir = tmp_path / "run"
    assert main(["run", str(study), "--dir", str(run_dir)]) == 0

    frame = load(run_dir)
    assert len(frame) == (9 * 3 + 3) * 3
    assert set(frame["method"]) == {"rs", "re", "ls", "random"}
    assert set(frame["protocol"]) == {"table"} and set(frame["space"]) == {"graph"}
    # Every stored accuracy is the raw benchmark value of that cell on that dataset.
    from nas_bench_graph.architecture import Arch

    from nastransfer.spaces.graph import GraphArch

    folder = Path(next(iter(importlib.util.find_spec("nas_bench_graph").submodule_search_locations)))
    raws = {}
    for row in frame.sample(n=40, random_state=0).itertuples():
        if row.eval_dataset not in raws:
            with (folder / "light" / f"{row.eval_dataset}.bench").open("rb") as handle:
                raws[row.eval_dataset] = pickle.load(handle)
        arch = GraphArch.parse(row.genotype)
        expected = raws[row.eval_dataset][Arch(list(arch.inputs), list(arch.ops)).valid_hash()]["perf"]
        assert math.isclose(row.top1, 100 * expected, rel_tol=1e-12)

    assert main(["report", str(run_dir), "--format", "md", "--n-boot", "20"]) == 0
    report = (run_dir / "report" / "report.md").read_text()
    assert "cora-src" in report and "random" in report
