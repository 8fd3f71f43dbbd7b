"""Atomic, checksummed checkpoints that load without unpickling code.

A checkpoint file is the bytes of ``torch.save(state)`` followed by a trailer (magic + sha256 of
those bytes). Writing goes through `nastransfer.atomic`, so a crash leaves either the old file or
the new one, never half of one. Loading checks the trailer first (a
truncated or corrupt file is caught before torch parses it) and then uses
``torch.load(weights_only=True)``, which refuses anything but tensors and plain values.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from nastransfer.atomic import atomic_write_bytes
from nastransfer.errors import CheckpointError

_MAGIC = b"NASTCKPT1"
_TRAILER_LEN = len(_MAGIC) + 32


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Save ``state`` (tensors and plain values only) atomically with a checksum trailer."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    body = buffer.getvalue()
    atomic_write_bytes(path, body + _MAGIC + hashlib.sha256(body).digest())


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`; any defect raises ``CheckpointError``."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err.strerror}") from err
    if len(blob) < _TRAILER_LEN or blob[-_TRAILER_LEN:-32] != _MAGIC:
        raise CheckpointError(f"checkpoint {path} is truncated or not a nastransfer checkpoint")
    body, digest = blob[:-_TRAILER_LEN], blob[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise CheckpointError(f"checkpoint {path} is corrupt: its checksum does not match")
    try:
        state = torch.load(io.BytesIO(body), map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError / RuntimeError for refused content
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"checkpoint {path} holds more than tensors and plain values and was refused: {first_line}"
        ) from err
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} does not hold a dict of state")
    return state


class CheckpointDir:
    """Numbered checkpoints in one folder: save each step, keep the last few, load the newest good one."""

    def __init__(self, root: str | os.PathLike, prefix: str = "epoch", keep: int = 2) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.root = Path(root)
        self.prefix = prefix
        self.keep = keep
        self._pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)\.pt$")

    def path(self, step: int) -> Path:
        """The file that holds the checkpoint of ``step``."""
        return self.root / f"{self.prefix}-{step:06d}.pt"

    def steps(self) -> list[int]:
        """Steps with a checkpoint file, oldest first."""
        if not self.root.is_dir():
            return []
        found = (self._pattern.match(p.name) for p in self.root.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def save(self, step: int, state: dict[str, Any]) -> Path:
        """Write the checkpoint of ``step`` and prune all but the newest ``keep``."""
        target = self.path(step)
        save_checkpoint(target, state)
        for old in self.steps()[: -self.keep]:
            self.path(old).unlink(missing_ok=True)
        return target

    def load_latest(self, map_location: str | torch.device = "cpu") -> tuple[int, dict[str, Any]] | None:
        """The newest checkpoint that loads; a corrupt newer one is reported and skipped."""
        for step in reversed(self.steps()):
            try:
                return step, load_checkpoint(self.path(step), map_location=map_location)
            except CheckpointError as err:
                warnings.warn(f"{err}; falling back to an earlier checkpoint", stacklevel=2)
        return None
