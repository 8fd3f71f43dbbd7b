"""Second-order DARTS: the architecture gradient through one unrolled weight step.

With w' = w - lr * (one SGD step on L_train), the gradient of L_val(w', alpha) w.r.t. alpha is
grad_alpha L_val(w', alpha) - lr * H v, where v = grad_w' L_val(w', alpha) and H v is the mixed
second derivative d2 L_train / (d alpha d w) times v, approximated by a central difference
(DARTS, eq. 8): (grad_alpha L_train(w + eps v) - grad_alpha L_train(w - eps v)) / (2 eps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


def finite_difference_hvp(
    loss_fn: Callable[[], torch.Tensor],
    weights: Sequence[torch.Tensor],
    arch: Sequence[torch.Tensor],
    vector: Sequence[torch.Tensor],
    r: float = 0.01,
) -> list[torch.Tensor]:
    """(d2 loss / d arch d weights) @ vector by central differences, eps = r / ||vector|| (DARTS's r)."""
    norm = float(torch.sqrt(sum((v.double() ** 2).sum() for v in vector)))
    eps = r / max(norm, 1e-12)
    saved = [w.detach().clone() for w in weights]
    sides = []
    for step in (eps, -eps):
        with torch.no_grad():
            for w, w0, v in zip(weights, saved, vector, strict=True):
                torch.add(w0, v, alpha=step, out=w)
        grads = torch.autograd.grad(loss_fn(), list(arch), allow_unused=True)
        sides.append([torch.zeros_like(a) if g is None else g for g, a in zip(grads, arch, strict=True)])
    with torch.no_grad():
        for w, w0 in zip(weights, saved, strict=True):
            w.copy_(w0)
    return [(plus - minus) / (2.0 * eps) for plus, minus in zip(*sides, strict=True)]


def exact_hvp(
    loss_fn: Callable[[], torch.Tensor],
    weights: Sequence[torch.Tensor],
    arch: Sequence[torch.Tensor],
    vector: Sequence[torch.Tensor],
) -> list[torch.Tensor]:
    """The same product by double backward (reference for tests; DARTS avoids it for memory)."""
    grads = torch.autograd.grad(loss_fn(), list(weights), create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vector, strict=True))
    out = torch.autograd.grad(dot, list(arch), allow_unused=True)
    return [torch.zeros_like(a) if g is None else g for g, a in zip(out, arch, strict=True)]


def unrolled_arch_gradients(
    net: nn.Module,
    train_loss: Callable[[], torch.Tensor],
    val_loss: Callable[[], torch.Tensor],
    optimizer: torch.optim.SGD,
) -> tuple[list[torch.Tensor], float]:
    """Second-order arch gradients of `net` (a Supernet) and the unrolled validation loss.

    The virtual step uses the optimizer's learning rate, momentum buffer and weight decay, as DARTS
    does; weights and BatchNorm buffers are restored afterwards, so only `.grad` is new.
    """
    weights, arch = net.weights(), net.arch_parameters()
    group = optimizer.param_groups[0]
    lr, momentum, decay = group["lr"], group.get("momentum", 0.0), group.get("weight_decay", 0.0)
    saved_weights = [w.detach().clone() for w in weights]
    saved_buffers = {name: b.detach().clone() for name, b in net.named_buffers()}
    grads = torch.autograd.grad(train_loss(), weights, allow_unused=True)
    with torch.no_grad():
        for w, g in zip(weights, grads, strict=True):
            step = (torch.zeros_like(w) if g is None else g) + decay * w
            buffer = optimizer.state.get(w, {}).get("momentum_buffer")
            if buffer is not None:
                step = step + momentum * buffer
            w.sub_(lr * step)
    loss = val_loss()
    both = torch.autograd.grad(loss, [*arch, *weights], allow_unused=True)
    d_arch = [torch.zeros_like(a) if g is None else g for g, a in zip(both[: len(arch)], arch, strict=True)]
    d_weights = [
        torch.zeros_like(w) if g is None else g for g, w in zip(both[len(arch) :], weights, strict=True)
    ]
    with torch.no_grad():
        for w, saved in zip(weights, saved_weights, strict=True):
            w.copy_(saved)
    hvp = finite_difference_hvp(train_loss, weights, arch, d_weights)
    with torch.no_grad():
        buffers = dict(net.named_buffers())
        for name, saved in saved_buffers.items():
            buffers[name].copy_(saved)
    return [d - lr * h for d, h in zip(d_arch, hvp, strict=True)], float(loss.detach())
