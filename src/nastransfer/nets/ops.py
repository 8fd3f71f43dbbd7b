"""The candidate operations of the DARTS and NAS-Bench-201 spaces as torch modules.

Layer order and sizes follow the published designs (ReLU-Conv-BN, bias-free convolutions), so a
cell built here has the parameter count its paper reports. Every op keeps the channel count and
divides the spatial size by its stride, rounding up, so odd feature maps work too.
Both tables map an op name to `make(C, stride, affine) -> nn.Module`; supernets build from them
with `affine=False` and may wrap pools with a BatchNorm of their own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

OpFactory = Callable[[int, int, bool], nn.Module]


class ReLUConvBN(nn.Sequential):
    """ReLU, bias-free convolution, BatchNorm."""

    def __init__(
        self,
        C_in: int,
        C_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        affine: bool = True,
        dilation: int = 1,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride, padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class DilConv(nn.Sequential):
    """ReLU, dilated depthwise convolution, pointwise convolution, BatchNorm."""

    def __init__(
        self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, dilation: int, affine: bool
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride, padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """Two stacked depthwise-separable convolutions (DARTS's `sep_conv`); only the first one strides."""

    def __init__(
        self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, affine: bool
    ) -> None:
        super().__init__(
            DilConv(C_in, C_in, kernel_size, stride, padding, 1, affine),
            DilConv(C_in, C_out, kernel_size, 1, padding, 1, affine),
        )


class Zero(nn.Module):
    """The `none` op: zeros of the output shape (strided so the shape matches the other ops)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """Halve the spatial size with two stride-2 1x1 convolutions, one shifted by a pixel, concatenated.

    The shifted branch is zero-padded back to full size, which changes nothing on even sizes and
    makes odd sizes (7 px and such) give matching halves. The stride is taken by slicing before
    stride-1 convolutions (the same function): torch 2.13's CPU backward of a stride-2 1x1 conv on
    a channels-last input with 2-7 channels corrupts the heap (a partial-channel supernet's edges).
    """

    def __init__(self, C_in: int, C_out: int, affine: bool = True) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out - C_out // 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        halves = [self.conv_1(x[:, :, ::2, ::2]), self.conv_2(shifted[:, :, ::2, ::2])]
        return self.bn(torch.cat(halves, dim=1))


def _skip(C: int, stride: int, affine: bool) -> nn.Module:
    return nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine)


def _avg_pool(C: int, stride: int, affine: bool) -> nn.Module:
    return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)


def _max_pool(C: int, stride: int, affine: bool) -> nn.Module:
    return nn.MaxPool2d(3, stride=stride, padding=1)


#: DARTS ops (names as in `spaces.darts.OPS`): name -> make(C, stride, affine).
OPS: dict[str, OpFactory] = {
    "none": lambda C, stride, affine: Zero(stride),
    "max_pool_3x3": _max_pool,
    "avg_pool_3x3": _avg_pool,
    "skip_connect": _skip,
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine),
}

#: NAS-Bench-201 ops (names as in `spaces.nb201.OPS`): name -> make(C, stride, affine).
NB201_OPS: dict[str, OpFactory] = {
    "none": lambda C, stride, affine: Zero(stride),
    "skip_connect": _skip,
    "nor_conv_1x1": lambda C, stride, affine: ReLUConvBN(C, C, 1, stride, 0, affine),
    "nor_conv_3x3": lambda C, stride, affine: ReLUConvBN(C, C, 3, stride, 1, affine),
    "avg_pool_3x3": _avg_pool,
}


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction block between stages: two ReLU-Conv-BN 3x3 plus a pooled 1x1 shortcut."""

    def __init__(self, C_in: int, C_out: int, stride: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)
        if stride == 2:
            # ceil_mode keeps the shortcut the size of the strided conv on odd inputs.
            self.downsample: nn.Module | None = nn.Sequential(
                nn.AvgPool2d(2, stride=2, ceil_mode=True), nn.Conv2d(C_in, C_out, 1, bias=False)
            )
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, 0)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


def batch_statistics_only(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm2d inside `module` by one without running statistics (in place).

    NAS-Bench-201's search cells normalise with the statistics of the current batch in train and
    eval mode alike (`track_running_stats=False`): averages over many sampled paths describe none.
    """
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            plain = nn.BatchNorm2d(child.num_features, affine=child.affine, track_running_stats=False)
            setattr(module, name, plain)
        else:
            batch_statistics_only(child)
    return module


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability `drop_prob`, scaling survivors so the expectation is unchanged."""
    if drop_prob <= 0.0:
        return x
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask
