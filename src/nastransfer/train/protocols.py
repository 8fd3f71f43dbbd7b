"""Named training protocols: every hyper-parameter of a final training, as one frozen record.

A protocol is data, so a study can store it next to its results and say exactly how each number
was made. `get_protocol(name, **overrides)` derives a variant; an unknown or ill-typed override is
a `ConfigError` naming the field and the protocol.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from nastransfer.errors import ConfigError
from nastransfer.registry import Registry

#: Fields added after studies had run, recorded only away from their default (which is the behaviour
#: from before them): a run directory, a checkpoint or a timing cached before a field existed keeps
#: its key, so it resumes.
RECORDED_WHEN_SET = frozenset({"lr_every"})


class Protocol(BaseModel):
    """How to train one network on one dataset (final training, not search)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str
    description: str = ""
    # schedule and batch
    epochs: int = Field(ge=1, le=100_000)
    batch_size: int = Field(
        ge=1, le=1 << 20, description="global batch; each of N data-parallel ranks takes batch/N"
    )
    eval_batch_size: int = Field(default=256, ge=1, le=1 << 20)
    # network
    channels: int = Field(ge=1, le=4096, description="initial channels C (NB201: its C)")
    layers: int = Field(
        ge=1, le=200, description="cells (NB201: N = max(1, (layers - 2) // 3) cells per stage)"
    )
    stem: Literal["cifar", "imagenet"] = "cifar"
    # optimiser: SGD with momentum
    lr: float = Field(gt=0)
    lr_reference_batch: int | None = Field(
        default=None, ge=1, description="scale lr linearly by batch_size / this (None: no scaling)"
    )
    momentum: float = Field(default=0.9, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(default=3e-4, ge=0)
    schedule: Literal["cosine", "exponential"] = "cosine"
    lr_min: float = Field(default=0.0, ge=0, description="cosine floor")
    lr_decay: float = Field(default=0.97, gt=0, le=1, description="exponential factor per epoch")
    lr_every: Literal["epoch", "step"] = Field(
        default="epoch",
        description="when the schedule moves: once an epoch (as DARTS's and NB201's code) or each step",
    )
    warmup_epochs: int = Field(default=0, ge=0)
    grad_clip: float | None = Field(default=5.0, gt=0)
    # regularisation
    label_smoothing: float = Field(default=0.0, ge=0, lt=1)
    auxiliary_weight: float = Field(default=0.0, ge=0, description="0 builds no auxiliary head")
    drop_path: float = Field(default=0.0, ge=0, lt=1, description="final drop-path prob (ramped by epoch)")
    # augmentation (data.Augment, applied to whole batches on the device)
    crop_padding: int = Field(default=4, ge=0)
    flip: bool = True
    cutout: int = Field(default=0, ge=0)
    policy: Literal["autoaugment", "randaugment"] | None = None
    # data
    image_size: int | None = Field(
        default=None, ge=1, le=4096, description="train/test resolution (None: dataset's)"
    )
    data_fraction: float = Field(default=1.0, gt=0, le=1, description="stratified fraction of the train part")
    test_fraction: float = Field(
        default=1.0, gt=0, le=1, description="stratified fraction of the test part (quick runs only)"
    )
    split: Literal["paper", "official"] = "paper"
    # speed
    amp: Literal["auto", "bf16", "fp16", "off"] = Field(
        default="auto", description="auto: bf16 on CUDA, fp32 on the CPU (train.speed)"
    )
    channels_last: Literal["auto"] | bool = "auto"
    compile: Literal["auto"] | bool = Field(
        default="auto", description="auto: torch.compile when the training repays it (train.speed)"
    )
    deterministic: bool = True

    @model_serializer(mode="wrap")
    def _record(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for name in RECORDED_WHEN_SET:
            if getattr(self, name) == type(self).model_fields[name].default:
                data.pop(name, None)
        return data

    def base_lr(self) -> float:
        """The learning rate at the protocol's batch size (linearly scaled when a reference is set)."""
        if self.lr_reference_batch is None:
            return self.lr
        return self.lr * self.batch_size / self.lr_reference_batch

    def lr_at(self, epoch: float) -> float:
        """Learning rate at ``epoch`` (0-based; a fraction is part-way through it, as `lr_every =
        "step"` asks): linear warm-up, then cosine or exponential decay."""
        base = self.base_lr()
        if epoch < self.warmup_epochs:
            return base * (epoch + 1) / self.warmup_epochs
        step, span = epoch - self.warmup_epochs, max(1, self.epochs - self.warmup_epochs)
        if self.schedule == "exponential":
            return base * self.lr_decay**step
        return self.lr_min + (base - self.lr_min) * 0.5 * (1 + math.cos(math.pi * step / span))

    def drop_path_at(self, epoch: int) -> float:
        """Drop-path probability of ``epoch`` (0-based): DARTS' linear ramp ``prob * epoch / epochs``."""
        return self.drop_path * epoch / self.epochs


_DARTS_CIFAR = Protocol(
    name="darts-cifar",
    description=(
        "DARTS' CIFAR final training (Liu et al. 2019): 600 epochs, batch 96, C=36, 20 cells, SGD lr 0.025 "
        "cosine, momentum 0.9, wd 3e-4, cutout 16, drop-path 0.2, auxiliary 0.4, clip 5."
    ),
    epochs=600,
    batch_size=96,
    channels=36,
    layers=20,
    lr=0.025,
    weight_decay=3e-4,
    cutout=16,
    drop_path=0.2,
    auxiliary_weight=0.4,
    grad_clip=5.0,
)

_DARTS_IMAGENET = Protocol(
    name="darts-imagenet",
    description=(
        "DARTS' ImageNet mobile setting: 250 epochs, batch 128 (lr scaled linearly for larger batches), "
        "C=48, 14 cells, ImageNet stem, SGD lr 0.1 x0.97 per epoch, wd 3e-5, label smoothing 0.1, "
        "auxiliary 0.4, clip 5, 224 px."
    ),
    epochs=250,
    batch_size=128,
    lr_reference_batch=128,
    channels=48,
    layers=14,
    stem="imagenet",
    lr=0.1,
    schedule="exponential",
    lr_decay=0.97,
    weight_decay=3e-5,
    label_smoothing=0.1,
    auxiliary_weight=0.4,
    grad_clip=5.0,
    crop_padding=0,
    image_size=224,
)

# Yang et al. (ICLR 2020) stack the published tricks (cutout, drop-path, auxiliary towers) and add
# AutoAugment, a longer schedule (1500 instead of 600 epochs) and a wider net (C=50 instead of 36); the
# NASTransfer paper compares such an "enhanced" protocol with the base one. Label smoothing (0.1) is
# added too, as in the ImageNet setting, because it is the other cheap regulariser of that family.
_ENHANCED_CIFAR = _DARTS_CIFAR.model_copy(
    update={
        "name": "enhanced-cifar",
        "description": (
            "darts-cifar plus Yang et al.'s enhancements: AutoAugment, label smoothing 0.1, 1500 epochs, "
            "C=50 (longer and wider, where their tricks ablation found the gains)."
        ),
        "epochs": 1500,
        "channels": 50,
        "policy": "autoaugment",
        "label_smoothing": 0.1,
    }
)

# On ImageNet the regularisers matter less (more data), so the enhancement is milder: RandAugment
# (AutoAugment's ImageNet policy needs a search per dataset), a 5-epoch warm-up for the larger
# effective step, 350 epochs and C=56.
_ENHANCED_IMAGENET = _DARTS_IMAGENET.model_copy(
    update={
        "name": "enhanced-imagenet",
        "description": (
            "darts-imagenet plus RandAugment, 5 warm-up epochs, 350 epochs, C=56, drop-path 0.1; label "
            "smoothing 0.1 is already in the base."
        ),
        "epochs": 350,
        "channels": 56,
        "warmup_epochs": 5,
        "policy": "randaugment",
        "drop_path": 0.1,
    }
)

_NB201_CIFAR = Protocol(
    name="nb201-cifar",
    description=(
        "NAS-Bench-201's training (Dong & Yang 2020): 200 epochs, batch 256, C=16, N=5 (17 layers), SGD lr "
        "0.1 nesterov cosine, wd 5e-4, crop+flip, no clip."
    ),
    epochs=200,
    batch_size=256,
    channels=16,
    layers=17,
    lr=0.1,
    nesterov=True,
    weight_decay=5e-4,
    grad_clip=None,
)

# Sized for the 2-core development machine. Measured: DARTS_V2 on full Fashion-MNIST (28 px, paper
# split: 48,000 train / 12,000 test images), seed 0, one thread, reaches 88.9 % test top-1 (85.7 %
# after epoch 1) in 643 CPU-seconds (24.7 min wall on a machine shared with other jobs). Two epochs
# are too few to need augmentation beyond flips; channels-last runs the separable convolutions
# about 1.5x faster on the CPU too.
_CPU_MINI = Protocol(
    name="cpu-mini",
    description=(
        "Minutes on a CPU (the quickstart's): 2 epochs, batch 128, C=8, 5 cells, SGD lr 0.1 cosine, wd 3e-4, "
        "flips only, no auxiliary, no drop-path, fp32, channels-last."
    ),
    epochs=2,
    batch_size=128,
    channels=8,
    layers=5,
    lr=0.1,
    weight_decay=3e-4,
    crop_padding=0,
    flip=True,
    channels_last=True,
    eval_batch_size=512,
)

PROTOCOLS: Registry[Protocol] = Registry("protocol", ConfigError)
for _builtin in (_DARTS_CIFAR, _DARTS_IMAGENET, _ENHANCED_CIFAR, _ENHANCED_IMAGENET, _NB201_CIFAR, _CPU_MINI):
    PROTOCOLS.add(_builtin.name, _builtin)


def protocols() -> dict[str, Protocol]:
    """All named protocols, by name."""
    return {name: PROTOCOLS.get(name) for name in PROTOCOLS.names()}


def get_protocol(name: str | Protocol, **overrides: Any) -> Protocol:
    """The protocol called ``name`` with ``overrides`` applied; bad names or fields raise ConfigError."""
    base = name if isinstance(name, Protocol) else PROTOCOLS.get(name)
    if not overrides:
        return base
    unknown = sorted(set(overrides) - set(Protocol.model_fields))
    if unknown:
        raise ConfigError(
            f"protocol {base.name!r} has no field {unknown[0]!r}; fields: {', '.join(Protocol.model_fields)}"
        )
    try:
        return Protocol.model_validate({**base.model_dump(), **overrides})
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"protocol {base.name!r}, field {field!r}: {first['msg']} (got {first.get('input')!r})"
        ) from None


def parse_overrides(assignments: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["epochs=3", "amp=off"]`` -> ``{"epochs": 3, "amp": "off"}``; values are JSON, else strings."""
    overrides: dict[str, Any] = {}
    for text in assignments:
        field, sep, raw = text.partition("=")
        if not sep or not field.strip():
            raise ConfigError(f"override {text!r} is not of the form field=value")
        overrides[field.strip()] = _parse_value(raw.strip())
    return overrides


def _parse_value(raw: str) -> Any:
    if raw in ("None", "none"):
        return None
    if raw in ("True", "False"):
        return raw == "True"
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
