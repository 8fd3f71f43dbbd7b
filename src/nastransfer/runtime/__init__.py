"""What long-running tasks share: checkpoints, RNG state, cost, progress, device choice."""

from nastransfer.atomic import atomic_write_bytes
from nastransfer.runtime.checkpoint import CheckpointDir, load_checkpoint, save_checkpoint
from nastransfer.runtime.cost import Cost, CostMeter
from nastransfer.runtime.device import cache_dir, check_device, cpu_model, pick_device
from nastransfer.runtime.progress import progress
from nastransfer.runtime.rng import capture_rng, restore_rng, seed_everything

__all__ = [
    "CheckpointDir",
    "Cost",
    "CostMeter",
    "atomic_write_bytes",
    "cache_dir",
    "capture_rng",
    "check_device",
    "cpu_model",
    "load_checkpoint",
    "pick_device",
    "progress",
    "restore_rng",
    "save_checkpoint",
    "seed_everything",
]
