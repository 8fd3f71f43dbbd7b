"""The NAS-Bench-201 network: published sizes, shapes, gradients, and counting by hand."""

import pytest
import torch
from torch import nn

from nastransfer.nets import NB201Net, build_eval_net, count_flops, count_params
from nastransfer.spaces.nb201 import Arch, sample

torch.set_num_threads(1)
EXAMPLE = Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
)


@pytest.mark.parametrize(("op", "params"), [("nor_conv_3x3", 1_531_546), ("none", 73_306)])
def test_sizes_span_the_published_range(op, params):
    # NAS-Bench-201 on CIFAR-10 (C=16, N=5) reports 0.07 M to 1.53 M parameters: all-none and all-3x3 cells.
    assert count_params(NB201Net(Arch((op,) * 6), num_classes=10)) == params


@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 32), (3, 16), (1, 8)])
def test_forward_backward(channels, size):
    torch.manual_seed(0)
    net = build_eval_net(EXAMPLE, C=4, N=1, num_classes=6, in_channels=channels)
    assert isinstance(net, NB201Net)
    logits, aux = net(torch.randn(2, channels, size, size))
    assert logits.shape == (2, 6) and aux is None
    logits.logsumexp(1).sum().backward()
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.weight.grad is not None for m in convs)


def test_random_cells_run():
    for seed in range(5):
        assert NB201Net(sample(seed), C=4, N=1, num_classes=3)(torch.randn(1, 3, 8, 8))[0].shape == (1, 3)


def test_flops_of_the_all_none_network_by_hand():
    # Only the stem, the two reduction blocks and the classifier compute; cells of 'none' cost nothing.
    C, size, classes = 4, 16, 10
    net = NB201Net(Arch(("none",) * 6), C=C, N=1, num_classes=classes)
    stem = size * size * C * 3 * 9
    block1 = (size // 2) ** 2 * (2 * C * C * 9 + 2 * C * 2 * C * 9 + C * 2 * C)
    block2 = (size // 4) ** 2 * (4 * C * 2 * C * 9 + 4 * C * 4 * C * 9 + 2 * C * 4 * C)
    assert count_flops(net, (3, size, size)) == stem + block1 + block2 + 4 * C * classes
