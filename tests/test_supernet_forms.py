"""Supernet forms: the mixed form computes the plain DARTS function, the sampled form and fixed paths
run only their ops, PC-DARTS keeps fewer activations, and bad sizes fail in one line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nastransfer.errors import ConfigError, GenotypeError
from nastransfer.nets import compile_net
from nastransfer.nets.supernets import DartsSupernet, NB201Supernet, build_supernet
from nastransfer.spaces import darts, nb201

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_supernet.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_supernet", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _darts(form: str, **kw) -> DartsSupernet:
    torch.manual_seed(0)
    return DartsSupernet(4, 3, 10, in_channels=1, form=form, **kw)


def _op_calls(net) -> tuple[dict, list]:
    """Hooks that record, per edge, which candidate ops ran (any module inside the op was called)."""
    ran: dict[tuple[int, str], int] = {}
    handles = []
    for edge_id, edge in enumerate(net.search_edges()):
        for name, op in edge.ops.items():
            for module in op.modules():

                def hook(*_, key=(edge_id, name)):
                    ran[key] = ran.get(key, 0) + 1

                handles.append(module.register_forward_hook(hook))
    return ran, handles


def test_mixed_form_equals_plain_darts_reference():
    bench = _bench()
    net = _darts("mixed")
    with torch.no_grad():
        for alpha in net.arch_parameters():
            alpha.normal_()  # a far-from-uniform mixture, so every op's share matters
    x = torch.randn(6, 1, 8, 8)
    net.train()
    ours = net(x)
    reference = bench.plain_forward(net, x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(ours, reference, atol=1e-5, rtol=1e-4), (ours - reference).abs().max()
    nchw = _darts("mixed", channels_last=False)
    nchw.load_state_dict(net.state_dict())
    assert torch.allclose(nchw(x), bench.plain_forward(nchw, x), atol=1e-5, rtol=1e-4)


def test_mixed_form_gradients_equal_plain_reference():
    bench = _bench()
    net = _darts("mixed", channels_last=False)
    x, y = torch.randn(4, 1, 8, 8), torch.randint(0, 10, (4,))
    ours = torch.autograd.grad(F.cross_entropy(net(x), y), net.arch_parameters())
    plain = torch.autograd.grad(F.cross_entropy(bench.plain_forward(net, x), y), net.arch_parameters())
    for a, b in zip(ours, plain, strict=True):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("space", ["darts", "nb201"])
def test_sampled_form_runs_exactly_one_op_per_edge(space):
    torch.manual_seed(1)
    net = (
        DartsSupernet(4, 3, 10, 1, form="sampled")
        if space == "darts"
        else NB201Supernet(4, 1, 10, 1, form="sampled")
    )
    ran, handles = _op_calls(net)
    torch.manual_seed(2)
    net(torch.randn(2, 1, 8, 8))
    for h in handles:
        h.remove()
    edges = net.search_edges()
    per_edge: dict[int, list[str]] = {}
    for edge_id, name in ran:
        per_edge.setdefault(edge_id, []).append(name)
    assert all(len(names) == 1 for names in per_edge.values()), per_edge
    # every edge ran one op, except those whose sample was `none` (which runs nothing)
    assert len(per_edge) >= len(edges) // 2
    total_ops = sum(len(e.ops) for e in edges)
    assert len(ran) < total_ops / 4


def test_fixed_path_runs_only_the_genotype_ops():
    net = _darts("mixed")
    genotype = darts.sample(3)
    ran, handles = _op_calls(net)
    net(torch.randn(2, 1, 8, 8), path=genotype)
    for h in handles:
        h.remove()
    expected = set()
    for cell_id, cell in enumerate(net.cells):
        for position, (op, source) in enumerate(genotype.reduce if cell.reduction else genotype.normal):
            expected.add((cell_id * 14 + darts_edge(position, source), op))
    assert set(ran) == expected


def darts_edge(position: int, source: int) -> int:
    from nastransfer.nets.supernets.darts import edge_index

    return edge_index(position, source)


def test_nb201_fixed_path_and_wrong_genotype_type():
    net = NB201Supernet(4, 1, 10, 1)
    arch = nb201.Arch.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
    assert net(torch.randn(2, 1, 8, 8), path=arch).shape == (2, 10)
    with pytest.raises(GenotypeError):
        net(torch.randn(2, 1, 8, 8), path=darts.sample(0))


def test_darts_rule_derivation_with_betas_masks_and_skip_limit():
    net = _darts("partial")
    none, skip = net.op_names.index("none"), net.op_names.index("skip_connect")
    sep3 = net.op_names.index("sep_conv_3x3")
    with torch.no_grad():
        for kind in net.cell_types:
            alphas = net.arch.alphas[kind]
            alphas.zero_()
            alphas[:, none] = 9.0  # `none` is strongest everywhere but never derived
            alphas[:, skip] = 2.0
            net.arch.betas[kind].zero_()
            net.arch.betas[kind][[0, 1, 2, 3, 6, 8, 9, 13]] = 3.0  # edges PC-DARTS should keep by beta
    genotype = net.genotype()
    assert [op for op, _ in genotype.normal] == ["skip_connect"] * 8
    assert [s for _, s in genotype.normal] == [0, 1, 0, 1, 1, 3, 0, 4]
    net.form = "mixed"  # P-DARTS rule on the same weights: at most 2 skips, others take the next best op
    with torch.no_grad():
        net.arch.alphas["normal"][:, sep3] = 1.0
    limited = net.genotype(max_skip=2)
    assert sum(op == "skip_connect" for op, _ in limited.normal) == 2
    mask = torch.ones(14, 8, dtype=torch.bool)
    mask[:, skip] = False
    net.set_op_mask("normal", mask)
    assert all(op != "skip_connect" for op, _ in net.genotype().normal)
    with pytest.raises(ConfigError, match="without an op"):
        net.set_op_mask("normal", torch.zeros(14, 8, dtype=torch.bool))


def test_nb201_derivation_is_argmax_per_edge():
    net = NB201Supernet(4, 1, 10, 1)
    wanted = nb201.sample(5)
    with torch.no_grad():
        net.arch.alphas["cell"].zero_()
        for e, index in enumerate(wanted.to_indices()):
            net.arch.alphas["cell"][e, index] = 1.0
    assert net.genotype() == wanted
    dist = net.arch_distribution()["cell"]
    assert dist.shape == (6, 5) and torch.allclose(dist.sum(1), torch.ones(6))


def test_partial_channel_form_saves_fewer_activations():
    bench = _bench()
    x, y = torch.randn(8, 1, 12, 12), torch.randint(0, 10, (8,))
    saved = {}
    for form in ("mixed", "partial"):
        net = DartsSupernet(8, 3, 10, 1, form=form)
        saved[form] = bench.saved_tensor_bytes(lambda net=net: F.cross_entropy(net(x), y))
    assert saved["partial"] < 0.6 * saved["mixed"], saved


def test_bad_supernet_sizes_raise_one_line_config_errors():
    with pytest.raises(ConfigError, match="layers >= 3"):
        DartsSupernet(4, 2, 10, 1)
    with pytest.raises(ConfigError, match="not divisible by k=4"):
        DartsSupernet(6, 3, 10, 1, form="partial")
    with pytest.raises(ConfigError, match="unknown supernet form"):
        NB201Supernet(4, 1, 10, 1, form="wavy")
    with pytest.raises(ConfigError, match="no supernet"):
        build_supernet("nasnet", C=4)


def test_weights_and_arch_parameters_partition_the_parameters():
    net = _darts("partial")
    weights, arch = net.weights(), net.arch_parameters()
    assert len(arch) == 4  # alphas and betas of normal and reduce cells
    assert {id(p) for p in weights}.isdisjoint(id(p) for p in arch)
    assert len(weights) + len(arch) == len(list(net.parameters()))


def test_masked_ops_and_none_never_run_in_the_mixed_form():
    net = _darts("mixed")
    net(torch.randn(2, 1, 8, 8))  # a forward before masking fills the active-op cache
    mask = net.op_mask("normal").clone()
    mask[:, net.op_names.index("sep_conv_5x5")] = False
    net.set_op_mask("normal", mask)
    ran, handles = _op_calls(net)
    net(torch.randn(2, 1, 8, 8))
    for h in handles:
        h.remove()
    normal_edges = {c * 14 + e for c, cell in enumerate(net.cells) if not cell.reduction for e in range(14)}
    ran_normal = {name for edge, name in ran if edge in normal_edges}
    assert "sep_conv_5x5" not in ran_normal and len(ran_normal) == 6
    assert net.arch_distribution()["normal"][:, net.op_names.index("sep_conv_5x5")].abs().max() == 0


def test_compiled_forwards_see_masks_set_or_loaded_without_an_eager_forward(monkeypatch):
    source, net = NB201Supernet(4, 1, 10, 1), NB201Supernet(4, 1, 10, 1)
    mask = torch.ones(6, 5, dtype=torch.bool)
    mask[:, nb201.OPS.index("nor_conv_3x3")] = False
    source.set_op_mask("cell", mask)
    net.load_state_dict(source.state_dict())
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)  # as inside a compiled forward
    conv = nb201.OPS.index("nor_conv_3x3")
    assert all(conv not in ops for ops in source._active_ops("cell"))
    assert all(conv not in ops for ops in net._active_ops("cell"))
    assert all(conv in ops for ops in NB201Supernet(4, 1, 10, 1)._active_ops("cell"))


@pytest.mark.parametrize(
    ("form", "every_op", "breaks"), [("mixed", False, 0), ("partial", False, 0), ("mixed", True, 1)]
)
def test_supernet_forwards_trace_in_one_graph(form, every_op, breaks):
    """torch.compile sees the mixed and partial forms whole; an RSWS step breaks once, at the eager
    path weights, and its graph does not depend on the path."""
    net = NB201Supernet(4, 1, 10, 1, form=form, k=2)
    x = torch.randn(2, 1, 8, 8)
    paths = [nb201.sample(seed) for seed in range(3)] if every_op else [None]
    torch._dynamo.reset()
    compiled = compile_net(net, backend="eager")
    torch._dynamo.utils.counters.clear()
    for path in paths:
        assert torch.allclose(compiled(x, path=path, every_op=every_op), net(x, path=path, every_op=every_op))
    counters = torch._dynamo.utils.counters
    assert sum(counters["graph_break"].values()) == breaks, dict(counters["graph_break"])
    assert counters["stats"]["unique_graphs"] == breaks + 1
