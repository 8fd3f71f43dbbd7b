"""One network, its optimiser and its per-step work: the hot path of a final training.

`Trainer` owns what a step touches (model, SGD, loss, autocast, gradient clipping, DDP wrapper)
and nothing about files or epochs' bookkeeping. Its epoch accumulates loss and accuracy on the
device, so a step never waits for the device to answer a `.item()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from nastransfer.nets.compiling import compile_net
from nastransfer.train.distributed import DistContext
from nastransfer.train.protocols import Protocol
from nastransfer.train.speed import SpeedPlan, fixed_plan

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class EpochStats:
    """Training loss and accuracy of one epoch, over all ranks."""

    loss: float
    accuracy: float
    images: int


class Trainer:
    """SGD training and top-1/top-5 testing of one network under one protocol."""

    def __init__(self, model: nn.Module, protocol: Protocol, device: torch.device, context: DistContext):
        self.protocol = protocol
        self.device = device
        self.context = context
        self.channels_last = protocol.channels_last is True or (
            protocol.channels_last == "auto" and device.type == "cuda"
        )
        self.model = model.to(device, memory_format=torch.channels_last if self.channels_last else None)
        self.speed = fixed_plan(protocol, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=protocol.amp == "fp16")
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=protocol.lr_at(0),
            momentum=protocol.momentum,
            weight_decay=protocol.weight_decay,
            nesterov=protocol.nesterov,
        )
        self.criterion = nn.CrossEntropyLoss(label_smoothing=protocol.label_smoothing)
        self._parameters = [p for p in self.model.parameters() if p.requires_grad]
        self.net: nn.Module = self.model
        self._wrapped = False
        self._epoch = 0

    def use(self, speed: SpeedPlan) -> None:
        """Train with ``speed``'s autocast and compile choice (before the first step)."""
        if self._wrapped:
            raise RuntimeError("the speed plan is set before the trainer wraps its network")
        self.speed = speed

    def wrap(self) -> None:
        """Wrap for data parallelism and compile; call after loading a checkpoint into ``model``."""
        if self._wrapped:
            return
        if self.context.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
        if self.speed.compile:
            self.net = compile_net(self.net)
        self._wrapped = True

    def set_epoch(self, epoch: int) -> float:
        """Set the learning rate and drop-path probability of ``epoch`` (0-based); returns the lr."""
        self._epoch = epoch
        lr = self.protocol.lr_at(epoch)
        self._set_lr(lr)
        if hasattr(self.model, "drop_path_prob"):
            self.model.drop_path_prob = self.protocol.drop_path_at(epoch)
        return lr

    def _set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _autocast(self) -> Any:
        dtype = self.speed.autocast_dtype
        return nullcontext() if dtype is None else torch.autocast(self.device.type, dtype=dtype)

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        return images.contiguous(memory_format=torch.channels_last) if self.channels_last else images

    def train_epoch(self, batches: Batches, on_step: Callable[[], None] | None = None) -> EpochStats:
        """One pass of SGD over ``batches`` (a loader or list: with `lr_every = "step"` its length sets
        each step's learning rate); loss and accuracy are summed on the device."""
        self.wrap()
        self.net.train()
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        aux_weight = self.protocol.auxiliary_weight
        clip = self.protocol.grad_clip
        per_step = self.protocol.lr_every == "step"
        steps = len(batches) if per_step else 0
        for step, (images, labels) in enumerate(batches):
            if per_step:
                self._set_lr(self.protocol.lr_at(self._epoch + step / steps))
            with self._autocast():
                logits, aux_logits = self.net(self._prepare(images))
                loss = self.criterion(logits, labels)
                if aux_logits is not None and aux_weight > 0:
                    loss = loss + aux_weight * self.criterion(aux_logits, labels)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self._parameters, clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            count = labels.shape[0]
            loss_sum += loss.detach().float() * count
            correct += (logits.detach().argmax(1) == labels).sum()
            seen += count
            if on_step is not None:
                on_step()
        totals = self.context.all_reduce_sum(
            torch.stack([loss_sum, correct.to(loss_sum.dtype), torch.tensor(float(seen), device=self.device)])
        ).tolist()
        images_seen = max(1.0, totals[2])
        return EpochStats(
            loss=totals[0] / images_seen, accuracy=100.0 * totals[1] / images_seen, images=int(totals[2])
        )

    @torch.no_grad()
    def test(self, batches: Batches) -> tuple[float, float]:
        """Top-1 and top-5 accuracy (percent) over ``batches``, summed over ranks."""
        self.model.eval()
        counts = torch.zeros(3, device=self.device, dtype=torch.long)  # top1, top5, images
        for images, labels in batches:
            with self._autocast():
                logits, _ = self.model(self._prepare(images))
            top = logits.topk(min(5, logits.shape[1]), dim=1).indices
            hits = top == labels[:, None]
            counts[0] += hits[:, 0].sum()
            counts[1] += hits.any(dim=1).sum()
            counts[2] += labels.shape[0]
        top1, top5, total = self.context.all_reduce_sum(counts).tolist()
        total = max(1, total)
        return 100.0 * top1 / total, 100.0 * top5 / total

    def state_dict(self) -> dict[str, Any]:
        """Model, optimiser and loss-scaler state (tensors and plain values only)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
