"""A study over benchmark tables: black-box searches on one NAS-Bench-Graph table, every cell looked up
on another; nothing trained, and every number equals the table's own entry."""

import pytest

from nastransfer.cli.main import main
from nastransfer.spaces import get_space
from nastransfer.study import load
from nastransfer.tabular import TableEvaluator

pytestmark = pytest.mark.slow

STUDY = """
name = "tiny-tables"
space = "graph"
seeds = [0, 1]

[[sources]]
name = "cora-src"
table = "graph:cora"

[[methods]]
name = "rs"

[budget]
n_samples = 50   # table queries; nothing else of the published budget matters to a table search

[random]
n = 3

[[targets]]
name = "citeseer"
table = "graph:citeseer"

[executor]
workers = 1
threads_per_worker = 1
retries = 0
"""


def test_table_study_looks_every_cell_up(tmp_path):
    study = tmp_path / "tables.toml"
    study.write_text(STUDY)
    run_dir = tmp_path / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 0
    frame = load(run_dir)
    # 2 searches x (own source + target) + 3 random cells x (source + target)
    assert len(frame) == 2 * 2 + 3 * 2
    assert set(frame.protocol) == {"table"}
    assert set(frame.source_kind) == {"table", ""}
    space = get_space("graph")
    for row in frame.itertuples():
        table = "graph:cora" if row.eval_dataset == "cora-src" else "graph:citeseer"
        expected = TableEvaluator(table).evaluate(
            space.parse(row.genotype), None, None, row.eval_seed, tmp_path
        )
        assert row.top1 == pytest.approx(expected.top1)
