"""Every candidate op of both spaces: output shape at both strides, gradients, the affine flag."""

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nastransfer.nets.ops import NB201_OPS, OPS, FactorizedReduce, ResNetBasicBlock, drop_path
from nastransfer.spaces import darts, nb201

torch.set_num_threads(1)


def test_tables_cover_the_spaces():
    assert set(OPS) == set(darts.OPS)
    assert set(NB201_OPS) == set(nb201.OPS)


@pytest.mark.parametrize("table,name", [(OPS, n) for n in OPS] + [(NB201_OPS, n) for n in NB201_OPS])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("size", [8, 7])
def test_op_keeps_channels_and_divides_size_by_stride(table, name, stride, size):
    torch.manual_seed(0)
    op = table[name](6, stride, True)
    x = torch.randn(2, 6, size, size, requires_grad=True)
    y = op(x)
    expected = -(-size // stride)
    assert y.shape == (2, 6, expected, expected)
    y.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    if name == "none":
        assert not y.any()


@pytest.mark.parametrize("table,name", [(OPS, n) for n in OPS] + [(NB201_OPS, n) for n in NB201_OPS])
def test_affine_flag_controls_batchnorm_parameters(table, name):
    for stride in (1, 2):
        norms = [m for m in table[name](4, stride, False).modules() if isinstance(m, nn.BatchNorm2d)]
        assert all(m.weight is None and m.bias is None for m in norms)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_published_op_sizes():
    # sep_conv_3x3 on C channels: 2 x (9C depthwise + C^2 pointwise + 2C BN); dil_conv_5x5: 25C + C^2 + 2C.
    assert count(OPS["sep_conv_3x3"](16, 1, True)) == 2 * (9 * 16 + 16 * 16 + 32)
    assert count(OPS["dil_conv_5x5"](16, 2, True)) == 25 * 16 + 16 * 16 + 32
    assert count(OPS["skip_connect"](16, 2, True)) == 2 * 16 * 8 + 32
    assert count(NB201_OPS["nor_conv_3x3"](16, 1, True)) == 9 * 16 * 16 + 32


def test_factorized_reduce_matches_the_unpadded_design_on_even_sizes():
    torch.manual_seed(1)
    reduce = FactorizedReduce(4, 6).eval()
    x = torch.randn(2, 4, 10, 10)
    relu = F.relu(x)
    halves = [
        F.conv2d(relu, reduce.conv_1.weight, stride=2),
        F.conv2d(relu[:, :, 1:, 1:], reduce.conv_2.weight, stride=2),
    ]
    assert torch.allclose(reduce(x), reduce.bn(torch.cat(halves, dim=1)))
    assert reduce(torch.randn(2, 4, 7, 7)).shape == (2, 6, 4, 4)


def test_factorized_reduce_backward_on_few_channels_last_channels():
    """torch 2.13's strided 1x1 conv backward corrupts the heap here; run apart so a crash fails one test."""
    script = (
        "import torch\n"
        "from nastransfer.nets.ops import FactorizedReduce\n"
        "cl = torch.channels_last\n"
        "op = FactorizedReduce(4, 4).to(memory_format=cl)\n"
        "for _ in range(100):\n"
        "    x = torch.randn(32, 4, 16, 16, requires_grad=True).contiguous(memory_format=cl)\n"
        "    op(x).sum().backward()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-300:]


def test_resnet_block_halves_size_and_changes_channels():
    block = ResNetBasicBlock(4, 8, stride=2)
    for size in (8, 7):
        assert block(torch.randn(2, 4, size, size)).shape == (2, 8, -(-size // 2), -(-size // 2))


def test_drop_path_drops_whole_samples_and_keeps_the_mean():
    torch.manual_seed(0)
    x = torch.ones(4000, 2, 3, 3)
    y = drop_path(x, 0.25)
    per_sample = y.flatten(1)
    assert ((per_sample == 0).all(1) | (per_sample == 1 / 0.75).all(1)).all()
    assert abs(y.mean().item() - 1.0) < 0.05
    assert drop_path(x, 0.0) is x
