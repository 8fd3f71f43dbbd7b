"""The NB201 supernets compute what NAS-Bench-201's reference search networks (`xautodl`) compute.

float64, tiny sizes, weights and architecture parameters copied across, the same batch and the same
Gumbel draw: logits, weight gradients, architecture gradients and genotypes agree to float rounding.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nastransfer.nets.supernets import NB201Supernet
from nastransfer.spaces import nb201

search_cells = pytest.importorskip("xautodl.models.cell_searchs.search_model_darts")
from xautodl.models.cell_searchs.search_model_darts import TinyNetworkDarts  # noqa: E402
from xautodl.models.cell_searchs.search_model_gdas import TinyNetworkGDAS  # noqa: E402

TOL = 1e-10


def _ref_weights(ref) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The reference's weights, less its cell convolutions' biases (`bias=not affine` there): each is
    followed by a batch-statistics BatchNorm, which cancels it, so ours have none. Returned apart."""
    biases = [m.bias for m in ref.modules() if isinstance(m, torch.nn.Conv2d) and m.bias is not None]
    ids = {id(b) for b in biases}
    return [p for p in ref.get_weights() if id(p) not in ids], biases


def _pair(form: str, reference_class: type, C: int = 3, N: int = 1, classes: int = 5):
    """Our supernet and the reference one with the same weights and architecture parameters."""
    torch.manual_seed(0)
    ours = NB201Supernet(C, N, classes, form=form, channels_last=False).double()
    with torch.no_grad():
        ours.arch.alphas["cell"].normal_()  # far from uniform, so every op's share matters
    ref = reference_class(C, N, 4, classes, list(nb201.OPS), affine=False, track_running_stats=False).double()
    ours_w, (ref_w, _) = ours.weights(), _ref_weights(ref)
    assert [p.shape for p in ours_w] == [p.shape for p in ref_w]
    with torch.no_grad():
        for a, b in zip(ours_w, ref_w, strict=True):
            b.copy_(a)
        ref.arch_parameters.copy_(ours.arch.alphas["cell"])
    return ours, ref


def _grads(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    """Gradients, zeros for parameters the forward did not use (ops off a sampled path)."""
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    a, b = a.detach(), b.detach()
    return bool((a - b).abs().max() <= TOL * max(1.0, float(b.abs().max())))


def _check_step(ours, ref, seed: int) -> None:
    """One forward/backward of both nets on the same batch (and Gumbel draw): all agree."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, 8, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (4,), generator=g)
    torch.manual_seed(seed)
    logits = ours(x)
    torch.manual_seed(seed)
    _, ref_logits = ref(x)
    assert _close(logits, ref_logits), (logits - ref_logits).abs().max()
    ours_params = [*ours.weights(), ours.arch.alphas["cell"]]
    ref_weights, ref_biases = _ref_weights(ref)
    ref_params = [*ref_weights, ref.arch_parameters]
    loss, ref_loss = F.cross_entropy(logits, y), F.cross_entropy(ref_logits, y)
    ref_grads = _grads(ref_loss, ref_params + ref_biases)
    for i, (a, b) in enumerate(zip(_grads(loss, ours_params), ref_grads, strict=False)):
        assert _close(a, b), f"gradient {i} differs by {(a - b).abs().max():.3g}"
    assert all(float(g.abs().max()) < TOL for g in ref_grads[len(ref_params) :])  # the cancelled biases


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_mixed_form_matches_tiny_network_darts(mode):
    ours, ref = _pair("mixed", TinyNetworkDarts)
    getattr(ours, mode)()
    getattr(ref, mode)()
    _check_step(ours, ref, seed=1)
    assert str(ours.genotype()) == ref.genotype().tostr()


def test_mixed_form_matches_with_two_cells_per_stage():
    ours, ref = _pair("mixed", TinyNetworkDarts, C=2, N=2)
    _check_step(ours, ref, seed=2)


def test_sampled_form_matches_tiny_network_gdas():
    ours, ref = _pair("sampled", TinyNetworkGDAS)
    for tau in (10.0, 1.0, 0.1):
        ours.set_tau(tau)
        ref.set_tau(tau)
        for seed in range(3):
            _check_step(ours, ref, seed=seed)
    assert str(ours.genotype()) == ref.genotype().tostr()


def test_sampled_form_gives_every_op_an_arch_gradient():
    """The straight-through terms of unsampled ops reach every architecture parameter of every edge."""
    torch.manual_seed(0)
    net = NB201Supernet(2, 1, 3, form="sampled", channels_last=False).double()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    net(x).sum().backward()
    grad = net.arch.alphas["cell"].grad
    assert (grad != 0).all()


def test_search_cell_keeps_no_running_statistics():
    net = NB201Supernet(2, 1, 3, channels_last=False)
    cell_bns = [m for e in net.search_edges() for m in e.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert cell_bns and all(bn.running_mean is None and not bn.affine for bn in cell_bns)
    pools = [e.ops["avg_pool_3x3"] for e in net.search_edges()]
    assert all(isinstance(p, torch.nn.AvgPool2d) for p in pools)
