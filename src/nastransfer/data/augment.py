"""Augmentation of whole batches on their own device: one set of tensor ops per batch, no per-image loop.

Random draws (crop offsets, flips, cutout centres, policy choices) are made on the CPU from the
given generator and then moved, so a seed gives the same augmentation on any device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from nastransfer.data.policies import autoaugment, randaugment
from nastransfer.errors import ConfigError

POLICIES = ("randaugment", "autoaugment")


def as_generator(generator: torch.Generator | int | None) -> torch.Generator | None:
    """A CPU generator from a seed; None means torch's global generator."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    return torch.Generator().manual_seed(int(generator))


def to_unit_float(batch: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> float32 0..1; float batches are taken as already on 0..1."""
    if batch.dtype == torch.uint8:
        return batch.float().div_(255.0)
    return batch.float()


def random_crop_flip(
    batch: torch.Tensor, padding: int, flip: bool, generator: torch.Generator | None
) -> torch.Tensor:
    """Zero-pad by `padding`, cut each image back to its size at its own random offset, and mirror
    it left-right with probability 1/2 (if `flip`): one gather through a per-image index grid."""
    n, c, h, w = batch.shape
    padded = F.pad(batch, (padding, padding, padding, padding)) if padding else batch
    padded_w = w + 2 * padding
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator).to(batch.device)
    cols = torch.arange(w, device=batch.device).expand(n, w)
    if flip:
        mirrored = (torch.rand(n, generator=generator) < 0.5).to(batch.device)
        cols = torch.where(mirrored[:, None], cols.flip(1), cols)
    rows = torch.arange(h, device=batch.device)[None, :, None] + offsets[0, :, None, None]  # N,H,1
    flat = rows * padded_w + (cols + offsets[1, :, None])[:, None, :]  # N,H,W
    gathered = padded.flatten(2).gather(2, flat.reshape(n, 1, h * w).expand(n, c, h * w))
    return gathered.reshape(n, c, h, w)


def cutout(batch: torch.Tensor, length: int, generator: torch.Generator | None) -> torch.Tensor:
    """Zero one length x length square per image, centred anywhere and clipped at the border (DeVries)."""
    n, _, h, w = batch.shape
    centres = torch.stack(
        [torch.randint(0, h, (n,), generator=generator), torch.randint(0, w, (n,), generator=generator)]
    ).to(batch.device)
    half = length // 2
    rows = torch.arange(h, device=batch.device)
    cols = torch.arange(w, device=batch.device)
    in_rows = ((rows >= centres[0, :, None] - half) & (rows < centres[0, :, None] + half)).to(batch.dtype)
    in_cols = ((cols >= centres[1, :, None] - half) & (cols < centres[1, :, None] + half)).to(batch.dtype)
    return batch * (1.0 - in_rows[:, None, :, None] * in_cols[:, None, None, :])


@dataclass(frozen=True)
class Augment:
    """Batched augmentation: resize, random crop with zero padding, flip, policy, normalise, cutout.

    The order follows the DARTS family's CIFAR pipeline (cutout after normalisation, so holes are
    zero in normalised units). `mean`/`std` left None are filled in from the dataset by
    `BatchLoader` (`with_stats`). `policy_ops`/`policy_magnitude` are RandAugment's N and M (0..10).
    """

    crop_padding: int = 0
    flip: bool = False
    cutout: int = 0
    resize: int | None = None
    normalize: bool = True
    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None
    policy: str | None = None
    policy_ops: int = 2
    policy_magnitude: float = 9.0

    def __post_init__(self) -> None:
        if self.policy is not None and self.policy not in POLICIES:
            raise ConfigError(f"augment policy {self.policy!r} is not one of {', '.join(POLICIES)}")
        if self.crop_padding < 0 or self.cutout < 0 or (self.resize is not None and self.resize < 1):
            raise ConfigError("augment crop_padding and cutout must be >= 0 and resize >= 1")

    def with_stats(self, mean: Sequence[float], std: Sequence[float]) -> Augment:
        """This augmentation with normalisation statistics filled in where none were given."""
        return replace(
            self,
            mean=tuple(mean) if self.mean is None else self.mean,
            std=tuple(std) if self.std is None else self.std,
        )

    def __call__(self, batch: torch.Tensor, generator: torch.Generator | int | None = None) -> torch.Tensor:
        """Augment a uint8 (0..255) or float (0..1) NCHW batch; returns float32 on the batch's device."""
        generator = as_generator(generator)
        x = to_unit_float(batch)
        if self.resize is not None and x.shape[-1] != self.resize:
            size = (self.resize, self.resize)
            x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False).clamp_(0, 1)
        if self.crop_padding or self.flip:
            x = random_crop_flip(x, self.crop_padding, self.flip, generator)
        if self.policy == "randaugment":
            x = randaugment(x, self.policy_ops, self.policy_magnitude, generator)
        elif self.policy == "autoaugment":
            x = autoaugment(x, generator)
        if self.normalize:
            x = normalize(x, self.mean, self.std)
        if self.cutout:
            x = cutout(x, self.cutout, generator)
        return x


def normalize(batch: torch.Tensor, mean: Sequence[float] | None, std: Sequence[float] | None) -> torch.Tensor:
    if mean is None or std is None:
        raise ConfigError("Augment(normalize=True) needs mean/std (BatchLoader fills them from the dataset)")
    channels = batch.shape[1]
    mean_t = torch.as_tensor(mean, dtype=batch.dtype, device=batch.device).reshape(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=batch.dtype, device=batch.device).reshape(1, -1, 1, 1)
    if mean_t.shape[1] not in (1, channels) or std_t.shape[1] not in (1, channels):
        raise ConfigError(f"normalisation has {mean_t.shape[1]} channels but the batch has {channels}")
    return (batch - mean_t) / std_t.clamp_min(1e-6)
