"""Data-parallel context: who am I under `torchrun`, and the few collectives the loop needs.

`torchrun` sets RANK / WORLD_SIZE / LOCAL_RANK; without them the run is a world of one and every
helper here is a no-op, so the loop has a single code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """This process's place in the data-parallel world."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main rank writes checkpoints, logs and results."""
        return self.rank == 0

    def device(self) -> torch.device:
        """The device of this rank: its local GPU when there are GPUs, else the CPU."""
        if torch.cuda.is_available():
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over ranks in place (no-op for a world of one)."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def gather_objects(self, value: object) -> list[object]:
        """``value`` of every rank, in rank order (a one-item list for a world of one)."""
        if not self.enabled:
            return [value]
        gathered: list[object] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def init_distributed() -> DistContext:
    """Join the process group named by torchrun's environment (NCCL on GPUs, gloo on the CPU)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext()
    context = DistContext(
        rank=int(os.environ["RANK"]), world_size=world_size, local_rank=int(os.environ.get("LOCAL_RANK", "0"))
    )
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(context.local_rank)
        dist.init_process_group(backend=backend)
    return context


def shutdown_distributed(context: DistContext) -> None:
    """Leave the process group (a no-op for a world of one)."""
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
