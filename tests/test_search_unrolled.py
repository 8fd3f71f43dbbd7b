"""Second-order DARTS: the finite-difference Hessian-vector product against exact double backward.

On a smooth tiny model (tanh, softmax mixture) the product at DARTS's own r = 0.01 in float32
must agree. On the real supernets, ReLU and max-pool kinks make the gradient jump wherever a
perturbation crosses one, so there the check runs in float64 with r = 1e-5, small enough to
cross none.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nastransfer.nets.supernets import DartsSupernet, NB201Supernet
from nastransfer.search import exact_hvp, finite_difference_hvp, unrolled_arch_gradients


def _relative_error(approx: list[torch.Tensor], exact: list[torch.Tensor]) -> float:
    num = torch.sqrt(sum(((a - e) ** 2).sum() for a, e in zip(approx, exact, strict=True)))
    den = torch.sqrt(sum((e**2).sum() for e in exact))
    return float(num / den)


def _check(net: torch.nn.Module) -> float:
    net = net.double()
    torch.manual_seed(1)
    with torch.no_grad():
        for alpha in net.arch_parameters():
            alpha.normal_(0.0, 0.5)
    x, y = torch.randn(6, 1, 8, 8, dtype=torch.float64), torch.randint(0, 10, (6,))
    net.train()
    loss_fn = lambda: F.cross_entropy(net(x), y)  # noqa: E731
    weights, arch = net.weights(), net.arch_parameters()
    vector = [torch.randn_like(w) for w in weights]
    before = [w.detach().clone() for w in weights]
    approx = finite_difference_hvp(loss_fn, weights, arch, vector, r=1e-5)
    exact = exact_hvp(loss_fn, weights, arch, vector)
    assert all(torch.allclose(w, b, atol=1e-12) for w, b in zip(weights, before, strict=True)), (
        "weights moved"
    )
    assert float(torch.sqrt(sum((e**2).sum() for e in exact))) > 0
    return _relative_error(approx, exact)


def test_finite_difference_hvp_matches_double_backward_on_a_smooth_model():
    torch.manual_seed(0)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    w1 = torch.randn(4, 6, requires_grad=True)
    w2 = torch.randn(3, 6, 3, requires_grad=True)
    alpha = torch.randn(3, requires_grad=True)

    def loss_fn() -> torch.Tensor:
        hidden = torch.tanh(x @ w1)
        mixture = torch.einsum("k,bh,khc->bc", alpha.softmax(0), hidden, w2)
        return F.cross_entropy(mixture, y)

    vector = [torch.randn_like(w1), torch.randn_like(w2)]
    approx = finite_difference_hvp(loss_fn, [w1, w2], [alpha], vector)  # DARTS's r = 0.01
    exact = exact_hvp(loss_fn, [w1, w2], [alpha], vector)
    assert _relative_error(approx, exact) < 1e-2


def test_finite_difference_hvp_matches_double_backward_darts():
    torch.manual_seed(0)
    assert _check(DartsSupernet(4, 3, 10, in_channels=1, channels_last=False)) < 1e-2


def test_finite_difference_hvp_matches_double_backward_nb201():
    torch.manual_seed(0)
    assert _check(NB201Supernet(4, 1, 10, in_channels=1, channels_last=False)) < 1e-2


def test_unrolled_gradients_restore_weights_and_buffers():
    torch.manual_seed(0)
    net = DartsSupernet(4, 3, 10, in_channels=1)
    x, y = torch.randn(4, 1, 8, 8), torch.randint(0, 10, (4,))
    opt = torch.optim.SGD(net.weights(), 0.025, momentum=0.9, weight_decay=3e-4)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    grads, loss = unrolled_arch_gradients(
        net, lambda: F.cross_entropy(net(x), y), lambda: F.cross_entropy(net(x), y), opt
    )
    assert loss > 0 and len(grads) == len(net.arch_parameters())
    assert all(g.abs().sum() > 0 for g in grads)
    for key, value in net.state_dict().items():
        assert torch.equal(value, state[key]), key
