"""RandAugment and AutoAugment (CIFAR-10 policy) on whole float batches in 0..1.

Each image draws its own operations; the batch is then processed one operation at a time over
the images that drew it, so the Python loop runs over the ~15 operations, never over images.
Strengths follow the usual ranges (rotate 30 degrees, shear 0.3, translate 0.45 of the side,
enhancements 1 +- 0.9, posterize 8..4 bits, solarize threshold 1..0); a `level` in 0..1 scales
them. Geometric operations share one `affine_grid` / `grid_sample` with zero fill.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

Op = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _per_image(values: torch.Tensor) -> torch.Tensor:
    return values[:, None, None, None]


def _grey(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] != 3:
        return x.mean(dim=1, keepdim=True)
    weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).reshape(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def _blend(x: torch.Tensor, degenerate: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """PIL ImageEnhance: degenerate + factor * (image - degenerate)."""
    return (degenerate + _per_image(factor) * (x - degenerate)).clamp_(0.0, 1.0)


def _warp(x: torch.Tensor, entries: dict[tuple[int, int], torch.Tensor]) -> torch.Tensor:
    """Resample each image through its own 2x3 affine matrix: identity with `entries` overwritten."""
    theta = torch.zeros(x.shape[0], 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    for (row, col), values in entries.items():
        theta[:, row, col] = values
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def rotate(x, level):
    angle = level * math.radians(30.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    return _warp(x, {(0, 0): cos, (0, 1): -sin, (1, 0): sin, (1, 1): cos})


def shear_x(x, level):
    return _warp(x, {(0, 1): 0.3 * level})


def shear_y(x, level):
    return _warp(x, {(1, 0): 0.3 * level})


def translate_x(x, level):  # normalised coordinates span 2, so a shift of t sides is 2t
    return _warp(x, {(0, 2): 2 * 0.45 * level})


def translate_y(x, level):
    return _warp(x, {(1, 2): 2 * 0.45 * level})


def brightness(x, level):
    return _blend(x, torch.zeros_like(x), 1.0 + 0.9 * level)


def color(x, level):
    return _blend(x, _grey(x).expand_as(x), 1.0 + 0.9 * level)


def contrast(x, level):
    return _blend(x, _grey(x).mean(dim=(1, 2, 3), keepdim=True).expand_as(x), 1.0 + 0.9 * level)


def sharpness(x, level):
    kernel = torch.tensor([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]], device=x.device) / 13.0
    channels = x.shape[1]
    smooth = F.conv2d(
        F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel.expand(channels, 1, 3, 3), groups=channels
    )
    return _blend(x, smooth, 1.0 + 0.9 * level)


def posterize(x, level):
    bits = (8 - torch.round(level.abs() * 4)).to(torch.int64)
    keep = (255 - (2 ** (8 - bits) - 1)).to(torch.int64)
    pixels = torch.round(x * 255).to(torch.int64)
    return (pixels & _per_image(keep)).float() / 255.0


def solarize(x, level):
    threshold = _per_image(1.0 - level.abs())
    return torch.where(x >= threshold, 1.0 - x, x)


def invert(x, level):
    return 1.0 - x


def autocontrast(x, level):
    low = x.amin(dim=(2, 3), keepdim=True)
    high = x.amax(dim=(2, 3), keepdim=True)
    span = high - low
    return torch.where(span > 0, (x - low) / span.clamp_min(1e-6), x)


def equalize(x, level):
    """Histogram equalisation per image and channel: the cumulative histogram as a lookup table."""
    n, c, h, w = x.shape
    pixels = torch.round(x * 255).to(torch.int64).reshape(n * c, h * w)
    ones = torch.ones_like(pixels, dtype=torch.float32)
    hist = torch.zeros(n * c, 256, device=x.device).scatter_add_(1, pixels, ones)
    cdf = hist.cumsum(dim=1)
    first = cdf.gather(1, (hist > 0).float().argmax(dim=1, keepdim=True))
    lut = (cdf - first) / (h * w - first).clamp_min(1.0)
    return lut.gather(1, pixels).reshape(n, c, h, w).clamp_(0.0, 1.0)


def identity(x, level):
    return x


#: name -> (operation, whether its strength takes a random sign)
OPS: dict[str, tuple[Op, bool]] = {
    "Identity": (identity, False),
    "AutoContrast": (autocontrast, False),
    "Equalize": (equalize, False),
    "Invert": (invert, False),
    "Rotate": (rotate, True),
    "Posterize": (posterize, False),
    "Solarize": (solarize, False),
    "Color": (color, True),
    "Contrast": (contrast, True),
    "Brightness": (brightness, True),
    "Sharpness": (sharpness, True),
    "ShearX": (shear_x, True),
    "ShearY": (shear_y, True),
    "TranslateX": (translate_x, True),
    "TranslateY": (translate_y, True),
}
OP_NAMES = tuple(OPS)
RANDAUGMENT_OPS = tuple(name for name in OP_NAMES if name != "Invert")


def apply_ops(
    x: torch.Tensor, op_ids: torch.Tensor, levels: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Apply `OP_NAMES[op_ids[i]]` at `levels[i]` to image i (op id -1: leave it)."""
    signs = torch.where(torch.rand(len(op_ids), generator=generator) < 0.5, -1.0, 1.0)
    out = x.clone()
    for op_id in torch.unique(op_ids).tolist():
        if op_id < 0:
            continue
        op, signed = OPS[OP_NAMES[op_id]]
        chosen = torch.nonzero(op_ids == op_id).flatten()
        level = levels[chosen] * (signs[chosen] if signed else 1.0)
        chosen_dev = chosen.to(x.device)
        out[chosen_dev] = op(x[chosen_dev], level.to(x.device, torch.float32))
    return out


def randaugment(
    x: torch.Tensor, num_ops: int, magnitude: float, generator: torch.Generator | None
) -> torch.Tensor:
    """RandAugment (Cubuk et al. 2020): `num_ops` uniformly drawn operations of strength magnitude/10."""
    pool = torch.tensor([OP_NAMES.index(name) for name in RANDAUGMENT_OPS])
    levels = torch.full((x.shape[0],), min(max(magnitude / 10.0, 0.0), 1.0))
    for _ in range(num_ops):
        op_ids = pool[torch.randint(0, len(pool), (x.shape[0],), generator=generator)]
        x = apply_ops(x, op_ids, levels, generator)
    return x


#: AutoAugment's CIFAR-10 policy (Cubuk et al. 2019): 25 sub-policies of two (op, probability, bin 0..9),
#: checked entry by entry against the published table as released with public implementations.
CIFAR10_POLICY = (
    (("Invert", 0.1, 7), ("Contrast", 0.2, 6)),
    (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
    (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
    (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
    (("AutoContrast", 0.5, 8), ("Equalize", 0.9, 2)),
    (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
    (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
    (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
    (("Equalize", 0.6, 5), ("Equalize", 0.5, 1)),
    (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
    (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
    (("Equalize", 0.3, 7), ("AutoContrast", 0.4, 8)),
    (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
    (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
    (("Solarize", 0.5, 2), ("Invert", 0.0, 3)),
    (("Equalize", 0.2, 0), ("AutoContrast", 0.6, 0)),
    (("Equalize", 0.2, 8), ("Equalize", 0.6, 4)),
    (("Color", 0.9, 9), ("Equalize", 0.6, 6)),
    (("AutoContrast", 0.8, 4), ("Solarize", 0.2, 8)),
    (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
    (("Solarize", 0.4, 5), ("AutoContrast", 0.9, 3)),
    (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
    (("AutoContrast", 0.9, 2), ("Solarize", 0.8, 3)),
    (("Equalize", 0.8, 8), ("Invert", 0.1, 3)),
    (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, 1)),
)


def _policy_table(stage: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ops = torch.tensor([OP_NAMES.index(sub[stage][0]) for sub in CIFAR10_POLICY])
    probs = torch.tensor([sub[stage][1] for sub in CIFAR10_POLICY])
    levels = torch.tensor([sub[stage][2] / 9.0 for sub in CIFAR10_POLICY])
    return ops, probs, levels


def autoaugment(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """AutoAugment: each image draws a sub-policy and applies its two operations with their probabilities."""
    chosen = torch.randint(0, len(CIFAR10_POLICY), (x.shape[0],), generator=generator)
    for stage in (0, 1):
        ops, probs, levels = _policy_table(stage)
        fire = torch.rand(x.shape[0], generator=generator) < probs[chosen]
        x = apply_ops(x, torch.where(fire, ops[chosen], -1), levels[chosen], generator)
    return x
