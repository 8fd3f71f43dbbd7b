"""Isomorphic NB201 cells are one network to the study: trained once per setting, one row each."""

from __future__ import annotations

import itertools
import tomllib
from concurrent.futures import Future

from nastransfer.spaces import nb201
from nastransfer.study import load, parse_study, run_study

STUDY = """
name = "isomorphic"
space = "nb201"

[[sources]]
name = "digits"
dataset = "digits"

[random]
n = 3
seed = {seed}

[[targets]]
name = "target"
dataset = "digits"
eval_seeds = [0, 1]

[evaluate]
on_source = false
"""


class CountingExecutor:
    """Runs nothing: answers each evaluation with numbers of its own, and counts them."""

    slots = 1

    def __init__(self) -> None:
        self.trained: list[str] = []

    def submit(self, payload):
        self.trained.append(payload["genotype"])
        future: Future = Future()
        top1 = float(len(self.trained))
        result = {"top1": top1, "top5": top1, "params": 1, "flops": 1}
        future.set_result({"ok": True, "result": result, "worker": "test"})
        return future

    def check_storage(self, needs) -> None:
        """Runs in this process: it sees what the driver sees."""

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


def _isomorphic_draws() -> int:
    """A seed whose first two random cells are different arch strings of one isomorphism class, and
    whose third is of another class."""
    for seed in itertools.count():
        a, b, c = (nb201.sample(seed + i) for i in range(3))
        if a.key != b.key and a.canonical_key == b.canonical_key != c.canonical_key:
            return seed
    raise AssertionError("unreachable")


def test_isomorphic_cells_train_once_per_setting_and_keep_their_own_rows(tmp_path):
    seed = _isomorphic_draws()
    config = parse_study(tomllib.loads(STUDY.format(seed=seed)))
    executor = CountingExecutor()
    summary = run_study(config, tmp_path / "run", executor=executor)
    assert summary.ok
    assert len(executor.trained) == 2 * 2  # two networks x two eval seeds, not three cells x two
    frame = load(tmp_path / "run")
    assert len(frame) == 3 * 2
    cells = [nb201.sample(seed + i) for i in range(3)]
    for i, cell in enumerate(cells):
        rows = frame[frame.search_seed == seed + i]
        assert set(rows.genotype) == {str(cell)} and set(rows.cell) == {cell.key}
    twins = frame[frame.search_seed < seed + 2].groupby("eval_seed").top1.nunique()
    assert twins.eq(1).all()  # the twin was not trained: it shares its twin's result
