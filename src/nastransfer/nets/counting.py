"""Model size and cost: parameters (auxiliary head excluded, as papers report) and multiply-adds.

`count_flops` counts the multiply-adds of convolutions and linear layers for one image, the
convention of the DARTS-family papers ("mult-adds"); BatchNorm, activations, pooling and additions
are not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

AUXILIARY_ATTRIBUTE = "auxiliary_head"


def count_params(module: nn.Module) -> int:
    """Trainable and frozen parameters, minus those under any submodule named `auxiliary_head`."""
    total = 0
    for name, parameter in module.named_parameters():
        if AUXILIARY_ATTRIBUTE not in name.split("."):
            total += parameter.numel()
    return total


def _conv_macs(layer: nn.Conv2d, output: torch.Tensor) -> int:
    kh, kw = layer.kernel_size
    return output[0].numel() * (layer.in_channels // layer.groups) * kh * kw


def _linear_macs(layer: nn.Linear, output: torch.Tensor) -> int:
    return (output[0].numel() // layer.out_features) * layer.in_features * layer.out_features


def count_flops(module: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply-adds of one forward pass on one image of `input_size` = (C, H, W) or (N, C, H, W).

    Runs a forward in eval mode without gradients on zeros, on the module's device; the module's
    training mode is restored afterwards. The auxiliary head is not run in eval mode, so not counted.
    """
    return sum(macs for _, macs in layer_flops(module, input_size))


def layer_flops(module: nn.Module, input_size: Sequence[int]) -> list[tuple[nn.Module, int]]:
    """`count_flops` layer by layer, in call order: (conv or linear layer, its multiply-adds), so a caller
    can tell the stem (the first) and the classifier (the last) from the rest."""
    shape = tuple(int(s) for s in input_size)
    if len(shape) == 4:
        shape = shape[1:]
    if len(shape) != 3:
        raise ValueError(f"input_size must be (C, H, W) or (N, C, H, W), got {tuple(input_size)}")
    calls: list[tuple[nn.Module, int]] = []

    def hook(layer: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(layer, nn.Conv2d):
            calls.append((layer, _conv_macs(layer, output)))
        else:
            calls.append((layer, _linear_macs(layer, output)))

    counted = [m for m in module.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    handles = [m.register_forward_hook(hook) for m in counted]
    was_training = module.training
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros((1, *shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        module.train(was_training)
    return calls


def meta_footprint(build: Callable[[], nn.Module], input_size: Sequence[int]) -> tuple[int, int]:
    """(parameters, activation elements) of the module `build()` makes and of one forward on an
    input of `input_size` = (N, C, H, W), both counted on torch's meta device: shapes only, no
    memory, so a size too large to allocate is found before anything is allocated. Activations are
    the outputs of every leaf module, what a backward pass keeps."""
    with torch.device("meta"):
        module = build()
    elements = 0

    def hook(_layer: nn.Module, _inputs: tuple, output: object) -> None:
        nonlocal elements
        if isinstance(output, torch.Tensor):
            elements += output.numel()

    leaves = [m for m in module.modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        with torch.no_grad():
            module(torch.empty(tuple(int(s) for s in input_size), device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return sum(p.numel() for p in module.parameters()), elements
