"""Train one network under one protocol: epochs, checkpoints, resume, learning curve, cost.

The run lives in a work directory: `checkpoints/` (one per epoch, via `runtime.CheckpointDir`) and
`log.jsonl` (one line per epoch). A rerun in the same directory continues from the newest good
checkpoint and ends exactly where an unbroken run would (same seed, deterministic CPU).
Under `torchrun` every rank runs this; only rank 0 writes.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nastransfer.data import Augment, BatchLoader, Dataset
from nastransfer.errors import ConfigError
from nastransfer.runtime import (
    CheckpointDir,
    Cost,
    CostMeter,
    atomic_write_bytes,
    capture_rng,
    progress,
    restore_rng,
)
from nastransfer.train.distributed import DistContext
from nastransfer.train.protocols import Protocol
from nastransfer.train.speed import SpeedPlan, plan_speed
from nastransfer.train.trainer import Trainer

LOG_NAME = "log.jsonl"
CHECKPOINT_FOLDER = "checkpoints"


@dataclass(frozen=True)
class TrainOutcome:
    """Final test accuracy (percent), the per-epoch learning curve, the cost summed over the first
    run and every resume, and the speed plan (autocast, compile) the training used."""

    top1: float
    top5: float
    curve: list[dict[str, float]]
    cost: Cost
    speed: SpeedPlan


def make_loaders(
    train_set: Dataset,
    test_set: Dataset,
    protocol: Protocol,
    seed: int,
    device: torch.device,
    context: DistContext,
) -> tuple[BatchLoader, BatchLoader]:
    """The augmented, sharded training loader and the plain test loader of a protocol."""
    size = protocol.image_size
    if protocol.batch_size % context.world_size:
        raise ConfigError(
            f"protocol {protocol.name!r}: batch_size {protocol.batch_size} does not split over "
            f"{context.world_size} ranks"
        )
    train_augment = Augment(
        crop_padding=protocol.crop_padding,
        flip=protocol.flip,
        cutout=protocol.cutout,
        resize=size,
        policy=protocol.policy,
    )
    shard = {"rank": context.rank, "world_size": context.world_size, "device": device}
    per_rank_batch = protocol.batch_size // context.world_size
    train_loader = BatchLoader(
        train_set, per_rank_batch, shuffle=True, seed=seed, augment=train_augment, **shard
    )
    test_loader = BatchLoader(
        test_set, protocol.eval_batch_size, shuffle=False, seed=seed, augment=Augment(resize=size), **shard
    )
    return train_loader, test_loader


def train_model(
    model: nn.Module,
    train_set: Dataset,
    test_set: Dataset,
    protocol: Protocol,
    *,
    seed: int,
    workdir: str | Path,
    device: torch.device,
    context: DistContext | None = None,
    show_progress: bool | None = None,
    run_info: dict[str, Any] | None = None,
) -> TrainOutcome:
    """Train ``model`` (seeded by the caller) on ``train_set``, test each epoch on ``test_set``.

    ``run_info`` (plain values) is stored in each checkpoint; resuming a directory whose checkpoint
    names a different run is a ConfigError rather than a silent mix of two runs.
    """
    context = context or DistContext()
    workdir = Path(workdir)
    run_info = {"protocol": protocol.model_dump(), "seed": seed, **(run_info or {})}
    trainer = Trainer(model, protocol, device, context)
    train_loader, test_loader = make_loaders(train_set, test_set, protocol, seed, device, context)
    checkpoints = CheckpointDir(workdir / CHECKPOINT_FOLDER)
    start_epoch, curve, earlier_cost, speed = _resume(trainer, checkpoints, run_info, context)
    if speed is None:  # a fresh run plans on rank 0; every rank trains the same way
        batch = (train_loader.batch_size, train_set.in_channels, *_image_size(protocol, train_set))
        speed = plan_speed(trainer.model, protocol, device, batch, protocol.epochs * len(train_loader))
        speed = context.gather_objects(speed)[0]
    trainer.use(speed)
    trainer.wrap()
    if context.is_main:
        _write_log(workdir / LOG_NAME, curve)

    steps = len(train_loader)
    enabled = (None if show_progress is None else show_progress) if context.is_main else False
    cost = earlier_cost
    with progress(protocol.epochs * steps, f"train {protocol.name}", enabled=enabled) as update:
        update(advance=start_epoch * steps)
        for epoch in range(start_epoch, protocol.epochs):
            started = time.perf_counter()
            with CostMeter(device) as meter:
                lr = trainer.set_epoch(epoch)
                train_loader.set_epoch(epoch)
                stats = trainer.train_epoch(train_loader, on_step=update)
                top1, top5 = trainer.test(test_loader)
            epoch_cost = _whole_job_cost(meter.cost, context)
            cost = epoch_cost if cost is None else cost + epoch_cost
            row = {
                "epoch": epoch + 1,
                "lr": lr,
                "train_loss": stats.loss,
                "train_acc": stats.accuracy,
                "test_top1": top1,
                "test_top5": top5,
                "seconds": time.perf_counter() - started,
            }
            curve.append(row)
            update(advance=0, loss=stats.loss, acc=stats.accuracy, top1=top1)
            _save(trainer, checkpoints, epoch + 1, curve, cost, run_info, context)
            if context.is_main:
                _append_log(workdir / LOG_NAME, row)
    if cost is None:  # nothing left to train: the run had finished before
        cost = Cost(0.0, 0.0, 0.0, str(device))
    last = curve[-1] if curve else {"test_top1": 0.0, "test_top5": 0.0}
    return TrainOutcome(top1=last["test_top1"], top5=last["test_top5"], curve=curve, cost=cost, speed=speed)


def _image_size(protocol: Protocol, train_set: Dataset) -> tuple[int, int]:
    size = protocol.image_size or train_set.image_size
    return (size, size)


def _whole_job_cost(cost: Cost, context: DistContext) -> Cost:
    """One epoch's cost over all ranks: device seconds add up, wall time and memory are the largest rank's."""
    if not context.enabled:
        return cost
    costs = [Cost.from_dict(c) for c in context.gather_objects(cost.to_dict())]
    return Cost(
        wall_s=max(c.wall_s for c in costs),
        device_s=sum(c.device_s for c in costs),
        peak_mem_mb=max(c.peak_mem_mb for c in costs),
        device=f"{cost.device} x{context.world_size}",
    )


def _resume(
    trainer: Trainer, checkpoints: CheckpointDir, run_info: dict[str, Any], context: DistContext
) -> tuple[int, list[dict[str, float]], Cost | None, SpeedPlan | None]:
    """Load the newest good checkpoint into ``trainer``: (next epoch, curve, cost, speed plan so far)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        latest = checkpoints.load_latest()  # on the CPU: RNG states must stay CPU tensors
    if context.is_main:
        for warning in caught:
            warnings.warn(str(warning.message), stacklevel=3)
    if latest is None:
        return 0, [], None, None
    epoch, state = latest
    if state.get("run") != run_info:
        raise ConfigError(
            f"{checkpoints.root} holds checkpoints of a different run (protocol, seed or model); "
            "use a fresh workdir"
        )
    trainer.load_state_dict(state)
    rng_states = state["rng"]
    restore_rng(rng_states[context.rank] if len(rng_states) == context.world_size else rng_states[0])
    cost, speed = state.get("cost"), state.get("speed")
    return (
        epoch,
        [dict(row) for row in state["curve"]],
        None if cost is None else Cost.from_dict(cost),
        None if speed is None else SpeedPlan(**speed),
    )


def _save(
    trainer: Trainer,
    checkpoints: CheckpointDir,
    epoch: int,
    curve: list[dict[str, float]],
    cost: Cost,
    run_info: dict[str, Any],
    context: DistContext,
) -> None:
    """Checkpoint the epoch on rank 0 (every rank's RNG state included, so each resumes its own)."""
    rng_states = context.gather_objects(capture_rng())
    if context.is_main:
        state = {
            **trainer.state_dict(),
            "rng": rng_states,
            "epoch": epoch,
            "curve": curve,
            "cost": cost.to_dict(),
            "speed": trainer.speed.to_dict(),
            "run": run_info,
        }
        checkpoints.save(epoch, state)
    context.barrier()


def _write_log(path: Path, curve: list[dict[str, float]]) -> None:
    """Rewrite the log from a checkpoint's curve, dropping lines of epochs that were not saved."""
    atomic_write_bytes(path, "".join(json.dumps(row) + "\n" for row in curve).encode())


def _append_log(path: Path, row: dict[str, float]) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
