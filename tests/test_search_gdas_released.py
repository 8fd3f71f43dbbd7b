"""GDAS in the DARTS space follows its released code: the derivation rule (checked against `xautodl`'s
`NASNetworkGDAS` on random architecture parameters), Nesterov SGD with weight decay 5e-4, and the
weight step before the architecture step."""

from __future__ import annotations

import pytest
import torch

from nastransfer import search
from nastransfer.data import load_dataset, make_proxy, paper_splits
from nastransfer.nets import build_eval_net
from nastransfer.nets.supernets import DartsSupernet
from nastransfer.search.gradient import GradientSearcher
from nastransfer.spaces import darts

gdas_nasnet = pytest.importorskip("xautodl.models.cell_searchs.search_model_gdas_nasnet")
from xautodl.models.cell_operations import SearchSpaceNames  # noqa: E402

#: xautodl's names of the DARTS ops.
XAUTODL_NAMES = {
    "dua_sepc_3x3": "sep_conv_3x3",
    "dua_sepc_5x5": "sep_conv_5x5",
    "dil_sepc_3x3": "dil_conv_3x3",
    "dil_sepc_5x5": "dil_conv_5x5",
}


def _reference_cells(reference, alphas: dict[str, torch.Tensor]) -> dict[str, list[tuple[str, int]]]:
    names = [XAUTODL_NAMES.get(n, n) for n in SearchSpaceNames["darts"]]
    columns = [darts.OPS.index(n) for n in names]  # our op order -> the reference's
    with torch.no_grad():
        reference.arch_normal_parameters.copy_(alphas["normal"][:, columns])
        reference.arch_reduce_parameters.copy_(alphas["reduce"][:, columns])
    gene = reference.genotype()
    return {
        kind: [(XAUTODL_NAMES.get(op, op), j) for node in gene[kind] for op, j, _ in node]
        for kind in ("normal", "reduce")
    }


def test_gdas_rule_matches_the_released_code_and_differs_from_darts():
    torch.manual_seed(0)
    net = DartsSupernet(2, 3, 3, form="sampled", channels_last=False)
    reference = gdas_nasnet.NASNetworkGDAS(2, 1, 4, 4, 3, 3, SearchSpaceNames["darts"], False, False)
    differ = 0
    for _ in range(40):
        with torch.no_grad():
            for alpha in net.arch_parameters():
                alpha.normal_()
        ours = net.genotype(rule="gdas")
        expected = _reference_cells(reference, {k: v.detach() for k, v in net.arch.alphas.items()})
        assert list(ours.normal) == expected["normal"] and list(ours.reduce) == expected["reduce"]
        differ += ours != net.genotype()
    assert differ > 0  # the two rules disagree on some draws: the choice matters


def test_a_cell_taking_one_input_twice_parses_and_trains():
    text = str(darts.PUBLISHED["DARTS_V2"]).replace(
        "('skip_connect', 0), ('dil_conv_3x3', 2)", "('skip_connect', 0), ('dil_conv_3x3', 0)"
    )
    genotype = darts.parse(text)
    net = build_eval_net(genotype, C=4, layers=3, num_classes=3, in_channels=1)
    logits = net(torch.randn(2, 1, 8, 8))
    logits = logits[0] if isinstance(logits, tuple) else logits
    logits.sum().backward()


def test_gdas_optimiser_and_step_order(monkeypatch, tmp_path):
    gdas = search.get("gdas")
    assert gdas.hyper.nesterov and gdas.hyper.weight_decay == 5e-4 and gdas.hyper.momentum == 0.9
    assert gdas.weight_step_first and not search.get("darts").weight_step_first
    order: list[str] = []
    for name, tag in (("_weight_step", "w"), ("_arch_step", "a")):
        original = getattr(GradientSearcher, name)

        def recorded(self, run, *batch, _original=original, _tag=tag):
            order.append(_tag)
            if _tag == "w":
                assert run.weight_opt.param_groups[0]["nesterov"]
            return _original(self, run, *batch)

        monkeypatch.setattr(GradientSearcher, name, recorded)
    splits = paper_splits(make_proxy(load_dataset("digits"), per_class=6, seed=0))
    budget = search.published_budget("gdas").replace(
        epochs=1, channels=2, layers=1, batch_size=8, image_size=8, warmup_epochs=0
    )
    gdas.search("nb201", splits, budget, seed=0, workdir=tmp_path)
    assert len(order) >= 4 and order == ["w", "a"] * (len(order) // 2)


def _released_scheduler_module():
    """`xautodl/procedures/optimizers.py` alone: its package's __init__ needs torchvision."""
    import importlib.util
    from pathlib import Path

    root = Path(importlib.util.find_spec("xautodl").submodule_search_locations[0])
    spec = importlib.util.spec_from_file_location("xautodl_optimizers", root / "procedures" / "optimizers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gdas_learning_rate_equals_the_released_scheduler_at_every_step(monkeypatch, tmp_path):
    """The released search updates its cosine every iteration (`update(None, step / len(loader))`),
    but with no warm-up (GDAS's config) the cosine reads the epoch only: each step's rate is the
    per-epoch value we use."""
    released = _released_scheduler_module()
    gdas = search.get("gdas")
    seen: list[float] = []
    original = GradientSearcher._weight_step

    def recorded(self, run, *batch):
        seen.append(run.weight_opt.param_groups[0]["lr"])
        return original(self, run, *batch)

    monkeypatch.setattr(GradientSearcher, "_weight_step", recorded)
    splits = paper_splits(make_proxy(load_dataset("digits"), per_class=6, seed=0))
    budget = search.published_budget("gdas").replace(
        epochs=4, channels=2, layers=1, batch_size=8, image_size=8, warmup_epochs=0
    )
    gdas.search("nb201", splits, budget, seed=0, workdir=tmp_path)
    steps = len(seen) // budget.epochs
    assert steps >= 2 and len(seen) == steps * budget.epochs
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=gdas.hyper.lr)
    scheduler = released.CosineAnnealingLR(optimizer, 0, budget.epochs, budget.epochs, gdas.hyper.lr_min)
    expected = []
    for epoch in range(budget.epochs):
        scheduler.update(epoch, 0.0)
        for step in range(steps):
            scheduler.update(None, 1.0 * step / steps)
            expected.append(optimizer.param_groups[0]["lr"])
    assert gdas.hyper.lr == 0.025 and gdas.hyper.lr_min == 0.001
    assert seen == pytest.approx(expected, rel=1e-12)
