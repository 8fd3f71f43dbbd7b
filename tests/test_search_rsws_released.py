"""Random search with weight sharing follows its released code (liamcli/randomNAS_release): every op
runs with 0/1 weights, paths are drawn from all ops (`none` included), candidates are scored in eval
mode on successive validation batches and the best 10 again on the whole validation split."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nastransfer import search
from nastransfer.data import load_dataset, make_proxy, paper_splits
from nastransfer.nets.supernets import DartsSupernet, Supernet
from nastransfer.nets.supernets.darts import edge_index
from nastransfer.search.rsws import RESCORED, sample_paths
from nastransfer.spaces import darts


def _net() -> DartsSupernet:
    torch.manual_seed(0)
    return DartsSupernet(4, 3, 3, in_channels=1, channels_last=False).double()


def test_every_op_form_has_the_path_logits_and_zero_gradients_off_the_path():
    net = _net()
    cell = sample_paths("darts", 1, 3)[0]
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    net.train()
    path_logits = net(x, path=cell)
    logits = net(x, path=cell, every_op=True)
    assert torch.allclose(logits, path_logits, atol=1e-12, rtol=0)
    F.cross_entropy(logits, torch.tensor([0, 1, 2, 0])).backward()
    assert all(p.grad is not None for p in net.weights())  # every weight is in the graph
    on_path = {(edge_index(position, source), op) for position, (op, source) in enumerate(cell.normal)}
    edges = net.cells[0].edges  # a normal cell
    off_path = [(e, op) for e in range(len(edges)) for op in edges[e].ops if (e, op) not in on_path]
    assert off_path
    for e, op in off_path:
        assert all(float(p.grad.abs().max()) == 0.0 for p in edges[e].ops[op].parameters())
    for e, op in on_path:
        if op in edges[e].ops and any(True for _ in edges[e].ops[op].parameters()):
            assert any(float(p.grad.abs().max()) > 0.0 for p in edges[e].ops[op].parameters())


def test_off_path_weights_decay_as_in_the_released_code():
    """Three SGD steps: ops off every sampled path still move (weight decay, momentum)."""
    net = _net()
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt = torch.optim.SGD(net.weights(), 0.025, momentum=0.9, weight_decay=3e-4)
    for seed in range(3):
        opt.zero_grad(set_to_none=True)
        cell = sample_paths("darts", 1, seed)[0]
        logits = net(torch.randn(4, 1, 8, 8, dtype=torch.float64), path=cell, every_op=True)
        F.cross_entropy(logits, torch.tensor([0, 1, 2, 0])).backward()
        opt.step()
    moved = [not torch.equal(before[n], p) for n, p in net.named_parameters() if not n.startswith("arch.")]
    assert all(moved)


def test_paths_include_none_as_drawn_by_the_released_sampler_and_the_baseline_does_not():
    paths = sample_paths("darts", 400, 0)
    with_none = sum(any(op == "none" for op, _ in p.normal + p.reduce) for p in paths) / len(paths)
    assert 0.82 < with_none < 0.94  # 1 - (7/8)**16 = 0.88
    baseline = search.sample_cells("darts", 400, 0)
    assert not any(op == "none" for p in baseline for op, _ in p.normal + p.reduce)
    assert all(isinstance(p, darts.Genotype) for p in paths)


def test_protocol_defaults():
    rsws = search.get("rsws")
    assert rsws.hyper.grad_clip == 0.25 and rsws.hyper.weight_decay == 3e-4
    assert search.published_budget("rsws").epochs == 100 and search.published_budget("rsws").n_samples == 1000
    assert RESCORED == 10


def test_candidates_are_scored_in_eval_mode_then_the_best_ten_on_the_whole_split(tmp_path, monkeypatch):
    splits = paper_splits(make_proxy(load_dataset("digits"), per_class=8, seed=0))
    budget = search.published_budget("rsws").replace(
        epochs=1, channels=2, layers=1, batch_size=8, image_size=8, n_samples=12
    )
    modes: list[bool] = []
    original = Supernet.forward

    def recorded(self, x, path=None, every_op=False):
        modes.append(self.training)
        return original(self, x, path=path, every_op=every_op)

    monkeypatch.setattr("nastransfer.nets.supernets.nb201.NB201Supernet.forward", recorded)
    result = search.get("rsws").search("nb201", splits, budget, seed=0, workdir=tmp_path)
    scores, rescored = result.extra["scores"], result.extra["rescored"]
    assert len(scores) == 12 and len(rescored) == RESCORED
    assert [s["genotype"] for s in rescored] == [s["genotype"] for s in scores[:RESCORED]]
    best = max(rescored, key=lambda s: s["val_acc"])
    assert str(result.genotype) == best["genotype"]
    assert modes and not modes[-1]  # scoring ran in eval mode
